"""Parser: identity round trips, the tree's shape (precedence, associativity), error positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflow.expressions import ExpressionError, ast, parse
from dataflow.expressions.codes import code as ssis_code

IDENTITY = [
    line
    for line in (Path(__file__).parent / "golden" / "identity.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize("text", IDENTITY)
def test_identity(text: str) -> None:
    expr = parse(text)
    assert expr.sql() == text
    assert parse(expr.sql()).tree == expr.tree


def test_golden_expressions_round_trip() -> None:
    """Every golden expression that parses re-parses to the same tree from generated text."""
    from expr_golden_cases import load_cases

    count = 0
    for case in load_cases():
        try:
            tree = parse(case.expression).tree
        except ExpressionError:
            continue
        again = parse(parse(case.expression).sql()).tree
        assert again == tree, case.id
        count += 1
    assert count > 300


def _shape(text: str) -> str:
    def walk(node: ast.Node) -> str:
        if isinstance(node, ast.Binary):
            return f"({walk(node.left)} {node.op} {walk(node.right)})"
        if isinstance(node, ast.Unary):
            return f"({node.op}{walk(node.operand)})"
        if isinstance(node, ast.Conditional):
            return f"({walk(node.condition)} ? {walk(node.then)} : {walk(node.otherwise)})"
        if isinstance(node, ast.Cast):
            return f"(cast {walk(node.operand)})"
        if isinstance(node, ast.ColumnRef):
            return node.name
        if isinstance(node, ast.Literal):
            return str(node.value)
        return type(node).__name__

    return walk(parse(text).tree)


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("a + b * c", "(a + (b * c))"),
        ("a - b - c", "((a - b) - c)"),
        ("a * b / c % d", "(((a * b) / c) % d)"),
        ("a < b == c", "((a < b) == c)"),
        ("a & b ^ c | d", "(((a & b) ^ c) | d)"),
        ("a | b && c | d", "((a | b) && (c | d))"),
        ("a && b || c && d", "((a && b) || (c && d))"),
        ("a || b ? c : d", "((a || b) ? c : d)"),
        ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
        ("-a * b", "((-a) * b)"),
        ("!a && b", "((!a) && b)"),
        ("~a & b", "((~a) & b)"),
        ("(DT_I4)a + b", "((cast a) + b)"),
        ("(DT_I4)-a", "(cast (-a))"),
        ("-(DT_I4)a", "(-(cast a))"),
        ("a - -1", "(a - -1)"),
        ("a-1", "(a - 1)"),
    ],
)
def test_precedence(text: str, shape: str) -> None:
    assert _shape(text) == shape


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ("1 +", "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION", 1, 4),
        ("a +\n  * b", "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION", 2, 3),
        ('"abc', "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION", 1, 1),
        ('x + "a\\qb"', "DTS_E_EXPREVALILLEGALESCAPEINSTRINGLITERAL", 1, 7),
        ("a $ b", "DTS_E_EXPREVALINVALIDTOKEN", 1, 3),
        ("(DT_WSTR)a", "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION", 1, 2),
        ("(DT_WSTR,0)a", "DTS_E_EXPREVALINVALIDCASTLENGTH", 1, 2),
        ("a = 1", "DTS_E_EXPREVALINVALIDTOKENSINGLEEQUAL", 1, 3),
        ("2147483648", "DTS_E_EXPREVALLITERALOVERFLOW", 1, 1),
        ("", "DTS_E_EXPREVALEXPRESSIONEMPTY", 1, 1),
        ("@", "DTS_E_EXPREVALINVALIDTOKEN", 1, 2),
        ("SUBSTRING(a, 1", "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION", 1, 15),
    ],
)
def test_syntax_errors(text: str, code: str, line: int, column: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert info.value.code == ssis_code(code)
    assert (info.value.line, info.value.column) == (line, column)
    assert info.value.expression == text


def test_newlines_and_references() -> None:
    text = "@[User::A] +\n  [Qty] * #17 + LEN(#{Pkg\\DFT\\Src.Outputs[Out].Columns[Name]})\n + @B"
    expr = parse(text)
    assert expr.variables == ("User::A", "B")
    assert expr.columns == ("Qty",)
    assert expr.lineage == ("17", "Pkg\\DFT\\Src.Outputs[Out].Columns[Name]")
    assert not expr.is_assignment


def test_assignment() -> None:
    expr = parse("@[User::Counter] = @[User::Counter] + 1")
    assert expr.is_assignment
    assert expr.target == "User::Counter"
    assert expr.variables == ("User::Counter",)
    assert isinstance(expr.tree, ast.Assignment)


def test_literal_positions() -> None:
    tree = parse('a +\n  "x"').tree
    assert isinstance(tree, ast.Binary)
    assert (tree.right.line, tree.right.column) == (2, 3)
