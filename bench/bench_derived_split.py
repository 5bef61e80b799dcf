"""Benchmark: in-memory table -> Derived Column -> Conditional Split -> collecting sinks.

    python -m bench.bench_derived_split --rows 10000000

Times the same work two ways on one deterministic table (id i4, region wstr(10), qty i4,
price r8):

* ``dataflow``: a data flow run with ``run_data_flow`` -- an in-memory source emitting batches of
  ``--batch-rows`` rows, Derived Column (three expressions: a product, a string built with UPPER
  and a cast, a modulo test), Conditional Split (three ordered cases and the default output), one
  collecting sink per output;
* ``polars``: the same columns with ``with_columns`` and the same first-match-wins split with
  exclusive masks, on the whole table at once.

Prints seconds, rows/s, the ratio dataflow / polars and the rows per output (which must agree).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pyarrow as pa

from dataflow.core.datatypes import arrow_field, make_spec
from dataflow.package.model import (
    ColumnType,
    Component,
    CustomProperty,
    DataFlowPath,
    Executable,
    FrozenMap,
    Input,
    InputColumn,
    Output,
    OutputColumn,
    Package,
    Pipeline,
)
from dataflow.pipeline import run_data_flow
from dataflow.pipeline.component import Emit, PipelineComponent, make_batch
from dataflow.pipeline.components import conditional_split, derived_column
from dataflow.pipeline.registry import register

_ = (conditional_split, derived_column)  # register the components under test
TASK = "Package\\Data Flow Task"
REGIONS = ["EAST", "west", "North", "SOUTH", "central"]
_TABLES: dict[str, pa.Table] = {}
COLLECTED: dict[str, int] = {}

DERIVED = {
    "total": ("[qty] * [price]", ColumnType("r8")),
    "label": ('UPPER([region]) + "-" + (DT_WSTR,10)[id]', ColumnType("wstr", 30)),
    "lucky": ("[qty] % 7 == 0", ColumnType("bool")),
}
CASES = [
    ("High", "total > 5000"),
    ("East", 'UPPER(region) == "EAST"'),
    ("Lucky", "lucky && qty < 50"),
]
DEFAULT = "Conditional Split Default Output"


def make_table(rows: int) -> pa.Table:
    i = pl.int_range(0, rows, dtype=pl.Int32, eager=True)
    df = pl.DataFrame(
        {
            "id": i,
            "region": pl.Series(REGIONS).gather(i % len(REGIONS)),
            "qty": (i * 7919) % 100,
            "price": ((i * 104729) % 10_000).cast(pl.Float64) / 100,
        }
    )
    schema = pa.schema(
        [
            arrow_field("id", make_spec("DT_I4")),
            arrow_field("region", make_spec("DT_WSTR", length=10)),
            arrow_field("qty", make_spec("DT_I4")),
            arrow_field("price", make_spec("DT_R8")),
        ]
    )
    return df.to_arrow().cast(schema)


@register("Bench.TableSource")
class TableSource(PipelineComponent):
    """Emits the registered table in batches of the engine's batch-size hint."""

    def produce(self) -> Iterator[Emit]:
        table = _TABLES[self.model.prop("TableKey", "")]
        out = self.model.outputs[0]
        cols = self.added_columns(out)
        size = int(getattr(self, "batch_rows", 65_536))
        for batch in table.to_batches(max_chunksize=size):
            self.context.check_cancel(self.model.ref_id)
            yield out, make_batch(cols, batch.columns)


@register("Bench.Collect")
class Collect(PipelineComponent):
    """Keeps every batch it receives (as a real destination would have to look at it)."""

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        self.batches: list[pa.RecordBatch] = []

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        self.batches.append(batch)
        return []

    def finish(self) -> None:
        COLLECTED[self.model.name] = sum(b.num_rows for b in self.batches)


def build_package(table: pa.Table, batch_rows: int) -> Package:
    _TABLES["bench"] = table
    src_ref = f"{TASK}\\Source"
    out_ref = f"{src_ref}.Outputs[Output]"
    src_cols = {
        f.name: OutputColumn(
            f"{out_ref}.Columns[{f.name}]",
            f.name,
            f"{out_ref}.Columns[{f.name}]",
            ColumnType(
                {"DT_I4": "i4", "DT_WSTR": "wstr", "DT_R8": "r8"}[
                    f.metadata[b"ssis.type"].decode()
                ],
                10 if f.name == "region" else 0,
            ),
        )
        for f in table.schema
    }
    source = Component(
        src_ref,
        "Source",
        "Bench.TableSource",
        custom_properties=(CustomProperty("TableKey", "bench"),),
        outputs=(Output(out_ref, "Output", tuple(src_cols.values())),),
    )
    dc_ref = f"{TASK}\\Derived Column"
    dc_in = f"{dc_ref}.Inputs[Derived Column Input]"
    dc_out = f"{dc_ref}.Outputs[Derived Column Output]"
    derived = Component(
        dc_ref,
        "Derived Column",
        "Microsoft.DerivedColumn",
        inputs=(
            Input(
                dc_in,
                "Derived Column Input",
                tuple(
                    InputColumn(f"{dc_in}.Columns[{n}]", c.lineage_id, n, c.type)
                    for n, c in src_cols.items()
                ),
            ),
        ),
        outputs=(
            Output(
                dc_out,
                "Derived Column Output",
                tuple(
                    OutputColumn(
                        f"{dc_out}.Columns[{name}]",
                        name,
                        f"{dc_out}.Columns[{name}]",
                        ctype,
                        FrozenMap(
                            {
                                "errorRowDisposition": "FailComponent",
                                "truncationRowDisposition": "FailComponent",
                            }
                        ),
                        (CustomProperty("Expression", expr),),
                    )
                    for name, (expr, ctype) in DERIVED.items()
                ),
                attrs=FrozenMap({"synchronousInputId": dc_in}),
            ),
        ),
    )
    cs_ref = f"{TASK}\\Conditional Split"
    cs_in = f"{cs_ref}.Inputs[Conditional Split Input 1]"
    outputs = [
        Output(
            f"{cs_ref}.Outputs[{name}]",
            name,
            attrs=FrozenMap(
                {
                    "synchronousInputId": cs_in,
                    "exclusionGroup": "1",
                    "errorRowDisposition": "IgnoreFailure",
                }
            ),
            custom_properties=(
                CustomProperty("Expression", expr),
                CustomProperty("EvaluationOrder", str(i)),
            ),
        )
        for i, (name, expr) in enumerate(CASES)
    ]
    outputs.append(
        Output(
            f"{cs_ref}.Outputs[{DEFAULT}]",
            DEFAULT,
            attrs=FrozenMap({"synchronousInputId": cs_in, "exclusionGroup": "1"}),
            custom_properties=(CustomProperty("IsDefaultOut", "true"),),
        )
    )
    split = Component(
        cs_ref,
        "Conditional Split",
        "Microsoft.ConditionalSplit",
        inputs=(Input(cs_in, "Conditional Split Input 1"),),
        outputs=tuple(outputs),
    )
    components = [source, derived, split]
    paths = [
        DataFlowPath(f"{TASK}.Paths[A]", "A", out_ref, dc_in),
        DataFlowPath(f"{TASK}.Paths[B]", "B", dc_out, cs_in),
    ]
    for o in outputs:
        sink_ref = f"{TASK}\\Sink {o.name}"
        components.append(
            Component(
                sink_ref,
                f"Sink {o.name}",
                "Bench.Collect",
                inputs=(Input(f"{sink_ref}.Inputs[In]", "In"),),
            )
        )
        paths.append(
            DataFlowPath(f"{TASK}.Paths[{o.name}]", o.name, o.ref_id, f"{sink_ref}.Inputs[In]")
        )
    pipeline = Pipeline(
        tuple(components), tuple(paths), FrozenMap({"defaultBufferMaxRows": str(batch_rows)})
    )
    dft = Executable(TASK, "Data Flow Task", "Microsoft.Pipeline", pipeline=pipeline)
    return Package("Package", "Bench", "Microsoft.Package", executables=(dft,))


def run_dataflow(
    table: pa.Table, batch_rows: int
) -> tuple[float, dict[str, int], dict[str, float]]:
    pkg = build_package(table, batch_rows)
    COLLECTED.clear()
    t0 = time.perf_counter()
    stats = run_data_flow(pkg, "Data Flow Task")
    seconds = time.perf_counter() - t0
    rows = {out: n for (comp, out), n in stats.rows.items() if comp == "Conditional Split"}
    assert {f"Sink {k}": v for k, v in rows.items()} == COLLECTED, (rows, COLLECTED)
    return seconds, rows, {c.name: c.seconds for c in stats.components.values()}


def run_polars(table: pa.Table) -> tuple[float, dict[str, int]]:
    t0 = time.perf_counter()
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(
        total=pl.col("qty").cast(pl.Float64) * pl.col("price"),
        label=pl.col("region").str.to_uppercase() + "-" + pl.col("id").cast(pl.String),
        lucky=pl.col("qty") % 7 == 0,
    )
    conditions = [
        pl.col("total") > 5000,
        pl.col("region").str.to_uppercase() == "EAST",
        pl.col("lucky") & (pl.col("qty") < 50),
    ]
    masks = df.select([c.fill_null(False).alias(f"m{i}") for i, c in enumerate(conditions)])
    remaining = pl.repeat(True, df.height, eager=True)
    outputs: dict[str, pl.DataFrame] = {}
    for (name, _), m in zip(CASES, masks.iter_columns(), strict=True):
        hit = m & remaining
        outputs[name] = df.filter(hit)
        remaining = remaining & ~hit
    outputs[DEFAULT] = df.filter(remaining)
    seconds = time.perf_counter() - t0
    return seconds, {k: v.height for k, v in outputs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=65_536)
    args = parser.parse_args()
    table = make_table(args.rows)
    df_seconds, df_rows, per_component = run_dataflow(table, args.batch_rows)
    pl_seconds, pl_rows = run_polars(table)
    assert df_rows == pl_rows, (df_rows, pl_rows)
    print(f"rows: {args.rows:,}  batch rows: {args.batch_rows:,}")
    print(f"dataflow: {df_seconds:8.2f} s  {args.rows / df_seconds:14,.0f} rows/s")
    print(f"polars:   {pl_seconds:8.2f} s  {args.rows / pl_seconds:14,.0f} rows/s")
    print(f"ratio dataflow / polars: {df_seconds / pl_seconds:.2f}")
    busy = ", ".join(f"{k} {v:.2f} s" for k, v in per_component.items() if not k.startswith("Sink"))
    print(f"time in components: {busy}")
    print("rows per output: " + ", ".join(f"{k}={v:,}" for k, v in df_rows.items()))


if __name__ == "__main__":
    main()
