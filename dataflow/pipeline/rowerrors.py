"""Error outputs, vectorised: per-column error and truncation masks become dispositions.

A component that can fail on some rows computes, for each column, a boolean mask of failing rows
and the SSIS error code (a scalar or one per row), then calls :func:`route`. Per the column's
``errorRowDisposition`` / ``truncationRowDisposition``:

* ``FailComponent`` (and ``NotUsed`` when a failure happens anyway): the component fails with
  ``DTS_E_INDUCEDTRANSFORMFAILUREONERROR`` / ``…ONTRUNCATION``, naming the column and the first row;
* ``IgnoreFailure``: the row stays on the normal output (the caller has put NULL in the failing
  value for errors; a truncated value is kept);
* ``RedirectRow``: the row goes to the error output with ``ErrorCode`` (the first failing column's
  code, in column order) and ``ErrorColumn`` (that column's integer lineage id).

Conservation: every input row ends on exactly one of the two results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.errors import CODES, ExecutionError
from dataflow.package.model import Output


@dataclass(frozen=True, slots=True)
class ColumnFailure:
    """Rows of one column that failed one way (error or truncation)."""

    column_name: str
    numeric_lineage_id: int
    mask: pa.BooleanArray  # True = this row failed on this column
    code: str | pa.Int32Array  # DTS_E_* name for every row, or per-row signed HRESULTs
    disposition: str  # FailComponent | IgnoreFailure | RedirectRow | NotUsed
    truncation: bool = False
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Routed:
    """The rows that stay (``good``) and the rows redirected (``errors``: input columns plus
    ErrorCode and ErrorColumn), as row masks over the input batch plus the two int32 columns."""

    keep: pa.BooleanArray | None  # None: keep every row
    redirect: pa.BooleanArray | None  # None: nothing redirected
    error_code: pa.Int32Array | None
    error_column: pa.Int32Array | None


def _codes(f: ColumnFailure, n: int) -> pa.Int32Array:
    if isinstance(f.code, str):
        return pa.array([CODES[f.code].decimal] * n, pa.int32()) if n else pa.array([], pa.int32())
    return f.code


def route(component_ref: str, n_rows: int, failures: Sequence[ColumnFailure]) -> Routed:
    """Apply dispositions; raises :class:`ExecutionError` for rows whose disposition fails."""
    redirect: pa.BooleanArray | None = None
    error_code: pa.Array | None = None
    error_column: pa.Array | None = None
    for f in failures:
        if f.mask is None or n_rows == 0:
            continue
        count = pc.sum(f.mask).as_py() or 0
        if count == 0:
            continue
        disposition = f.disposition
        if disposition in ("FailComponent", "NotUsed"):
            first = pc.index(f.mask, True).as_py()
            code = f.code if isinstance(f.code, str) else _name_of(f.code[first].as_py())
            what = "a truncation" if f.truncation else "an error"
            raise ExecutionError(
                "DTS_E_INDUCEDTRANSFORMFAILUREONTRUNCATION"
                if f.truncation
                else "DTS_E_INDUCEDTRANSFORMFAILUREONERROR",
                f"{count} row(s) failed with {what} on column {f.column_name!r} "
                f"(first at row {first}: {code}{': ' + f.detail if f.detail else ''}); "
                f"the column's {'truncation' if f.truncation else 'error'} disposition is {disposition}",
                path=component_ref,
                hint="set the column's disposition to RedirectRow to send such rows to the error "
                "output, or IgnoreFailure to keep them",
            )
        if disposition == "IgnoreFailure":
            continue
        # RedirectRow: the first failing column (in column order) names the error.
        fresh = f.mask if redirect is None else pc.and_(f.mask, pc.invert(redirect))
        codes = _codes(f, n_rows)
        col_ids = pa.array([f.numeric_lineage_id] * n_rows, pa.int32())
        if redirect is None:
            error_code = pc.if_else(fresh, codes, pa.scalar(0, pa.int32()))
            error_column = pc.if_else(fresh, col_ids, pa.scalar(0, pa.int32()))
            redirect = fresh
        else:
            error_code = pc.if_else(fresh, codes, error_code)
            error_column = pc.if_else(fresh, col_ids, error_column)
            redirect = pc.or_(redirect, fresh)
    if redirect is None:
        return Routed(None, None, None, None)
    return Routed(pc.invert(redirect), redirect, error_code, error_column)


def _name_of(hresult: int) -> str:
    for name, info in CODES.items():
        if info.decimal == hresult:
            return name
    return str(hresult)


def error_batch(
    batch: pa.RecordBatch, routed: Routed, error_output: Output, numeric: dict[str, int]
) -> pa.RecordBatch:
    """The redirected rows of ``batch`` with the error output's ErrorCode / ErrorColumn columns."""
    from dataflow.core.datatypes import make_spec
    from dataflow.pipeline.component import ColumnInfo, sync_batch

    assert (
        routed.redirect is not None
        and routed.error_code is not None
        and routed.error_column is not None
    )
    rows = batch.filter(routed.redirect)
    code = routed.error_code.filter(routed.redirect)
    column = routed.error_column.filter(routed.redirect)
    added: list[ColumnInfo] = []
    arrays: list[pa.Array] = []
    for col in error_output.columns:
        flag = col.special_flags
        if flag in (1, 2):
            added.append(
                ColumnInfo(
                    col.lineage_id, col.name, make_spec("DT_I4"), numeric.get(col.lineage_id, 0)
                )
            )
            arrays.append(code if flag == 1 else column)
    return sync_batch(rows, added, arrays)
