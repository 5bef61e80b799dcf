"""Data Conversion: copies of input columns converted to other data types.

Each output column of "Data Conversion Output" names its source with
``SourceInputColumnLineageID`` (``#{refId}``) and declares the target type (dataType, length,
precision, scale, codePage). The conversion is the SSIS cast to that type compiled by
:mod:`dataflow.expressions` (:class:`~dataflow.pipeline.exprsupport.Fit`), so Data Conversion and
expression casts follow one set of rules. A value the cast rejects is an *error* (NULL when
ignored), a string longer than the target a *truncation* (cut when ignored); both follow the
output column's dispositions, and redirected rows go to "Data Conversion Error Output" with
ErrorCode (the cast's code) and ErrorColumn (the output column's integer lineage id, the column
whose dispositions decided).

``FastParse`` is accepted on every column and changes nothing: our string parsing is always the
locale-neutral ISO form that FastParse selects in SSIS (datatypes.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from dataflow.core.errors import DataflowError, ExecutionError, ExpressionError, ValidationError
from dataflow.package.model import Input, OutputColumn
from dataflow.pipeline.component import ColumnInfo, Emit, PipelineComponent, sync_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.exprsupport import (
    TRUNCATION_CODE,
    BatchEvaluator,
    ExpressionScope,
    Fit,
    lineage_ref,
    to_arrow,
)
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, error_batch, route


@dataclass
class _Conversion:
    column: OutputColumn
    info: ColumnInfo
    source: ColumnInfo
    fit: Fit


@register("Microsoft.DataConvert")
class DataConversion(PipelineComponent):
    # --- design time ----------------------------------------------------------------------
    def _source_of(self, col: OutputColumn) -> ColumnInfo | None:
        ref = lineage_ref(col.prop("SourceInputColumnLineageID"))
        available = self.layout.input_columns(self.only_input().ref_id)
        for c in available:
            if c.lineage_id == ref or (ref.isdigit() and c.numeric_id == int(ref)):
                return c
        return None

    def _conversions(self) -> tuple[list[_Conversion], list[DataflowError]]:
        items: list[_Conversion] = []
        problems: list[DataflowError] = []
        for out in self.model.outputs:
            if out.is_error_output:
                continue
            for col in out.columns:
                source = self._source_of(col)
                if source is None:
                    problems.append(
                        ValidationError(
                            "DTS_E_VALIDATIONFAILED",
                            f"output column {col.name!r} converts "
                            f"{col.prop('SourceInputColumnLineageID')!r}, which is not an input column",
                            path=col.ref_id,
                            hint="map the column to an input column in the Data Conversion editor",
                        )
                    )
                    continue
                info = self.column_info(col)
                try:
                    fit = Fit(source.spec, info.spec)
                except ExpressionError as exc:
                    problems.append(
                        ValidationError(
                            exc.code,
                            f"{source.name!r} ({source.spec}) cannot be converted to {info.spec} for "
                            f"{col.name!r}: {exc.message}",
                            path=col.ref_id,
                            hint="choose a data type SSIS can cast this column to",
                        )
                    )
                    continue
                items.append(_Conversion(col, info, source, fit))
        redirects = any(
            "RedirectRow" in (c.column.error_row_disposition, c.column.truncation_row_disposition)
            for c in items
        )
        problems += self.check_error_output(redirects, "a column", "Data Conversion Error Output")
        return items, problems

    def validate(self) -> list[DataflowError]:
        return self._conversions()[1]

    # --- run time -------------------------------------------------------------------------
    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        items, problems = self._conversions()
        if problems:
            raise problems[0]
        self.items = items
        self.scope = ExpressionScope(self.layout.input_columns(self.only_input().ref_id))
        # Every conversion's cast reads its own copy of its source column (c0, c1...), so all of
        # them run in one polars select per batch.
        self.casts = [c.fit.cast_over(f"c{i}") for i, c in enumerate(self.items)]
        self.evaluator = BatchEvaluator([k for k in self.casts if k is not None])
        self.main = self.output(error=False)
        self.errors_out = self.error_output()

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        frame = pl.from_arrow(
            pa.RecordBatch.from_arrays(
                [batch.column(c.source.lineage_id) for c in self.items],
                names=[f"c{i}" for i in range(len(self.items))],
            ),
            rechunk=False,
        )
        assert isinstance(frame, pl.DataFrame)
        converted = iter(self.evaluator.evaluate(frame, batch.num_rows))
        failures: list[ColumnFailure] = []
        arrays: list[pa.Array[Any]] = []
        for i, c in enumerate(self.items):
            done = next(converted) if self.casts[i] is not None else None
            fitted = c.fit.apply(frame.get_column(f"c{i}"), converted=done)
            if fitted.error_mask is not None and fitted.error_codes is not None:
                failures.append(
                    ColumnFailure(
                        c.info.name,
                        c.info.numeric_id,
                        fitted.error_mask,
                        fitted.error_codes,
                        c.column.error_row_disposition,
                    )
                )
            if fitted.truncated is not None:
                failures.append(
                    ColumnFailure(
                        c.info.name,
                        c.info.numeric_id,
                        fitted.truncated,
                        TRUNCATION_CODE,
                        c.column.truncation_row_disposition,
                        truncation=True,
                        detail=f"value longer than {c.info.spec}",
                    )
                )
            arrays.append(to_arrow(fitted.values, c.info.field.type))
        routed = route(self.model.ref_id, batch.num_rows, failures)
        out = sync_batch(batch, [c.info for c in self.items], arrays)
        if routed.redirect is None:
            return [(self.main, out)]
        assert routed.keep is not None
        if self.errors_out is None:
            raise ExecutionError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                "rows must be redirected but the component has no error output",
                path=self.model.ref_id,
            )
        return [
            (self.main, out.filter(routed.keep)),
            (self.errors_out, error_batch(batch, routed, self.errors_out, self.layout.numeric)),
        ]
