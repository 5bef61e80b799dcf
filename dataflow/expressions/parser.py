"""Stage 2: the parser. Tokens -> untyped tree (:mod:`.ast`), by precedence climbing.

Precedence and associativity are the table of expressions.md §2.1, held in :data:`BINARY_LEVELS`.
Prefix operators (``-`` ``!`` ``~`` and casts) bind tighter than every binary operator; ``? :``
is the loosest and right-associative; ``@Var = expr`` is only accepted as the whole expression.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, TypedDict

from dataflow.core.datatypes import TypeSpec, make_spec
from dataflow.core.errors import ExpressionError

from . import ast
from .codes import code
from .tokens import Token, TokenType, tokenize
from .types import CAST_PARAMS, INT_RANGE

#: binary operator levels, loosest first (the ``? :`` level sits above them)
BINARY_LEVELS: Final[tuple[frozenset[TokenType], ...]] = (
    frozenset({TokenType.PIPEPIPE}),
    frozenset({TokenType.AMPAMP}),
    frozenset({TokenType.PIPE}),
    frozenset({TokenType.CARET}),
    frozenset({TokenType.AMP}),
    frozenset({TokenType.EQ, TokenType.NE}),
    frozenset({TokenType.LT, TokenType.GT, TokenType.LE, TokenType.GE}),
    frozenset({TokenType.PLUS, TokenType.MINUS}),
    frozenset({TokenType.STAR, TokenType.SLASH, TokenType.PERCENT}),
)
PREFIX_OPS: Final = {TokenType.MINUS: "-", TokenType.BANG: "!", TokenType.TILDE: "~"}

#: limits of cast parameters (inclusive)
PARAM_LIMITS: Final[dict[tuple[str, str], tuple[int, int]]] = {
    ("DT_STR", "length"): (1, 8000),
    ("DT_WSTR", "length"): (1, 4000),
    ("DT_BYTES", "length"): (1, 8000),
    ("DT_NUMERIC", "precision"): (1, 38),
    ("DT_NUMERIC", "scale"): (0, 38),
    ("DT_DECIMAL", "scale"): (0, 28),
    ("DT_DBTIME2", "scale"): (0, 7),
    ("DT_DBTIMESTAMP2", "scale"): (0, 7),
    ("DT_DBTIMESTAMPOFFSET", "scale"): (0, 7),
    ("DT_STR", "codepage"): (0, 65535),
    ("DT_TEXT", "codepage"): (0, 65535),
}

_PARSE: Final = "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION"
PARAM_CODES: Final[dict[str, str]] = {
    "length": "DTS_E_EXPREVALINVALIDCASTLENGTH",
    "precision": "DTS_E_EXPREVALINVALIDCASTPRECISION",
    "scale": "DTS_E_EXPREVALINVALIDCASTSCALE",
    "codepage": "DTS_E_EXPREVALINVALIDCASTCODEPAGE",
}


class Pos(TypedDict):
    line: int
    column: int


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.type is not TokenType.EOF:
            self.i += 1
        return t

    def error(self, message: str, tok: Token | None = None, code: str = _PARSE) -> ExpressionError:
        t = tok or self.tok
        return ExpressionError(code, message, expression=self.text, line=t.line, column=t.column)

    def expect(self, ttype: TokenType, what: str) -> Token:
        if self.tok.type is not ttype:
            found = self.tok.text or self.tok.type.value
            raise self.error(f"expected {what}, found {found!r}")
        return self.advance()

    @staticmethod
    def pos(tok: Token) -> Pos:
        return {"line": tok.line, "column": tok.column}

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> ast.Node:
        if not self.tokens or self.tok.type is TokenType.EOF:
            raise self.error("the expression is empty", code=code("DTS_E_EXPREVALEXPRESSIONEMPTY"))
        if self.tok.type is TokenType.VARIABLE and self.peek().type is TokenType.ASSIGN:
            var_tok = self.advance()
            target = self._variable(var_tok)
            self.advance()
            value = self.conditional()
            node: ast.Node = ast.Assignment(target, value, **self.pos(var_tok))
        else:
            node = self.conditional()
        end = self.tokens[self.i]
        if end.type is not TokenType.EOF:
            if end.type is TokenType.ASSIGN:
                raise self.error(
                    "'=' is only allowed as @Variable = expression; use '==' to compare",
                    code=code("DTS_E_EXPREVALINVALIDTOKENSINGLEEQUAL"),
                )
            raise self.error(f"unexpected {end.text!r}")
        return node

    def conditional(self) -> ast.Node:
        start = self.tok
        cond = self.binary(0)
        if self.tok.type is TokenType.QUESTION:
            self.advance()
            then = self.conditional()
            self.expect(TokenType.COLON, "':' of the conditional operator")
            otherwise = self.conditional()
            return ast.Conditional(cond, then, otherwise, **self.pos(start))
        return cond

    def binary(self, level: int) -> ast.Node:
        if level == len(BINARY_LEVELS):
            return self.prefix()
        left = self.binary(level + 1)
        ops = BINARY_LEVELS[level]
        while self.tok.type in ops:
            op_tok = self.advance()
            right = self.binary(level + 1)
            left = ast.Binary(op_tok.type.value, left, right, **self.pos(op_tok))
        return left

    def prefix(self) -> ast.Node:
        tok = self.tok
        if tok.type in PREFIX_OPS:
            self.advance()
            nxt = self.tok
            if (
                tok.type is TokenType.MINUS
                and nxt.type
                in (TokenType.INTEGER, TokenType.DECIMAL, TokenType.REAL, TokenType.HEX)
                and nxt.line == tok.line
                and nxt.column == tok.column + 1
            ):
                self.advance()
                return self.literal(nxt, negative=True, start=tok)
            operand = self.prefix()
            return ast.Unary(PREFIX_OPS[tok.type], operand, **self.pos(tok))
        if tok.type is TokenType.LPAREN and self._is_cast():
            self.advance()
            target = self.type_spec(tok)
            operand = self.prefix()
            return ast.Cast(target, operand, **self.pos(tok))
        return self.primary()

    def _is_cast(self) -> bool:
        t1, t2 = self.peek(1), self.peek(2)
        return (
            t1.type is TokenType.IDENTIFIER
            and t1.text.upper() in CAST_PARAMS
            and t2.type in (TokenType.COMMA, TokenType.RPAREN)
        )

    def type_spec(self, start: Token) -> TypeSpec:
        """``DT_NAME[, n]*)`` after the opening parenthesis (casts and NULL())."""
        name_tok = self.expect(TokenType.IDENTIFIER, "a type name")
        name = name_tok.text.upper()
        if name not in CAST_PARAMS:
            raise self.error(f"unknown data type {name_tok.text!r}", name_tok)
        args: list[int] = []
        while self.tok.type is TokenType.COMMA:
            self.advance()
            arg = self.tok
            if arg.type not in (TokenType.INTEGER, TokenType.HEX) or arg.suffix:
                raise self.error(f"the parameters of {name} must be integer literals", arg)
            self.advance()
            assert isinstance(arg.value, int)
            args.append(arg.value)
        self.expect(TokenType.RPAREN, "')' closing the type")
        params = CAST_PARAMS[name]
        if len(args) != len(params):
            raise self.error(
                f"{name} takes {len(params)} parameter(s) ({', '.join(params) or 'none'}), got {len(args)}",
                name_tok,
            )
        values = dict(zip(params, args, strict=True))
        for param, value in values.items():
            lo, hi = PARAM_LIMITS.get((name, param), (0, 2**31 - 1))
            if not lo <= value <= hi:
                raise self.error(
                    f"{name} {param} {value} is out of range {lo}..{hi}",
                    name_tok,
                    code(PARAM_CODES[param]),
                )
        if name == "DT_NUMERIC" and values["scale"] > values["precision"]:
            raise self.error(
                "DT_NUMERIC scale cannot exceed its precision",
                name_tok,
                code("DTS_E_EXPREVALINVALIDCASTSCALE"),
            )
        return make_spec(name, **values)

    def primary(self) -> ast.Node:
        tok = self.tok
        tt = tok.type
        if tt in (TokenType.INTEGER, TokenType.DECIMAL, TokenType.REAL, TokenType.HEX):
            self.advance()
            return self.literal(tok)
        if tt is TokenType.STRING:
            self.advance()
            assert isinstance(tok.value, str)
            spec = make_spec("DT_WSTR", length=max(len(tok.value), 1))
            return ast.Literal(tok.value, spec, tok.text, **self.pos(tok))
        if tt is TokenType.LPAREN:
            self.advance()
            inner = self.conditional()
            self.expect(TokenType.RPAREN, "')'")
            return inner
        if tt is TokenType.VARIABLE:
            self.advance()
            return self._variable(tok)
        if tt is TokenType.LINEAGE:
            self.advance()
            return ast.LineageRef(str(tok.value), **self.pos(tok))
        if tt in (TokenType.IDENTIFIER, TokenType.BRACKETED):
            self.advance()
            name = str(tok.value)
            if tt is TokenType.IDENTIFIER and name.upper() in ("TRUE", "FALSE"):
                spec = make_spec("DT_BOOL")
                return ast.Literal(name.upper() == "TRUE", spec, tok.text, **self.pos(tok))
            if self.tok.type is TokenType.LPAREN:
                if tt is TokenType.IDENTIFIER and name.upper() == "NULL":
                    self.advance()
                    return ast.NullLiteral(self.type_spec(tok), **self.pos(tok))
                return self.call(tok)
            if self.tok.type is TokenType.DOT and self.peek().type in (
                TokenType.IDENTIFIER,
                TokenType.BRACKETED,
            ):
                self.advance()
                col = self.advance()
                return ast.ColumnRef(
                    str(col.value),
                    name,
                    col.type is TokenType.BRACKETED,
                    tt is TokenType.BRACKETED,
                    **self.pos(tok),
                )
            return ast.ColumnRef(name, None, tt is TokenType.BRACKETED, **self.pos(tok))
        if tt is TokenType.EOF:
            raise self.error("the expression ends too early")
        raise self.error(f"unexpected {tok.text!r}")

    def call(self, name_tok: Token) -> ast.Node:
        self.expect(TokenType.LPAREN, "'('")
        args: list[ast.Node] = []
        if self.tok.type is not TokenType.RPAREN:
            args.append(self.conditional())
            while self.tok.type is TokenType.COMMA:
                self.advance()
                args.append(self.conditional())
        self.expect(TokenType.RPAREN, "')' closing the argument list")
        return ast.Function(
            str(name_tok.value).upper(),
            tuple(args),
            name_tok.type is TokenType.BRACKETED,
            **self.pos(name_tok),
        )

    def _variable(self, tok: Token) -> ast.VariableRef:
        return ast.VariableRef(str(tok.value), tok.text.startswith("@["), **self.pos(tok))

    def literal(
        self, tok: Token, negative: bool = False, start: Token | None = None
    ) -> ast.Literal:
        first = start or tok
        text = ("-" if negative else "") + tok.text
        value = tok.value
        if tok.type in (TokenType.INTEGER, TokenType.HEX):
            assert isinstance(value, int)
            ivalue = -value if negative else value
            name = {"": "DT_I4", "U": "DT_UI4", "L": "DT_I8", "UL": "DT_UI8"}[tok.suffix]
            lo, hi = INT_RANGE[name]
            if tok.type is TokenType.HEX and not tok.suffix and not lo <= ivalue <= hi:
                name = "DT_I8"  # choices.HEX_LITERALS
                lo, hi = INT_RANGE[name]
            if not lo <= ivalue <= hi:
                raise self.error(
                    f"the literal {text} does not fit its type {name}",
                    first,
                    "DTS_E_EXPREVALLITERALOVERFLOW",
                )
            return ast.Literal(ivalue, make_spec(name), text, **self.pos(first))
        if tok.type is TokenType.DECIMAL:
            assert isinstance(value, Decimal)
            digits = tok.text.replace(".", "").lstrip("0") or "0"
            scale = len(tok.text.split(".", 1)[1]) if "." in tok.text else 0
            precision = max(len(digits), scale, 1)
            if precision > 38:
                raise self.error(
                    f"the literal {text} has more than 38 digits",
                    first,
                    "DTS_E_EXPREVALLITERALOVERFLOW",
                )
            spec = make_spec("DT_NUMERIC", precision=precision, scale=scale)
            return ast.Literal(-value if negative else value, spec, text, **self.pos(first))
        assert isinstance(value, float)
        name = "DT_R4" if tok.suffix == "F" else "DT_R8"
        return ast.Literal(-value if negative else value, make_spec(name), text, **self.pos(first))


def parse_tree(text: str) -> ast.Node:
    """The untyped tree of ``text``."""
    return Parser(text).parse()
