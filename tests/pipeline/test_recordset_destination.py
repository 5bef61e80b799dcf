"""Recordset Destination: conformance suite and the Arrow table left in the Object variable."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from dataflow.core.datatypes import spec_from_field
from dataflow.package.model import Component, CustomProperty, Input, InputColumn
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_row_count import with_variable
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
RS = f"{TASK}\\Recordset Destination"


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from harness(monkeypatch)  # two conformance-harness workarounds, see there


@pytest.fixture
def object_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the conformance harness declare User::Rows (Object) in every package it builds."""
    assemble = conformance.assemble
    monkeypatch.setattr(
        conformance, "assemble", lambda src, comp: with_variable(assemble(src, comp), "Rows", 13)
    )


def sample() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": pa.array(["a", None, "c"], pa.large_string()),
            "amount": pa.array([1.5, None, -2.25], pa.float64()),
        }
    )


def make(
    src: SourceInfo, columns: list[str] | None = None, variable: str = "User::Rows"
) -> Component:
    inp = f"{RS}.Inputs[Recordset Destination Input]"
    names = list(src.columns) if columns is None else columns
    return Component(
        RS,
        "Recordset Destination",
        "Microsoft.RecordsetDestination",
        custom_properties=(CustomProperty("VariableName", variable),),
        inputs=(
            Input(
                inp,
                "Recordset Destination Input",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in names),
            ),
        ),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, object_variable: None) -> None:
    res = run_case(case, make, sample(), conserves_rows=False)
    if res is not None:
        table = res.stats.variables["User::Rows"]
        assert isinstance(table, pa.Table)
        assert table.num_rows == {"sample": 3, "empty": 0, "nulls": 3, "large": 300_000}[case]
        assert table.column_names == ["id", "name", "amount"]


def test_the_variable_holds_an_arrow_table_with_names_and_ssis_types() -> None:
    src = table_source(sample())
    pkg = with_variable(conformance.assemble(src, make(src, ["amount", "id"])), "Rows", 13)
    res = run_flow(pkg)
    table = res.stats.variables["User::Rows"]
    assert isinstance(table, pa.Table)
    assert table.column_names == ["amount", "id"]  # the selected columns, in input order
    assert table.to_pydict() == {"amount": [1.5, None, -2.25], "id": [1, 2, 3]}
    assert str(spec_from_field(table.schema.field("id"))) == "DT_I4"
    assert str(spec_from_field(table.schema.field("amount"))) == "DT_R8"


def test_many_batches_are_kept_in_order() -> None:
    src = table_source(pa.table({"n": pa.array(range(50_000), pa.int64())}), batch_rows=1_000)
    pkg = with_variable(conformance.assemble(src, make(src)), "Rows", 13)
    table = run_flow(pkg).stats.variables["User::Rows"]
    assert table.column("n").to_pylist() == list(range(50_000))


def test_no_selected_columns_means_every_column() -> None:
    src = table_source(sample())
    pkg = with_variable(conformance.assemble(src, make(src, [])), "Rows", 13)
    table = run_flow(pkg).stats.variables["User::Rows"]
    assert table.column_names == ["id", "name", "amount"]


def test_variable_must_be_an_object() -> None:
    src = table_source(sample())
    pkg = with_variable(conformance.assemble(src, make(src)), "Rows", 3, "0")
    res = run_flow(pkg, raise_on_error=False)
    assert res.stats.error is not None
    assert res.stats.error.code == "DTS_E_INDIVIDUALVALIDATIONFAILED"
    assert "Object" in res.stats.error.message
    assert res.stats.variables["User::Rows"] == 0
