"""The one table of SSIS functions: name -> argument kinds and result-type rule (expressions.md §6-§7).

The type checker reads :data:`FUNCTIONS` to check calls and insert implicit conversions; the
scalar and polars back ends each hold one implementation table keyed by the same names (a test
checks the three key sets are equal). Date parts are data too (:data:`DATEPARTS`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from dataflow.core.datatypes import TypeSpec, make_spec

from . import ast
from .types import BOOL, DBTIMESTAMP, DEFAULT_WSTR_LENGTH, I4, INT_BYTES, R8, UI2, wstr

#: argument kinds
#:  num   any numeric type, kept          snum  signed numeric (or float/decimal), kept
#:  r8    numeric, converted to DT_R8     int   any integer type, kept
#:  str   DT_WSTR (DT_STR/TEXT/NTEXT promoted)   len  string or BLOB (LEN)
#:  date  any date/time type (a string is cast to DT_DBTIMESTAMP)
#:  part  a datepart: a double-quoted string literal       any  anything (NULL functions)
ResultRule = Callable[[Sequence[TypeSpec], Sequence[ast.Node]], TypeSpec]


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    args: tuple[str, ...]
    result: ResultRule
    description: str = ""


def _fixed(spec: TypeSpec) -> ResultRule:
    return lambda _types, _args: spec


def _same(_types: Sequence[TypeSpec], _args: Sequence[ast.Node]) -> TypeSpec:
    return _types[0]


def _len_of(types: Sequence[TypeSpec], i: int = 0) -> int:
    return types[i].length or DEFAULT_WSTR_LENGTH


def _literal_int(node: ast.Node) -> int | None:
    while isinstance(node, ast.Cast) and node.implicit:
        node = node.operand
    if (
        isinstance(node, ast.Literal)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    ):
        return node.value
    return None


def _wstr_same_length(types: Sequence[TypeSpec], _args: Sequence[ast.Node]) -> TypeSpec:
    return wstr(_len_of(types))


def _wstr_at_most_arg(i: int) -> ResultRule:
    def rule(types: Sequence[TypeSpec], args: Sequence[ast.Node]) -> TypeSpec:
        n = _literal_int(args[i])
        length = _len_of(types)
        return wstr(max(1, min(length, n)) if n is not None and n >= 0 else length)

    return rule


def _hex(types: Sequence[TypeSpec], _args: Sequence[ast.Node]) -> TypeSpec:
    return wstr(2 * INT_BYTES[types[0].name])


def _replicate(types: Sequence[TypeSpec], args: Sequence[ast.Node]) -> TypeSpec:
    n = _literal_int(args[1])
    if n is not None and n >= 0:
        return wstr(max(1, _len_of(types) * n))
    return wstr(DEFAULT_WSTR_LENGTH)


FUNCTIONS: Final[dict[str, FunctionDef]] = {
    f.name: f
    for f in (
        # -- math ---------------------------------------------------------------------------------
        FunctionDef("ABS", ("num",), _same),
        FunctionDef("CEILING", ("num",), _same),
        FunctionDef("FLOOR", ("num",), _same),
        FunctionDef("EXP", ("r8",), _fixed(R8)),
        FunctionDef("LN", ("r8",), _fixed(R8)),
        FunctionDef("LOG", ("r8",), _fixed(R8)),
        FunctionDef("POWER", ("r8", "r8"), _fixed(R8)),
        FunctionDef("ROUND", ("num", "int"), _same),
        FunctionDef("SIGN", ("snum",), _fixed(I4)),
        FunctionDef("SQRT", ("r8",), _fixed(R8)),
        FunctionDef("SQUARE", ("r8",), _fixed(R8)),
        # -- string -------------------------------------------------------------------------------
        FunctionDef("CODEPOINT", ("str",), _fixed(UI2)),
        FunctionDef("FINDSTRING", ("str", "str", "int"), _fixed(I4)),
        FunctionDef("HEX", ("int",), _hex),
        FunctionDef("LEFT", ("str", "int"), _wstr_at_most_arg(1)),
        FunctionDef("RIGHT", ("str", "int"), _wstr_at_most_arg(1)),
        FunctionDef("LEN", ("len",), _fixed(I4)),
        FunctionDef("LOWER", ("str",), _wstr_same_length),
        FunctionDef("UPPER", ("str",), _wstr_same_length),
        FunctionDef("LTRIM", ("str",), _wstr_same_length),
        FunctionDef("RTRIM", ("str",), _wstr_same_length),
        FunctionDef("TRIM", ("str",), _wstr_same_length),
        FunctionDef("REPLACE", ("str", "str", "str"), _fixed(wstr(DEFAULT_WSTR_LENGTH))),
        FunctionDef("REPLICATE", ("str", "int"), _replicate),
        FunctionDef("REVERSE", ("str",), _wstr_same_length),
        FunctionDef("SUBSTRING", ("str", "int", "int"), _wstr_at_most_arg(2)),
        FunctionDef("TOKEN", ("str", "str", "int"), _wstr_same_length),
        FunctionDef("TOKENCOUNT", ("str", "str"), _fixed(I4)),
        # -- date/time ----------------------------------------------------------------------------
        FunctionDef("DATEADD", ("part", "int", "date"), _fixed(DBTIMESTAMP)),
        FunctionDef("DATEDIFF", ("part", "date", "date"), _fixed(I4)),
        FunctionDef("DATEPART", ("part", "date"), _fixed(I4)),
        FunctionDef("DAY", ("date",), _fixed(I4)),
        FunctionDef("MONTH", ("date",), _fixed(I4)),
        FunctionDef("YEAR", ("date",), _fixed(I4)),
        FunctionDef("GETDATE", (), _fixed(DBTIMESTAMP)),
        FunctionDef("GETUTCDATE", (), _fixed(DBTIMESTAMP)),
        # -- NULL ---------------------------------------------------------------------------------
        FunctionDef("ISNULL", ("any",), _fixed(BOOL)),
        FunctionDef("REPLACENULL", ("any", "any"), _same),
    )
}

#: datepart names and abbreviations (case-insensitive) -> canonical part
DATEPARTS: Final[dict[str, str]] = {
    "year": "year", "yy": "year", "yyyy": "year",
    "quarter": "quarter", "qq": "quarter", "q": "quarter",
    "month": "month", "mm": "month", "m": "month",
    "dayofyear": "dayofyear", "dy": "dayofyear", "y": "dayofyear",
    "day": "day", "dd": "day", "d": "day",
    "week": "week", "wk": "week", "ww": "week",
    "weekday": "weekday", "dw": "weekday", "w": "weekday",
    "hour": "hour", "hh": "hour",
    "minute": "minute", "mi": "minute", "n": "minute",
    "second": "second", "ss": "second", "s": "second",
    "millisecond": "millisecond", "ms": "millisecond",
}  # fmt: skip
#: abbreviations only some functions accept (DATEPART lists only "dw" for weekday)
DATEPART_ONLY_IN: Final[dict[str, frozenset[str]]] = {"w": frozenset({"DATEADD", "DATEDIFF"})}


def datepart(node: ast.Node) -> str:
    """The canonical datepart of a checked datepart argument."""
    assert isinstance(node, ast.Literal) and isinstance(node.value, str)
    return DATEPARTS[node.value.strip().lower()]


__all__ = ["DATEPARTS", "FUNCTIONS", "FunctionDef", "datepart", "make_spec"]
