"""The public entry points: parse, check, evaluate, evaluate_batch, compile (docs/API.md).

Glue only: tokens -> parser -> typecheck -> scalar or polars back end. Python values and Arrow
columns are typed here (``types=`` overrides, inference otherwise).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, NamedTuple, TypeAlias, cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.datatypes import TypeSpec, make_spec, parse_type_spec, spec_from_field
from dataflow.core.errors import CODES, ExpressionError

from . import ast
from .codes import code
from .generator import generate
from .parser import parse_tree
from .polars_backend import PolarsCompiler, ascii_literals, pl_dtype, uses_byte_offsets
from .scalar import RowError, ScalarEvaluator, cast_value
from .typecheck import SYSTEM_VARIABLES, normalize_variable_key, typecheck
from .types import DEFAULT_WSTR_LENGTH, INT_RANGE, STRINGS, TEXTS, cast_is_legal

TypeLike: TypeAlias = TypeSpec | str
CODE_NAMES: dict[int, str] = {info.decimal: name for name, info in CODES.items()}


# --------------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its tree and what it refers to."""

    text: str
    tree: ast.Node

    @cached_property
    def refs(self) -> ast.References:
        return ast.references(self.tree)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.refs.columns

    @property
    def variables(self) -> tuple[str, ...]:
        return self.refs.variables

    @property
    def lineage(self) -> tuple[str, ...]:
        return self.refs.lineage

    @property
    def is_assignment(self) -> bool:
        return isinstance(self.tree, ast.Assignment)

    @property
    def target(self) -> str | None:
        return self.refs.assigned

    def sql(self) -> str:
        """The expression text regenerated from the tree."""
        return generate(self.tree)

    def __str__(self) -> str:
        return self.sql()


@lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse ``text`` (raises ExpressionError with line/column on a syntax error).

    Results are cached (trees are immutable): control flow re-evaluates the same texts often.
    """
    return Expression(text, parse_tree(text))


class Assigned(NamedTuple):
    """Result of evaluating ``@[User::X] = expr``."""

    variable: str
    value: Any


# --------------------------------------------------------------------------------------------
# typing of inputs
# --------------------------------------------------------------------------------------------


def as_spec(t: TypeLike) -> TypeSpec:
    spec = parse_type_spec(t) if isinstance(t, str) else t
    if spec.name in ("DT_WSTR", "DT_STR", "DT_BYTES") and not spec.length:
        spec = make_spec(spec.name, length=DEFAULT_WSTR_LENGTH, codepage=spec.codepage)
    return spec


def infer_spec(value: Any, variable: bool = False) -> TypeSpec:
    """The SSIS type of a Python value (docs/API.md)."""
    if isinstance(value, bool):
        return make_spec("DT_BOOL")
    if isinstance(value, int):
        for name in ("DT_I4", "DT_I8", "DT_UI8"):
            lo, hi = INT_RANGE[name]
            if lo <= value <= hi:
                return make_spec(name)
        raise ExpressionError(
            "DTS_E_EXPREVALLITERALOVERFLOW", f"{value} does not fit any SSIS integer type"
        )
    if isinstance(value, float):
        return make_spec("DT_R8")
    if isinstance(value, Decimal):
        _sign, digits, exp = value.as_tuple()
        scale = max(0, -int(exp))
        precision = min(38, max(len(digits), scale, 1))
        return make_spec("DT_NUMERIC", precision=precision, scale=min(scale, precision))
    if isinstance(value, str):
        return make_spec("DT_WSTR", length=DEFAULT_WSTR_LENGTH)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return make_spec("DT_DBTIMESTAMPOFFSET", scale=7)
        return make_spec("DT_DATE" if variable else "DT_DBTIMESTAMP")
    if isinstance(value, dt.date):
        return make_spec("DT_DBDATE")
    if isinstance(value, dt.time):
        return make_spec("DT_DBTIME2", scale=7)
    if isinstance(value, uuid.UUID):
        return make_spec("DT_GUID")
    if isinstance(value, bytes | bytearray):
        return make_spec("DT_BYTES", length=max(len(value), 1))
    if value is None:
        return make_spec("DT_WSTR", length=DEFAULT_WSTR_LENGTH)  # choices.UNTYPED_NULL
    raise ExpressionError(
        "DTS_E_EXPREVALPARAMTYPEMISMATCH", f"no SSIS type for a {type(value).__name__}"
    )


def _python_value(value: Any, spec: TypeSpec, declared: bool) -> Any:
    """A Python value in the scalar back end's representation of ``spec``."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        value = "{" + str(value).upper() + "}"
        source = make_spec("DT_GUID")
    else:
        source = infer_spec(value)
    if spec.name == "DT_GUID" and isinstance(value, str):
        source = make_spec("DT_WSTR", length=DEFAULT_WSTR_LENGTH)
    if not declared or (source.name == spec.name and source.name not in ("DT_NUMERIC",)):
        return value
    if source.name in TEXTS and spec.name in TEXTS:
        return value
    try:
        return cast_value(value, source, spec)
    except RowError as err:
        raise ExpressionError(
            err.code, f"the value {value!r} does not fit {spec}: {err.message}"
        ) from None


def _typed_values(
    values: Mapping[str, Any] | None, types: Mapping[str, TypeLike], variable: bool
) -> tuple[dict[str, Any], dict[str, TypeSpec]]:
    out: dict[str, Any] = {}
    specs: dict[str, TypeSpec] = {}
    for raw_key, value in (values or {}).items():
        key = normalize_variable_key(raw_key) if variable else raw_key
        declared = types.get(raw_key) or types.get(key)
        spec = as_spec(declared) if declared is not None else infer_spec(value, variable)
        specs[key] = spec
        out[key] = _python_value(value, spec, declared is not None)
    return out, specs


def _split_types(types: Mapping[str, TypeLike] | None) -> dict[str, TypeLike]:
    return dict(types or {})


# --------------------------------------------------------------------------------------------
# checking
# --------------------------------------------------------------------------------------------


def _specs(mapping: Mapping[str, TypeLike] | None, variable: bool) -> dict[str, TypeSpec]:
    out: dict[str, TypeSpec] = {}
    for k, v in (mapping or {}).items():
        out[normalize_variable_key(k) if variable else k] = as_spec(v)
    return out


def check_tree(
    text: str | Expression,
    columns: Mapping[str, TypeLike] | None = None,
    variables: Mapping[str, TypeLike] | None = None,
    lineage: Mapping[str, str] | None = None,
    system_variables: bool = True,
) -> ast.Node:
    """The typed tree of an expression against column and variable types."""
    expr = text if isinstance(text, Expression) else parse(text)
    var_specs = {**(SYSTEM_VARIABLES if system_variables else {}), **_specs(variables, True)}
    return typecheck(expr.tree, expr.text, _specs(columns, False), var_specs, lineage)


def check(
    text: str | Expression,
    columns: Mapping[str, TypeLike] | None = None,
    variables: Mapping[str, TypeLike] | None = None,
    lineage: Mapping[str, str] | None = None,
) -> TypeSpec:
    """Type-check without evaluating; returns the result type (raises ExpressionError)."""
    return check_tree(text, columns, variables, lineage).spec


# --------------------------------------------------------------------------------------------
# scalar evaluation
# --------------------------------------------------------------------------------------------


def _row_error(err: RowError, text: str) -> ExpressionError:
    node = err.node
    return ExpressionError(
        err.code,
        err.message,
        expression=text,
        line=node.line if node is not None and node.line else None,
        column=node.column if node is not None and node.column else None,
    )


def output_value(value: Any, spec: TypeSpec) -> Any:
    if value is not None and spec.name == "DT_GUID":
        return uuid.UUID(value.strip("{}"))
    return value


def evaluate(
    text: str | Expression,
    variables: Mapping[str, Any] | None = None,
    row: Mapping[str, Any] | None = None,
    types: Mapping[str, TypeLike] | None = None,
    lineage: Mapping[str, str] | None = None,
) -> Any:
    """Evaluate one expression with the scalar back end (docs/API.md).

    An assignment ``@[User::X] = expr`` returns ``Assigned(variable, value)``.
    """
    expr = text if isinstance(text, Expression) else parse(text)
    tmap = _split_types(types)
    var_values, var_specs = _typed_values(variables, tmap, True)
    row_values, col_specs = _typed_values(row, tmap, False)
    typed = typecheck(expr.tree, expr.text, col_specs, var_specs, lineage)
    try:
        value = ScalarEvaluator(row_values, var_values).eval(typed)
    except RowError as err:
        raise _row_error(err, expr.text) from None
    value = output_value(value, typed.spec)
    if isinstance(typed, ast.Assignment):
        assert typed.target.resolved is not None
        return Assigned(typed.target.resolved, value)
    return value


# --------------------------------------------------------------------------------------------
# vectorised evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowErrors:
    """Rows that failed: a boolean mask and the SSIS error code (signed HRESULT) per row.

    ``mask`` and ``codes`` are None when no row failed (the common, cheap case); ``codes`` holds
    NULL for rows that did not fail.
    """

    mask: pa.BooleanArray | None = None
    codes: pa.Int32Array | None = None

    def __bool__(self) -> bool:
        return self.mask is not None

    @property
    def count(self) -> int:
        return 0 if self.mask is None else int(pc.sum(self.mask.cast(pa.int64())).as_py() or 0)

    def first(self) -> tuple[int, str] | None:
        """(row index, DTS_E code name) of the first failing row."""
        if self.mask is None or self.codes is None:
            return None
        index = int(pc.index(self.mask, True).as_py())
        return index, CODE_NAMES[self.codes[index].as_py()]

    def code_names(self) -> list[str | None]:
        if self.codes is None:
            return []
        return [None if c is None else CODE_NAMES[c] for c in self.codes.to_pylist()]


NO_ERRORS = RowErrors()
Batch: TypeAlias = pa.RecordBatch | pa.Table | pl.DataFrame
SchemaLike: TypeAlias = pa.Schema | Mapping[str, Any] | Batch


def _broadcast(series: pl.Series, height: int) -> pl.Series:
    """A length-1 result (a constant expression) repeated to the batch height."""
    if series.len() == 1 and height != 1:
        return series.new_from_index(0, height)
    return series


def _to_polars(batch: Batch) -> pl.DataFrame:
    if isinstance(batch, pl.DataFrame):
        return batch
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def schema_specs(
    schema: SchemaLike, types: Mapping[str, TypeLike] | None = None
) -> dict[str, TypeSpec]:
    """Column name -> SSIS type, for an Arrow schema, a batch, a polars schema or a mapping."""
    tmap = dict(types or {})
    specs: dict[str, TypeSpec] = {}
    if isinstance(schema, pa.RecordBatch | pa.Table):
        schema = schema.schema
    if isinstance(schema, pl.DataFrame):
        schema = schema.head(0).to_arrow().schema
    if isinstance(schema, pa.Schema):
        for f in schema:
            specs[f.name] = as_spec(tmap[f.name]) if f.name in tmap else spec_from_field(f)
        return specs
    for name, t in schema.items():
        if name in tmap:
            specs[name] = as_spec(tmap[name])
        elif isinstance(t, TypeSpec | str):
            specs[name] = as_spec(t)
        elif isinstance(t, pa.DataType):
            specs[name] = spec_from_field(pa.field(name, t))
        else:  # a polars dtype
            arrow = pl.Series(name, [], dtype=t).to_arrow().type
            specs[name] = spec_from_field(pa.field(name, arrow))
    return specs


@dataclass
class Compiled:
    """An expression compiled for batches of one schema. ``evaluate(batch)`` -> (values, RowErrors)."""

    expression: Expression
    typed: ast.Node
    columns: dict[str, TypeSpec]
    variables: dict[str, Any]
    fold_constants: bool = True
    _cache: dict[bool, tuple[pl.Expr, list[tuple[pl.Expr, str]]]] = field(default_factory=dict)

    @property
    def type(self) -> TypeSpec:
        return self.typed.spec

    @property
    def arrow_type(self) -> pa.DataType:
        return self.type.to_arrow()

    @cached_property
    def _uses_now(self) -> bool:
        return any(
            isinstance(n, ast.Function) and n.name in ("GETDATE", "GETUTCDATE")
            for n in self.typed.walk()
        )

    @cached_property
    def _needs_ascii_check(self) -> bool:
        return (
            uses_byte_offsets(self.typed)
            and ascii_literals(self.typed)
            and all(not isinstance(v, str) or v.isascii() for v in self.variables.values())
        )

    @cached_property
    def _used_columns(self) -> list[str]:
        return sorted({n.name for n in self.typed.walk() if isinstance(n, ast.ColumnRef)})

    def lowered(self, ascii: bool = False) -> tuple[pl.Expr, list[tuple[pl.Expr, str]]]:
        if ascii not in self._cache or self._uses_now:
            compiler = PolarsCompiler(
                self.variables, ascii=ascii, fold_constants=self.fold_constants
            )
            low = compiler.compile(self.typed)
            target = pl_dtype(self.type)
            value = (
                low.expr
                if self._dtype_of(low.expr) == target
                else low.expr.cast(target, strict=False)
            )
            self._cache[ascii] = (value, list(low.errors))
        return self._cache[ascii]

    def _dtype_of(self, expr: pl.Expr) -> pl.DataType | None:
        """The polars dtype ``expr`` produces on this schema (resolved without data)."""
        schema = {name: pl_dtype(self.columns[name]) for name in self._used_columns}
        try:
            return pl.LazyFrame(schema=schema).select(expr.alias("v")).collect_schema()["v"]
        except pl.exceptions.PolarsError:
            return None

    def _prepare(self, frame: pl.DataFrame) -> pl.DataFrame:
        casts = []
        for name in self._used_columns:
            if name not in frame.columns:
                raise ExpressionError(
                    "DTS_E_EXPREVALINPUTCOLUMNNAMENOTFOUND", f"the batch has no column [{name}]"
                )
            want = pl_dtype(self.columns[name])
            if frame.schema[name] != want:
                casts.append(pl.col(name).cast(want, strict=False))
        return frame.with_columns(casts) if casts else frame

    def _is_ascii(self, frame: pl.DataFrame) -> bool:
        cols = [n for n in self._used_columns if self.columns[n].name in TEXTS | STRINGS]
        if not cols:
            return True
        checks = [
            (pl.col(c).str.len_bytes().sum() == pl.col(c).str.len_chars().sum()) for c in cols
        ]
        row = frame.select(pl.all_horizontal(checks).alias("ok"))
        return bool(row["ok"][0])

    def evaluate_polars(self, batch: Batch) -> tuple[pl.Series, RowErrors]:
        """Like :meth:`evaluate` but returns a polars Series (no Arrow conversion)."""
        frame = self._prepare(_to_polars(batch))
        height = frame.height
        ascii = self._needs_ascii_check and self._is_ascii(frame)
        value, errors = self.lowered(ascii)
        if not errors:
            return _broadcast(frame.select(value.alias("value")).to_series(), height), NO_ERRORS
        masks = [m.fill_null(False) for m, _ in errors]
        any_mask = pl.any_horizontal(masks) if len(masks) > 1 else masks[0]
        out = frame.lazy().select(value.alias("value"), any_mask.alias("failed")).collect()
        failed = _broadcast(out["failed"], height)
        result = _broadcast(out["value"], height)
        if not failed.any():
            return result, NO_ERRORS
        chain: Any = pl
        for m, name in errors:
            chain = chain.when(m.fill_null(False)).then(pl.lit(CODES[name].decimal, dtype=pl.Int32))
        codes = frame.select(chain.otherwise(None).cast(pl.Int32).alias("code"))["code"]
        codes = _broadcast(codes, height).zip_with(
            failed, pl.Series([None], dtype=pl.Int32).new_from_index(0, height)
        )
        values = result.zip_with(
            ~failed, pl.Series([None], dtype=result.dtype).new_from_index(0, height)
        )
        return values, RowErrors(
            cast(pa.BooleanArray, failed.to_arrow()), cast(pa.Int32Array, codes.to_arrow())
        )

    def explain(self, batch: Batch, index: int, code: str) -> ExpressionError:
        """The error of row ``index`` with the scalar evaluator's message and position."""
        frame = _to_polars(batch)
        row = {}
        for name in self._used_columns:
            value = frame[name][index]
            if isinstance(value, dict) and self.columns[name].name == "DT_DBTIMESTAMPOFFSET":
                tz = dt.timezone(dt.timedelta(minutes=value["offset_min"]))
                value = value["utc"].astimezone(tz)
            row[name] = value
        try:
            ScalarEvaluator(row, self.variables).eval(self.typed)
        except RowError as err:
            if err.code == code:
                located = _row_error(err, self.expression.text)
                return ExpressionError(
                    code,
                    f"row {index}: {err.message}",
                    expression=self.expression.text,
                    line=located.line,
                    column=located.column,
                )
        return ExpressionError(
            code, f"row {index}: {CODES[code].message}", expression=self.expression.text
        )

    def evaluate(self, batch: Batch) -> tuple[pa.Array[Any], RowErrors]:
        """Values of every row (NULL for failing rows) and the failing rows' mask and codes."""
        series, errors = self.evaluate_polars(batch)
        array = series.to_arrow()
        target = self.arrow_type
        if array.type != target:
            array = array.cast(target)
        return array, errors


def compile(  # noqa: PLR0917 - the signature in docs/API.md
    text: str | Expression,
    schema: SchemaLike,
    variables: Mapping[str, Any] | None = None,
    types: Mapping[str, TypeLike] | None = None,
    lineage: Mapping[str, str] | None = None,
    fold_constants: bool = True,
    result_type: TypeLike | None = None,
) -> Compiled:
    """Compile an expression for batches of ``schema`` (column types; ``types`` overrides).

    ``result_type`` converts the result to a column's type, as Derived Column does when it writes
    its output column (conversion failures become row errors; strings are not cut here --
    :func:`fit_to_column` reports truncation separately, for the truncation disposition).
    """
    expr = text if isinstance(text, Expression) else parse(text)
    tmap = _split_types(types)
    var_values, var_specs = _typed_values(variables, tmap, True)
    columns = schema_specs(schema, tmap)
    typed = typecheck(expr.tree, expr.text, columns, var_specs, lineage)
    if result_type is not None:
        typed = convert_result(typed, as_spec(result_type), expr.text)
    return Compiled(expr, typed, columns, var_values, fold_constants)


def convert_result(typed: ast.Node, target: TypeSpec, text: str = "") -> ast.Node:
    """``typed`` converted to ``target`` (an implicit conversion at the root)."""
    source = typed.spec
    if source == target:
        return typed
    if not cast_is_legal(source, target):
        raise ExpressionError(
            code("DTS_E_EXPREVALCANNOTCONVERTRESULT"),
            f"the expression result of type {source} cannot be converted to the column type {target}",
            expression=text,
        )
    return ast.Cast(target, typed, True, line=typed.line, column=typed.column, type=target)


def evaluate_batch(  # noqa: PLR0917 - the signature in docs/API.md
    text: str | Expression,
    batch: Batch,
    variables: Mapping[str, Any] | None = None,
    types: Mapping[str, TypeLike] | None = None,
    lineage: Mapping[str, str] | None = None,
    fold_constants: bool = True,
) -> pa.Array[Any]:
    """Evaluate over a batch; raises ExpressionError on the first failing row."""
    compiled = compile(text, batch, variables, types, lineage, fold_constants)
    array, errors = compiled.evaluate(batch)
    first = errors.first()
    if first is not None:
        index, code = first
        raise compiled.explain(batch, index, code)
    return array


def fit_to_column(
    values: pa.Array[Any], spec: TypeLike
) -> tuple[pa.Array[Any], pa.BooleanArray | None]:
    """Values written into a column of type ``spec``: strings and bytes longer than its length
    are cut, and the mask of the rows that were cut is returned (None when none was) so the
    component can apply its truncation disposition (DTS_E_EXPREVALTRUNCATIONASERROR / redirect /
    ignore). Other values pass through unchanged.
    """
    target = as_spec(spec)
    compute: Any = pc  # the stubs do not cover large_string / large_binary overloads
    if target.name in ("DT_WSTR", "DT_STR") and target.length:
        too_long = compute.greater(compute.utf8_length(values), target.length)
        if not compute.any(too_long).as_py():
            return values, None
        cut = compute.if_else(
            too_long, compute.utf8_slice_codeunits(values, 0, target.length), values
        )
        return cut, cast(pa.BooleanArray, too_long.fill_null(False))
    if target.name == "DT_BYTES" and target.length:
        too_long = compute.greater(compute.binary_length(values), target.length)
        if not compute.any(too_long).as_py():
            return values, None
        cut = compute.if_else(too_long, compute.binary_slice(values, 0, target.length), values)
        return cut, cast(pa.BooleanArray, too_long.fill_null(False))
    return values, None
