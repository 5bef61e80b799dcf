"""Percentage Sampling: conformance suite, seeded determinism, sample sizes, output routing."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from dataflow.package.model import Component, CustomProperty, FrozenMap, Input, InputColumn, Output
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
PS = f"{TASK}\\Percentage Sampling"
SELECTED, UNSELECTED = "Sampling Selected Output", "Sampling Unselected Output"


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from harness(monkeypatch)  # two conformance-harness workarounds, see there


def sample() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": pa.array(["a", None, "c"], pa.large_string()),
        }
    )


def make(
    src: SourceInfo, percent: int = 30, seed: int | None = 42, swap: bool = False
) -> Component:
    inp = f"{PS}.Inputs[Percentage Sampling Input 1]"
    props = [CustomProperty("SamplingValue", str(percent))]
    if seed is not None:
        props.append(CustomProperty("SamplingSeed", str(seed)))
    outs = [
        Output(
            f"{PS}.Outputs[{name}]",
            name,
            attrs=FrozenMap({"synchronousInputId": inp, "exclusionGroup": "1"}),
            custom_properties=(CustomProperty("Selected", "true" if sel else "false"),),
        )
        for name, sel in ((SELECTED, True), (UNSELECTED, False))
    ]
    if swap:  # the Selected property decides, not the order
        outs.reverse()
    return Component(
        PS,
        "Percentage Sampling",
        "Microsoft.PctSampling",
        custom_properties=tuple(props),
        inputs=(
            Input(
                inp,
                "Percentage Sampling Input 1",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in src.columns),
            ),
        ),
        outputs=tuple(outs),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    run_case(case, make, sample(), conserves_rows=True)


def _ids(rows: int, batch_rows: int, **kw: object) -> tuple[list[int], list[int]]:
    src = table_source(pa.table({"id": pa.array(range(rows), pa.int64())}), batch_rows=batch_rows)
    res = run_flow(conformance.assemble(src, make(src, **kw)))  # type: ignore[arg-type]
    return ids_of(res.outputs.get(SELECTED), src), ids_of(res.outputs.get(UNSELECTED), src)


def ids_of(table: pa.Table | None, src: SourceInfo) -> list[int]:
    """The id column of what reached a sink (a sink that got no batch has an empty table)."""
    if table is None or table.num_columns == 0:
        return []
    return table.column(src.lineage("id")).to_pylist()


def test_seeded_sample_is_deterministic_and_independent_of_batch_size() -> None:
    a_sel, a_unsel = _ids(20_000, 1_000, percent=25, seed=7)
    b_sel, _ = _ids(20_000, 7_777, percent=25, seed=7)
    c_sel, _ = _ids(20_000, 1_000, percent=25, seed=8)
    assert a_sel == b_sel
    assert a_sel != c_sel
    assert sorted(a_sel + a_unsel) == list(range(20_000))  # every row on exactly one output
    assert 4_500 < len(a_sel) < 5_500  # about 25 %
    assert a_sel == sorted(a_sel)  # order kept


def test_no_seed_gives_different_samples() -> None:
    first, _ = _ids(5_000, 1_000, percent=50, seed=None)
    second, _ = _ids(5_000, 1_000, percent=50, seed=0)  # 0 = "no seed", as SSIS reads it
    assert first != second
    assert 2_000 < len(first) < 3_000


def test_zero_and_hundred_percent() -> None:
    assert _ids(1_000, 100, percent=0) == ([], list(range(1_000)))
    assert _ids(1_000, 100, percent=100) == (list(range(1_000)), [])


def test_selected_property_picks_the_output() -> None:
    sel, unsel = _ids(1_000, 100, percent=10, seed=3, swap=True)
    sel2, _ = _ids(1_000, 100, percent=10, seed=3)
    assert sel == sel2 and len(sel) < len(unsel)


def test_percentage_out_of_range_fails_validation() -> None:
    src = table_source(sample())
    with pytest.raises(FlowValidationError) as exc:
        run_flow(conformance.assemble(src, make(src, percent=150)))
    assert exc.value.problems[0].code == "DTS_E_INDIVIDUALVALIDATIONFAILED"
