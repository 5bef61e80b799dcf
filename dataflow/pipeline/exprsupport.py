"""Expressions and type conversions inside data-flow components, shared by the transforms.

Batches' fields are lineage ids, but stored expressions name columns two ways: ``#{refId}``
(what SSDT writes) and ``[Name]`` (FriendlyExpression style, hand-written packages). An
:class:`ExpressionScope` is the view one input gives an expression: every upstream column keyed by
its name when that name is unique on the input (case-insensitively, as SSIS resolves names), by
its lineage refId otherwise, so that ``[Name]`` finds unique names and ``#{refId}`` always works.
A batch becomes a polars frame with its fields renamed to those keys (zero-copy), once per batch,
shared by every expression of the component.

Assigning a value to a column of a declared type (Derived Column, Data Conversion) is a
:class:`Fit`: the conversion is an SSIS cast compiled by :mod:`dataflow.expressions`, so
conversion rules are the expression language's, never a second table. String lengths are checked
outside the cast because a cast inside an expression truncates silently, while writing into a
shorter column is a *truncation* the column's truncation disposition handles (datatypes.md §4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from dataflow import expressions
from dataflow.core.datatypes import TypeSpec
from dataflow.core.errors import (
    CODES,
    DataflowError,
    ExecutionError,
    ExpressionError,
    ValidationError,
)
from dataflow.expressions import ast
from dataflow.expressions.polars_backend import pl_dtype, uses_byte_offsets
from dataflow.pipeline.component import ColumnInfo
from dataflow.pipeline.context import RunContext

#: ErrorCode of rows whose value was too long for its column. SSIS logs this code for a column
#: whose truncation disposition fails the component; we also use it as the row's ErrorCode.
TRUNCATION_CODE: Final = "DTS_E_INDUCEDTRANSFORMFAILUREONTRUNCATION"

STRING_TYPES: Final = frozenset({"DT_STR", "DT_WSTR", "DT_TEXT", "DT_NTEXT"})
_WIDE: Final = 4000  # longest DT_WSTR a cast may name; values are converted at full length first


def cast_spec_text(spec: TypeSpec) -> str:
    """The cast operator for ``spec``: ``(DT_NUMERIC,10,2)``, ``(DT_STR,20,1252)``, ``(DT_I4)``."""
    args: list[int] = []
    if spec.name in ("DT_WSTR", "DT_BYTES"):
        args = [spec.length or _WIDE]
    elif spec.name == "DT_STR":
        args = [spec.length or 8000, spec.codepage or 1252]
    elif spec.name == "DT_TEXT":
        args = [spec.codepage or 1252]
    elif spec.name == "DT_NUMERIC":
        args = [spec.precision, spec.scale]
    elif spec.name in ("DT_DECIMAL", "DT_DBTIME2", "DT_DBTIMESTAMP2", "DT_DBTIMESTAMPOFFSET"):
        args = [spec.scale]
    return f"({','.join([spec.name, *map(str, args)])})"


def lineage_ref(value: str | None) -> str:
    """``#{Package\\...Columns[X]}`` -> the refId; ``#17`` / ``17`` -> ``17``."""
    text = (value or "").strip()
    if text.startswith("#{") and text.endswith("}"):
        return text[2:-1]
    return text.lstrip("#")


def expression_failure(exc: DataflowError, what: str, path: str) -> ExecutionError:
    """A compile problem found at run time, with the expression's own code."""
    return ExecutionError(
        exc.code,
        f"{what}: {exc.message}",
        path=path,
        hint="correct the expression in the component editor",
    )


@dataclass(frozen=True)
class Evaluated:
    """A column of values (polars) and the rows that failed computing it."""

    values: pl.Series
    error_mask: pa.BooleanArray | None  # None: no row failed
    error_codes: pa.Int32Array | None  # signed HRESULT per failing row (NULL elsewhere)
    truncated: pa.BooleanArray | None = None  # rows whose value was cut to the column's length


class ExpressionScope:
    """The columns of one input as its expressions see them (names, lineage ids, types)."""

    def __init__(
        self, columns: Sequence[ColumnInfo], numeric: Mapping[str, int] | None = None
    ) -> None:
        counts: dict[str, int] = {}
        for c in columns:
            counts[c.name.lower()] = counts.get(c.name.lower(), 0) + 1
        self.key_of: dict[str, str] = {}  # lineage refId -> key in the compiled schema
        self.specs: dict[str, TypeSpec] = {}
        self.lineage: dict[str, str] = {}  # what #{...} / #17 may name -> key
        for c in columns:
            # A duplicated name stays reachable by its lineage id only (SSIS: "ambiguous").
            key = c.name if c.name and counts[c.name.lower()] == 1 else c.lineage_id
            self.key_of[c.lineage_id] = key
            self.specs[key] = c.spec
            self.lineage[c.lineage_id] = key
            if c.numeric_id:
                self.lineage[str(c.numeric_id)] = key
        for ref, n in (numeric or {}).items():
            if ref in self.key_of:
                self.lineage.setdefault(str(n), self.key_of[ref])

    # --- design time ------------------------------------------------------------------------
    def check(self, text: str) -> TypeSpec | None:
        """Parse and, when it reads no variables, type-check ``text`` (raises ExpressionError).

        Variables are only known at run time, so an expression that reads one is parsed here
        and fully checked by :meth:`compile` in ``start()``. Returns the result type when known.
        """
        parsed = expressions.parse(text)
        if parsed.variables:
            return None
        return expressions.check(parsed, self.specs, lineage=self.lineage)

    # --- run time ---------------------------------------------------------------------------
    def compile(self, text: str, ctx: RunContext | None = None) -> expressions.Compiled:
        """Compile ``text`` against this input and the run's variables (raises ExpressionError)."""
        parsed = expressions.parse(text)
        values, types = _referenced_variables(parsed, ctx)
        return expressions.compile(
            parsed, self.specs, variables=values, types=types, lineage=self.lineage
        )

    def frame(
        self, batch: pa.RecordBatch, lineage_ids: Iterable[str] | None = None
    ) -> pl.DataFrame:
        """``batch`` (or only ``lineage_ids`` of it) as a polars frame keyed like the schema."""
        if lineage_ids is not None:
            wanted = [r for r in dict.fromkeys(lineage_ids) if r in self.key_of]
            # Keep one column even for constant expressions: the frame must know the row count.
            batch = batch.select(wanted or batch.schema.names[:1])
        # Renaming the Arrow batch is free; renaming the polars frame costs a query. One batch
        # is one chunk per column already: a rechunk would only queue on polars' thread pool,
        # which the other components' readers and writers keep busy.
        batch = batch.rename_columns([self.key_of.get(f, f) for f in batch.schema.names])
        frame = pl.from_arrow(batch, rechunk=False)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def used_lineage(self, compiled: Iterable[expressions.Compiled]) -> list[str]:
        """Lineage ids of the columns ``compiled`` read (only those cross to polars)."""
        by_key = {k: ref for ref, k in self.key_of.items()}
        keys = {n.name for c in compiled for n in c.typed.walk() if isinstance(n, ast.ColumnRef)}
        return [by_key[k] for k in sorted(keys) if k in by_key]


def _referenced_variables(
    parsed: expressions.Expression, ctx: RunContext | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Values and types of the variables ``parsed`` reads. Only those: an Object variable the
    expression never reads must not stop it from compiling."""
    if ctx is None or not parsed.variables:
        return {}, {}
    values = ctx.variables.values()
    types = ctx.variables.types()
    wanted: dict[str, Any] = {}
    for name in parsed.variables:
        bare = name.split("::", 1)[-1]
        for key in values:
            if key == name or key.split("::", 1)[-1] == bare:
                wanted[key] = values[key]
    return wanted, {k: types[k] for k in wanted if k in types}


def evaluate(
    compiled: expressions.Compiled, frame: pl.DataFrame, rows: int | None = None
) -> Evaluated:
    """Values and row errors of one compiled expression over a frame of ``rows`` rows.

    An expression that reads no column (a literal, a variable) yields one value: it is repeated
    for every row, as SSIS evaluates it once per row.
    """
    n = frame.height if rows is None else rows
    values, errors = compiled.evaluate_polars(frame)
    mask, codes = errors.mask, errors.codes
    if len(values) != n:
        values = values.clear() if n == 0 else values.new_from_index(0, n)
        if mask is not None and codes is not None:
            failed = bool(mask[0].as_py()) if len(mask) else False
            mask = pa.repeat(pa.scalar(failed), n) if failed else None  # type: ignore[attr-defined]
            codes = pa.repeat(codes[0], n) if failed else None  # type: ignore[attr-defined]
    return Evaluated(values, mask, codes)


class BatchEvaluator:
    """Several compiled expressions evaluated over one frame in a single polars ``select``.

    Each polars select has a fixed cost per batch, so the expressions of a component share one.
    The result of every expression is exactly :func:`evaluate`'s: the same lowered expression
    (columns cast to the expression's types first, as ``Compiled.evaluate_polars`` does), and an
    expression whose error masks flag a row is evaluated again on its own, which builds the codes
    and NULLs the failing rows. Expressions whose compiled form depends on the batch (ASCII fast
    path for byte offsets) and any batch the fused select cannot handle take the per-expression
    path.
    """

    def __init__(self, compiled: Sequence[expressions.Compiled]) -> None:
        self.compiled = list(compiled)
        self.fused = [not uses_byte_offsets(c.typed) for c in self.compiled]
        self.wanted: dict[str, pl.DataType] = {}
        for i, c in enumerate(self.compiled):
            if not self.fused[i]:
                continue
            names = {n.name for n in c.typed.walk() if isinstance(n, ast.ColumnRef)}
            for name in names:
                want = pl_dtype(c.columns[name])
                if self.wanted.setdefault(name, want) != want:
                    self.fused = [False] * len(self.compiled)  # conflicting types: no fusion
                    self.wanted = {}
                    return

    def evaluate(self, frame: pl.DataFrame, rows: int | None = None) -> list[Evaluated]:
        n = frame.height if rows is None else rows
        slow = [
            evaluate(c, frame, n) if not f else None
            for c, f in zip(self.compiled, self.fused, strict=True)
        ]
        fused = [i for i, f in enumerate(self.fused) if f]
        if not fused:
            return cast("list[Evaluated]", slow)
        schema = frame.schema
        if any(name not in schema for name in self.wanted):
            return [evaluate(c, frame, n) for c in self.compiled]  # raises the missing column
        casts = [
            pl.col(name).cast(want, strict=False)
            for name, want in self.wanted.items()
            if schema[name] != want
        ]
        exprs: list[pl.Expr] = []
        checked: list[int] = []
        for i in fused:
            value, errors = self.compiled[i].lowered(False)
            exprs.append(value.alias(f"v{i}"))
            if errors:
                masks = [m.fill_null(False) for m, _ in errors]
                exprs.append(
                    (pl.any_horizontal(masks) if len(masks) > 1 else masks[0]).alias(f"f{i}")
                )
                checked.append(i)
        # Sequential and eager: on a batch this small, handing the expressions to polars' thread
        # pool costs more than it saves (and waits behind whatever else the pool is running),
        # and so does planning a lazy query.
        try:
            prepared = frame.with_columns_seq(casts) if casts else frame
            out = prepared.select_seq(exprs)
        except pl.exceptions.PolarsError:
            return [evaluate(c, frame, n) for c in self.compiled]
        for i in fused:
            if i in checked and out[f"f{i}"].any():
                slow[i] = evaluate(self.compiled[i], frame, n)  # codes and NULLs for failing rows
                continue
            values = out[f"v{i}"]
            if len(values) != n:
                values = values.clear() if n == 0 else values.new_from_index(0, n)
            slow[i] = Evaluated(values, None, None)
        return cast("list[Evaluated]", slow)


def _or(a: pa.BooleanArray | None, b: pa.BooleanArray | None) -> pa.BooleanArray | None:
    if a is None:
        return b
    if b is None:
        return a
    return pc.or_(a, b)


class Fit:
    """Converts computed values of type ``source`` into a column of type ``target``.

    The conversion is the SSIS cast ``(target)`` compiled once; failing rows are *errors*
    (NULL value, the cast's code). Strings longer than the column are *truncations* (value cut
    to the column's length, kept when the truncation disposition ignores it).
    """

    def __init__(self, source: TypeSpec, target: TypeSpec) -> None:
        self.source = source
        self.target = target
        self.cast: expressions.Compiled | None = None
        self.cast_target: TypeSpec | None = None  # what ``cast`` converts to
        if target.name in STRING_TYPES:
            self.limit = target.length if target.name in ("DT_STR", "DT_WSTR") else 0
            if source.name not in STRING_TYPES:
                # Convert at full width; the column's length is enforced as a truncation below.
                wide = (
                    TypeSpec("DT_WSTR", _WIDE) if target.name in ("DT_STR", "DT_WSTR") else target
                )
                self.cast = _cast(source, wide)
                self.cast_target = wide
        elif target.name == "DT_BYTES":
            self.limit = target.length
            if source.name != "DT_BYTES":
                self.cast_target = TypeSpec("DT_BYTES", 8000)
                self.cast = _cast(source, self.cast_target)
        else:
            self.limit = 0
            if source != target:
                self.cast = _cast(source, target)
                self.cast_target = target
        # DT_STR lengths count bytes: exact for UTF-8 and single-byte code pages (chars = bytes).
        self.count_bytes = target.name == "DT_STR" and target.codepage == 65001

    def cast_over(self, name: str) -> expressions.Compiled | None:
        """:attr:`cast` reading column ``name`` instead of ``v`` (to evaluate several at once)."""
        if self.cast_target is None:
            return None
        return _cast(self.source, self.cast_target, name)

    def apply(
        self,
        values: pl.Series,
        max_bytes: int | None = None,
        converted: Evaluated | None = None,
    ) -> Evaluated:
        """``values`` converted to the column; ``max_bytes``: the longest value's size in bytes
        when the caller knows it (spares a pass over the strings); ``converted``: the result of
        :attr:`cast` over ``values`` when the caller evaluated it already."""
        mask: pa.BooleanArray | None = None
        codes: pa.Int32Array | None = None
        if self.cast is not None:
            if converted is None:
                out, errors = self.cast.evaluate_polars(pl.DataFrame({"v": values}))
                values, mask, codes = out, errors.mask, errors.codes
            else:
                values, mask, codes = converted.values, converted.error_mask, converted.error_codes
        truncated: pa.BooleanArray | None = None
        if self.cast is not None:
            max_bytes = None  # the bound was the unconverted values'
        if self.limit > 0 and len(values) and self._may_exceed(values, max_bytes):
            if self.target.name == "DT_BYTES":
                lengths = values.bin.size()
            else:
                lengths = values.str.len_bytes() if self.count_bytes else values.str.len_chars()
            too_long = (lengths > self.limit).fill_null(False)
            if too_long.any():
                truncated = cast("pa.BooleanArray", too_long.to_arrow())
                if self.target.name == "DT_BYTES":
                    cut = pc.binary_slice(to_arrow(values, pa.large_binary()), 0, self.limit)
                    values = pl.Series(values.name, cut)
                else:
                    values = _cut_strings(values, self.limit, self.count_bytes)
        return Evaluated(values, mask, codes, truncated)

    def _may_exceed(self, values: pl.Series, max_bytes: int | None) -> bool:
        """Cheap bound: no value is longer than the column when none has more bytes than it
        allows (a character is at least one byte), so the per-character count is skipped."""
        if max_bytes is not None:
            return max_bytes > self.limit
        if values.dtype not in (pl.String, pl.Binary):
            return True
        return _max_bytes(values) > self.limit


def arrow_max_bytes(values: pa.Array[Any]) -> int | None:
    """Size in bytes of the longest value of a string or binary array (None: another type)."""
    t = values.type
    if not (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    ):
        return None
    longest = pc.max(pc.binary_length(values)).as_py()
    return int(longest or 0)


def _max_bytes(values: pl.Series) -> int:
    """The longest value's size in bytes (0 when all are NULL)."""
    sizes = values.bin.size() if values.dtype == pl.Binary else values.str.len_bytes()
    longest = sizes.max()
    return int(cast("int", longest) or 0)


def _cut_strings(values: pl.Series, limit: int, count_bytes: bool) -> pl.Series:
    if not count_bytes:
        return values.str.slice(0, limit)
    # Cut at a byte limit without splitting a character. Dropping ceil(excess / 4) characters
    # never drops too many (a character is at most 4 bytes) and always makes progress.
    frame = pl.DataFrame({"s": values, "n": values.str.len_chars().clip(upper_bound=limit)})
    cut = pl.col("s").str.slice(0, pl.col("n"))
    while True:
        frame = frame.with_columns(excess=cut.str.len_bytes().cast(pl.Int64) - limit)
        if not (frame["excess"] > 0).any():
            break
        frame = frame.with_columns(
            n=pl.when(pl.col("excess") > 0)
            .then(pl.col("n") - (pl.col("excess") + 3) // 4)
            .otherwise(pl.col("n"))
        )
    return frame.select(cut.alias(values.name)).to_series()


def _cast(source: TypeSpec, target: TypeSpec, name: str = "v") -> expressions.Compiled:
    return expressions.compile(f"{cast_spec_text(target)}[{name}]", {name: source})


def check_fit(source: TypeSpec, target: TypeSpec, what: str, path: str) -> ValidationError | None:
    """A design-time error when no SSIS cast converts ``source`` into ``target``."""
    try:
        Fit(source, target)
    except ExpressionError as exc:
        return ValidationError(
            exc.code,
            f"{what}: a {source} value cannot be converted to the column's type {target}: {exc.message}",
            path=path,
            hint="change the column's data type, or cast explicitly in the expression",
        )
    return None


def combine_errors(*parts: Evaluated) -> tuple[pa.BooleanArray | None, pa.Int32Array | None]:
    """One error mask and per-row code for a value computed in steps (first failing step wins)."""
    mask: pa.BooleanArray | None = None
    codes: pa.Int32Array | None = None
    for p in parts:
        if p.error_mask is None:
            continue
        step_codes = p.error_codes if p.error_codes is not None else _fill_codes(p.error_mask)
        if mask is None:
            mask, codes = p.error_mask, step_codes
        else:
            assert codes is not None
            fresh = pc.and_(p.error_mask, pc.invert(mask))
            codes = cast("pa.Int32Array", pc.if_else(fresh, step_codes, codes))
            mask = pc.or_(mask, p.error_mask)
    return mask, codes


def _fill_codes(mask: pa.BooleanArray) -> pa.Int32Array:
    code = CODES["DTS_E_EXPREVALCASTFAILED"].decimal
    return cast(
        "pa.Int32Array", pc.if_else(mask, pa.scalar(code, pa.int32()), pa.scalar(None, pa.int32()))
    )


def to_arrow(values: pl.Series, t: pa.DataType) -> pa.Array[Any]:
    """A polars column as an Arrow array of the column's type."""
    arr = values.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != t:
        arr = arr.cast(t)
    return arr


def or_masks(masks: Iterable[pa.BooleanArray | None]) -> pa.BooleanArray | None:
    out: pa.BooleanArray | None = None
    for m in masks:
        out = _or(out, m)
    return out
