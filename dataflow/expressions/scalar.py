"""Back end 1: the scalar evaluator (control flow, variables, property expressions, one row).

Walks the typed tree with Python values: ``int``, ``float``, ``Decimal`` (DT_CY/DECIMAL/NUMERIC),
``bool``, ``str`` (strings; DT_GUID as ``{XXXXXXXX-…}``), ``bytes``, ``date`` (DT_DBDATE),
``time`` (DT_DBTIME/DT_DBTIME2), naive ``datetime`` (DT_DATE, DT_DBTIMESTAMP, DT_DBTIMESTAMP2,
DT_FILETIME), aware ``datetime`` (DT_DBTIMESTAMPOFFSET) and ``None``. Must agree with
:mod:`.polars_backend` on every golden case. Run-time failures raise :class:`RowError`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import struct
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, Final

from dataflow.core.datatypes import TypeSpec

from . import ast
from .ast import snake_name
from .functions import datepart
from .types import (
    BINARIES,
    DECIMALS,
    FLOATS,
    INT_BYTES,
    INT_RANGE,
    INTS,
    TEXTS,
    UNSIGNED_INTS,
    decimal_ps,
)

_CTX: Final = Context(prec=80)
OLE_EPOCH: Final = dt.datetime(1899, 12, 30)
FILETIME_EPOCH: Final = dt.datetime(1601, 1, 1)
F32_MAX: Final = 3.4028234663852886e38


class RowError(Exception):
    """A run-time evaluation error for one row (becomes an ExpressionError or a row error code)."""

    def __init__(self, code: str, message: str, node: ast.Node | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.node = node


# --------------------------------------------------------------------------------------------
# value helpers shared by casts, operators and functions
# --------------------------------------------------------------------------------------------

_INT_TEXT = re.compile(r"^[+-]?[0-9]+$")
_REAL_TEXT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DEC_TEXT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
#: canonical date/time text (datatypes.md §3); also used by the polars back end
DATE_TEXT: Final = (
    r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?$"
)
TIME_TEXT: Final = r"^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?$"
_DATE_RE = re.compile(DATE_TEXT)
_TIME_RE = re.compile(TIME_TEXT)
OFFSET_TEXT: Final = r"^(.*?)\s*([+-])\s*([0-9]{1,2}):([0-9]{2})$"
_OFFSET_RE = re.compile(OFFSET_TEXT)
GUID_TEXT: Final = (
    r"^\{?([0-9A-Fa-f]{8})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{12})\}?$"
)
_GUID_RE = re.compile(GUID_TEXT)


def check_int(value: int, name: str, code: str, what: str = "value") -> int:
    lo, hi = INT_RANGE[name]
    if not lo <= value <= hi:
        raise RowError(code, f"the {what} {value} does not fit in {name}")
    return value


def to_f32(value: float) -> float:
    if math.isfinite(value) and abs(value) > F32_MAX:
        return math.copysign(math.inf, value)
    return float(struct.unpack("f", struct.pack("f", value))[0])


def quantize(value: Decimal, spec: TypeSpec, code: str) -> Decimal:
    p, s = decimal_ps(spec)
    if value.is_finite() and value != 0 and value.adjusted() + 1 > p - s + 1:
        raise RowError(code, f"the value {value} does not fit in {spec}")
    try:
        q = value.quantize(Decimal(1).scaleb(-s), rounding=ROUND_HALF_UP, context=_CTX)
    except InvalidOperation:
        raise RowError(code, f"the value {value} does not fit in {spec}") from None
    if q.adjusted() + 1 > p - s and q != 0:
        raise RowError(code, f"the value {value} does not fit in {spec}")
    return q.copy_abs() if q == 0 else q  # decimals have no negative zero


def round_half_away(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def format_float(value: float, r4: bool) -> str:
    """Float text as the polars back end writes it (choices.FLOAT_TEXT)."""
    import polars as pl

    if value == 0:
        return "0"  # also for -0.0, as .NET Framework prints it
    series = pl.Series([value], dtype=pl.Float32 if r4 else pl.Float64).cast(pl.String)
    text = str(series[0])
    return text[:-2] if text.endswith(".0") else text


def _frac_digits(us: int, digits: int) -> str:
    return f"{us:06d}{'0' * max(0, digits - 6)}"[:digits]


def format_datetime(value: Any, spec: TypeSpec) -> str:
    """Date/time text (datatypes.md §3 layouts; choices.DATE_TEXT)."""
    name = spec.name
    if name == "DT_DBDATE":
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if name in ("DT_DBTIME", "DT_DBTIME2"):
        text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        if name == "DT_DBTIME2" and spec.scale:
            text += "." + _frac_digits(value.microsecond, spec.scale)
        return text
    base = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if name == "DT_DBTIMESTAMP":
        return base + "." + _frac_digits(value.microsecond, 3)
    if name == "DT_FILETIME":
        return base + ":" + _frac_digits(value.microsecond, 3)
    if name == "DT_DBTIMESTAMP2":
        return base + ("." + _frac_digits(value.microsecond, spec.scale) if spec.scale else "")
    if name == "DT_DBTIMESTAMPOFFSET":
        text = base + ("." + _frac_digits(value.microsecond, spec.scale) if spec.scale else "")
        offset = value.utcoffset() or dt.timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return f"{text} {sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return base  # DT_DATE


def _frac_us(text: str | None) -> int:
    return int((text or "0")[:6].ljust(6, "0"))


def parse_datetime(text: str) -> dt.datetime | None:
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, f = m.groups()
    try:
        return dt.datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), _frac_us(f)
        )
    except ValueError:
        return None


def parse_time(text: str) -> dt.time | None:
    m = _TIME_RE.match(text.strip())
    if not m:
        return None
    h, mi, s, f = m.groups()
    try:
        return dt.time(int(h), int(mi), int(s or 0), _frac_us(f))
    except ValueError:
        return None


def truncate_fraction(value: Any, spec: TypeSpec) -> Any:
    """Drop fractional-second digits the target type does not keep."""
    name = spec.name
    if name in ("DT_DBTIMESTAMP", "DT_FILETIME"):
        keep = 3
    elif name == "DT_DBTIME":
        keep = 0
    elif name in ("DT_DBTIMESTAMP2", "DT_DBTIME2", "DT_DBTIMESTAMPOFFSET"):
        keep = min(spec.scale, 6)
    else:
        return value
    unit = 10 ** (6 - keep)
    return value.replace(microsecond=value.microsecond // unit * unit)


def _as_datetime(value: Any) -> dt.datetime:
    """Any date/time value as a naive datetime (choices.MISSING_DATE for times)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return dt.datetime.combine(dt.date.today(), value)
    raise TypeError(value)


def cast_value(value: Any, source: TypeSpec, target: TypeSpec, implicit: bool = False) -> Any:
    """``(target)value`` per expressions.md §3-§4 (raises RowError on a failing value)."""
    if value is None:
        return None
    src, dst = source.name, target.name
    over = "DTS_E_EXPREVALDATACONVERSIONOVERFLOW"
    failed = "DTS_E_EXPREVALCASTFAILED"
    # -- to integers ---------------------------------------------------------------------------
    if dst in INTS:
        if src in INTS:
            return check_int(value, dst, over)
        if src == "DT_BOOL":
            return check_int(-1 if value else 0, dst, over)
        if src in FLOATS:
            if not math.isfinite(value):
                raise RowError(over, f"{value} cannot be converted to {dst}")
            return check_int(round_half_away(Decimal(value)), dst, over)
        if src in DECIMALS:
            return check_int(round_half_away(value), dst, over)
        if src in TEXTS:
            text = value.strip(" ")
            if not _INT_TEXT.match(text) or not -(2**63) <= int(text) < 2**64:
                raise RowError(failed, f"the string {value!r} cannot be converted to {dst}")
            return check_int(int(text), dst, over)
        if src == "DT_DATE":
            return check_int(round_half_away(Decimal(_ole(value))), dst, over)
        if src == "DT_FILETIME":
            delta = value - FILETIME_EPOCH
            return check_int((delta // dt.timedelta(microseconds=1)) * 10, dst, over)
        if src in BINARIES:
            return int.from_bytes(
                value[: INT_BYTES[dst]].ljust(INT_BYTES[dst], b"\0"),
                "little",
                signed=dst not in UNSIGNED_INTS,
            )
    # -- to floats -------------------------------------------------------------------------------
    if dst in FLOATS:
        if src in INTS or src in DECIMALS or src in FLOATS:
            result = float(value)
        elif src == "DT_BOOL":
            result = -1.0 if value else 0.0
        elif src in TEXTS:
            text = value.strip(" ")
            if not _REAL_TEXT.match(text):
                raise RowError(failed, f"the string {value!r} cannot be converted to {dst}")
            result = float(text)
        elif src == "DT_DATE":
            result = _ole(value)
        else:
            raise RowError(failed, f"{src} cannot be converted to {dst}")
        if dst == "DT_R4":
            f32 = to_f32(result)
            if math.isinf(f32) and math.isfinite(result):
                raise RowError(over, f"{result} does not fit in DT_R4")
            return f32
        return result
    # -- to decimals -----------------------------------------------------------------------------
    if dst in DECIMALS:
        if src in INTS:
            number = Decimal(value)
        elif src in DECIMALS:
            number = value
        elif src in FLOATS:
            if not math.isfinite(value):
                raise RowError(over, f"{value} cannot be converted to {dst}")
            number = Decimal(repr(round_float(value, decimal_ps(target)[1])))
        elif src == "DT_BOOL":
            number = Decimal(-1 if value else 0)
        elif src in TEXTS:
            text = value.strip(" ")
            if not _DEC_TEXT.match(text):
                raise RowError(failed, f"the string {value!r} cannot be converted to {dst}")
            number = Decimal(text)
        elif src == "DT_DATE":
            number = Decimal(repr(round_float(_ole(value), decimal_ps(target)[1])))
        else:
            raise RowError(failed, f"{src} cannot be converted to {dst}")
        return quantize(number, target, over)
    # -- to bool ---------------------------------------------------------------------------------
    if dst == "DT_BOOL":
        if src in TEXTS:
            low = value.lower()
            if low not in ("true", "false"):
                raise RowError(failed, f"the string {value!r} cannot be converted to DT_BOOL")
            return low == "true"
        if src == "DT_BOOL":
            return value
        return value != 0
    # -- to strings ------------------------------------------------------------------------------
    if dst in TEXTS:
        text = to_text(value, source)
        if src in TEXTS and implicit:
            return text
        if dst in ("DT_WSTR", "DT_STR") and target.length and len(text) > target.length:
            text = text[: target.length]  # choices.CAST_TRUNCATION
        return text
    # -- to GUID ---------------------------------------------------------------------------------
    if dst == "DT_GUID":
        if src == "DT_GUID":
            return value
        if src in TEXTS:
            m = _GUID_RE.match(value.strip(" "))
            if not m:
                raise RowError(failed, f"the string {value!r} is not a GUID")
            return "{" + "-".join(m.groups()).upper() + "}"
        if src in BINARIES:
            if len(value) != 16:
                raise RowError(failed, "a DT_GUID needs exactly 16 bytes")
            return "{" + str(uuid.UUID(bytes_le=bytes(value))).upper() + "}"
    # -- to binary -------------------------------------------------------------------------------
    if dst in BINARIES:
        if src in BINARIES:
            data = bytes(value)
        elif src == "DT_GUID":
            data = uuid.UUID(value).bytes_le
        elif src in TEXTS:
            data = value.encode("utf-16-le")
        elif src in INTS:
            data = value.to_bytes(INT_BYTES[src], "little", signed=src not in UNSIGNED_INTS)
        else:
            raise RowError(failed, f"{src} cannot be converted to {dst}")
        if dst == "DT_BYTES" and target.length and len(data) > target.length:
            data = data[: target.length]
        return data
    # -- to dates and times ----------------------------------------------------------------------
    if dst in ("DT_DBTIME", "DT_DBTIME2"):
        if src in TEXTS:
            t = parse_time(value)
            if t is None:
                d = parse_datetime(value)
                if d is None:
                    raise RowError(failed, f"the string {value!r} is not a time (hh:mm:ss)")
                t = d.time()
            return truncate_fraction(t, target)
        if isinstance(value, dt.time):
            return truncate_fraction(value, target)
        if src == "DT_DBDATE":
            return dt.time(0)
        return truncate_fraction(_as_datetime(value).time(), target)
    if dst == "DT_DBDATE":
        if src in TEXTS:
            d = parse_datetime(value)
            if d is None:
                raise RowError(failed, f"the string {value!r} is not a date (yyyy-mm-dd)")
            return d.date()
        if src in INTS or src in FLOATS or src in DECIMALS or src == "DT_BOOL":
            return _from_ole(float(value)).date()
        return _as_datetime(value).date()
    if dst == "DT_DBTIMESTAMPOFFSET":
        if src in TEXTS:
            m = _OFFSET_RE.match(value.strip())
            base_text, sign, oh, om = m.groups() if m else (value, "+", "0", "0")
            base = parse_datetime(base_text)
            if base is None:
                raise RowError(failed, f"the string {value!r} is not a datetimeoffset")
            minutes = (int(oh) * 60 + int(om)) * (-1 if sign == "-" else 1)
            tz = dt.timezone(dt.timedelta(minutes=minutes))
            return truncate_fraction(base.replace(tzinfo=tz), target)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return truncate_fraction(value, target)
        return truncate_fraction(_as_datetime(value).replace(tzinfo=dt.UTC), target)
    if dst in ("DT_DATE", "DT_DBTIMESTAMP", "DT_DBTIMESTAMP2", "DT_FILETIME"):
        if src in TEXTS:
            d = parse_datetime(value)
            if d is None:
                raise RowError(
                    failed, f"the string {value!r} is not a date/time (yyyy-mm-dd hh:mm:ss)"
                )
            return truncate_fraction(d, target)
        if src in INTS or src in FLOATS or src in DECIMALS or src == "DT_BOOL":
            days = -1.0 if value is True else (0.0 if value is False else float(value))
            if src in INTS and src in ("DT_I8", "DT_UI8") and dst == "DT_FILETIME":
                return FILETIME_EPOCH + dt.timedelta(microseconds=value // 10)
            try:
                return truncate_fraction(_from_ole(days), target)
            except OverflowError:
                raise RowError(over, f"{value} is out of the date range") from None
        return truncate_fraction(_as_datetime(value), target)
    raise RowError(failed, f"{src} cannot be converted to {dst}")


def _ole(value: dt.datetime) -> float:
    return (value - OLE_EPOCH) / dt.timedelta(days=1)


def _from_ole(days: float) -> dt.datetime:
    if not math.isfinite(days) or abs(days) > 3_000_000:
        raise OverflowError
    return OLE_EPOCH + dt.timedelta(microseconds=round(days * 86_400_000_000))


def to_text(value: Any, spec: TypeSpec) -> str:
    name = spec.name
    if name in TEXTS or name == "DT_GUID":
        return str(value)
    if name == "DT_BOOL":
        return "True" if value else "False"  # choices.BOOL_TEXT
    if name in INTS:
        return str(value)
    if name in FLOATS:
        return format_float(value, name == "DT_R4")
    if name in DECIMALS:
        return format(value, "f")
    if name in BINARIES:
        return bytes(value).hex().upper()
    return format_datetime(value, spec)


# --------------------------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------------------------


def arithmetic(op: str, a: Any, b: Any, spec: TypeSpec) -> Any:
    name = spec.name
    if op in ("/", "%") and b == 0:
        raise RowError("DTS_E_EXPREVALDIVBYZERO", f"division by zero in {op}")
    if name in INTS:
        if op == "+":
            r = a + b
        elif op == "-":
            r = a - b
        elif op == "*":
            r = a * b
        elif op == "/":
            r = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # truncates toward zero
        else:
            r = abs(a) % abs(b) * (1 if a >= 0 else -1)  # sign follows the dividend
        return check_int(r, name, "DTS_E_EXPREVALBINARYOPOVERFLOW", "result")
    if name in FLOATS:
        fa, fb = float(a), float(b)
        fr = fa + fb if op == "+" else fa - fb if op == "-" else fa * fb if op == "*" else fa / fb
        return to_f32(fr) if name == "DT_R4" else fr
    da, db = Decimal(a), Decimal(b)
    if op == "+":
        dr = _CTX.add(da, db)
    elif op == "-":
        dr = _CTX.subtract(da, db)
    elif op == "*":
        dr = _CTX.multiply(da, db)
    else:
        dr = _CTX.divide(da, db)
    return quantize(dr, spec, "DTS_E_EXPREVALBINARYOPNUMERICOVERFLOW")


def bitwise(op: str, a: int, b: int, spec: TypeSpec) -> int:
    r = a & b if op == "&" else a | b if op == "|" else a ^ b
    return r


def compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


# --------------------------------------------------------------------------------------------
# functions: one implementation per entry of functions.FUNCTIONS
# --------------------------------------------------------------------------------------------

ScalarFn = Callable[[Sequence[Any], Sequence[TypeSpec], TypeSpec], Any]


def _decimal_round(value: Decimal, digits: int, spec: TypeSpec) -> Decimal:
    q = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_CTX)
    return quantize(q, spec, "DTS_E_EXPREVALFUNCTIONOVERFLOW")


def _round(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    value, digits = args
    if digits < 0:
        raise RowError("DTS_E_EXPREVALPARAMTYPEMISMATCH", "ROUND: length must be >= 0")
    if spec.name in INTS:
        return value
    if spec.name in DECIMALS:
        return _decimal_round(value, min(digits, 38), spec)
    if not math.isfinite(value):
        return value
    result = round_float(value, digits)
    return to_f32(result) if spec.name == "DT_R4" else result


def round_float(value: float, digits: int) -> float:
    """Half away from zero on value * 10^digits in double precision (choices.ROUND_FLOAT)."""
    if not math.isfinite(value):
        return value
    scale = 10.0 ** min(digits, 300)
    scaled = value * scale
    if not math.isfinite(scaled):
        return value
    result = float(Decimal(scaled).to_integral_value(rounding=ROUND_HALF_UP)) / scale
    return math.copysign(0.0, value) if result == 0 else result


def _ceil_floor(rounding: str) -> ScalarFn:
    def fn(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
        value = args[0]
        if spec.name in INTS:
            return value
        if spec.name in DECIMALS:
            return quantize(
                value.to_integral_value(rounding=rounding), spec, "DTS_E_EXPREVALFUNCTIONOVERFLOW"
            )
        if not math.isfinite(value):
            return value
        result = float(math.ceil(value) if rounding == ROUND_CEILING else math.floor(value))
        return math.copysign(0.0, value) if result == 0 else result  # -0.5 -> -0.0, like IEEE

    return fn


def _abs(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    r = abs(args[0])
    if spec.name in INTS:
        return check_int(r, spec.name, "DTS_E_EXPREVALFUNCTIONOVERFLOW", "result")
    return r


def _float_fn(fn: Callable[[float], float], code: str, bad: Callable[[float], bool]) -> ScalarFn:
    def wrapped(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
        x = args[0]
        if bad(x):
            raise RowError(code, f"invalid argument {x}")
        try:
            r = fn(x)
        except OverflowError:
            r = math.inf
        if math.isinf(r) and math.isfinite(x):
            raise RowError("DTS_E_EXPREVALFUNCTIONOVERFLOW", f"the result for {x} is too large")
        return r

    return wrapped


def polars_math(name: str, x: float, p: float | None = None) -> float:
    """EXP/LN/LOG/POWER computed by polars, so both back ends agree to the last bit
    (Python's libm and Rust's differ in the last ulp for some arguments)."""
    import polars as pl

    series = pl.Series([x], dtype=pl.Float64)
    if name == "exp":
        out = series.exp()
    elif name == "ln":
        out = series.log()
    elif name == "log10":
        out = series.log10()
    else:
        out = series.pow(p if p is not None else 1.0)
    return float(out[0])


def _power(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    x, p = args
    bad = "DTS_E_EXPREVALPOWERINVALIDPARAM"
    if x == 0 and p < 0:
        raise RowError(bad, "POWER: zero to a negative power")
    r = polars_math("pow", x, p)
    if math.isnan(r) and not (math.isnan(x) or math.isnan(p)):
        raise RowError(bad, f"POWER({x}, {p}) is indeterminate")
    if math.isinf(r) and math.isfinite(x) and math.isfinite(p):
        raise RowError("DTS_E_EXPREVALFUNCTIONOVERFLOW", f"POWER({x}, {p}) is too large")
    return r


def _sign(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    x = args[0]
    return 1 if x > 0 else -1 if x < 0 else 0


def _codepoint(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s = args[0]
    if not s:
        return None
    cp = ord(s[0])
    return cp if cp <= 0xFFFF else 0xD800 + ((cp - 0x10000) >> 10)


def find_occurrence(s: str, search: str, occurrence: int) -> int:
    """1-based index of the occurrence-th non-overlapping match, 0 if none (choices.FINDSTRING)."""
    if not search:
        return 0
    start = 0
    for _ in range(occurrence):
        idx = s.find(search, start)
        if idx < 0:
            return 0
        start = idx + len(search)
    return idx + 1


def _findstring(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, search, occ = args
    if occ <= 0:
        raise RowError(
            "DTS_E_EXPREVALFNFINDSTRINGINVALIDOCCURRENCECOUNT",
            f"FINDSTRING occurrence {occ} must be > 0",
        )
    return find_occurrence(s, search, occ)


def _hex(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    width = INT_BYTES[types[0].name] * 8
    return format(args[0] & ((1 << width) - 1), "X")


def _left(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, n = args
    if n < 0:
        raise RowError("DTS_E_EXPREVALFNRIGHTINVALIDLENGTH", f"LEFT length {n} must be >= 0")
    return s[:n]


def _right(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, n = args
    if n < 0:
        raise RowError("DTS_E_EXPREVALFNRIGHTINVALIDLENGTH", f"RIGHT length {n} must be >= 0")
    return s[max(0, len(s) - n) :] if n else ""


def _len(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    return len(args[0])


def _trim(which: str) -> ScalarFn:
    def fn(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
        s = args[0]
        return s.lstrip(" ") if which == "l" else s.rstrip(" ") if which == "r" else s.strip(" ")

    return fn


def _replace(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, search, repl = args
    return s.replace(search, repl) if search else s  # choices.REPLACE_EMPTY


def _replicate(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, n = args
    if n < 0:
        raise RowError(
            "DTS_E_EXPREVALFNREPLICATEINVALIDREPEATCOUNT", f"REPLICATE count {n} must be >= 0"
        )
    return s * n


def _substring(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, pos, n = args
    if pos <= 0:
        raise RowError(
            "DTS_E_EXPREVALFNSUBSTRINGINVALIDSTARTINDEX", f"SUBSTRING start {pos} must be >= 1"
        )
    if n < 0:
        raise RowError(
            "DTS_E_EXPREVALFNSUBSTRINGINVALIDLENGTH", f"SUBSTRING length {n} must be >= 0"
        )
    return s[pos - 1 : pos - 1 + n]


def tokens_of(s: str, delimiters: str) -> list[str]:
    """strtok-like split: any delimiter character separates; empty tokens are dropped."""
    if not delimiters:
        return [s] if s else []
    return [t for t in re.split("[" + re.escape(delimiters) + "]", s) if t]


def _token(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, delimiters, occ = args
    parts = tokens_of(s, delimiters)
    return parts[occ - 1] if 1 <= occ <= len(parts) else ""  # choices.TOKEN_PAST_END


def _tokencount(args: Sequence[Any], types: Sequence[TypeSpec], spec: TypeSpec) -> Any:
    s, delimiters = args
    return 0 if s is None or delimiters is None else len(tokens_of(s, delimiters))


def _add_months(value: dt.datetime, months: int) -> dt.datetime:
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise RowError("DTS_E_EXPREVALFUNCTIONOVERFLOW", "DATEADD result is out of the date range")
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


_FIXED_PARTS: Final[dict[str, dt.timedelta]] = {
    "dayofyear": dt.timedelta(days=1), "day": dt.timedelta(days=1), "weekday": dt.timedelta(days=1),
    "week": dt.timedelta(days=7), "hour": dt.timedelta(hours=1), "minute": dt.timedelta(minutes=1),
    "second": dt.timedelta(seconds=1), "millisecond": dt.timedelta(milliseconds=1),
}  # fmt: skip
_MONTH_PARTS: Final[dict[str, int]] = {"year": 12, "quarter": 3, "month": 1}


def _dateadd(part: str, n: int, value: Any) -> dt.datetime:
    base = _as_datetime(value)
    if part in _MONTH_PARTS:
        return _add_months(base, n * _MONTH_PARTS[part])
    try:
        result = base + n * _FIXED_PARTS[part]
    except OverflowError:
        raise RowError(
            "DTS_E_EXPREVALFUNCTIONOVERFLOW", "DATEADD result is out of the date range"
        ) from None
    return result


def _us(value: dt.datetime) -> int:
    return (value - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)


def _days(value: dt.datetime) -> int:
    return (value.date() - dt.date(1970, 1, 1)).days


def _datediff(part: str, start: Any, end: Any) -> int:
    s, e = _as_datetime(start), _as_datetime(end)
    if part == "year":
        r = e.year - s.year
    elif part == "quarter":
        r = (e.year * 4 + (e.month - 1) // 3) - (s.year * 4 + (s.month - 1) // 3)
    elif part == "month":
        r = (e.year * 12 + e.month) - (s.year * 12 + s.month)
    elif part in ("day", "dayofyear", "weekday"):
        r = _days(e) - _days(s)
    elif part == "week":
        r = (_days(e) + 4) // 7 - (_days(s) + 4) // 7  # Sunday-based weeks (choices.WEEKS)
    else:
        unit = {
            "hour": 3_600_000_000,
            "minute": 60_000_000,
            "second": 1_000_000,
            "millisecond": 1000,
        }[part]
        r = _us(e) // unit - _us(s) // unit
    return check_int(r, "DT_I4", "DTS_E_EXPREVALFUNCTIONOVERFLOW", "DATEDIFF result")


def sunday_weekday(value: dt.datetime) -> int:
    return value.isoweekday() % 7 + 1  # Sunday = 1 ... Saturday = 7 (choices.WEEKS)


def _datepart(part: str, value: Any) -> int:
    d = _as_datetime(value) if not isinstance(value, dt.time) else None
    if isinstance(value, dt.time):
        t: Any = value
        d = _as_datetime(value)
    else:
        assert d is not None
        t = d
    if part == "year":
        return d.year
    if part == "quarter":
        return (d.month - 1) // 3 + 1
    if part == "month":
        return d.month
    if part == "dayofyear":
        return d.timetuple().tm_yday
    if part == "day":
        return d.day
    if part == "weekday":
        return sunday_weekday(d)
    if part == "week":
        doy = d.timetuple().tm_yday
        return (doy - 1 + (sunday_weekday(d) - doy) % 7) // 7 + 1
    if part == "hour":
        return int(t.hour)
    if part == "minute":
        return int(t.minute)
    if part == "second":
        return int(t.second)
    return int(t.microsecond) // 1000


def _now(utc: bool) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None) if utc else dt.datetime.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _simple(fn: Callable[..., Any]) -> ScalarFn:
    return lambda args, _types, _spec: fn(*args)


SCALAR_FUNCTIONS: Final[dict[str, ScalarFn]] = {
    "ABS": _abs,
    "CEILING": _ceil_floor(ROUND_CEILING),
    "FLOOR": _ceil_floor(ROUND_FLOOR),
    "EXP": _float_fn(
        lambda x: polars_math("exp", x), "DTS_E_EXPREVALFUNCTIONOVERFLOW", lambda x: False
    ),
    "LN": _float_fn(
        lambda x: polars_math("ln", x), "DTS_E_EXPREVALLNINVALIDPARAM", lambda x: x <= 0
    ),
    "LOG": _float_fn(
        lambda x: polars_math("log10", x), "DTS_E_EXPREVALLOGINVALIDPARAM", lambda x: x <= 0
    ),
    "POWER": _power,
    "ROUND": _round,
    "SIGN": _sign,
    "SQRT": _float_fn(math.sqrt, "DTS_E_EXPREVALSQRTINVALIDPARAM", lambda x: x < 0),
    "SQUARE": _float_fn(lambda x: x * x, "DTS_E_EXPREVALFUNCTIONOVERFLOW", lambda x: False),
    "CODEPOINT": _codepoint,
    "FINDSTRING": _findstring,
    "HEX": _hex,
    "LEFT": _left,
    "RIGHT": _right,
    "LEN": _len,
    "LOWER": _simple(str.lower),
    "UPPER": _simple(str.upper),
    "LTRIM": _trim("l"),
    "RTRIM": _trim("r"),
    "TRIM": _trim("b"),
    "REPLACE": _replace,
    "REPLICATE": _replicate,
    "REVERSE": _simple(lambda s: s[::-1]),
    "SUBSTRING": _substring,
    "TOKEN": _token,
    "TOKENCOUNT": _tokencount,
    "DATEADD": lambda args, _t, _s: _dateadd(args[0], args[1], args[2]),
    "DATEDIFF": lambda args, _t, _s: _datediff(args[0], args[1], args[2]),
    "DATEPART": lambda args, _t, _s: _datepart(args[0], args[1]),
    "DAY": lambda args, _t, _s: _datepart("day", args[0]),
    "MONTH": lambda args, _t, _s: _datepart("month", args[0]),
    "YEAR": lambda args, _t, _s: _datepart("year", args[0]),
    "GETDATE": lambda args, _t, _s: _now(False),
    "GETUTCDATE": lambda args, _t, _s: _now(True),
    "ISNULL": lambda args, _t, _s: args[0] is None,
    "REPLACENULL": lambda args, _t, _s: args[1] if args[0] is None else args[0],
}

#: functions that see NULL arguments (all others return NULL when any argument is NULL)
NULL_AWARE: Final = frozenset({"ISNULL", "REPLACENULL", "TOKENCOUNT"})


# --------------------------------------------------------------------------------------------
# the evaluator
# --------------------------------------------------------------------------------------------


class ScalarEvaluator:
    """Evaluates a typed tree for one row / one set of variable values."""

    def __init__(
        self, row: Mapping[str, Any] | None = None, variables: Mapping[str, Any] | None = None
    ):
        self.row = row or {}
        self.variables = variables or {}

    def eval(self, node: ast.Node) -> Any:
        try:
            return self._eval(node)
        except RowError as err:
            if err.node is None:
                err.node = node
            raise

    def _eval(self, node: ast.Node) -> Any:
        method: Callable[[Any], Any] = getattr(self, f"eval_{snake_name(type(node))}")
        try:
            return method(node)
        except RowError as err:
            if err.node is None:
                err.node = node
            raise

    def eval_literal(self, node: ast.Literal) -> Any:
        return node.value

    def eval_null_literal(self, node: ast.NullLiteral) -> Any:
        return None

    def eval_column_ref(self, node: ast.ColumnRef) -> Any:
        return self.row[node.name]

    def eval_variable_ref(self, node: ast.VariableRef) -> Any:
        return self.variables[node.resolved or node.name]

    def eval_unary(self, node: ast.Unary) -> Any:
        v = self._eval(node.operand)
        if v is None:
            return None
        spec = node.spec
        if node.op == "!":
            return not v
        if node.op == "~":
            if spec.name in UNSIGNED_INTS:
                return INT_RANGE[spec.name][1] ^ v
            return ~v
        if spec.name in INTS:
            return check_int(-v, spec.name, "DTS_E_EXPREVALUNARYOPOVERFLOW", "negation")
        return -v

    def eval_binary(self, node: ast.Binary) -> Any:
        op = node.op
        if op in ("&&", "||"):
            left = self._eval(node.left)
            if op == "&&" and left is False:
                return False
            if op == "||" and left is True:
                return True
            right = self._eval(node.right)
            if op == "&&":
                return (
                    False if right is False else (None if left is None or right is None else True)
                )
            return True if right is True else (None if left is None or right is None else False)
        a = self._eval(node.left)
        b = self._eval(node.right)
        if a is None or b is None:
            return None
        if op in ("+", "-", "*", "/", "%"):
            if op == "+" and node.spec.name in TEXTS:
                return a + b
            return arithmetic(op, a, b, node.spec)
        if op in ("&", "|", "^"):
            return bitwise(op, a, b, node.spec)
        return compare(op, a, b)

    def eval_conditional(self, node: ast.Conditional) -> Any:
        cond = self._eval(node.condition)
        if cond is None:
            return None
        return self._eval(node.then if cond else node.otherwise)

    def eval_cast(self, node: ast.Cast) -> Any:
        value = self._eval(node.operand)
        return cast_value(value, node.operand.spec, node.target, node.implicit)

    def eval_function(self, node: ast.Function) -> Any:
        from .functions import FUNCTIONS

        kinds = FUNCTIONS[node.name].args
        values: list[Any] = []
        for arg, k in zip(node.args, kinds, strict=True):
            values.append(datepart(arg) if k == "part" else self._eval(arg))
        if node.name not in NULL_AWARE and any(v is None for v in values):
            return None
        return SCALAR_FUNCTIONS[node.name](values, [a.spec for a in node.args], node.spec)

    def eval_assignment(self, node: ast.Assignment) -> Any:
        return self._eval(node.value)
