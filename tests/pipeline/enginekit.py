"""Small hand-made data flows for engine tests: a numbers source, a pass-through, a sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.datatypes import make_spec
from dataflow.core.errors import ExecutionError
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
from dataflow.pipeline.component import Emit, PipelineComponent, make_batch, sync_batch
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, error_batch, route

TASK = "Package\\DFT"
SINKS: dict[str, list[pa.RecordBatch]] = {}
SEEN_THREADS: set[str] = set()


def out_col(comp: str, out: str, name: str, token: str = "i8", **extra: str) -> OutputColumn:
    ref = f"{TASK}\\{comp}.Outputs[{out}].Columns[{name}]"
    return OutputColumn(ref, name, ref, ColumnType(token), FrozenMap(extra))


def source(
    name: str, rows: int, batch: int = 1000, fail_at: int | None = None, delay: float = 0
) -> Component:
    out = f"{TASK}\\{name}.Outputs[Out]"
    return Component(
        f"{TASK}\\{name}",
        name,
        "Test.Numbers",
        custom_properties=(
            CustomProperty("Rows", str(rows)),
            CustomProperty("Batch", str(batch)),
            CustomProperty("FailAt", "" if fail_at is None else str(fail_at)),
            CustomProperty("Delay", str(delay)),
        ),
        outputs=(Output(out, "Out", (out_col(name, "Out", "n"),)),),
    )


def checker(name: str, upstream_col: str, disposition: str = "RedirectRow") -> Component:
    """Sync transform failing rows where n % 10 == 3, with an error output."""
    inp = f"{TASK}\\{name}.Inputs[In]"
    good = f"{TASK}\\{name}.Outputs[Good]"
    bad = f"{TASK}\\{name}.Outputs[Errors]"
    return Component(
        f"{TASK}\\{name}",
        name,
        "Test.Checker",
        inputs=(
            Input(
                inp,
                "In",
                (
                    InputColumn(
                        f"{inp}.Columns[n]",
                        upstream_col,
                        "n",
                        ColumnType("i8"),
                        FrozenMap({"errorRowDisposition": disposition}),
                    ),
                ),
            ),
        ),
        outputs=(
            Output(
                good,
                "Good",
                (),
                attrs=FrozenMap({"synchronousInputId": inp, "exclusionGroup": "1"}),
            ),
            Output(
                bad,
                "Errors",
                (
                    out_col(name, "Errors", "ErrorCode", "i4", specialFlags="1"),
                    out_col(name, "Errors", "ErrorColumn", "i4", specialFlags="2"),
                ),
                attrs=FrozenMap(
                    {"synchronousInputId": inp, "exclusionGroup": "1", "isErrorOut": "true"}
                ),
            ),
        ),
    )


def sink(name: str, delay: float = 0) -> Component:
    inp = f"{TASK}\\{name}.Inputs[In]"
    return Component(
        f"{TASK}\\{name}",
        name,
        "Test.Sink",
        custom_properties=(CustomProperty("Delay", str(delay)),),
        inputs=(Input(inp, "In"),),
    )


def path(out_ref: str, in_ref: str, name: str) -> DataFlowPath:
    return DataFlowPath(f"{TASK}.Paths[{name}]", name, out_ref, in_ref)


def package(
    *components: Component, paths: Iterable[DataFlowPath] = (), **pipeline_attrs: str
) -> Package:
    dft = Executable(
        TASK,
        "DFT",
        "Microsoft.Pipeline",
        pipeline=Pipeline(tuple(components), tuple(paths), FrozenMap(pipeline_attrs)),
    )
    return Package("Package", "P", "Microsoft.Package", executables=(dft,))


@register("Test.Numbers")
class Numbers(PipelineComponent):
    def produce(self) -> Iterator[Emit]:
        rows = int(self.model.prop("Rows", "0"))
        size = int(self.model.prop("Batch", "1000"))
        fail_at = self.model.prop("FailAt", "")
        delay = float(self.model.prop("Delay", "0"))
        out = self.model.outputs[0]
        cols = self.added_columns(out)
        SEEN_THREADS.add(threading.current_thread().name)
        for start in range(0, rows, size):
            self.context.check_cancel(self.model.ref_id)
            if fail_at and start >= int(fail_at):
                raise ExecutionError(
                    "DTS_E_PRIMEOUTPUTFAILED", "source broke on purpose", path=self.model.ref_id
                )
            if delay:
                time.sleep(delay)
            yield (
                out,
                make_batch(cols, [pa.array(range(start, min(rows, start + size)), pa.int64())]),
            )


@register("Test.Checker")
class Checker(PipelineComponent):
    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        col = input.columns[0]
        values = batch.column(col.lineage_id)
        mask = pc.equal(
            pc.subtract(values, pc.multiply(pc.divide(values, 10), 10)), 3
        )  # n % 10 == 3
        routed = route(
            self.model.ref_id,
            batch.num_rows,
            [
                ColumnFailure(
                    "n",
                    self.layout.numeric.get(col.lineage_id, 0),
                    mask,
                    "DTS_E_EXPREVALDIVBYZERO",
                    col.error_row_disposition,
                )
            ],
        )
        good = self.output(name="Good")
        if routed.redirect is None:
            return [(good, batch)]
        bad = self.output(name="Errors")
        return [
            (good, batch.filter(routed.keep)),
            (bad, error_batch(batch, routed, bad, self.layout.numeric)),
        ]


@register("Test.Sink")
class Sink(PipelineComponent):
    def start(self, ctx: object) -> None:  # type: ignore[override]
        super().start(ctx)  # type: ignore[arg-type]
        SINKS[self.model.name] = []

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        delay = float(self.model.prop("Delay", "0"))
        if delay:
            time.sleep(delay)
        SINKS[self.model.name].append(batch)
        return []


__all__ = ["make_spec", "sync_batch"]
