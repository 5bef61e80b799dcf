"""Row Count: conformance suite, the count in the variable after the run, and its checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pyarrow as pa
import pytest

from dataflow.core.errors import ValidationError
from dataflow.package.model import (
    Component,
    CustomProperty,
    FrozenMap,
    Input,
    InputColumn,
    Output,
    Package,
    Variable,
)
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
RC = f"{TASK}\\Row Count"


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from harness(monkeypatch)  # two conformance-harness workarounds, see there


def with_variable(pkg: Package, name: str, data_type: int, value: str = "") -> Package:
    """``pkg`` with a package-scope ``User::name`` variable (the harness declares none)."""
    var = Variable("User", name, data_type=data_type, value=value)
    return dataclasses.replace(pkg, variables=(*pkg.variables, var))


@pytest.fixture
def count_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the conformance harness declare User::RowCount (Int32) in every package it builds."""
    assemble = conformance.assemble
    monkeypatch.setattr(
        conformance,
        "assemble",
        lambda src, comp: with_variable(assemble(src, comp), "RowCount", 3, "0"),
    )


def sample() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": pa.array(["a", None, "c"], pa.large_string()),
        }
    )


def make(src: SourceInfo, *, output: bool = True, variable: str = "User::RowCount") -> Component:
    inp = f"{RC}.Inputs[Row Count Input 1]"
    outputs = (
        (
            Output(
                f"{RC}.Outputs[Row Count Output 1]",
                "Row Count Output 1",
                attrs=FrozenMap({"synchronousInputId": inp}),
            ),
        )
        if output
        else ()
    )
    return Component(
        RC,
        "Row Count",
        "Microsoft.RowCount",
        custom_properties=(CustomProperty("VariableName", variable),),
        inputs=(
            Input(
                inp,
                "Row Count Input 1",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in src.columns),
                attrs=FrozenMap({"hasSideEffects": "true"}),
            ),
        ),
        outputs=outputs,
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, count_variable: None) -> None:
    res = run_case(case, make, sample(), conserves_rows=True)
    if res is not None:
        expected = {"sample": 3, "empty": 0, "nulls": 3, "large": 300_000}[case]
        assert res.stats.variables["User::RowCount"] == expected


def test_count_lands_in_the_variable_and_rows_pass_through() -> None:
    table = pa.table({"n": pa.array(range(12_345), pa.int64())})
    src = table_source(table, batch_rows=1_000)
    pkg = with_variable(conformance.assemble(src, make(src)), "RowCount", 3, "7")
    res = run_flow(pkg)
    assert res.stats.variables["User::RowCount"] == 12_345
    assert res.stats.rows[("Row Count", "Row Count Output 1")] == 12_345
    assert res.outputs["Row Count Output 1"].column(src.lineage("n")).to_pylist() == list(
        range(12_345)
    )


def test_row_count_without_an_output_only_counts() -> None:
    src = table_source(sample())
    pkg = with_variable(
        conformance.assemble(src, make(src, output=False, variable="User::Rows")), "Rows", 20, "0"
    )
    res = run_flow(pkg)
    assert res.stats.variables["User::Rows"] == 3
    assert [s for s in res.stats.outputs.values() if s.component == "Row Count"] == []


def test_bare_variable_name_resolves_to_user_namespace() -> None:
    src = table_source(sample())
    pkg = with_variable(conformance.assemble(src, make(src, variable="Rows")), "Rows", 3, "0")
    assert run_flow(pkg).stats.variables["User::Rows"] == 3


def test_missing_variable_is_a_coded_error() -> None:
    src = table_source(sample())
    with pytest.raises(ValidationError) as exc:
        run_flow(conformance.assemble(src, make(src, variable="User::Nope")))
    assert exc.value.code == "DTS_E_VARIABLENOTFOUND"
    assert exc.value.path == RC


def test_string_variable_is_refused() -> None:
    src = table_source(sample())
    pkg = with_variable(conformance.assemble(src, make(src)), "RowCount", 8, "x")
    res = run_flow(pkg, raise_on_error=False)
    assert res.stats.error is not None
    assert res.stats.error.code == "DTS_E_INDIVIDUALVALIDATIONFAILED"
    assert "integer variable" in res.stats.error.message
    assert res.stats.variables["User::RowCount"] == "x"


def test_empty_variable_name_fails_validation() -> None:
    from dataflow.pipeline.graph import FlowValidationError

    src = table_source(sample())
    with pytest.raises(FlowValidationError) as exc:
        run_flow(conformance.assemble(src, make(src, variable="")))
    assert [p.code for p in exc.value.problems] == ["DTS_E_INDIVIDUALVALIDATIONFAILED"]
