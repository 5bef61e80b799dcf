"""SSIS data types: the one table that maps every SSIS type to its codes, tokens and Arrow type.

Everything else (reader, writer, expressions, data-flow engine, DataReader, dtsclient) goes
through this module. Four code spaces appear in .dtsx files and must not be mixed up
(``reference/ssis/datatypes.md`` §2):

* pipeline column ``dataType="wstr"`` tokens  -> :data:`SSIS_TYPES` ``token``
* ``DTS:DataType="130"`` on flat-file / cache columns (DataType enum) -> ``code``
* ``DTS:VariableValue DTS:DataType="3"`` (VARIANT VARTYPE) -> :data:`VARIANT_TYPES`
* ``Project.params`` ``DataType`` (System.TypeCode) -> :data:`TYPECODES`

Decisions where ``datatypes.md`` leaves a choice open (made once, here):

* **Strings** (DT_STR, DT_WSTR, DT_TEXT, DT_NTEXT) are ``large_string`` (decoded to Unicode;
  polars' native string layout, so batches cross to polars without a copy). Length and code page
  travel in field metadata (``ssis.length``, ``ssis.codepage``).
* **Binary** (DT_BYTES, DT_IMAGE) is ``large_binary``.
* **DT_GUID** is a ``large_string`` in SSIS's canonical form ``{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}``
  (upper case, braces): polars-friendly, compares and joins as SSIS shows it.
* **Timestamps** (DT_DATE, DT_DBTIMESTAMP, DT_DBTIMESTAMP2, DT_FILETIME) are ``timestamp[us]``:
  nanoseconds would limit years to 1677-2262, and real packages use 9999-12-31 as an open end
  date. DT_DBTIMESTAMP2's seventh fractional digit (100 ns) is therefore not kept.
* **Times** (DT_DBTIME, DT_DBTIME2) are ``time64[ns]`` (polars' Time type, no conversion).
* **DT_DBTIMESTAMPOFFSET** is ``struct<utc: timestamp[us, tz=UTC], offset_min: int16>``: Arrow
  and polars have no per-value offset, and dropping the offset would lose data.
* **DT_DECIMAL** is ``decimal128(29, scale)``, **DT_NUMERIC** ``decimal128(precision, scale)``,
  **DT_CY** ``decimal128(19, 4)``.
* DT_EMPTY and DT_NULL are ``null``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa

from dataflow.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class SsisType:
    """One SSIS data type."""

    name: str  # DT_I4
    code: int  # DataType enum value (DTS:DataType on flat-file / cache columns)
    token: str | None  # pipeline XML token (dataType="i4")
    arrow: Callable[[TypeSpec], pa.DataType]
    params: tuple[str, ...] = ()  # which of length / precision / scale / codepage the type takes
    kind: str = "other"  # numeric | string | date | binary | bool | guid | other


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """An SSIS type with its arguments, e.g. ``DT_STR(50,1252)`` or ``DT_NUMERIC(10,2)``."""

    name: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    codepage: int = 0

    @property
    def type(self) -> SsisType:
        return SSIS_TYPES[self.name]

    def to_arrow(self) -> pa.DataType:
        return SSIS_TYPES[self.name].arrow(self)

    def __str__(self) -> str:
        args = [str(getattr(self, p)) for p in SSIS_TYPES[self.name].params]
        return f"{self.name}({','.join(args)})" if args else self.name


def _ts(_: TypeSpec) -> pa.DataType:
    return pa.timestamp("us")


def _str(_: TypeSpec) -> pa.DataType:
    return pa.large_string()


def _fixed(t: pa.DataType) -> Callable[[TypeSpec], pa.DataType]:
    return lambda _spec: t


_OFFSET = pa.struct([("utc", pa.timestamp("us", tz="UTC")), ("offset_min", pa.int16())])

_TYPES: Final[tuple[SsisType, ...]] = (
    SsisType("DT_EMPTY", 0, "empty", _fixed(pa.null())),
    SsisType("DT_NULL", 1, "null", _fixed(pa.null())),
    SsisType("DT_I2", 2, "i2", _fixed(pa.int16()), kind="numeric"),
    SsisType("DT_I4", 3, "i4", _fixed(pa.int32()), kind="numeric"),
    SsisType("DT_R4", 4, "r4", _fixed(pa.float32()), kind="numeric"),
    SsisType("DT_R8", 5, "r8", _fixed(pa.float64()), kind="numeric"),
    SsisType("DT_CY", 6, "cy", _fixed(pa.decimal128(19, 4)), kind="numeric"),
    SsisType("DT_DATE", 7, "date", _ts, kind="date"),
    SsisType("DT_BOOL", 11, "bool", _fixed(pa.bool_()), kind="bool"),
    SsisType(
        "DT_DECIMAL", 14, "decimal", lambda s: pa.decimal128(29, s.scale), ("scale",), "numeric"
    ),
    SsisType("DT_I1", 16, "i1", _fixed(pa.int8()), kind="numeric"),
    SsisType("DT_UI1", 17, "ui1", _fixed(pa.uint8()), kind="numeric"),
    SsisType("DT_UI2", 18, "ui2", _fixed(pa.uint16()), kind="numeric"),
    SsisType("DT_UI4", 19, "ui4", _fixed(pa.uint32()), kind="numeric"),
    SsisType("DT_I8", 20, "i8", _fixed(pa.int64()), kind="numeric"),
    SsisType("DT_UI8", 21, "ui8", _fixed(pa.uint64()), kind="numeric"),
    SsisType("DT_FILETIME", 64, "fileTime", _ts, kind="date"),
    SsisType("DT_GUID", 72, "guid", _str, kind="guid"),
    SsisType("DT_BYTES", 128, "bytes", _fixed(pa.large_binary()), ("length",), "binary"),
    SsisType("DT_STR", 129, "str", _str, ("length", "codepage"), "string"),
    SsisType("DT_WSTR", 130, "wstr", _str, ("length",), "string"),
    SsisType(
        "DT_NUMERIC",
        131,
        "numeric",
        lambda s: pa.decimal128(s.precision or 18, s.scale),
        ("precision", "scale"),
        "numeric",
    ),
    SsisType("DT_DBDATE", 133, "dbDate", _fixed(pa.date32()), kind="date"),
    SsisType("DT_DBTIME", 134, "dbTime", _fixed(pa.time64("ns")), kind="date"),
    SsisType("DT_DBTIMESTAMP", 135, "dbTimeStamp", _ts, kind="date"),
    SsisType("DT_DBTIME2", 145, "dbTime2", _fixed(pa.time64("ns")), ("scale",), "date"),
    SsisType("DT_DBTIMESTAMPOFFSET", 146, "dbTimeStampOffset", _fixed(_OFFSET), ("scale",), "date"),
    SsisType("DT_IMAGE", 301, "image", _fixed(pa.large_binary()), kind="binary"),
    SsisType("DT_TEXT", 302, "text", _str, ("codepage",), "string"),
    SsisType("DT_NTEXT", 303, "nText", _str, kind="string"),
    SsisType("DT_DBTIMESTAMP2", 304, "dbTimeStamp2", _ts, ("scale",), "date"),
)

SSIS_TYPES: Final[dict[str, SsisType]] = {t.name: t for t in _TYPES}
BY_CODE: Final[dict[int, SsisType]] = {t.code: t for t in _TYPES}
BY_TOKEN: Final[dict[str, SsisType]] = {t.token.lower(): t for t in _TYPES if t.token}

BYREF_FLAG: Final = 0x4000  # DataType enum BYREF variants are code | 0x4000


def ssis_type(key: str | int) -> SsisType:
    """Look a type up by name (``DT_I4``), XML token (``i4``) or DataType code (``3``)."""
    if isinstance(key, int) or (isinstance(key, str) and key.strip().lstrip("-").isdigit()):
        code = int(key) & ~BYREF_FLAG
        if code in BY_CODE:
            return BY_CODE[code]
    else:
        text = key.strip()
        if text.upper() in SSIS_TYPES:
            return SSIS_TYPES[text.upper()]
        if text.lower() in BY_TOKEN:
            return BY_TOKEN[text.lower()]
    raise ValidationError(
        "DTS_E_INVALIDATTRIBUTEVALUE",
        f"unknown SSIS data type {key!r}",
        hint="use a DT_* name, a pipeline token such as 'wstr', or a DataType code",
    )


_SPEC_RE = re.compile(r"^\s*([A-Za-z_0-9]+)\s*(?:\(\s*([^)]*)\))?\s*$")


def parse_type_spec(text: str) -> TypeSpec:
    """Parse ``"DT_STR(50,1252)"``, ``"DT_NUMERIC(10,2)"``, ``"DT_WSTR"``, ``"wstr"``..."""
    m = _SPEC_RE.match(text)
    if not m:
        raise ValidationError("DTS_E_INVALIDATTRIBUTEVALUE", f"malformed type {text!r}")
    t = ssis_type(m.group(1))
    args = [int(a) for a in m.group(2).split(",")] if m.group(2) and m.group(2).strip() else []
    if len(args) > len(t.params):
        raise ValidationError(
            "DTS_E_INVALIDATTRIBUTEVALUE",
            f"{t.name} takes {len(t.params)} argument(s), got {len(args)} in {text!r}",
        )
    values = dict(zip(t.params, args, strict=False))
    return make_spec(t.name, **values)


def make_spec(
    name: str, length: int = 0, precision: int = 0, scale: int = 0, codepage: int = 0
) -> TypeSpec:
    """A :class:`TypeSpec` with SSIS's defaults filled in for omitted arguments."""
    t = ssis_type(name)
    if t.name == "DT_STR" and not codepage:
        codepage = 1252
    if t.name == "DT_TEXT" and not codepage:
        codepage = 1252
    if t.name == "DT_NUMERIC" and not precision:
        precision = 18
    if t.name == "DT_CY":
        precision, scale = 19, 4
    if t.name == "DT_DECIMAL":
        precision = 29
    return TypeSpec(t.name, length, precision, scale, codepage)


def arrow_field(name: str, spec: TypeSpec, *, nullable: bool = True) -> pa.Field[Any]:
    """An Arrow field for a column of SSIS type ``spec``, with the SSIS type in its metadata."""
    meta = {b"ssis.type": spec.name.encode()}
    for p in SSIS_TYPES[spec.name].params:
        meta[f"ssis.{p}".encode()] = str(getattr(spec, p)).encode()
    return pa.field(name, spec.to_arrow(), nullable=nullable, metadata=meta)


def spec_from_field(field: pa.Field[Any]) -> TypeSpec:
    """The SSIS type of an Arrow field: from its metadata when present, else from its Arrow type."""
    meta = field.metadata or {}
    if b"ssis.type" in meta:
        name = meta[b"ssis.type"].decode()
        args = {
            p: int(meta[f"ssis.{p}".encode()])
            for p in SSIS_TYPES[name].params
            if f"ssis.{p}".encode() in meta
        }
        return make_spec(name, **args)
    return spec_from_arrow(field.type)


_FROM_ARROW: Final[dict[pa.DataType, str]] = {
    pa.null(): "DT_NULL",
    pa.bool_(): "DT_BOOL",
    pa.int8(): "DT_I1",
    pa.int16(): "DT_I2",
    pa.int32(): "DT_I4",
    pa.int64(): "DT_I8",
    pa.uint8(): "DT_UI1",
    pa.uint16(): "DT_UI2",
    pa.uint32(): "DT_UI4",
    pa.uint64(): "DT_UI8",
    pa.float16(): "DT_R4",
    pa.float32(): "DT_R4",
    pa.float64(): "DT_R8",
    pa.string(): "DT_WSTR",
    pa.large_string(): "DT_WSTR",
    pa.string_view(): "DT_WSTR",
    pa.binary(): "DT_BYTES",
    pa.large_binary(): "DT_BYTES",
    pa.binary_view(): "DT_BYTES",
    pa.date32(): "DT_DBDATE",
    pa.date64(): "DT_DBDATE",
}


def spec_from_arrow(t: pa.DataType) -> TypeSpec:
    """The SSIS type a value of Arrow type ``t`` has when it carries no SSIS metadata."""
    if t in _FROM_ARROW:
        name = _FROM_ARROW[t]
        return make_spec(name, length=4000 if name in ("DT_WSTR", "DT_BYTES") else 0)
    if pa.types.is_decimal(t):
        return make_spec("DT_NUMERIC", precision=min(t.precision, 38), scale=t.scale)
    if pa.types.is_timestamp(t):
        return (
            make_spec("DT_DBTIMESTAMPOFFSET", scale=7)
            if t.tz
            else make_spec("DT_DBTIMESTAMP2", scale=7)
        )
    if pa.types.is_time(t):
        return make_spec("DT_DBTIME2", scale=7)
    if pa.types.is_struct(t) and t == _OFFSET:
        return make_spec("DT_DBTIMESTAMPOFFSET", scale=7)
    if pa.types.is_dictionary(t):
        return spec_from_arrow(t.value_type)
    raise ValidationError(
        "DTS_E_INVALIDATTRIBUTEVALUE",
        f"Arrow type {t} has no SSIS data type",
        hint="cast the column to a supported type first",
    )


# --------------------------------------------------------------------------------------------
# Variables and parameters: VARIANT VARTYPE codes (DTS:VariableValue DTS:DataType).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantType:
    """A variable / parameter value type."""

    code: int  # VT_* code as written in .dtsx
    vt: str  # VT_I4
    name: str  # SSIS variable type name shown in the designer (Int32)
    dt: str  # equivalent DT_* type for expressions
    typecode: int  # System.TypeCode (Project.params DataType)


_VARIANTS: Final[tuple[VariantType, ...]] = (
    VariantType(0, "VT_EMPTY", "Empty", "DT_EMPTY", 0),
    VariantType(1, "VT_NULL", "DBNull", "DT_NULL", 2),
    VariantType(2, "VT_I2", "Int16", "DT_I2", 7),
    VariantType(3, "VT_I4", "Int32", "DT_I4", 9),
    VariantType(4, "VT_R4", "Single", "DT_R4", 13),
    VariantType(5, "VT_R8", "Double", "DT_R8", 14),
    VariantType(6, "VT_CY", "Currency", "DT_CY", 15),
    VariantType(7, "VT_DATE", "DateTime", "DT_DATE", 16),
    VariantType(8, "VT_BSTR", "String", "DT_WSTR", 18),
    VariantType(11, "VT_BOOL", "Boolean", "DT_BOOL", 3),
    VariantType(13, "VT_UNKNOWN", "Object", "DT_EMPTY", 1),
    VariantType(14, "VT_DECIMAL", "Decimal", "DT_DECIMAL", 15),
    VariantType(16, "VT_I1", "SByte", "DT_I1", 5),
    VariantType(17, "VT_UI1", "Byte", "DT_UI1", 6),
    VariantType(18, "VT_UI2", "Char", "DT_UI2", 4),
    VariantType(19, "VT_UI4", "UInt32", "DT_UI4", 10),
    VariantType(20, "VT_I8", "Int64", "DT_I8", 11),
    VariantType(21, "VT_UI8", "UInt64", "DT_UI8", 12),
)

VARIANT_TYPES: Final[dict[int, VariantType]] = {v.code: v for v in _VARIANTS}
VARIANT_BY_NAME: Final[dict[str, VariantType]] = {v.name.lower(): v for v in _VARIANTS}

# System.TypeCode -> VARIANT code (Project.params DataType is a TypeCode, not a VT code).
TYPECODES: Final[dict[int, int]] = {
    1: 13,  # Object
    2: 1,  # DBNull
    3: 11,  # Boolean
    4: 18,  # Char
    5: 16,  # SByte
    6: 17,  # Byte
    7: 2,  # Int16
    8: 18,  # UInt16
    9: 3,  # Int32
    10: 19,  # UInt32
    11: 20,  # Int64
    12: 21,  # UInt64
    13: 4,  # Single
    14: 5,  # Double
    15: 14,  # Decimal
    16: 7,  # DateTime
    18: 8,  # String
}


def variant_type(key: int | str) -> VariantType:
    """A variable type by VT code (``3``) or name (``"Int32"``, ``"String"``)."""
    if isinstance(key, int) or key.strip().isdigit():
        code = int(key)
        if code in VARIANT_TYPES:
            return VARIANT_TYPES[code]
    elif key.strip().lower() in VARIANT_BY_NAME:
        return VARIANT_BY_NAME[key.strip().lower()]
    raise ValidationError("DTS_E_INVALIDATTRIBUTEVALUE", f"unknown variable data type {key!r}")


def variant_from_typecode(typecode: int) -> VariantType:
    """The variable type of a ``Project.params`` DataType (a System.TypeCode)."""
    if typecode not in TYPECODES:
        raise ValidationError("DTS_E_INVALIDATTRIBUTEVALUE", f"unknown System.TypeCode {typecode}")
    return VARIANT_TYPES[TYPECODES[typecode]]


# --------------------------------------------------------------------------------------------
# Data-flow error and truncation dispositions (datatypes.md §4).
# --------------------------------------------------------------------------------------------

DISPOSITIONS: Final[dict[str, int]] = {
    "NotUsed": 0,
    "IgnoreFailure": 1,
    "RedirectRow": 2,
    "FailComponent": 3,
}
