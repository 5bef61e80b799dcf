"""Back end 2: typed tree -> one polars expression evaluated over whole batches.

No Python runs per row. Each node compiles to a :class:`Lowered`: the value expression plus
the run-time error conditions it can raise, as ``(mask expression, DTS_E code)`` pairs. A mask
is built only where a value can actually fail (static ranges in :func:`int_range` drop the
checks that cannot trigger, e.g. ``FINDSTRING(...) + 1`` as a SUBSTRING start). Errors of an
unselected ``?:`` branch, or of the right operand of a short-circuited ``&&``/``||``, are masked
out. Variables (and every column-free subtree when ``fold_constants``) are evaluated once with
the scalar evaluator and become literals.

:data:`POLARS_FUNCTIONS` is the one table mapping SSIS functions to polars builders; operators
and casts are methods of :class:`PolarsCompiler`. What cannot be vectorised yet is listed in
:data:`UNSUPPORTED` and raises a clear error at compile time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from dataflow.core.datatypes import TypeSpec
from dataflow.core.errors import ExpressionError

from . import ast
from .ast import snake_name
from .functions import datepart
from .scalar import (
    DATE_TEXT,
    F32_MAX,
    FILETIME_EPOCH,
    GUID_TEXT,
    OFFSET_TEXT,
    OLE_EPOCH,
    TIME_TEXT,
    RowError,
    ScalarEvaluator,
)
from .types import (
    BINARIES,
    DECIMALS,
    FLOATS,
    INT_BYTES,
    INT_RANGE,
    INT_TEXT_WIDTH,
    INTS,
    SIGNED_INTS,
    TEXTS,
    TIMES,
    UNSIGNED_INTS,
    decimal_ps,
)

#: features the vectorised back end does not implement yet (the scalar back end does)
UNSUPPORTED: Final[dict[str, str]] = {
    "cast-to-binary": "casts to DT_BYTES/DT_IMAGE from this type",
    "cast-from-binary": "casts of this type to this target",
}

Mask = tuple[pl.Expr, str]


@dataclass(frozen=True)
class Lowered:
    expr: pl.Expr
    errors: tuple[Mask, ...] = ()
    constant: bool = False  # a literal (no column involved)


def pl_dtype(spec: TypeSpec) -> pl.DataType:
    name = spec.name
    simple: dict[str, pl.DataType] = {
        "DT_I1": pl.Int8(), "DT_I2": pl.Int16(), "DT_I4": pl.Int32(), "DT_I8": pl.Int64(),
        "DT_UI1": pl.UInt8(), "DT_UI2": pl.UInt16(), "DT_UI4": pl.UInt32(), "DT_UI8": pl.UInt64(),
        "DT_R4": pl.Float32(), "DT_R8": pl.Float64(), "DT_BOOL": pl.Boolean(),
        "DT_DBDATE": pl.Date(), "DT_DBTIME": pl.Time(), "DT_DBTIME2": pl.Time(),
        "DT_BYTES": pl.Binary(), "DT_IMAGE": pl.Binary(), "DT_GUID": pl.String(),
        "DT_NULL": pl.Null(), "DT_EMPTY": pl.Null(),
    }  # fmt: skip
    if name in simple:
        return simple[name]
    if name in TEXTS:
        return pl.String()
    if name in DECIMALS:
        p, s = decimal_ps(spec)
        return pl.Decimal(p, s)
    if name in ("DT_DATE", "DT_DBTIMESTAMP", "DT_DBTIMESTAMP2", "DT_FILETIME"):
        return pl.Datetime("us")
    if name == "DT_DBTIMESTAMPOFFSET":
        return OFFSET_DTYPE
    raise ExpressionError("DTS_E_EXPREVALINVALIDCAST", f"{name} has no polars representation")


#: DT_DBTIMESTAMPOFFSET as dataflow.core.datatypes stores it: the UTC instant and the offset
OFFSET_DTYPE: Final = pl.Struct({"utc": pl.Datetime("us", "UTC"), "offset_min": pl.Int16()})


def offset_struct(utc_naive: pl.Expr, minutes: pl.Expr) -> pl.Expr:
    """A DT_DBTIMESTAMPOFFSET value from a naive UTC timestamp and an offset in minutes."""
    return pl.struct(
        utc_naive.dt.replace_time_zone("UTC").alias("utc"),
        minutes.cast(pl.Int16).alias("offset_min"),
    )


def offset_utc(e: pl.Expr) -> pl.Expr:
    """The naive UTC timestamp of a DT_DBTIMESTAMPOFFSET value."""
    return e.struct.field("utc").dt.replace_time_zone(None)


def _swap_hex(h: pl.Expr, start: int, length: int) -> pl.Expr:
    """The hex digits ``h[start:start+length]`` with their byte order reversed."""
    return pl.concat_str([h.str.slice(start + i, 2) for i in range(length - 2, -1, -2)])


def make_offset_scale(target: TypeSpec) -> TypeSpec:
    """The DT_DBTIMESTAMP2 whose fraction truncation matches a DT_DBTIMESTAMPOFFSET(scale)."""
    return TypeSpec("DT_DBTIMESTAMP2", scale=target.scale)


def _unsupported(key: str, node: ast.Node | None = None) -> ExpressionError:
    return ExpressionError(
        "DTS_E_EXPREVALINVALIDCAST"
        if key.startswith(("cast", "DT_"))
        else "DTS_E_EXPREVALPARAMTYPEMISMATCH",
        f"{UNSUPPORTED[key]} are not supported by the vectorised back end (use the scalar evaluator)",
        line=node.line if node else None,
        column=node.column if node else None,
    )


def literal(value: Any, spec: TypeSpec) -> pl.Expr:
    dtype = pl_dtype(spec)
    if spec.name in ("DT_DBTIME", "DT_DBTIME2") and value is not None:
        return pl.lit(value, dtype=pl.Time())
    if spec.name == "DT_DBTIMESTAMPOFFSET" and value is not None:
        offset = value.utcoffset() or dt.timedelta(0)
        utc = (value - offset).replace(tzinfo=None)
        return offset_struct(
            pl.lit(utc, dtype=pl.Datetime("us")), pl.lit(offset // dt.timedelta(minutes=1))
        )
    return pl.lit(value, dtype=dtype)


# --------------------------------------------------------------------------------------------
# static analysis: integer ranges and non-nullness (to skip error masks and null guards)
# --------------------------------------------------------------------------------------------

_STRING_MAX: Final = 2**30  # choices.STRING_LENGTH_BOUND
_RANGED_FUNCTIONS: Final[dict[str, tuple[int, int]]] = {
    "FINDSTRING": (0, _STRING_MAX), "LEN": (0, _STRING_MAX), "TOKENCOUNT": (0, _STRING_MAX),
    "CODEPOINT": (0, 0xFFFF), "SIGN": (-1, 1), "YEAR": (1, 9999), "MONTH": (1, 12), "DAY": (1, 31),
    "DATEPART": (0, 9999),
}  # fmt: skip


def int_range(node: ast.Node) -> tuple[int, int] | None:
    """Bounds of an integer-valued node, when they are known statically."""
    spec = node.type
    if spec is None or spec.name not in INTS:
        return None
    type_range = INT_RANGE[spec.name]
    if isinstance(node, ast.Literal):
        return (node.value, node.value)
    if isinstance(node, ast.Cast):
        inner = int_range(node.operand)
        if inner and type_range[0] <= inner[0] and inner[1] <= type_range[1]:
            return inner
        return type_range
    if isinstance(node, ast.Function) and node.name in _RANGED_FUNCTIONS:
        return _RANGED_FUNCTIONS[node.name]
    if isinstance(node, ast.Binary) and node.op in ("+", "-", "*"):
        a, b = int_range(node.left), int_range(node.right)
        if a and b:
            if node.op == "+":
                return (a[0] + b[0], a[1] + b[1])
            if node.op == "-":
                return (a[0] - b[1], a[1] - b[0])
            products = [x * y for x in a for y in b]
            return (min(products), max(products))
    if isinstance(node, ast.Unary) and node.op == "-":
        a = int_range(node.operand)
        return (-a[1], -a[0]) if a else type_range
    if isinstance(node, ast.Conditional):
        a, b = int_range(node.then), int_range(node.otherwise)
        if a and b:
            return (min(a[0], b[0]), max(a[1], b[1]))
    return type_range


def fits(node: ast.Node, spec: TypeSpec) -> bool:
    r = int_range(node)
    lo, hi = INT_RANGE[spec.name]
    return r is not None and lo <= r[0] and r[1] <= hi


def never_null(node: ast.Node) -> bool:
    if isinstance(node, ast.Literal):
        return True
    if isinstance(node, ast.Function) and node.name in (
        "ISNULL",
        "TOKENCOUNT",
        "GETDATE",
        "GETUTCDATE",
    ):
        return True
    if isinstance(node, ast.Unary) and node.op == "!":
        return never_null(node.operand)
    if isinstance(node, ast.Binary) and node.op in ("&&", "||"):
        return never_null(node.left) and never_null(node.right)
    return False


def _columns_free(node: ast.Node) -> bool:
    return not any(
        isinstance(n, ast.ColumnRef | ast.LineageRef)
        or (isinstance(n, ast.Function) and n.name in ("GETDATE", "GETUTCDATE"))
        for n in node.walk()
    )


def _ascii_literals(node: ast.Node) -> bool:
    return all(
        not (isinstance(n, ast.Literal) and isinstance(n.value, str)) or n.value.isascii()
        for n in node.walk()
    )


def _fail(mask: pl.Expr, code: str) -> tuple[Mask, ...]:
    return ((mask, code),)


def _out_of(e: pl.Expr, lo: int | float, hi: int | float) -> pl.Expr:
    return (e < lo) | (e > hi)


# --------------------------------------------------------------------------------------------
# the compiler
# --------------------------------------------------------------------------------------------


@dataclass
class PolarsCompiler:
    variables: Mapping[str, Any] = field(default_factory=dict)
    ascii: bool = False  # every string in the batch is ASCII: byte offsets == char offsets
    fold_constants: bool = True
    now: dt.datetime | None = None
    utcnow: dt.datetime | None = None

    def compile(self, node: ast.Node) -> Lowered:
        if isinstance(node, ast.Assignment):
            return self.compile(node.value)
        if self.fold_constants and not isinstance(node, ast.Literal) and _columns_free(node):
            return self._fold(node)
        method: Callable[[Any], Lowered] = getattr(self, f"lower_{snake_name(type(node))}")
        return method(node)

    def _fold(self, node: ast.Node) -> Lowered:
        try:
            value = ScalarEvaluator({}, self.variables).eval(node)
        except RowError as err:
            return Lowered(pl.lit(None, dtype=pl_dtype(node.spec)), _fail(pl.lit(True), err.code))
        return Lowered(literal(value, node.spec), (), True)

    # -- leaves ----------------------------------------------------------------------------------
    def lower_literal(self, node: ast.Literal) -> Lowered:
        return Lowered(literal(node.value, node.spec), (), True)

    def lower_null_literal(self, node: ast.NullLiteral) -> Lowered:
        return Lowered(pl.lit(None, dtype=pl_dtype(node.spec)), (), True)

    def lower_column_ref(self, node: ast.ColumnRef) -> Lowered:
        return Lowered(pl.col(node.name))

    def lower_variable_ref(self, node: ast.VariableRef) -> Lowered:
        value = self.variables[node.resolved or node.name]
        return Lowered(literal(value, node.spec), (), True)

    # -- operators -------------------------------------------------------------------------------
    def lower_unary(self, node: ast.Unary) -> Lowered:
        inner = self.compile(node.operand)
        e, spec = inner.expr, node.spec
        if node.op == "!":
            return Lowered(~e, inner.errors)
        if node.op == "~":
            return Lowered(~e, inner.errors)
        errors = inner.errors
        if spec.name in SIGNED_INTS and not fits(node, spec):
            errors += _fail(e == INT_RANGE[spec.name][0], "DTS_E_EXPREVALUNARYOPOVERFLOW")
        return Lowered(-e, errors)

    def lower_binary(self, node: ast.Binary) -> Lowered:
        op = node.op
        if op == "+" and node.spec.name in TEXTS:
            parts: list[Lowered] = []
            self._concat_parts(node, parts)
            return Lowered(
                pl.concat_str([p.expr for p in parts]), tuple(m for p in parts for m in p.errors)
            )
        left = self.compile(node.left)
        right = self.compile(node.right)
        a, b = left.expr, right.expr
        errors = left.errors
        if op in ("&&", "||"):
            cond = a.fill_null(True) if op == "&&" else ~a.fill_null(False)
            errors += tuple((m & cond, code) for m, code in right.errors)
            return Lowered(a & b if op == "&&" else a | b, errors)
        errors += right.errors
        if op in ("==", "!=", "<", ">", "<=", ">="):
            if node.left.spec.name == "DT_DBTIMESTAMPOFFSET":  # compare the instants
                a, b = a.struct.field("utc"), b.struct.field("utc")
            fn = {"==": a.eq, "!=": a.ne, "<": a.lt, ">": a.gt, "<=": a.le, ">=": a.ge}[op]
            return Lowered(fn(b), errors)
        if op in ("&", "|", "^"):
            return Lowered(a & b if op == "&" else a | b if op == "|" else a.xor(b), errors)
        return self._arithmetic(node, a, b, errors)

    def _concat_parts(self, node: ast.Node, out: list[Lowered]) -> None:
        if isinstance(node, ast.Binary) and node.op == "+" and node.spec.name in TEXTS:
            self._concat_parts(node.left, out)
            self._concat_parts(node.right, out)
        else:
            out.append(self.compile(node))

    def _arithmetic(
        self, node: ast.Binary, a: pl.Expr, b: pl.Expr, errors: tuple[Mask, ...]
    ) -> Lowered:
        op, spec = node.op, node.spec
        name = spec.name
        if op in ("/", "%"):
            rng = int_range(node.right)
            if not (rng is not None and (rng[0] > 0 or rng[1] < 0)):
                errors += _fail((b == 0) & a.is_not_null(), "DTS_E_EXPREVALDIVBYZERO")
        if name in FLOATS:
            value = a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
            return Lowered(value, errors)
        if name in DECIMALS:
            return self._decimal_arithmetic(node, a, b, errors)
        overflow = "DTS_E_EXPREVALBINARYOPOVERFLOW"
        can_overflow = not fits(node, spec) if op in ("+", "-", "*") else False
        dtype = pl_dtype(spec)
        if name in ("DT_I8", "DT_UI8"):
            lo, hi = INT_RANGE[name]
            if op == "+":
                r = a + b
                if can_overflow:
                    m = ((a.xor(r)) & (b.xor(r))) < 0 if name == "DT_I8" else r < a
                    errors += _fail(m, overflow)
            elif op == "-":
                r = a - b
                if can_overflow:
                    m = ((a.xor(b)) & (a.xor(r))) < 0 if name == "DT_I8" else a < b
                    errors += _fail(m, overflow)
            elif op == "*":
                r = a * b
                if can_overflow:
                    safe = (
                        pl.when((a == 0) | (a == -1) if name == "DT_I8" else a == 0)
                        .then(1)
                        .otherwise(a)
                    )
                    m = (r // safe) != b
                    if name == "DT_I8":
                        m = (m & (a != 0) & (a != -1)) | ((a == -1) & (b == lo))
                    else:
                        m = m & (a != 0)
                    errors += _fail(m, overflow)
            else:
                safe = pl.when(b == 0).then(1).otherwise(b)
                if name == "DT_I8":
                    safe = pl.when((a == lo) & (b == -1)).then(1).otherwise(safe)
                    errors += _fail((a == lo) & (b == -1), overflow)
                if op == "/":
                    q = a // safe
                    r = (
                        pl.when(((a % safe) != 0) & ((a < 0) != (safe < 0)))
                        .then(q + 1)
                        .otherwise(q)
                    )
                else:
                    m = a % safe
                    r = pl.when((m != 0) & ((m < 0) != (a < 0))).then(m - safe).otherwise(m)
                r = pl.when(b == 0).then(None).otherwise(r)
            return Lowered(r.cast(dtype), errors)
        if op in ("+", "-", "*") and not can_overflow:
            return Lowered(a + b if op == "+" else a - b if op == "-" else a * b, errors)
        # narrower integers: compute in Int64 and range-check
        a64, b64 = a.cast(pl.Int64), b.cast(pl.Int64)
        if op == "+":
            r = a64 + b64
        elif op == "-":
            r = a64 - b64
        elif op == "*":
            r = a64 * b64
        else:
            safe = pl.when(b64 == 0).then(1).otherwise(b64)
            if op == "/":
                r = (a64.cast(pl.Float64) / safe.cast(pl.Float64)).cast(pl.Int64)
                can_overflow = name in SIGNED_INTS  # MIN / -1
            else:
                m = a64 % safe
                r = pl.when((m != 0) & ((m < 0) != (a64 < 0))).then(m - safe).otherwise(m)
        if can_overflow:
            lo, hi = INT_RANGE[name]
            errors += _fail(_out_of(r, lo, hi), overflow)
        return Lowered(r.cast(dtype, strict=False), errors)

    def _decimal_arithmetic(
        self, node: ast.Binary, a: pl.Expr, b: pl.Expr, errors: tuple[Mask, ...]
    ) -> Lowered:
        """DT_NUMERIC arithmetic. polars raises (rather than returning NULL) when a decimal
        result exceeds 38 digits or a divisor is zero, so rows that could do that are replaced
        by harmless operands first, found with a float estimate of the result."""
        op = node.op
        p, s = decimal_ps(node.spec)
        fa, fb = a.cast(pl.Float64), b.cast(pl.Float64)
        estimate = (
            fa + fb if op == "+" else fa - fb if op == "-" else fa * fb if op == "*" else fa / fb
        )
        risky = estimate.abs() >= 10.0 ** (38 - s) * (1 - 1e-9)
        if op == "/":
            risky = risky | (b == 0)
        if op in ("*", "/"):
            a = a.cast(pl.Decimal(38, s), strict=False)
            risky = risky | a.is_null()
        safe_a = pl.when(risky).then(pl.lit(0)).otherwise(a)
        safe_b = pl.when(risky).then(pl.lit(1)).otherwise(b)
        if op == "+":
            value = safe_a + safe_b
        elif op == "-":
            value = safe_a - safe_b
        elif op == "*":
            value = safe_a * safe_b
        else:
            value = (safe_a / safe_b).round(s, mode="half_away_from_zero")
        result = (
            pl.when(risky.fill_null(False))
            .then(None)
            .otherwise(value)
            .cast(pl.Decimal(p, s), strict=False)
        )
        overflow = (risky.fill_null(False) & (b != 0)) | (result.is_null() & value.is_not_null())
        errors += _fail(
            overflow & a.is_not_null() & b.is_not_null(), "DTS_E_EXPREVALBINARYOPNUMERICOVERFLOW"
        )
        return Lowered(result, errors)

    def lower_conditional(self, node: ast.Conditional) -> Lowered:
        cond = self.compile(node.condition)
        then = self.compile(node.then)
        other = self.compile(node.otherwise)
        c = cond.expr
        if never_null(node.condition):
            value = pl.when(c).then(then.expr).otherwise(other.expr)
        else:
            value = pl.when(c).then(then.expr).when(~c).then(other.expr)
        errors = cond.errors
        errors += tuple((m & c, code) for m, code in then.errors)
        errors += tuple((m & ~c, code) for m, code in other.errors)
        return Lowered(value, errors)

    def lower_cast(self, node: ast.Cast) -> Lowered:
        inner = self.compile(node.operand)
        value, errors = self.cast(inner.expr, node.operand, node.target, node.implicit, node)
        return Lowered(value, inner.errors + errors)

    # -- casts -----------------------------------------------------------------------------------
    def cast(
        self, e: pl.Expr, operand: ast.Node, target: TypeSpec, implicit: bool, node: ast.Node
    ) -> tuple[pl.Expr, tuple[Mask, ...]]:
        source = operand.spec
        src, dst = source.name, target.name
        over, failed = "DTS_E_EXPREVALDATACONVERSIONOVERFLOW", "DTS_E_EXPREVALCASTFAILED"
        if "DT_DBTIMESTAMPOFFSET" in (src, dst) and not (src in TEXTS and dst in TEXTS):
            return self._offset_cast(e, source, target, implicit, node)
        dtype = pl_dtype(target)
        if dst in INTS:
            lo, hi = INT_RANGE[dst]
            if src in INTS:
                if fits(operand, target):
                    return e.cast(dtype), ()
                return e.cast(dtype, strict=False), _fail(_out_of(e, lo, hi), over)
            if src == "DT_BOOL":
                v = e.cast(pl.Int8) * -1
                return v.cast(dtype, strict=False), (_fail(e, over) if dst in UNSIGNED_INTS else ())
            if src in FLOATS or src == "DT_DATE":
                f = self._ole(e) if src == "DT_DATE" else e
                r = f.round(0, mode="half_away_from_zero")
                bad = ~f.is_finite() | _out_of(r, lo, hi)
                return r.cast(dtype, strict=False), _fail(bad, over)
            if src in DECIMALS:
                r = e.round(0, mode="half_away_from_zero").cast(pl.Int128, strict=False)
                return r.cast(dtype, strict=False), _fail(
                    _out_of(r, lo, hi) | (r.is_null() & e.is_not_null()), over
                )
            if src in TEXTS:
                t = e.str.strip_chars(" ")
                v = t.cast(pl.Int64, strict=False)
                bad = e.is_not_null() & (~t.str.contains(r"^[+-]?[0-9]+$") | v.is_null())
                return v.cast(dtype, strict=False), _fail(bad, failed) + _fail(
                    _out_of(v, lo, hi), over
                )
            if src == "DT_FILETIME":
                v = (e - pl.lit(FILETIME_EPOCH)).dt.total_microseconds() * 10
                return v.cast(dtype, strict=False), _fail(_out_of(v, lo, hi), over)
            if src in BINARIES:  # little-endian, zero-padded to the type's width
                size = INT_BYTES[dst]
                h = e.bin.encode("hex").str.pad_end(2 * size, "0").str.head(2 * size)
                unsigned = _swap_hex(h, 0, 2 * size).str.to_integer(base=16, dtype=pl.UInt64)
                if dst in SIGNED_INTS:
                    v = (
                        unsigned.reinterpret(signed=True)
                        if size == 8
                        else pl.when(unsigned >= 1 << (8 * size - 1))
                        .then(unsigned.cast(pl.Int64) - (1 << (8 * size)))
                        .otherwise(unsigned.cast(pl.Int64))
                    )
                    return v.cast(dtype), ()
                return unsigned.cast(dtype), ()
            raise _unsupported("cast-from-binary", node)
        if dst in FLOATS:
            if src in INTS or src in DECIMALS or src in FLOATS:
                v = e.cast(pl.Float64)
            elif src == "DT_BOOL":
                v = (e.cast(pl.Int8) * -1).cast(pl.Float64)
            elif src in TEXTS:
                t = e.str.strip_chars(" ")
                v = t.cast(pl.Float64, strict=False)
                bad = e.is_not_null() & ~t.str.contains(
                    r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
                )
                v = pl.when(bad).then(None).otherwise(v)
                errors = _fail(bad, failed)
                if dst == "DT_R4":
                    errors += _fail(v.is_finite() & (v.abs() > F32_MAX), over)
                return v.cast(dtype), errors
            elif src == "DT_DATE":
                v = self._ole(e)
            elif src in BINARIES:  # the scalar evaluator: every non-NULL value fails
                return pl.when(e.is_null()).then(pl.lit(None, dtype=dtype)), _fail(
                    e.is_not_null(), failed
                )
            else:
                raise _unsupported("cast-from-binary", node)
            if dst == "DT_R4" and src in ("DT_R8", "DT_NUMERIC", "DT_DECIMAL", "DT_CY", "DT_DATE"):
                return v.cast(dtype), _fail(v.is_finite() & (v.abs() > F32_MAX), over)
            return (v if dst == "DT_R8" else v.cast(dtype)), ()
        if dst in DECIMALS:
            s = decimal_ps(target)[1]
            if src in INTS:
                v = e.cast(pl.Decimal(38, 0)).cast(pl.Decimal(38, s))
            elif src == "DT_BOOL":
                v = (e.cast(pl.Int8) * -1).cast(pl.Decimal(38, s))
            elif src in DECIMALS:
                v = e.round(s, mode="half_away_from_zero").cast(pl.Decimal(38, s))
            elif src in FLOATS or src == "DT_DATE":
                f = self._ole(e) if src == "DT_DATE" else e.cast(pl.Float64)
                finite = f.is_finite()
                v = (
                    pl.when(finite)
                    .then(f.round(s, mode="half_away_from_zero"))
                    .cast(pl.Decimal(38, s), strict=False)
                )
                r = v.cast(dtype, strict=False)
                return r, _fail(e.is_not_null() & (r.is_null() | ~finite), over)
            elif src in TEXTS:
                t = e.str.strip_chars(" ")
                ok = t.str.contains(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
                parsed = t.cast(pl.Decimal(38, max(s, 10)), strict=False)
                v = parsed.round(s, mode="half_away_from_zero").cast(pl.Decimal(38, s))
                r = v.cast(dtype, strict=False)
                bad = e.is_not_null() & (~ok | parsed.is_null())
                return r, _fail(bad, failed) + _fail(r.is_null() & v.is_not_null(), over)
            else:
                raise _unsupported("cast-from-binary", node)
            r = v.cast(dtype, strict=False)
            return r, _fail(r.is_null() & v.is_not_null(), over)
        if dst == "DT_BOOL":
            if src in TEXTS:
                low = e.str.to_lowercase()
                return low == "true", _fail(e.is_not_null() & ~low.is_in(["true", "false"]), failed)
            if src == "DT_BOOL":
                return e, ()
            return e != 0, ()
        if dst in TEXTS:
            text, width = self._to_text(e, source, node)
            if src in TEXTS and implicit:
                return e, ()
            if (
                dst in ("DT_WSTR", "DT_STR")
                and target.length
                and (width is None or width > target.length)
            ):
                text = text.str.head(target.length)
            return text, ()
        if dst == "DT_GUID":
            if src == "DT_GUID":
                return e, ()
            if src in TEXTS:
                t = e.str.strip_chars(" ")
                ok = t.str.contains(GUID_TEXT)
                core = t.str.strip_prefix("{").str.strip_suffix("}").str.to_uppercase()
                v = pl.when(ok).then(pl.concat_str([pl.lit("{"), core, pl.lit("}")]))
                return v, _fail(e.is_not_null() & ~ok, failed)
            if src in BINARIES:  # 16 bytes in the GUID's little-endian field order
                h = e.bin.encode("hex").str.to_uppercase()
                ok = h.str.len_bytes() == 32
                groups = [_swap_hex(h, 0, 8), _swap_hex(h, 8, 4), _swap_hex(h, 12, 4),
                          h.str.slice(16, 4), h.str.slice(20, 12)]  # fmt: skip
                dashed = pl.concat_str(
                    [pl.lit("{"), pl.concat_str(groups, separator="-"), pl.lit("}")]
                )
                return pl.when(ok).then(dashed), _fail(e.is_not_null() & ~ok, failed)
            raise _unsupported("cast-from-binary", node)
        if dst in BINARIES:
            if src in BINARIES:
                data = e
            elif src in INTS:  # little-endian bytes of the integer's width
                data = pl.concat_str(int_byte_hex(e, src)[::-1]).str.decode("hex")
            elif src == "DT_GUID":
                h = e.str.slice(1, 36).str.replace_all("-", "", literal=True)
                parts = [
                    _swap_hex(h, 0, 8),
                    _swap_hex(h, 8, 4),
                    _swap_hex(h, 12, 4),
                    h.str.slice(16, 16),
                ]
                data = pl.concat_str(parts).str.decode("hex")
            elif src in TEXTS:  # UTF-16LE, as the scalar evaluator encodes
                data = utf16le(e)
            else:
                raise _unsupported("cast-to-binary", node)
            if dst == "DT_BYTES" and target.length:
                return data.bin.head(target.length), ()
            return data, ()
        # dates and times
        if src in TEXTS:
            return self._parse_date(e, target)
        if src in INTS or src in FLOATS or src in DECIMALS or src == "DT_BOOL":
            if src in ("DT_I8", "DT_UI8") and dst == "DT_FILETIME":
                return pl.lit(FILETIME_EPOCH) + pl.duration(microseconds=e // 10), ()
            f = (e.cast(pl.Int8) * -1).cast(pl.Float64) if src == "DT_BOOL" else e.cast(pl.Float64)
            bad = ~f.is_finite() | (f.abs() > 3_000_000)
            safe = pl.when(bad).then(0.0).otherwise(f)
            ts = pl.lit(OLE_EPOCH) + pl.duration(
                microseconds=(safe * 86_400_000_000).round(0).cast(pl.Int64)
            )
            ts = pl.when(bad).then(None).otherwise(ts)
            return self._date_to(ts, "DT_DBTIMESTAMP2", target), _fail(bad, over)
        return self._date_to(e, src, target), ()

    def _offset_cast(
        self, e: pl.Expr, source: TypeSpec, target: TypeSpec, implicit: bool, node: ast.Node
    ) -> tuple[pl.Expr, tuple[Mask, ...]]:
        src, dst = source.name, target.name
        stamp2 = TypeSpec("DT_DBTIMESTAMP2", scale=7)
        if src == dst:
            trunc = self.truncate(offset_utc(e), make_offset_scale(target))
            return offset_struct(trunc, e.struct.field("offset_min")), ()
        if dst == "DT_DBTIMESTAMPOFFSET":
            if src in TEXTS:
                t = e.str.strip_chars()
                g = t.str.extract_groups(OFFSET_TEXT)
                has = g.struct.field("2").is_not_null()
                base = pl.when(has).then(g.struct.field("1")).otherwise(t)
                minutes = (
                    g.struct.field("3").cast(pl.Int32, strict=False) * 60
                    + g.struct.field("4").cast(pl.Int32, strict=False)
                ) * pl.when(g.struct.field("2") == "-").then(-1).otherwise(1)
                minutes = minutes.fill_null(0)
                local, errors = self._parse_date(base, stamp2)
                utc = self.truncate(local - pl.duration(minutes=minutes), make_offset_scale(target))
                return pl.when(local.is_not_null()).then(offset_struct(utc, minutes)), errors
            if src not in ("DT_DBDATE", "DT_DBTIME", "DT_DBTIME2", "DT_DATE", "DT_DBTIMESTAMP",
                           "DT_DBTIMESTAMP2", "DT_FILETIME"):  # fmt: skip
                raise _unsupported("cast-from-binary", node)
            naive = self._date_to(e, src, stamp2)
            utc = self.truncate(naive, make_offset_scale(target))
            return pl.when(naive.is_not_null()).then(offset_struct(utc, pl.lit(0))), ()
        # from DT_DBTIMESTAMPOFFSET
        if dst in TEXTS:
            minutes = e.struct.field("offset_min").cast(pl.Int32)
            local = offset_utc(e) + pl.duration(minutes=minutes)
            text, _width = self._to_text(
                local, TypeSpec("DT_DBTIMESTAMP2", scale=source.scale), node
            )
            sign = pl.when(minutes < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
            hh = (minutes.abs() // 60).cast(pl.String).str.zfill(2)
            mm = (minutes.abs() % 60).cast(pl.String).str.zfill(2)
            full = pl.concat_str([text, pl.lit(" "), sign, hh, pl.lit(":"), mm])
            if dst in ("DT_WSTR", "DT_STR") and target.length:
                full = full.str.head(target.length)
            return full, ()
        if dst in ("DT_DBDATE", "DT_DBTIME", "DT_DBTIME2", "DT_DATE", "DT_DBTIMESTAMP",
                   "DT_DBTIMESTAMP2", "DT_FILETIME"):  # fmt: skip
            return self._date_to(offset_utc(e), "DT_DBTIMESTAMP2", target), ()
        raise ExpressionError(
            "DTS_E_EXPREVALINVALIDCAST",
            f"DT_DBTIMESTAMPOFFSET cannot be converted to {dst}",
            line=node.line or None,
            column=node.column or None,
        )

    @staticmethod
    def _ole(e: pl.Expr) -> pl.Expr:
        return (e - pl.lit(OLE_EPOCH)).dt.total_microseconds().cast(pl.Float64) / 86_400_000_000

    @staticmethod
    def truncate(e: pl.Expr, target: TypeSpec) -> pl.Expr:
        name = target.name
        if name in ("DT_DBTIMESTAMP", "DT_FILETIME"):
            return e.dt.truncate("1ms")
        if name == "DT_DBTIMESTAMP2" and target.scale < 6:
            return e.dt.truncate(f"{10 ** (6 - target.scale)}us")
        if name in TIMES:
            keep = 0 if name == "DT_DBTIME" else min(target.scale, 6)
            unit = 10 ** (9 - keep)
            truncated: pl.Expr = (e.cast(pl.Int64) // unit * unit).cast(pl.Time)
            return truncated
        return e

    def _date_to(self, e: pl.Expr, src: str, target: TypeSpec) -> pl.Expr:
        dst = target.name
        if dst == "DT_DBDATE":
            if src == "DT_DBDATE":
                return e
            if src in TIMES:
                return pl.when(e.is_not_null()).then(pl.lit(dt.date.today()))
            return e.dt.date()
        if dst in TIMES:
            if src == "DT_DBDATE":
                return pl.when(e.is_not_null()).then(pl.lit(dt.time(0)))
            t = e if src in TIMES else e.dt.time()
            return self.truncate(t, target)
        # timestamps
        if src == "DT_DBDATE":
            return e.cast(pl.Datetime("us"))
        if src in TIMES:
            return self.truncate(pl.lit(dt.date.today()).dt.combine(e, "us"), target)
        return self.truncate(e, target)

    def as_datetime(self, e: pl.Expr, spec: TypeSpec) -> pl.Expr:
        """Any date/time value as Datetime(us) (choices.MISSING_DATE for times; offsets in UTC)."""
        if spec.name == "DT_DBTIMESTAMPOFFSET":
            return offset_utc(e)
        if spec.name == "DT_DBDATE":
            return e.cast(pl.Datetime("us"))
        if spec.name in TIMES:
            return pl.lit(dt.date.today()).dt.combine(e, "us")
        return e

    def _parse_date(self, e: pl.Expr, target: TypeSpec) -> tuple[pl.Expr, tuple[Mask, ...]]:
        t = e.str.strip_chars()
        g = t.str.extract_groups(DATE_TEXT)

        def frac(part: pl.Expr) -> pl.Expr:
            return part.fill_null("0").str.head(6).str.pad_end(6, "0")

        canonical = pl.concat_str(
            [
                g.struct.field("1"), pl.lit("-"), g.struct.field("2").str.zfill(2), pl.lit("-"),
                g.struct.field("3").str.zfill(2), pl.lit(" "), g.struct.field("4").fill_null("0").str.zfill(2),
                pl.lit(":"), g.struct.field("5").fill_null("00"), pl.lit(":"),
                g.struct.field("6").fill_null("00"), pl.lit("."), frac(g.struct.field("7")),
            ]
        )  # fmt: skip
        stamp = canonical.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
        if target.name in TIMES:
            tg = t.str.extract_groups(TIME_TEXT)
            tcanon = pl.concat_str(
                [
                    tg.struct.field("1").str.zfill(2), pl.lit(":"), tg.struct.field("2"), pl.lit(":"),
                    tg.struct.field("3").fill_null("00"), pl.lit("."), frac(tg.struct.field("4")),
                ]
            )  # fmt: skip
            tm = tcanon.str.to_time("%H:%M:%S%.f", strict=False)
            value = self.truncate(pl.coalesce(tm, stamp.dt.time()), target)
        else:
            value = self._date_to(stamp, "DT_DBTIMESTAMP2", target)
        return value, _fail(e.is_not_null() & value.is_null(), "DTS_E_EXPREVALCASTFAILED")

    def _to_text(self, e: pl.Expr, source: TypeSpec, node: ast.Node) -> tuple[pl.Expr, int | None]:
        """(text expression, the longest text it can produce or None when unbounded)."""
        name = source.name
        if name in TEXTS:
            return e, source.length or None
        if name == "DT_GUID":
            return e, 38
        if name == "DT_BOOL":
            return pl.when(e).then(pl.lit("True")).when(~e).then(pl.lit("False")), 5
        if name in INTS:
            return e.cast(pl.String), INT_TEXT_WIDTH[name]
        if name in FLOATS:
            text = e.cast(pl.String).str.strip_suffix(".0")
            return pl.when(e == 0).then(pl.lit("0")).otherwise(text), 24
        if name in DECIMALS:
            return e.cast(pl.String), decimal_ps(source)[0] + 2
        if name in BINARIES:
            return e.bin.encode("hex").str.to_uppercase(), None
        if name == "DT_DBDATE":
            return e.dt.strftime("%Y-%m-%d"), 10
        if name in TIMES:
            if name == "DT_DBTIME" or not source.scale:
                return e.dt.strftime("%H:%M:%S"), 8
            return e.dt.strftime("%H:%M:%S%.9f").str.head(9 + source.scale), 9 + source.scale
        if name == "DT_DBTIMESTAMP":
            return e.dt.strftime("%Y-%m-%d %H:%M:%S%.3f"), 23
        if name == "DT_FILETIME":
            text = pl.concat_str(
                [
                    e.dt.strftime("%Y-%m-%d %H:%M:%S"),
                    pl.lit(":"),
                    e.dt.strftime("%.3f").str.slice(1),
                ]
            )
            return text, 23
        if name == "DT_DBTIMESTAMP2" and source.scale:
            return e.dt.strftime("%Y-%m-%d %H:%M:%S%.9f").str.head(
                20 + source.scale
            ), 20 + source.scale
        return e.dt.strftime("%Y-%m-%d %H:%M:%S"), 19

    # -- functions -------------------------------------------------------------------------------
    def lower_function(self, node: ast.Function) -> Lowered:
        from .functions import FUNCTIONS

        kinds = FUNCTIONS[node.name].args
        args = [
            Lowered(pl.lit(datepart(a)), (), True) if k == "part" else self.compile(a)
            for a, k in zip(node.args, kinds, strict=True)
        ]
        value, errors = POLARS_FUNCTIONS[node.name](self, node, args)
        if errors and node.name not in ("ISNULL", "REPLACENULL", "TOKENCOUNT"):
            # a NULL argument makes the result NULL before the function can fail
            present = [
                a.expr.is_not_null()
                for a, arg in zip(args, node.args, strict=True)
                if not never_null(arg)
            ]
            if present:
                ok = pl.all_horizontal(present) if len(present) > 1 else present[0]
                errors = tuple((m & ok, code) for m, code in errors)
        return Lowered(value, tuple(m for a in args for m in a.errors) + errors)

    def const(self, node: ast.Node) -> Any:
        """The value of a column-free argument (variables are constants per batch), or ``...``
        when evaluating it fails (its own error mask then flags the rows)."""
        try:
            return ScalarEvaluator({}, self.variables).eval(node)
        except RowError:
            return ...


# --------------------------------------------------------------------------------------------
# function builders: one per entry of functions.FUNCTIONS
# --------------------------------------------------------------------------------------------

Builder = Callable[
    [PolarsCompiler, ast.Function, Sequence[Lowered]], tuple[pl.Expr, tuple[Mask, ...]]
]


def _negative(node: ast.Node, e: pl.Expr, code: str) -> tuple[Mask, ...]:
    r = int_range(node)
    if r is not None and r[0] >= 0:
        return ()
    return _fail(e < 0, code)


def _abs(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    e, spec = args[0].expr, node.spec
    if spec.name in SIGNED_INTS:
        rng = int_range(node.args[0])
        lowest = INT_RANGE[spec.name][0]
        if rng is None or rng[0] <= lowest:  # only the type's minimum has no absolute value
            return e.abs(), _fail(e == lowest, "DTS_E_EXPREVALFUNCTIONOVERFLOW")
    return e.abs(), ()


def _ceil_floor(up: bool) -> Builder:
    def build(
        c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
    ) -> tuple[pl.Expr, tuple[Mask, ...]]:
        e, spec = args[0].expr, node.spec
        if spec.name in INTS:
            return e, ()
        r = e.ceil() if up else e.floor()
        return (r.cast(pl_dtype(spec)) if spec.name in DECIMALS else r), ()

    return build


def _float_fn(
    fn: Callable[[pl.Expr], pl.Expr], code: str | None, bad: Callable[[pl.Expr], pl.Expr] | None
) -> Builder:
    def build(
        c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
    ) -> tuple[pl.Expr, tuple[Mask, ...]]:
        x = args[0].expr
        r = fn(x)
        errors: tuple[Mask, ...] = ()
        if bad is not None and code is not None:
            errors += _fail(bad(x), code)
        errors += _fail(r.is_infinite() & x.is_finite(), "DTS_E_EXPREVALFUNCTIONOVERFLOW")
        return r, errors

    return build


def _power(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    x, p = args[0].expr, args[1].expr
    r = x.pow(p)
    bad = "DTS_E_EXPREVALPOWERINVALIDPARAM"
    errors = _fail((x == 0) & (p < 0), bad)
    errors += _fail(r.is_nan() & ~x.is_nan() & ~p.is_nan(), bad)
    errors += _fail(
        r.is_infinite() & x.is_finite() & p.is_finite(), "DTS_E_EXPREVALFUNCTIONOVERFLOW"
    )
    return r, errors


def _round(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    e, spec = args[0].expr, node.spec
    digits = c.const(node.args[1]) if _columns_free(node.args[1]) else ...
    if digits is ...:
        n = args[1].expr
        errors = _fail(n < 0, "DTS_E_EXPREVALPARAMTYPEMISMATCH")
        if spec.name in INTS:
            return e, errors
        if spec.name in DECIMALS:
            # one rounding per possible length: a length >= the scale leaves the value as is
            s = decimal_ps(spec)[1]
            chain: Any = pl
            for digits in range(s):
                rounded_d = e.round(digits, mode="half_away_from_zero").cast(pl_dtype(spec))
                chain = chain.when(n == digits).then(rounded_d)
            value_d = chain.when(n >= s).then(e) if s else pl.when(n >= 0).then(e)
            return value_d, errors
        scale = pl.lit(10.0).pow(n.clip(0, 300).cast(pl.Float64))
        scaled = e.cast(pl.Float64) * scale
        rounded = pl.when(scaled.is_finite()).then(
            scaled.round(0, mode="half_away_from_zero") / scale
        )
        value = pl.when(e.is_finite()).then(rounded.fill_null(e.cast(pl.Float64))).otherwise(e)
        return pl.when(n.is_not_null()).then(value).cast(pl_dtype(spec)), errors
    if digits is None:
        return pl.lit(None, dtype=pl_dtype(spec)), ()
    if digits < 0:
        return pl.lit(None, dtype=pl_dtype(spec)), _fail(
            e.is_not_null(), "DTS_E_EXPREVALPARAMTYPEMISMATCH"
        )
    if spec.name in INTS:
        return e, ()
    if spec.name in DECIMALS:
        r = e.round(min(digits, 38), mode="half_away_from_zero").cast(pl_dtype(spec), strict=False)
        return r, _fail(r.is_null() & e.is_not_null(), "DTS_E_EXPREVALFUNCTIONOVERFLOW")
    return e.round(min(digits, 300), mode="half_away_from_zero"), ()


def _sign(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    e = args[0].expr
    return pl.when(e > 0).then(1).when(e < 0).then(-1).when(e == 0).then(0).cast(pl.Int32), ()


def _codepoint(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s = args[0].expr
    raw = s.str.head(1).cast(pl.Binary)
    b0, b1, b2, b3 = (raw.bin.get(i, null_on_oob=True).cast(pl.Int32) for i in range(4))
    cp = (
        pl.when(b0 < 0x80).then(b0)
        .when(b0 < 0xE0).then((b0 & 0x1F) * 64 + (b1 & 0x3F))
        .when(b0 < 0xF0).then((b0 & 0x0F) * 4096 + (b1 & 0x3F) * 64 + (b2 & 0x3F))
        .otherwise(0xD800 + ((((b0 & 0x07) * 262144 + (b1 & 0x3F) * 4096 + (b2 & 0x3F) * 64 + (b3 & 0x3F)) - 0x10000) // 1024))
    )  # fmt: skip
    return cp.cast(pl.UInt16), ()


def _findstring(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s, sub, occ = (a.expr for a in args)
    errors: tuple[Mask, ...] = ()
    r = int_range(node.args[2])
    if not (r is not None and r[0] >= 1):
        errors = _fail(occ <= 0, "DTS_E_EXPREVALFNFINDSTRINGINVALIDOCCURRENCECOUNT")
    sub_const = c.const(node.args[1]) if _columns_free(node.args[1]) else ...
    occ_const = c.const(node.args[2]) if _columns_free(node.args[2]) else ...
    if sub_const == "":
        return pl.when(s.is_not_null() & occ.is_not_null()).then(pl.lit(0, dtype=pl.Int32)), errors
    maybe_null = [
        e.is_null()
        for e, arg in ((s, node.args[0]), (sub, node.args[1]), (occ, node.args[2]))
        if not (never_null(arg) or (_columns_free(arg) and c.const(arg) is not None))
    ]
    if occ_const == 1:
        pattern: Any = sub_const if isinstance(sub_const, str) else sub
        at = s.str.find(pattern, literal=True)
        if not c.ascii:
            at = s.cast(pl.Binary).bin.head(at).cast(pl.String).str.len_chars()
        value = (at.cast(pl.Int32) + 1).fill_null(0)
    else:
        parts = s.str.split(sub)
        count = parts.list.len() - 1
        before = parts.list.head(occ).list.eval(pl.element().str.len_chars()).list.sum()
        value = (
            pl.when(count >= occ).then(before + (occ - 1) * sub.str.len_chars() + 1).otherwise(0)
        )
    if sub_const is ...:
        value = pl.when(sub == "").then(0).otherwise(value)
    if maybe_null:
        null = pl.any_horizontal(maybe_null) if len(maybe_null) > 1 else maybe_null[0]
        value = pl.when(null).then(None).otherwise(value)
    return value.cast(pl.Int32), errors


_BYTE_HEX: Final = [f"{b:02X}" for b in range(256)]


#: four upper-case hex digits of every 16-bit value
_HEX16: Final = pl.Series([f"{u:04X}" for u in range(1 << 16)], dtype=pl.String)
_U16: Final = pl.Series(range(1 << 16), dtype=pl.Int64)


def utf16le(e: pl.Expr) -> pl.Expr:
    """Strings -> their UTF-16LE bytes (surrogate pairs above U+FFFF), in stages over the code
    points (each stage materialised once): UTF-8 bytes as an integer -> code point -> UTF-16
    units with their bytes swapped -> hex -> bytes."""
    el = pl.element()
    utf8 = el.cast(pl.Binary).bin.encode("hex").str.to_integer(base=16, strict=False)

    def byte(k: int) -> pl.Expr:  # the k-th byte from the end (6 payload bits for k < lead)
        return (el // (1 << (8 * k))) % 256

    code_point = (
        pl.when(el < 0x80)
        .then(el)
        .when(el < 0x10000)
        .then((byte(1) % 32) * 64 + byte(0) % 64)
        .when(el < 0x1000000)
        .then((byte(2) % 16) * 4096 + (byte(1) % 64) * 64 + byte(0) % 64)
        .otherwise(
            (byte(3) % 8) * 262144 + (byte(2) % 64) * 4096 + (byte(1) % 64) * 64 + byte(0) % 64
        )
    )

    def swap(u: pl.Expr) -> pl.Expr:
        return (u % 256) * 256 + u // 256

    c = el - 0x10000
    units = (
        pl.when(el < 0x10000)
        .then(swap(el))
        .otherwise(swap(0xD800 + c // 1024) * 65536 + swap(0xDC00 + c % 1024))
    )

    def hex16(u: pl.Expr) -> pl.Expr:
        return u.replace_strict(_U16, _HEX16, return_dtype=pl.String)

    hexed = (
        pl.when(el < 0x10000)
        .then(hex16(el % 65536))
        .otherwise(pl.concat_str([hex16(el // 65536), hex16(el % 65536)]))
    )
    chars = e.str.split("").list.eval(utf8.cast(pl.Int64))
    text = chars.list.eval(code_point).list.eval(units).list.eval(hexed.fill_null(""))
    return text.list.join("").str.decode("hex")


def int_byte_hex(e: pl.Expr, name: str) -> list[pl.Expr]:
    """Two upper-case hex digits per byte of an integer in its type's width, most significant
    first (two's complement for negatives). Each byte refers to ``e`` once, so nesting stays
    linear in size."""
    size = INT_BYTES[name]
    width = 8 * size
    if name == "DT_I8":
        u = e.reinterpret(signed=False)
    elif name in SIGNED_INTS:
        u = (e.cast(pl.Int64) + (1 << width)) % (1 << width)
    else:
        u = e.cast(pl.UInt64)
    return [
        ((u // (256**k)) % 256)
        .cast(pl.Int64)
        .replace_strict(list(range(256)), _BYTE_HEX, return_dtype=pl.String)
        for k in range(size - 1, -1, -1)
    ]


def fixed_hex(e: pl.Expr, name: str) -> pl.Expr:
    """Upper-case hex of an integer in its type's full width (two's complement for negatives)."""
    return pl.concat_str(int_byte_hex(e, name))


def _hex(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    text = fixed_hex(args[0].expr, node.args[0].spec.name).str.strip_chars_start("0")
    return pl.when(text == "").then(pl.lit("0")).otherwise(text), ()


def _left_right(left: bool) -> Builder:
    def build(
        c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
    ) -> tuple[pl.Expr, tuple[Mask, ...]]:
        s, n = args[0].expr, args[1].expr
        errors = _negative(node.args[1], n, "DTS_E_EXPREVALFNRIGHTINVALIDLENGTH")
        safe = n.clip(lower_bound=0) if errors else n
        value = s.str.head(safe) if left else s.str.tail(safe)
        return _null_if_null(value, node.args[1], n), errors

    return build


def _len(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    e = args[0].expr
    if node.args[0].spec.name in BINARIES:
        return e.bin.size().cast(pl.Int32), ()
    return e.str.len_chars().cast(pl.Int32), ()


def _unary_str(fn: Callable[[pl.Expr], pl.Expr]) -> Builder:
    return lambda c, node, args: (fn(args[0].expr), ())


def _replace(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s, search, repl = (a.expr for a in args)
    search_const = c.const(node.args[1]) if _columns_free(node.args[1]) else ...
    repl_const = c.const(node.args[2]) if _columns_free(node.args[2]) else ...
    if search_const is None or repl_const is None:
        return pl.lit(None, dtype=pl.String), ()
    if search_const == "":
        return s, ()
    if isinstance(search_const, str) and isinstance(repl_const, str):
        return s.str.replace_all(search_const, repl_const, literal=True), ()
    value = s.str.split(search).list.join(repl)
    value = pl.when(search == "").then(s).otherwise(value)
    return pl.when(s.is_null() | search.is_null() | repl.is_null()).then(None).otherwise(value), ()


def _replicate(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s, n = args[0].expr, args[1].expr
    errors = _negative(node.args[1], n, "DTS_E_EXPREVALFNREPLICATEINVALIDREPEATCOUNT")
    value = s.repeat_by(n.clip(lower_bound=0)).list.join("")
    return pl.when(s.is_null() | n.is_null()).then(None).otherwise(value), errors


def _reverse(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s = args[0].expr
    # reverse code points (str.reverse would keep grapheme clusters together; choices.STRING_UNITS)
    return pl.when(s == "").then(s).otherwise(s.str.split("").list.reverse().list.join("")), ()


def _substring(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s, pos, n = (a.expr for a in args)
    errors: tuple[Mask, ...] = ()
    r = int_range(node.args[1])
    if not (r is not None and r[0] >= 1):
        errors += _fail(pos <= 0, "DTS_E_EXPREVALFNSUBSTRINGINVALIDSTARTINDEX")
        pos = pos.clip(lower_bound=1)
    length_errors = _negative(node.args[2], n, "DTS_E_EXPREVALFNSUBSTRINGINVALIDLENGTH")
    if length_errors:
        n = n.clip(lower_bound=0)
    offset = _find_offset(c, node) if not errors else None
    value = s.str.slice(pos - 1 if offset is None else offset, n)
    # polars reads a NULL length as "to the end"; SSIS returns NULL
    value = _null_if_null(value, node.args[2], n)
    if offset is None:
        value = _null_if_null(value, node.args[1], pos)
    return value, errors + length_errors


def _null_if_null(value: pl.Expr, arg: ast.Node, e: pl.Expr) -> pl.Expr:
    """``value``, NULL where the argument ``arg`` (compiled to ``e``) is NULL."""
    if never_null(arg) or isinstance(_strip_implicit(arg), ast.Literal):
        return value
    return pl.when(e.is_not_null()).then(value)


def _strip_implicit(node: ast.Node) -> ast.Node:
    while isinstance(node, ast.Cast) and node.implicit:
        node = node.operand
    return node


def _find_offset(c: PolarsCompiler, node: ast.Function) -> pl.Expr | None:
    """Peephole for the idiom ``SUBSTRING(s, FINDSTRING(s, "lit", 1) + k, n)`` (k >= 1).

    The 0-based start is then ``find(s, "lit") + k`` with -1 for "not found", computed without
    the NULL guard FINDSTRING needs on its own: when ``s`` is NULL the whole SUBSTRING is NULL
    anyway, so the guard cannot change the result.
    """
    pos = _strip_implicit(node.args[1])
    if not (isinstance(pos, ast.Binary) and pos.op == "+"):
        return None
    call, k = _strip_implicit(pos.left), _strip_implicit(pos.right)
    if not (isinstance(k, ast.Literal) and isinstance(k.value, int) and k.value >= 1):
        return None
    if not (
        isinstance(call, ast.Function)
        and call.name == "FINDSTRING"
        and call.args[0] == node.args[0]
    ):
        return None
    if not all(_columns_free(a) for a in call.args[1:]):
        return None
    sub, occ = c.const(call.args[1]), c.const(call.args[2])
    if not (isinstance(sub, str) and sub and occ == 1):
        return None
    s = c.compile(node.args[0]).expr
    at = s.str.find(sub, literal=True)
    if not c.ascii:
        at = s.cast(pl.Binary).bin.head(at).cast(pl.String).str.len_chars()
    return at.cast(pl.Int64).fill_null(-1) + k.value


def _tokens(c: PolarsCompiler, node: ast.Function, s: pl.Expr, d: pl.Expr) -> pl.Expr | None:
    """The non-empty tokens of ``s`` as a list (None when the delimiters are a NULL constant;
    a NULL list where ``s`` or delimiters ``d`` from a column are NULL)."""
    if not _columns_free(node.args[1]):  # delimiters per row: a regex per row
        # every run of characters outside the row's delimiter set, escaping what is special in
        # a (Rust regex) character class; no delimiters: the whole string when not empty
        escaped = d.str.replace_all(r"([\\\[\]^&~-])", r"\$1")
        pattern = (
            pl.when(d == "")
            .then(pl.lit("(?s).+"))
            .otherwise(pl.concat_str([pl.lit("[^"), escaped, pl.lit("]+")]))
        )
        return s.str.extract_all(pattern)
    delims = c.const(node.args[1])
    if delims is None or delims is ...:
        return None
    if delims == "":
        return (
            pl.when(s == "")
            .then(pl.lit([], dtype=pl.List(pl.String)))
            .otherwise(pl.concat_list([s]))
        )
    first = delims[0]
    text = (
        s.str.replace_many(list(delims[1:]), [first] * (len(delims) - 1)) if len(delims) > 1 else s
    )
    return text.str.split(first).list.eval(pl.element().filter(pl.element() != ""))


def _token(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s, occ = args[0].expr, args[2].expr
    parts = _tokens(c, node, s, args[1].expr)
    if parts is None:
        return pl.lit(None, dtype=pl.String), ()
    got = parts.list.get((occ - 1).clip(lower_bound=0), null_on_oob=True)
    value = pl.when(occ < 1).then(pl.lit("")).otherwise(got.fill_null(""))
    null = s.is_null() | occ.is_null()
    if not _columns_free(node.args[1]):
        null = null | parts.is_null()
    return pl.when(null).then(None).otherwise(value), ()


def _tokencount(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    s = args[0].expr
    parts = _tokens(c, node, s, args[1].expr)
    if parts is None:
        return pl.lit(0, dtype=pl.Int32), ()
    return parts.list.len().fill_null(0).cast(pl.Int32), ()


_MONTHS: Final[dict[str, int]] = {"year": 12, "quarter": 3, "month": 1}
_DURATIONS: Final[dict[str, Callable[[pl.Expr], pl.Expr]]] = {
    "dayofyear": lambda n: pl.duration(days=n), "day": lambda n: pl.duration(days=n),
    "weekday": lambda n: pl.duration(days=n), "week": lambda n: pl.duration(weeks=n),
    "hour": lambda n: pl.duration(hours=n), "minute": lambda n: pl.duration(minutes=n),
    "second": lambda n: pl.duration(seconds=n), "millisecond": lambda n: pl.duration(milliseconds=n),
}  # fmt: skip


#: the largest |number| DATEADD can take per datepart without leaving years 1..9999
_DATEADD_LIMITS: Final[dict[str, int]] = {
    "year": 10_000, "quarter": 40_000, "month": 120_000, "dayofyear": 3_700_000, "day": 3_700_000,
    "weekday": 3_700_000, "week": 530_000, "hour": 88_000_000, "minute": 5_300_000_000,
    "second": 320_000_000_000, "millisecond": 320_000_000_000_000,
}  # fmt: skip


def _dateadd(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    part = datepart(node.args[0])
    n = args[1].expr
    d = c.as_datetime(args[2].expr, node.args[2].spec)
    limit = _DATEADD_LIMITS[part]
    errors: tuple[Mask, ...] = ()
    rng = int_range(node.args[1])
    if not (rng is not None and -limit <= rng[0] and rng[1] <= limit):
        # polars raises (rather than returning NULL) past its date range: keep the row harmless
        too_far = (n < -limit) | (n > limit)
        errors = _fail(too_far & d.is_not_null(), "DTS_E_EXPREVALFUNCTIONOVERFLOW")
        n = pl.when(too_far).then(0).otherwise(n)
    if part in _MONTHS:
        k = _MONTHS[part]
        const = c.const(node.args[1]) if _columns_free(node.args[1]) else ...
        if isinstance(const, int) and abs(const) <= limit:
            r = d.dt.offset_by(f"{const * k}mo")
        else:
            r = (
                pl.when(n.is_null())
                .then(None)
                .otherwise(d.dt.offset_by(pl.format("{}mo", (n.cast(pl.Int64) * k))))
            )
    else:
        r = d + _DURATIONS[part](n.cast(pl.Int64))
    year = r.dt.year()
    return r, errors + _fail((year < 1) | (year > 9999), "DTS_E_EXPREVALFUNCTIONOVERFLOW")


def _days(e: pl.Expr, spec: TypeSpec) -> pl.Expr:
    if spec.name == "DT_DBDATE":
        return e.cast(pl.Int32)
    return e.dt.date().cast(pl.Int32)


def _datediff(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    part = datepart(node.args[0])
    sspec, espec = node.args[1].spec, node.args[2].spec
    s, e = args[1].expr, args[2].expr
    if sspec.name in TIMES | {"DT_DBTIMESTAMPOFFSET"}:
        s, sspec = c.as_datetime(s, sspec), TypeSpec("DT_DBTIMESTAMP")
    if espec.name in TIMES | {"DT_DBTIMESTAMPOFFSET"}:
        e, espec = c.as_datetime(e, espec), TypeSpec("DT_DBTIMESTAMP")
    errors: tuple[Mask, ...] = ()
    if part == "year":
        r = e.dt.year() - s.dt.year()
    elif part == "quarter":
        r = (e.dt.year() * 4 + e.dt.quarter().cast(pl.Int32)) - (
            s.dt.year() * 4 + s.dt.quarter().cast(pl.Int32)
        )
    elif part == "month":
        r = (e.dt.year() * 12 + e.dt.month().cast(pl.Int32)) - (
            s.dt.year() * 12 + s.dt.month().cast(pl.Int32)
        )
    elif part in ("day", "dayofyear", "weekday"):
        r = _days(e, espec) - _days(s, sspec)
    elif part == "week":
        r = (_days(e, espec) + 4) // 7 - (_days(s, sspec) + 4) // 7
    else:
        unit = {
            "hour": 3_600_000_000,
            "minute": 60_000_000,
            "second": 1_000_000,
            "millisecond": 1000,
        }[part]
        se = c.as_datetime(s, sspec).dt.epoch("us") // unit
        ee = c.as_datetime(e, espec).dt.epoch("us") // unit
        r64 = ee - se
        if part != "hour":
            lo, hi = INT_RANGE["DT_I4"]
            errors = _fail(_out_of(r64, lo, hi), "DTS_E_EXPREVALFUNCTIONOVERFLOW")
        r = r64
    return r.cast(pl.Int32, strict=False), errors


def _part(e: pl.Expr, part: str, spec: TypeSpec, c: PolarsCompiler) -> pl.Expr:
    if spec.name in TIMES and part in ("hour", "minute", "second", "millisecond"):
        d = e
    else:
        convert = spec.name in TIMES | {"DT_DBTIMESTAMPOFFSET"} or (
            spec.name == "DT_DBDATE" and part in ("hour", "minute", "second", "millisecond")
        )
        d = c.as_datetime(e, spec) if convert else e
    if part == "year":
        r = d.dt.year()
    elif part == "quarter":
        r = d.dt.quarter()
    elif part == "month":
        r = d.dt.month()
    elif part == "dayofyear":
        r = d.dt.ordinal_day()
    elif part == "day":
        r = d.dt.day()
    elif part == "weekday":
        r = d.dt.weekday() % 7 + 1
    elif part == "week":
        doy = d.dt.ordinal_day().cast(pl.Int32)
        wd = (d.dt.weekday() % 7 + 1).cast(pl.Int32)
        r = (doy - 1 + (wd - doy) % 7) // 7 + 1
    elif part == "hour":
        r = d.dt.hour()
    elif part == "minute":
        r = d.dt.minute()
    elif part == "second":
        r = d.dt.second()
    else:
        r = d.dt.millisecond()
    return r.cast(pl.Int32)


def _datepart(
    c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
) -> tuple[pl.Expr, tuple[Mask, ...]]:
    return _part(args[1].expr, datepart(node.args[0]), node.args[1].spec, c), ()


def _part_fn(part: str) -> Builder:
    return lambda c, node, args: (_part(args[0].expr, part, node.args[0].spec, c), ())


def _now(utc: bool) -> Builder:
    def build(
        c: PolarsCompiler, node: ast.Function, args: Sequence[Lowered]
    ) -> tuple[pl.Expr, tuple[Mask, ...]]:
        now = (c.utcnow if utc else c.now) or (
            dt.datetime.now(dt.UTC).replace(tzinfo=None) if utc else dt.datetime.now()
        )
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        return pl.lit(now, dtype=pl.Datetime("us")), ()

    return build


POLARS_FUNCTIONS: Final[dict[str, Builder]] = {
    "ABS": _abs,
    "CEILING": _ceil_floor(True),
    "FLOOR": _ceil_floor(False),
    "EXP": _float_fn(lambda x: x.exp(), None, None),
    "LN": _float_fn(lambda x: x.log(), "DTS_E_EXPREVALLNINVALIDPARAM", lambda x: x <= 0),
    "LOG": _float_fn(lambda x: x.log10(), "DTS_E_EXPREVALLOGINVALIDPARAM", lambda x: x <= 0),
    "POWER": _power,
    "ROUND": _round,
    "SIGN": _sign,
    "SQRT": _float_fn(lambda x: x.sqrt(), "DTS_E_EXPREVALSQRTINVALIDPARAM", lambda x: x < 0),
    "SQUARE": _float_fn(lambda x: x * x, None, None),
    "CODEPOINT": _codepoint,
    "FINDSTRING": _findstring,
    "HEX": _hex,
    "LEFT": _left_right(True),
    "RIGHT": _left_right(False),
    "LEN": _len,
    "LOWER": _unary_str(lambda s: s.str.to_lowercase()),
    "UPPER": _unary_str(lambda s: s.str.to_uppercase()),
    "LTRIM": _unary_str(lambda s: s.str.strip_chars_start(" ")),
    "RTRIM": _unary_str(lambda s: s.str.strip_chars_end(" ")),
    "TRIM": _unary_str(lambda s: s.str.strip_chars(" ")),
    "REPLACE": _replace,
    "REPLICATE": _replicate,
    "REVERSE": _reverse,
    "SUBSTRING": _substring,
    "TOKEN": _token,
    "TOKENCOUNT": _tokencount,
    "DATEADD": _dateadd,
    "DATEDIFF": _datediff,
    "DATEPART": _datepart,
    "DAY": _part_fn("day"),
    "MONTH": _part_fn("month"),
    "YEAR": _part_fn("year"),
    "GETDATE": _now(False),
    "GETUTCDATE": _now(True),
    "ISNULL": lambda c, node, args: (args[0].expr.is_null(), ()),
    "REPLACENULL": lambda c, node, args: (pl.coalesce(args[0].expr, args[1].expr), ()),
}


def uses_byte_offsets(node: ast.Node) -> bool:
    """Whether the compiled form differs between ASCII and non-ASCII batches."""
    return any(isinstance(n, ast.Function) and n.name == "FINDSTRING" for n in node.walk())


def ascii_literals(node: ast.Node) -> bool:
    return _ascii_literals(node)
