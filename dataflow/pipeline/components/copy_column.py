"""Copy Column: input columns duplicated under new lineage ids, zero-copy.

Each output column of "Copy Column Output" names the column it copies with ``copyColumnId``
(``#{refId}``, as SSDT writes it; a bare number in formats 2/3). Arrow arrays are immutable, so
the copy shares the source's buffers; only the field (lineage id, name, SSIS type) is new. Copy
Column has no error output: a copy cannot fail. Its output column declares the source's type,
which the designer always copies; a declared type that differs is a validation error rather than
a silent conversion (use Data Conversion for that).
"""

from __future__ import annotations

import pyarrow as pa

from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Input, OutputColumn
from dataflow.pipeline.component import ColumnInfo, Emit, PipelineComponent, sync_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.exprsupport import lineage_ref
from dataflow.pipeline.registry import register

_SOURCE_PROPERTIES = ("copyColumnId", "CopyColumnId", "SourceInputColumnLineageID")


@register("Microsoft.CopyMap")
class CopyColumn(PipelineComponent):
    def _source_of(self, col: OutputColumn) -> ColumnInfo | None:
        raw = next((col.prop(p) for p in _SOURCE_PROPERTIES if col.prop(p)), None)
        ref = lineage_ref(raw)
        for c in self.layout.input_columns(self.only_input().ref_id):
            if c.lineage_id == ref or (ref.isdigit() and c.numeric_id == int(ref)):
                return c
        return None

    def _copies(self) -> tuple[list[tuple[ColumnInfo, ColumnInfo]], list[DataflowError]]:
        pairs: list[tuple[ColumnInfo, ColumnInfo]] = []
        problems: list[DataflowError] = []
        for out in self.model.outputs:
            if out.is_error_output:
                continue
            for col in out.columns:
                source = self._source_of(col)
                info = self.column_info(col)
                if source is None:
                    problems.append(
                        ValidationError(
                            "DTS_E_VALIDATIONFAILED",
                            f"output column {col.name!r} copies {col.prop('copyColumnId')!r}, "
                            "which is not an input column",
                            path=col.ref_id,
                            hint="map the column to an input column in the Copy Column editor",
                        )
                    )
                elif source.spec.to_arrow() != info.spec.to_arrow():
                    problems.append(
                        ValidationError(
                            "DTS_E_VALIDATIONFAILED",
                            f"output column {col.name!r} is {info.spec} but copies {source.name!r} of type "
                            f"{source.spec}",
                            path=col.ref_id,
                            hint="refresh the component's metadata; convert types with Data Conversion",
                        )
                    )
                else:
                    pairs.append((source, info))
        return pairs, problems

    def validate(self) -> list[DataflowError]:
        return self._copies()[1]

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        pairs, problems = self._copies()
        if problems:
            raise problems[0]
        self.pairs = pairs
        self.main = self.output(error=False)

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        arrays = [batch.column(source.lineage_id) for source, _ in self.pairs]
        return [(self.main, sync_batch(batch, [info for _, info in self.pairs], arrays))]
