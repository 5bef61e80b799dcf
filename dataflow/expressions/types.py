"""Type tables of the expression language: categories, implicit conversions, legal casts.

Everything here is data transcribed from ``reference/ssis/expressions.md`` §2-§4 (the numeric
result-type matrix, the date/time comparison order, the legal-cast diagram), plus the few
helpers the type checker and both back ends share. Types are :class:`TypeSpec` values from
:mod:`dataflow.core.datatypes`.
"""

from __future__ import annotations

from typing import Final

from dataflow.core.datatypes import SSIS_TYPES, TypeSpec, make_spec

# --------------------------------------------------------------------------------------------
# Categories
# --------------------------------------------------------------------------------------------

SIGNED_INTS: Final = frozenset({"DT_I1", "DT_I2", "DT_I4", "DT_I8"})
UNSIGNED_INTS: Final = frozenset({"DT_UI1", "DT_UI2", "DT_UI4", "DT_UI8"})
INTS: Final = SIGNED_INTS | UNSIGNED_INTS
FLOATS: Final = frozenset({"DT_R4", "DT_R8"})
DECIMALS: Final = frozenset({"DT_CY", "DT_DECIMAL", "DT_NUMERIC"})
NUMERICS: Final = INTS | FLOATS | DECIMALS
STRINGS: Final = frozenset({"DT_STR", "DT_WSTR"})
BLOB_STRINGS: Final = frozenset({"DT_TEXT", "DT_NTEXT"})
TEXTS: Final = STRINGS | BLOB_STRINGS
BINARIES: Final = frozenset({"DT_BYTES", "DT_IMAGE"})
DATES_ONLY: Final = frozenset({"DT_DBDATE"})
TIMES: Final = frozenset({"DT_DBTIME", "DT_DBTIME2"})
TIMESTAMPS: Final = frozenset({"DT_DATE", "DT_DBTIMESTAMP", "DT_DBTIMESTAMP2", "DT_FILETIME"})
DATETIMES: Final = DATES_ONLY | TIMES | TIMESTAMPS | frozenset({"DT_DBTIMESTAMPOFFSET"})

#: integer ranges (inclusive)
INT_RANGE: Final[dict[str, tuple[int, int]]] = {
    "DT_I1": (-(2**7), 2**7 - 1),
    "DT_I2": (-(2**15), 2**15 - 1),
    "DT_I4": (-(2**31), 2**31 - 1),
    "DT_I8": (-(2**63), 2**63 - 1),
    "DT_UI1": (0, 2**8 - 1),
    "DT_UI2": (0, 2**16 - 1),
    "DT_UI4": (0, 2**32 - 1),
    "DT_UI8": (0, 2**64 - 1),
}
INT_BYTES: Final[dict[str, int]] = {
    "DT_I1": 1, "DT_I2": 2, "DT_I4": 4, "DT_I8": 8,
    "DT_UI1": 1, "DT_UI2": 2, "DT_UI4": 4, "DT_UI8": 8,
}  # fmt: skip
#: decimal digits an integer type needs when it becomes a DT_NUMERIC
INT_DIGITS: Final[dict[str, int]] = {
    "DT_I1": 3, "DT_I2": 5, "DT_I4": 10, "DT_I8": 19,
    "DT_UI1": 3, "DT_UI2": 5, "DT_UI4": 10, "DT_UI8": 20,
}  # fmt: skip
#: longest text of an integer type converted to a string
INT_TEXT_WIDTH: Final[dict[str, int]] = {
    "DT_I1": 4, "DT_I2": 6, "DT_I4": 11, "DT_I8": 20,
    "DT_UI1": 3, "DT_UI2": 5, "DT_UI4": 10, "DT_UI8": 20,
}  # fmt: skip

MAX_PRECISION: Final = 38
DEFAULT_WSTR_LENGTH: Final = 4000

BOOL: Final = make_spec("DT_BOOL")
I4: Final = make_spec("DT_I4")
UI2: Final = make_spec("DT_UI2")
R8: Final = make_spec("DT_R8")
DBTIMESTAMP: Final = make_spec("DT_DBTIMESTAMP")


def wstr(length: int = DEFAULT_WSTR_LENGTH) -> TypeSpec:
    return make_spec("DT_WSTR", length=length)


def kind(spec: TypeSpec) -> str:
    """numeric | string | date | binary | bool | guid | other"""
    return SSIS_TYPES[spec.name].kind


def is_int(spec: TypeSpec) -> bool:
    return spec.name in INTS


def is_numeric(spec: TypeSpec) -> bool:
    return spec.name in NUMERICS


def is_string(spec: TypeSpec) -> bool:
    return spec.name in TEXTS


def is_date(spec: TypeSpec) -> bool:
    return spec.name in DATETIMES


def decimal_ps(spec: TypeSpec) -> tuple[int, int]:
    """(precision, scale) of a CY/DECIMAL/NUMERIC or of an integer seen as a NUMERIC."""
    if spec.name == "DT_CY":
        return 19, 4
    if spec.name == "DT_DECIMAL":
        return 29, spec.scale
    if spec.name == "DT_NUMERIC":
        return spec.precision or 18, spec.scale
    if spec.name in INT_DIGITS:
        return INT_DIGITS[spec.name], 0
    raise ValueError(spec.name)


def numeric(precision: int, scale: int) -> TypeSpec:
    precision = max(1, min(precision, MAX_PRECISION))
    return make_spec("DT_NUMERIC", precision=precision, scale=min(scale, precision))


def working_type(spec: TypeSpec) -> TypeSpec:
    """DT_STR is never a working type inside an expression: it becomes DT_WSTR (§3)."""
    if spec.name == "DT_STR":
        return wstr(spec.length or DEFAULT_WSTR_LENGTH)
    return spec


# --------------------------------------------------------------------------------------------
# §3 result type of binary numeric operations (symmetric matrix; None = no implicit conversion)
# --------------------------------------------------------------------------------------------

_ORDER: Final = (
    "I1",
    "I2",
    "I4",
    "I8",
    "UI1",
    "UI2",
    "UI4",
    "UI8",
    "R4",
    "R8",
    "CY",
    "DECIMAL",
    "NUMERIC",
)
_MATRIX_ROWS: Final = """
I1      I1   I2   I4   I8   I2   I4   I8   -    R4 R8 NUM NUM NUM
I2      I2   I2   I4   I8   I2   I4   I8   -    R4 R8 NUM NUM NUM
I4      I4   I4   I4   I8   I4   I4   I8   -    R4 R8 NUM NUM NUM
I8      I8   I8   I8   I8   I8   I8   I8   -    R4 R8 NUM NUM NUM
UI1     I2   I2   I4   I8   UI1  UI2  UI4  UI8  R4 R8 NUM NUM NUM
UI2     I4   I4   I4   I8   UI2  UI2  UI4  UI8  R4 R8 NUM NUM NUM
UI4     I8   I8   I8   I8   UI4  UI4  UI4  UI8  R4 R8 NUM NUM NUM
UI8     -    -    -    -    UI8  UI8  UI8  UI8  R4 R8 NUM NUM NUM
R4      R4   R4   R4   R4   R4   R4   R4   R4   R4 R8 R4  R4  R4
R8      R8   R8   R8   R8   R8   R8   R8   R8   R8 R8 R8  R8  R8
CY      NUM  NUM  NUM  NUM  NUM  NUM  NUM  NUM  R4 R8 CY  NUM NUM
DECIMAL NUM  NUM  NUM  NUM  NUM  NUM  NUM  NUM  R4 R8 NUM NUM NUM
NUMERIC NUM  NUM  NUM  NUM  NUM  NUM  NUM  NUM  R4 R8 NUM NUM NUM
"""


def _matrix() -> dict[tuple[str, str], str | None]:
    table: dict[tuple[str, str], str | None] = {}
    for line in _MATRIX_ROWS.strip().splitlines():
        left, *cells = line.split()
        for right, cell in zip(_ORDER, cells, strict=True):
            table["DT_" + left, "DT_" + right] = (
                None if cell == "-" else "DT_" + cell.replace("NUM", "NUMERIC")
            )
    return table


NUMERIC_RESULT: Final[dict[tuple[str, str], str | None]] = _matrix()


def common_numeric(left: TypeSpec, right: TypeSpec, op: str = "+") -> TypeSpec | None:
    """The type both operands of a numeric operator are converted to, or None (no implicit conversion).

    DT_NUMERIC precision/scale are undocumented; see ``choices.NUMERIC_RESULT_PRECISION``.
    """
    name = NUMERIC_RESULT.get((left.name, right.name))
    if name is None:
        return None
    if name != "DT_NUMERIC":
        return make_spec(name)
    p1, s1 = decimal_ps(left)
    p2, s2 = decimal_ps(right)
    if op in ("*",):
        return numeric(p1 + p2 + 1, s1 + s2)
    if op in ("/",):
        scale = max(6, s1 + p2 + 1)
        return numeric(p1 - s1 + s2 + scale, scale)
    scale = max(s1, s2)
    return numeric(max(p1 - s1, p2 - s2) + scale + 1, scale)


# --------------------------------------------------------------------------------------------
# §2.2 date/time comparison (and ?: with date branches): the common type
# --------------------------------------------------------------------------------------------


def common_date(left: TypeSpec, right: TypeSpec) -> TypeSpec | None:
    if left == right:
        return left
    names = {left.name, right.name}
    has_time = bool(names & TIMES)
    if has_time and names - TIMES:
        return None  # time types cannot be compared with date or datetime types
    scale = max(left.scale, right.scale)
    if "DT_DBTIMESTAMPOFFSET" in names:
        return make_spec("DT_DBTIMESTAMPOFFSET", scale=scale)
    if "DT_DBTIMESTAMP2" in names:
        return make_spec("DT_DBTIMESTAMP2", scale=scale)
    if "DT_DBTIME2" in names or has_time:
        return make_spec("DT_DBTIME2", scale=scale)
    return DBTIMESTAMP


# --------------------------------------------------------------------------------------------
# §4.1 legal explicit casts (transcribed from the diagram)
# --------------------------------------------------------------------------------------------

ALL_TYPES: Final = frozenset(n for n in SSIS_TYPES if n not in ("DT_EMPTY", "DT_NULL"))
_DB_DATES: Final = frozenset(
    {
        "DT_DBDATE",
        "DT_DBTIME",
        "DT_DBTIME2",
        "DT_DBTIMESTAMP",
        "DT_DBTIMESTAMP2",
        "DT_DBTIMESTAMPOFFSET",
    }
)
_SMALL_EXCLUDED: Final = frozenset(
    {"DT_GUID", "DT_BYTES", "DT_DBTIME2", "DT_DBTIMESTAMP2", "DT_DBTIMESTAMPOFFSET", "DT_FILETIME",
     "DT_IMAGE", "DT_TEXT", "DT_NTEXT"}
)  # fmt: skip

LEGAL_CASTS: Final[dict[str, frozenset[str]]] = {
    **{n: ALL_TYPES - _SMALL_EXCLUDED for n in ("DT_I1", "DT_I2", "DT_R4", "DT_R8", "DT_UI1", "DT_UI2")},
    **{n: (ALL_TYPES - _SMALL_EXCLUDED) | {"DT_BYTES"} for n in ("DT_I4", "DT_UI4")},
    **{
        n: ALL_TYPES
        - {"DT_DATE", "DT_GUID", "DT_IMAGE", "DT_TEXT", "DT_NTEXT"}
        - _DB_DATES
        for n in ("DT_I8", "DT_UI8")
    },
    "DT_CY": ALL_TYPES
    - {"DT_DATE", "DT_GUID", "DT_BYTES", "DT_FILETIME", "DT_IMAGE", "DT_TEXT", "DT_NTEXT"}
    - _DB_DATES,
    "DT_DECIMAL": ALL_TYPES
    - {"DT_DATE", "DT_GUID", "DT_BYTES", "DT_DBTIME2", "DT_DBTIMESTAMP2", "DT_DBTIMESTAMPOFFSET",
       "DT_FILETIME", "DT_IMAGE", "DT_TEXT", "DT_NTEXT"},
    **{
        n: ALL_TYPES
        - {"DT_GUID", "DT_BYTES", "DT_FILETIME", "DT_IMAGE", "DT_TEXT", "DT_NTEXT"}
        - _DB_DATES
        for n in ("DT_NUMERIC", "DT_BOOL")
    },
    "DT_DATE": ALL_TYPES
    - {"DT_CY", "DT_DECIMAL", "DT_GUID", "DT_BYTES", "DT_FILETIME", "DT_IMAGE", "DT_TEXT", "DT_NTEXT"},
    "DT_GUID": frozenset({"DT_BYTES", "DT_STR", "DT_WSTR"}),
    "DT_BYTES": frozenset(
        {"DT_R4", "DT_UI4", "DT_I8", "DT_UI8", "DT_GUID", "DT_STR", "DT_WSTR", "DT_IMAGE", "DT_TEXT",
         "DT_NTEXT"}
    ),
    "DT_STR": ALL_TYPES,
    "DT_WSTR": ALL_TYPES,
    **{n: _DB_DATES | {"DT_DATE", "DT_STR", "DT_WSTR", "DT_FILETIME"} for n in _DB_DATES},
    "DT_FILETIME": _DB_DATES | {"DT_DATE", "DT_I8", "DT_UI8", "DT_STR", "DT_WSTR"},
    "DT_IMAGE": frozenset({"DT_BYTES", "DT_TEXT", "DT_NTEXT"}),
    "DT_TEXT": frozenset({"DT_STR", "DT_IMAGE", "DT_NTEXT"}),
    "DT_NTEXT": frozenset({"DT_WSTR", "DT_IMAGE", "DT_TEXT"}),
}  # fmt: skip


def cast_is_legal(source: TypeSpec, target: TypeSpec) -> bool:
    return source.name == target.name or target.name in LEGAL_CASTS.get(source.name, frozenset())


#: type names accepted in casts and NULL(...), with the parameters they take in order
CAST_PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "DT_STR": ("length", "codepage"),
    "DT_WSTR": ("length",),
    "DT_BYTES": ("length",),
    "DT_DECIMAL": ("scale",),
    "DT_NUMERIC": ("precision", "scale"),
    "DT_TEXT": ("codepage",),
    "DT_DBTIME2": ("scale",),
    "DT_DBTIMESTAMP2": ("scale",),
    "DT_DBTIMESTAMPOFFSET": ("scale",),
    **{
        n: ()
        for n in (
            "DT_I1", "DT_I2", "DT_I4", "DT_I8", "DT_UI1", "DT_UI2", "DT_UI4", "DT_UI8", "DT_R4",
            "DT_R8", "DT_CY", "DT_BOOL", "DT_DATE", "DT_DBDATE", "DT_DBTIME", "DT_DBTIMESTAMP",
            "DT_FILETIME", "DT_GUID", "DT_NTEXT", "DT_IMAGE",
        )
    },
}  # fmt: skip
