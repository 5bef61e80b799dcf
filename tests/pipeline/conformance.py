"""The component conformance suite every data-flow component runs (STYLE.md: singer-sdk).

A component's test module provides a *flow factory*: given the model of an in-memory source
(``Test.TableSource``, fed from a ``pyarrow.Table``), it returns the model of the component under
test, wired to that source. The harness adds a collecting sink on every output of the component,
runs the flow and checks, for each input table it is given:

* empty input, NULLs in every column, and large multi-batch input all run;
* every batch on every output has exactly the columns (names = lineage ids, Arrow types) that the
  graph declares for that output;
* conservation, for components that neither create nor drop rows: rows in == rows on all outputs;
* cancellation: a slow, large input is cancelled and the run ends within seconds, Canceled.

Usage in a component test::

    def make(src: SourceInfo) -> Component: ...
    @pytest.mark.parametrize("case", CASES)
    def test_conformance(case): run_case(case, make, sample_table(), conserves_rows=True)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from dataflow.core.datatypes import spec_from_field
from dataflow.package.model import (
    ColumnType,
    Component,
    CustomProperty,
    DataFlowPath,
    Executable,
    FrozenMap,
    Input,
    Output,
    OutputColumn,
    Package,
    Pipeline,
)
from dataflow.pipeline import run_data_flow
from dataflow.pipeline.component import Emit, PipelineComponent, make_batch
from dataflow.pipeline.engine import DataFlowStats
from dataflow.pipeline.registry import register

TASK = "Package\\Data Flow Task"
SOURCE = "Table Source"
_TABLES: dict[str, pa.Table] = {}
_COLLECTED: dict[str, list[pa.RecordBatch]] = {}

CASES = ("sample", "empty", "nulls", "large", "cancel")


@dataclass
class SourceInfo:
    """The in-memory source a flow factory wires its component to."""

    component: Component
    output: Output
    columns: dict[str, OutputColumn]  # by column name

    def lineage(self, name: str) -> str:
        return self.columns[name].lineage_id


@dataclass
class FlowResult:
    stats: DataFlowStats
    outputs: dict[str, pa.Table] = field(default_factory=dict)  # by output name


def _token(f: pa.Field) -> ColumnType:
    spec = spec_from_field(f)
    token = spec.type.token or "wstr"
    return ColumnType(token, spec.length, spec.precision, spec.scale, spec.codepage)


def table_source(table: pa.Table, *, delay: float = 0.0, batch_rows: int = 10_000) -> SourceInfo:
    """A source component model producing ``table`` (column types from field metadata or Arrow)."""
    key = f"t{len(_TABLES)}"
    _TABLES[key] = table
    out_ref = f"{TASK}\\{SOURCE}.Outputs[Output]"
    cols = tuple(
        OutputColumn(
            f"{out_ref}.Columns[{f.name}]", f.name, f"{out_ref}.Columns[{f.name}]", _token(f)
        )
        for f in table.schema
    )
    out = Output(out_ref, "Output", cols)
    comp = Component(
        f"{TASK}\\{SOURCE}",
        SOURCE,
        "Test.TableSource",
        custom_properties=(
            CustomProperty("TableKey", key),
            CustomProperty("Delay", str(delay)),
            CustomProperty("BatchRows", str(batch_rows)),
        ),
        outputs=(out,),
    )
    return SourceInfo(comp, out, {c.name: c for c in cols})


def _sink(name: str) -> Component:
    return Component(
        f"{TASK}\\{name}", name, "Test.Collect", inputs=(Input(f"{TASK}\\{name}.Inputs[In]", "In"),)
    )


def assemble(src: SourceInfo, comp: Component) -> Package:
    """Source -> component (first input) -> one collecting sink per output of the component."""
    components = [src.component, comp]
    paths = (
        [DataFlowPath(f"{TASK}.Paths[Output]", "Output", src.output.ref_id, comp.inputs[0].ref_id)]
        if comp.inputs
        else []
    )
    for i, out in enumerate(comp.outputs):
        sink = _sink(f"Sink {i} {out.name}")
        components.append(sink)
        paths.append(
            DataFlowPath(f"{TASK}.Paths[{out.name}]", out.name, out.ref_id, sink.inputs[0].ref_id)
        )
    dft = Executable(
        TASK,
        "Data Flow Task",
        "Microsoft.Pipeline",
        pipeline=Pipeline(tuple(components), tuple(paths)),
    )
    return Package("Package", "Conformance", "Microsoft.Package", executables=(dft,))


def run_flow(pkg: Package, **kwargs: object) -> FlowResult:
    """Run ``pkg``'s data flow and collect what reached every sink (by the output's name)."""
    _COLLECTED.clear()
    _SCHEMA_SEEN.clear()
    stats = run_data_flow(pkg, "Data Flow Task", **kwargs)  # type: ignore[arg-type]
    result = FlowResult(stats)
    dft = pkg.executables[0]
    assert dft.pipeline is not None
    for p in dft.pipeline.paths:
        sink = p.end_ref.split(".Inputs[")[0].rsplit("\\", 1)[-1]
        if sink in _COLLECTED:
            batches = _COLLECTED[sink]
            result.outputs[p.name] = pa.Table.from_batches(batches) if batches else pa.table({})
    return result


def _nulls(table: pa.Table) -> pa.Table:
    return pa.table(
        {f.name: pa.nulls(max(table.num_rows, 3), f.type) for f in table.schema},
        schema=table.schema,
    )


def _large(table: pa.Table, rows: int = 300_000) -> pa.Table:
    if table.num_rows == 0:
        return table
    reps = -(-rows // table.num_rows)
    return pa.concat_tables([table] * reps).slice(0, rows).combine_chunks()


def run_case(
    case: str,
    make: Callable[[SourceInfo], Component],
    table: pa.Table,
    *,
    conserves_rows: bool = True,
    fails_on_nulls: bool = False,
) -> FlowResult | None:
    """Run one conformance case for the component ``make`` builds; assert its invariants."""
    if case == "cancel":
        _check_cancel(make, table)
        return None
    data = {
        "sample": table,
        "empty": table.slice(0, 0),
        "nulls": _nulls(table),
        "large": _large(table),
    }[case]
    src = table_source(data, batch_rows=65_536 if case == "large" else 1_000)
    pkg = assemble(src, make(src))
    if case == "nulls" and fails_on_nulls:
        res = run_flow(pkg, raise_on_error=False)
        assert res.stats.error is not None and res.stats.error.code, (
            "a failing NULL case must fail with a code"
        )
        return res
    res = run_flow(pkg)
    _check_schemas(pkg)
    rows_in = data.num_rows
    comp_name = pkg.executables[0].pipeline.components[1].name  # type: ignore[union-attr]
    rows_out = sum(s.rows for s in res.stats.outputs.values() if s.component == comp_name)
    if conserves_rows:
        assert rows_out == rows_in, f"{case}: {rows_in} rows in, {rows_out} out"
    if case == "empty":
        assert rows_out == 0
    return res


_SCHEMA_SEEN: list[tuple[str, pa.Schema]] = []


def _check_schemas(pkg: Package) -> None:
    """Every batch that reached a sink has the layout the graph declared for its output."""
    from dataflow.pipeline.graph import build_graph

    graph = build_graph(pkg.executables[0])
    for output_ref, schema in _SCHEMA_SEEN:
        declared = graph.layout.schema(output_ref)
        assert [f.name for f in schema] == [f.name for f in declared], (
            f"{output_ref}: columns differ"
        )
        assert [f.type for f in schema] == [f.type for f in declared], f"{output_ref}: types differ"
    _SCHEMA_SEEN.clear()


def _check_cancel(make: Callable[[SourceInfo], Component], table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    src = table_source(_large(table, 2_000_000), delay=0.02, batch_rows=1_000)
    pkg = assemble(src, make(src))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t0 = time.perf_counter()
    res = run_flow(pkg, cancel=cancel, raise_on_error=False)
    assert time.perf_counter() - t0 < 5, "cancellation took too long"
    assert res.stats.cancelled, "the run should end Canceled"


@register("Test.TableSource")
class TableSource(PipelineComponent):
    def produce(self) -> Iterator[Emit]:
        table = _TABLES[self.model.prop("TableKey", "")]
        delay = float(self.model.prop("Delay", "0"))
        size = int(self.model.prop("BatchRows", "10000"))
        out = self.model.outputs[0]
        cols = self.added_columns(out)
        for batch in table.to_batches(max_chunksize=size):
            self.context.check_cancel(self.model.ref_id)
            if delay:
                time.sleep(delay)
            yield out, make_batch(cols, batch.columns)


@register("Test.Collect")
class Collect(PipelineComponent):
    def start(self, ctx: object) -> None:  # type: ignore[override]
        super().start(ctx)  # type: ignore[arg-type]
        _COLLECTED[self.model.name] = []

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        up = self.layout.upstream[input.ref_id]
        _SCHEMA_SEEN.append((up, batch.schema))
        _COLLECTED[self.model.name].append(batch)
        return []


__all__ = ["CASES", "FlowResult", "SourceInfo", "assemble", "run_case", "run_flow", "table_source"]
_ = FrozenMap
