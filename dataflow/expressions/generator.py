"""Stage 5: the generator. Tree -> SSIS expression text (identity round trips, messages).

Parentheses are emitted only where precedence or associativity requires them; implicit
conversions inserted by the type checker are not printed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from dataflow.core.datatypes import TypeSpec

from . import ast
from .types import CAST_PARAMS

#: binding strength of each binary operator (higher binds tighter); ? : is 0
BINARY_PRECEDENCE: Final[dict[str, int]] = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "+": 8, "-": 8, "*": 9, "/": 9, "%": 9,
}  # fmt: skip
PREFIX: Final = 10
PRIMARY: Final = 11

_ESCAPES: Final[dict[str, str]] = {
    "\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r",
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v",
}  # fmt: skip


def type_text(spec: TypeSpec) -> str:
    """``DT_STR,30,1252`` -- a type as written inside a cast or NULL()."""
    params = CAST_PARAMS.get(spec.name, ())
    return ",".join([spec.name, *(str(getattr(spec, p)) for p in params)])


def string_literal(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\x{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _literal(node: ast.Literal) -> str:
    if node.text:
        return node.text
    v = node.value
    name = node.literal_type.name
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return string_literal(v)
    if isinstance(v, int):
        return str(v) + {"DT_UI4": "U", "DT_I8": "L", "DT_UI8": "UL"}.get(name, "")
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, float):
        text = repr(v)
        if "e" not in text and "." not in text:
            text += ".0"
        return text + ("F" if name == "DT_R4" else "L")
    return str(v)


def _precedence(node: ast.Node) -> int:
    while isinstance(node, ast.Cast) and node.implicit:
        node = node.operand
    if isinstance(node, ast.Conditional | ast.Assignment):
        return 0
    if isinstance(node, ast.Binary):
        return BINARY_PRECEDENCE[node.op]
    if isinstance(node, ast.Unary | ast.Cast):
        return PREFIX
    if (
        isinstance(node, ast.Literal)
        and isinstance(node.value, int | float | Decimal)
        and not isinstance(node.value, bool)
        and (node.value < 0 or _literal(node).startswith("-"))
    ):
        return PREFIX
    return PRIMARY


def _wrap(node: ast.Node, minimum: int) -> str:
    text = generate(node)
    return f"({text})" if _precedence(node) < minimum else text


def _name(name: str, bracketed: bool) -> str:
    plain = name[:1].isalpha() or name[:1] == "_"
    plain = plain and all(c.isalnum() or c in "_@$#" for c in name)
    if not plain or bracketed or name.upper() in ("TRUE", "FALSE", "NULL"):
        return f"[{name}]"
    return name


def generate(node: ast.Node) -> str:
    """SSIS expression text for ``node``."""
    if isinstance(node, ast.Literal):
        return _literal(node)
    if isinstance(node, ast.NullLiteral):
        return f"NULL({type_text(node.target)})"
    if isinstance(node, ast.ColumnRef):
        col = _name(node.name, node.bracketed)
        return f"{_name(node.qualifier, node.qualifier_bracketed)}.{col}" if node.qualifier else col
    if isinstance(node, ast.LineageRef):
        return f"#{node.ref}" if node.ref.isdigit() else f"#{{{node.ref}}}"
    if isinstance(node, ast.VariableRef):
        plain = node.name.replace("_", "a").isalnum() and node.name[:1].isalpha()
        return f"@{node.name}" if plain and not node.bracketed else f"@[{node.name}]"
    if isinstance(node, ast.Unary):
        operand = _wrap(node.operand, PREFIX)
        if node.op == "-" and (
            operand.startswith("-") or operand[:1].isdigit() or operand[:1] == "."
        ):
            return f"- {operand}"
        return f"{node.op}{operand}"
    if isinstance(node, ast.Cast):
        if node.implicit:
            return generate(node.operand)
        return f"({type_text(node.target)}){_wrap(node.operand, PREFIX)}"
    if isinstance(node, ast.Binary):
        prec = BINARY_PRECEDENCE[node.op]
        return f"{_wrap(node.left, prec)} {node.op} {_wrap(node.right, prec + 1)}"
    if isinstance(node, ast.Conditional):
        return f"{_wrap(node.condition, 1)} ? {_wrap(node.then, 0)} : {_wrap(node.otherwise, 0)}"
    if isinstance(node, ast.Function):
        name = f"[{node.name}]" if node.bracketed else node.name
        return f"{name}({', '.join(generate(a) for a in node.args)})"
    if isinstance(node, ast.Assignment):
        return f"{generate(node.target)} = {generate(node.value)}"
    raise TypeError(f"cannot generate {type(node).__name__}")
