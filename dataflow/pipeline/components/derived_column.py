"""Derived Column: add columns, or replace input columns, with values computed by expressions.

New columns are output columns of "Derived Column Output" carrying the custom property
``Expression``; replaced columns are input columns with ``usageType="readWrite"`` carrying it
(dtsx-format.md §5). Every expression sees the input row as it arrived (a derived value is not
visible to the other expressions of the same component, as in SSIS), is compiled once in
``start()`` and evaluated on whole batches. The result is converted to the column's declared type:
a failing conversion or evaluation is an *error*, a string longer than the column a *truncation*,
each handled by the column's own disposition; redirected rows leave on "Derived Column Error
Output" with ErrorCode and ErrorColumn (the column's integer lineage id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dataflow import expressions
from dataflow.core.errors import DataflowError, ExecutionError, ExpressionError, ValidationError
from dataflow.package.model import Input, InputColumn, OutputColumn
from dataflow.pipeline.component import ColumnInfo, Emit, PipelineComponent, sync_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.exprsupport import (
    TRUNCATION_CODE,
    BatchEvaluator,
    ExpressionScope,
    Fit,
    arrow_max_bytes,
    check_fit,
    combine_errors,
    expression_failure,
    to_arrow,
)
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, error_batch, route


@dataclass
class _Derivation:
    """One column the component computes."""

    info: ColumnInfo  # where the value goes (new output column, or the replaced input column)
    text: str
    error_disposition: str
    truncation_disposition: str
    ref_id: str  # the column's refId, for messages
    compiled: expressions.Compiled | None = None
    fit: Fit | None = None
    arrow_type: pa.DataType | None = None  # the column's Arrow type (built once)


def _expression(col: OutputColumn | InputColumn) -> str:
    return (col.prop("Expression") or col.prop("FriendlyExpression") or "").strip()


@register("Microsoft.DerivedColumn")
class DerivedColumn(PipelineComponent):
    # --- design time ----------------------------------------------------------------------
    def _input(self) -> Input:
        return self.only_input()

    def _scope(self) -> ExpressionScope:
        inp = self._input()
        return ExpressionScope(self.layout.input_columns(inp.ref_id), self.layout.numeric)

    def _derivations(self) -> list[_Derivation]:
        inp = self._input()
        out: list[_Derivation] = []
        for col in inp.columns:
            if col.usage_type.lower() == "readwrite" and _expression(col):
                out.append(
                    _Derivation(
                        self.input_column_info(inp, col),
                        _expression(col),
                        col.error_row_disposition,
                        col.truncation_row_disposition,
                        col.ref_id,
                    )
                )
        for o in self.model.outputs:
            if o.is_error_output:
                continue
            for oc in o.columns:
                out.append(
                    _Derivation(
                        self.column_info(oc),
                        _expression(oc),
                        oc.error_row_disposition,
                        oc.truncation_row_disposition,
                        oc.ref_id,
                    )
                )
        return out

    def validate(self) -> list[DataflowError]:
        problems: list[DataflowError] = []
        scope = self._scope()
        redirects = False
        for d in self._derivations():
            redirects |= "RedirectRow" in (d.error_disposition, d.truncation_disposition)
            if not d.text:
                problems.append(
                    ValidationError(
                        "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION",
                        f"derived column {d.info.name!r} has no Expression",
                        path=d.ref_id,
                        hint="give the column an expression, or remove it",
                    )
                )
                continue
            try:
                result = scope.check(d.text)
            except ExpressionError as exc:
                problems.append(
                    ValidationError(
                        exc.code,
                        f"expression of {d.info.name!r} is not valid: {exc.message}",
                        path=d.ref_id,
                        hint="correct the expression in the Derived Column editor",
                    )
                )
                continue
            if result is not None:
                bad = check_fit(result, d.info.spec, f"derived column {d.info.name!r}", d.ref_id)
                if bad is not None:
                    problems.append(bad)
        problems += self.check_error_output(redirects, "a column", "Derived Column Error Output")
        return problems

    # --- run time -------------------------------------------------------------------------
    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.scope = self._scope()
        self.items = self._derivations()
        for d in self.items:
            try:
                d.compiled = self.scope.compile(d.text, ctx)
                d.fit = Fit(d.compiled.type, d.info.spec)
                d.arrow_type = d.info.field.type
            except ExpressionError as exc:
                raise expression_failure(exc, f"derived column {d.info.name!r}", d.ref_id) from None
        self.used = self.scope.used_lineage(
            d.compiled for d in self.items if d.compiled is not None
        )
        self.evaluator = BatchEvaluator([d.compiled for d in self.items if d.compiled is not None])
        self.main = self.output(error=False)
        self.errors_out = self.error_output()

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        frame = self.scope.frame(batch, self.used)
        failures: list[ColumnFailure] = []
        infos: list[ColumnInfo] = []
        arrays: list[pa.Array[Any]] = []
        computed_all = self.evaluator.evaluate(frame, batch.num_rows)
        for d, computed in zip(self.items, computed_all, strict=True):
            assert d.fit is not None and d.arrow_type is not None
            # Strings that need no conversion: the Arrow column (built anyway for the output)
            # bounds their length cheaply, and is the output when nothing was cut.
            ready: pa.Array[Any] | None = None
            longest: int | None = None
            if d.fit.cast is None and d.fit.limit > 0:
                ready = to_arrow(computed.values, d.arrow_type)
                longest = arrow_max_bytes(ready)
            fitted = d.fit.apply(computed.values, longest)
            mask, codes = combine_errors(computed, fitted)
            values = fitted.values
            if mask is not None:
                assert codes is not None
                failures.append(
                    ColumnFailure(d.info.name, d.info.numeric_id, mask, codes, d.error_disposition)
                )
            if fitted.truncated is not None:
                failures.append(
                    ColumnFailure(
                        d.info.name,
                        d.info.numeric_id,
                        fitted.truncated,
                        TRUNCATION_CODE,
                        d.truncation_disposition,
                        truncation=True,
                        detail=f"value longer than {d.info.spec}",
                    )
                )
            infos.append(d.info)
            same = ready is not None and values is computed.values
            arrays.append(ready if same else to_arrow(values, d.arrow_type))
        routed = route(self.model.ref_id, batch.num_rows, failures)
        out = sync_batch(batch, infos, arrays)
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


__all__ = ["DerivedColumn"]
