"""Conditional Split: each row goes to the first output whose condition is TRUE, else the default.

Outputs carry ``Expression`` and ``EvaluationOrder`` (lower first); the default output has
``IsDefaultOut=true`` (dtsx-format.md §5). All outputs are synchronous and share one exclusion
group, so a row leaves on exactly one output: per batch every condition is evaluated once over
the whole batch, a running "not placed yet" mask makes the matches exclusive, and each output's
batch is the input filtered once.

A condition that evaluates to NULL is an *error*, not FALSE: SSIS raises
DTS_E_TXSPLITEXPRESSIONEVALUATEDTONULL ("The expression results must be Boolean for a Conditional
Split. A NULL expression result is an error."; HResults reference, learn.microsoft.com
microsoft.sqlserver.dts.runtime.hresults.dts_e_txsplitexpressionevaluatedtonull). The case
output's ``errorRowDisposition`` decides: IgnoreFailure treats the row as not matching (it tries
the next case), RedirectRow sends it to "Conditional Split Error Output" (ErrorColumn 0: the
failure concerns the row, not a column), FailComponent (and NotUsed) fails the component. An
evaluation error (division by zero...) is handled the same way. A condition is only evaluated
for rows no earlier case took, as SSIS evaluates cases in order row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

import pyarrow as pa
import pyarrow.compute as pc

from dataflow import expressions
from dataflow.core.errors import (
    CODES,
    DataflowError,
    ExecutionError,
    ExpressionError,
    ValidationError,
)
from dataflow.package.model import Input, Output, to_bool, to_int
from dataflow.pipeline.component import Emit, PipelineComponent
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.exprsupport import (
    BatchEvaluator,
    Evaluated,
    ExpressionScope,
    expression_failure,
)
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, Routed, error_batch, route

#: ErrorCode of a row whose condition evaluated to NULL. SSIS's own code is
#: DTS_E_TXSPLITEXPRESSIONEVALUATEDTONULL (0xC020902B, -1071607765); until the code table has
#: it, the nearest coded failure stands in.
NULL_RESULT_CODE: Final = (
    "DTS_E_TXSPLITEXPRESSIONEVALUATEDTONULL"
    if "DTS_E_TXSPLITEXPRESSIONEVALUATEDTONULL" in CODES
    else "DTS_E_INDUCEDTRANSFORMFAILUREONERROR"
)


@dataclass
class _Case:
    output: Output
    order: int
    text: str
    compiled: expressions.Compiled | None = None


def _text(o: Output) -> str:
    return (o.prop("Expression") or o.prop("FriendlyExpression") or "").strip()


@register("Microsoft.ConditionalSplit")
class ConditionalSplit(PipelineComponent):
    # --- design time ----------------------------------------------------------------------
    def _scope(self) -> ExpressionScope:
        return ExpressionScope(
            self.layout.input_columns(self.only_input().ref_id), self.layout.numeric
        )

    def _default(self) -> Output | None:
        return next(
            (
                o
                for o in self.model.outputs
                if not o.is_error_output and to_bool(o.prop("IsDefaultOut"))
            ),
            None,
        )

    def _cases(self) -> list[_Case]:
        default = self._default()
        cases = [
            _Case(o, to_int(o.prop("EvaluationOrder"), i), _text(o))
            for i, o in enumerate(self.model.outputs)
            if not o.is_error_output and o is not default
        ]
        return sorted(cases, key=lambda c: c.order)  # stable: ties keep the package's order

    def validate(self) -> list[DataflowError]:
        problems: list[DataflowError] = []
        scope = self._scope()
        redirects = False
        for case in self._cases():
            redirects |= case.output.attrs.get("errorRowDisposition") == "RedirectRow"
            if not case.text:
                problems.append(
                    ValidationError(
                        "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION",
                        f"output {case.output.name!r} has no condition",
                        path=case.output.ref_id,
                        hint="give the output a condition, or mark it as the default output",
                    )
                )
                continue
            try:
                result = scope.check(case.text)
            except ExpressionError as exc:
                problems.append(
                    ValidationError(
                        exc.code,
                        f"condition of {case.output.name!r} is not valid: {exc.message}",
                        path=case.output.ref_id,
                        hint="correct the condition in the Conditional Split editor",
                    )
                )
                continue
            if result is not None and result.name != "DT_BOOL":
                problems.append(_not_boolean(case, result.name))
        if self._default() is None:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    "the component has no default output (IsDefaultOut=true)",
                    path=self.model.ref_id,
                    hint="rows that match no condition need the 'Conditional Split Default Output'",
                )
            )
        problems += self.check_error_output(
            redirects, "an output", "Conditional Split Error Output"
        )
        return problems

    # --- run time -------------------------------------------------------------------------
    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.scope = self._scope()
        self.cases = self._cases()
        for case in self.cases:
            try:
                case.compiled = self.scope.compile(case.text, ctx)
            except ExpressionError as exc:
                raise expression_failure(
                    exc, f"condition of {case.output.name!r}", case.output.ref_id
                ) from None
            if case.compiled.type.name != "DT_BOOL":
                raise _not_boolean(case, case.compiled.type.name)
        self.used = self.scope.used_lineage(
            c.compiled for c in self.cases if c.compiled is not None
        )
        self.evaluator = BatchEvaluator([c.compiled for c in self.cases if c.compiled is not None])
        self.default = self._default()
        self.errors_out = self.error_output()
        self.null_code = CODES[NULL_RESULT_CODE].decimal

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        n = batch.num_rows
        frame = self.scope.frame(batch, self.used)
        results = self.evaluator.evaluate(frame, n)
        remaining: pa.BooleanArray | None = None  # rows no case took yet; None: every row
        matches: list[tuple[Output, pa.BooleanArray]] = []
        redirect: pa.BooleanArray | None = None
        error_code: pa.Int32Array | None = None
        for case, result in zip(self.cases, results, strict=True):
            values: Any = _as_array(result.values.to_arrow())
            # NULL is a failure; so is an evaluation error (whose value is NULL too).
            if values.null_count:
                failed = pc.is_null(values)
                if remaining is not None:
                    failed = pc.and_(failed, remaining)
                if failed.true_count:
                    routed = self._failures(case, result, failed, n)
                    if routed.redirect is not None:
                        assert routed.error_code is not None
                        error_code = (
                            routed.error_code
                            if redirect is None
                            else cast(
                                "pa.Int32Array",
                                pc.if_else(routed.redirect, routed.error_code, error_code),
                            )
                        )
                        redirect = (
                            routed.redirect
                            if redirect is None
                            else pc.or_(redirect, routed.redirect)
                        )
                        remaining = (
                            pc.invert(routed.redirect)
                            if remaining is None
                            else pc.and_not(remaining, routed.redirect)
                        )
                values = pc.fill_null(values, False)
            hit = values if remaining is None else pc.and_(values, remaining)
            matches.append((case.output, hit))
            remaining = pc.invert(hit) if remaining is None else pc.and_not(remaining, hit)
        emits: list[Emit] = []
        for out, mask in matches:
            taken = mask.true_count
            if taken:
                emits.append((out, batch if taken == n else batch.filter(mask)))
        left = n if remaining is None else remaining.true_count
        if left:
            if self.default is None:  # validate() reports it; never drop rows silently
                raise ExecutionError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    "rows matched no condition and the component has no default output",
                    path=self.model.ref_id,
                )
            emits.append(
                (self.default, batch if remaining is None or left == n else batch.filter(remaining))
            )
        if redirect is not None and error_code is not None:
            if self.errors_out is None:
                raise ExecutionError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    "rows must be redirected but the component has no error output",
                    path=self.model.ref_id,
                )
            zeros = pa.repeat(pa.scalar(0, pa.int32()), n)  # type: ignore[attr-defined]
            routed_all = Routed(pc.invert(redirect), redirect, error_code, zeros)
            emits.append(
                (
                    self.errors_out,
                    error_batch(batch, routed_all, self.errors_out, self.layout.numeric),
                )
            )
        return emits

    def _failures(self, case: _Case, result: Evaluated, failed: pa.BooleanArray, n: int) -> Routed:
        """Apply the case's error disposition to the rows whose condition is NULL or failed."""
        codes: Any = pa.repeat(pa.scalar(self.null_code, pa.int32()), n)  # type: ignore[attr-defined]
        if result.error_mask is not None and result.error_codes is not None:
            codes = pc.if_else(result.error_mask, result.error_codes, codes)
        return route(
            self.model.ref_id,
            n,
            [
                ColumnFailure(
                    case.output.name,
                    0,
                    failed,
                    codes,
                    case.output.attrs.get("errorRowDisposition", "NotUsed"),
                    detail="the condition evaluated to NULL or failed",
                )
            ],
        )


def _as_array(values: pa.Array[Any] | pa.ChunkedArray[Any]) -> pa.BooleanArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return cast("pa.BooleanArray", values)


def _not_boolean(case: _Case, type_name: str) -> ValidationError:
    return ValidationError(
        "DTS_E_EXPREVALBINARYTYPEMISMATCH",
        f"condition of {case.output.name!r} is {type_name}, but a Conditional Split needs DT_BOOL",
        path=case.output.ref_id,
        hint="compare the value, e.g. [Col] > 0",
    )
