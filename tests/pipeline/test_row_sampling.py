"""Row Sampling: conformance suite, exact sample size, seeded determinism, bounded reservoir."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from dataflow.package.model import (
    Component,
    CustomProperty,
    FrozenMap,
    Input,
    InputColumn,
    Output,
    OutputColumn,
)
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
RS = f"{TASK}\\Row Sampling"
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


def out_ref(name: str) -> str:
    return f"{RS}.Outputs[{name}]"


def make(
    src: SourceInfo, rows: int = 2, seed: int | None = 42, synchronous: bool = False
) -> Component:
    inp = f"{RS}.Inputs[Row Sampling Input 1]"
    props = [CustomProperty("SamplingValue", str(rows))]
    if seed is not None:
        props.append(CustomProperty("SamplingSeed", str(seed)))
    outs = []
    for name, sel in ((SELECTED, True), (UNSELECTED, False)):
        ref = out_ref(name)
        cols = tuple(
            OutputColumn(
                f"{ref}.Columns[{n}]",
                n,
                f"{ref}.Columns[{n}]",
                c.type,
                custom_properties=(CustomProperty("InputColumnLineageID", f"#{{{c.lineage_id}}}"),),
            )
            for n, c in src.columns.items()
        )
        outs.append(
            Output(
                ref,
                name,
                () if synchronous else cols,
                attrs=FrozenMap({"synchronousInputId": inp} if synchronous else {}),
                custom_properties=(CustomProperty("Selected", "true" if sel else "false"),),
            )
        )
    return Component(
        RS,
        "Row Sampling",
        "Microsoft.RowSampling",
        custom_properties=tuple(props),
        inputs=(
            Input(
                inp,
                "Row Sampling Input 1",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in src.columns),
            ),
        ),
        outputs=tuple(outs),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    res = run_case(case, make, sample(), conserves_rows=True)
    if res is not None and case != "empty":
        assert res.stats.rows[("Row Sampling", SELECTED)] == 2


def ids_of(table: pa.Table | None, output: str) -> list[int]:
    if table is None or table.num_columns == 0:
        return []
    return table.column(f"{out_ref(output)}.Columns[id]").to_pylist()


def _run(
    n: int, batch_rows: int, **kw: object
) -> tuple[list[int], list[int], conformance.FlowResult]:
    src = table_source(pa.table({"id": pa.array(range(n), pa.int64())}), batch_rows=batch_rows)
    res = run_flow(conformance.assemble(src, make(src, **kw)))  # type: ignore[arg-type]
    return (
        ids_of(res.outputs.get(SELECTED), SELECTED),
        ids_of(res.outputs.get(UNSELECTED), UNSELECTED),
        res,
    )


def test_exactly_n_rows_seeded_and_independent_of_batch_size() -> None:
    sel, unsel, res = _run(50_000, 1_000, rows=100, seed=11)
    sel2, _, _ = _run(50_000, 4_096, rows=100, seed=11)
    sel3, _, _ = _run(50_000, 1_000, rows=100, seed=12)
    assert len(sel) == 100 and len(set(sel)) == 100
    assert sel == sel2  # same seed, other batch size: same sample
    assert sel != sel3
    assert sel == sorted(sel)  # the sample comes out in input order
    assert sorted(sel + unsel) == list(range(50_000))  # conservation, no duplicates
    assert res.stats.rows[("Row Sampling", UNSELECTED)] == 49_900
    # a uniform sample spreads over the input (not the first or last rows)
    assert min(sel) < 10_000 and max(sel) > 40_000


def test_unselected_rows_stream_before_the_input_ends() -> None:
    _, _, res = _run(50_000, 1_000, rows=10, seed=5)
    # rows that cannot enter the reservoir leave at once: many batches, not one at the end
    assert res.stats.outputs[out_ref(UNSELECTED)].batches > 10
    assert res.stats.outputs[out_ref(SELECTED)].batches == 1


def test_fewer_rows_than_the_sample_size_selects_all() -> None:
    sel, unsel, _ = _run(7, 3, rows=10, seed=1)
    assert sel == list(range(7)) and unsel == []


def test_zero_rows_sample() -> None:
    sel, unsel, _ = _run(100, 30, rows=0, seed=1)
    assert sel == [] and unsel == list(range(100))


def test_synchronous_outputs_carry_the_input_columns() -> None:
    src = table_source(sample())
    res = run_flow(conformance.assemble(src, make(src, rows=1, synchronous=True)))
    sel = res.outputs[SELECTED]
    assert sel.column_names == [src.lineage("id"), src.lineage("name")]
    assert sel.num_rows == 1 and res.outputs[UNSELECTED].num_rows == 2


def test_unmapped_output_column_fails_validation() -> None:
    src = table_source(sample())
    comp = make(src)
    out = comp.outputs[0]
    bad = OutputColumn(
        f"{out.ref_id}.Columns[zzz]",
        "zzz",
        f"{out.ref_id}.Columns[zzz]",
        custom_properties=(CustomProperty("InputColumnLineageID", "#{nowhere}"),),
    )
    broken = Output(
        out.ref_id, out.name, (*out.columns, bad), custom_properties=out.custom_properties
    )
    comp = Component(
        comp.ref_id,
        comp.name,
        comp.class_id,
        custom_properties=comp.custom_properties,
        inputs=comp.inputs,
        outputs=(broken, comp.outputs[1]),
    )
    with pytest.raises(FlowValidationError) as exc:
        run_flow(conformance.assemble(src, comp))
    assert exc.value.problems[0].path == bad.ref_id


def test_reservoir_holds_at_most_twice_the_sample() -> None:
    from dataflow.pipeline.context import RunContext, build_variables
    from dataflow.pipeline.graph import build_graph

    src = table_source(pa.table({"id": pa.array(range(100_000), pa.int64())}))
    pkg = conformance.assemble(src, make(src, rows=500, seed=9))
    graph = build_graph(pkg.executables[0])
    comp = graph.component("Row Sampling")
    comp.start(RunContext(pkg, pkg.executables[0], build_variables(pkg), {}))
    inp = comp.model.inputs[0]
    held_max, unselected = 0, 0
    for batch in src_batches(src, 1_000):
        unselected += sum(b.num_rows for _, b in comp.process(inp, batch))
        held_max = max(held_max, comp.held.num_rows if comp.held is not None else 0)  # type: ignore[attr-defined]
    emits = list(comp.end_input(inp))
    selected = sum(b.num_rows for out, b in emits if out.name == SELECTED)
    unselected += sum(b.num_rows for out, b in emits if out.name == UNSELECTED)
    assert held_max <= 1_000
    assert (selected, unselected) == (500, 99_500)


def src_batches(src: SourceInfo, size: int) -> list[pa.RecordBatch]:
    """The harness table as batches named by lineage id, as the engine delivers them."""
    table = conformance._TABLES[src.component.prop("TableKey", "")]
    names = [src.lineage(n) for n in table.column_names]
    return [b.rename_columns(names) for b in table.to_batches(max_chunksize=size)]
