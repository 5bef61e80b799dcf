"""Stage 1: the tokenizer. Expression text -> list of :class:`Token` (expressions.md §1).

Literal values are decoded here (escapes, numeric suffixes), so the parser only assembles.
Every token carries its 1-based line and column for error messages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from dataflow.core.errors import ExpressionError

from .codes import code


class TokenType(enum.Enum):
    INTEGER = "integer"  # value: int, suffix in .suffix ("", "U", "L", "UL")
    HEX = "hex"
    DECIMAL = "decimal"  # digits with a point, no exponent/suffix -> DT_NUMERIC
    REAL = "real"  # exponent and/or F/L suffix -> DT_R4/DT_R8
    STRING = "string"
    IDENTIFIER = "identifier"
    BRACKETED = "bracketed"  # [Any Name]
    VARIABLE = "variable"  # @Name, @[Ns::Name]
    LINEAGE = "lineage"  # #123, #{refId}
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    DOT = "."
    QUESTION = "?"
    COLON = ":"
    PLUS = "+"
    MINUS = "-"
    STAR = "*"
    SLASH = "/"
    PERCENT = "%"
    BANG = "!"
    TILDE = "~"
    AMP = "&"
    PIPE = "|"
    CARET = "^"
    AMPAMP = "&&"
    PIPEPIPE = "||"
    EQ = "=="
    NE = "!="
    LT = "<"
    GT = ">"
    LE = "<="
    GE = ">="
    ASSIGN = "="
    EOF = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    type: TokenType
    text: str  # source text of the token
    value: object  # decoded value: int, Decimal, float, str (names / strings)
    line: int
    column: int
    suffix: str = ""  # numeric literal suffix, upper-case


_OPERATORS: Final[tuple[tuple[str, TokenType], ...]] = (
    ("&&", TokenType.AMPAMP),
    ("||", TokenType.PIPEPIPE),
    ("==", TokenType.EQ),
    ("!=", TokenType.NE),
    ("<=", TokenType.LE),
    (">=", TokenType.GE),
    ("(", TokenType.LPAREN),
    (")", TokenType.RPAREN),
    (",", TokenType.COMMA),
    ("?", TokenType.QUESTION),
    (":", TokenType.COLON),
    ("+", TokenType.PLUS),
    ("-", TokenType.MINUS),
    ("*", TokenType.STAR),
    ("/", TokenType.SLASH),
    ("%", TokenType.PERCENT),
    ("!", TokenType.BANG),
    ("~", TokenType.TILDE),
    ("&", TokenType.AMP),
    ("|", TokenType.PIPE),
    ("^", TokenType.CARET),
    ("<", TokenType.LT),
    (">", TokenType.GT),
    ("=", TokenType.ASSIGN),
)

_SIMPLE_ESCAPES: Final[dict[str, str]] = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    '"': '"', "\\": "\\",
}  # fmt: skip

_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_ident_part(ch: str) -> bool:
    return ch.isalnum() or ch in "_@$#"


class Tokenizer:
    """Turns expression text into tokens. One instance per text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []

    # -- helpers -------------------------------------------------------------------------------
    def error(self, code: str, message: str, offset: int | None = None) -> ExpressionError:
        off = self.pos if offset is None else offset
        line = self.text.count("\n", 0, off) + 1
        col = off - (self.text.rfind("\n", 0, off) + 1) + 1
        return ExpressionError(code, message, expression=self.text, line=line, column=col)

    def _add(self, ttype: TokenType, start: int, value: object, suffix: str = "") -> None:
        line = self.text.count("\n", 0, start) + 1
        col = start - (self.text.rfind("\n", 0, start) + 1) + 1
        self.tokens.append(Token(ttype, self.text[start : self.pos], value, line, col, suffix))

    # -- main loop -------------------------------------------------------------------------------
    def tokenize(self) -> list[Token]:
        text = self.text
        n = len(text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n\f\v\u00a0\ufeff":
                self.pos += 1
                continue
            start = self.pos
            if ch == '"':
                self._string()
            elif ch.isdigit() or (ch == "." and self.pos + 1 < n and text[self.pos + 1].isdigit()):
                self._number()
            elif ch == "[":
                end = text.find("]", start + 1)
                if end < 0:
                    raise self.error("DTS_E_EXPREVALINVALIDTOKEN", "unterminated [ identifier")
                self.pos = end + 1
                self._add(TokenType.BRACKETED, start, text[start + 1 : end])
            elif ch == "@":
                self._variable()
            elif ch == "#":
                self._lineage()
            elif _is_ident_start(ch):
                while self.pos < n and _is_ident_part(text[self.pos]):
                    self.pos += 1
                self._add(TokenType.IDENTIFIER, start, text[start : self.pos])
            elif ch == ".":
                self.pos += 1
                self._add(TokenType.DOT, start, ".")
            else:
                for op, ttype in _OPERATORS:
                    if text.startswith(op, start):
                        self.pos += len(op)
                        self._add(ttype, start, op)
                        break
                else:
                    raise self.error("DTS_E_EXPREVALINVALIDTOKEN", f"unrecognized character {ch!r}")
        self.tokens.append(Token(TokenType.EOF, "", None, *self._line_col(n)))
        return self.tokens

    def _line_col(self, off: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, off) + 1
        return line, off - (self.text.rfind("\n", 0, off) + 1) + 1

    # -- token kinds -----------------------------------------------------------------------------
    def _string(self) -> None:
        text = self.text
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.error(
                    "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION", "unterminated string literal", start
                )
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                break
            if ch == "\\":
                esc = text[self.pos + 1 : self.pos + 2]
                if esc in _SIMPLE_ESCAPES:
                    out.append(_SIMPLE_ESCAPES[esc])
                    self.pos += 2
                elif esc == "x":
                    digits = text[self.pos + 2 : self.pos + 6]
                    if len(digits) != 4 or not set(digits) <= _HEX_DIGITS:
                        raise self.error(
                            code("DTS_E_EXPREVALILLEGALHEXESCAPEINSTRINGLITERAL"),
                            "illegal hex escape in string literal (\\x needs 4 hex digits)",
                        )
                    unit = int(digits, 16)
                    if unit == 0:
                        raise self.error(
                            code("DTS_E_EXPREVALILLEGALHEXESCAPEINSTRINGLITERAL"),
                            "\\x0000 is not allowed",
                        )
                    out.append(chr(unit))
                    self.pos += 6
                else:
                    raise self.error(
                        code("DTS_E_EXPREVALILLEGALESCAPEINSTRINGLITERAL"),
                        f"illegal escape sequence \\{esc} in string literal",
                    )
            else:
                out.append(ch)
                self.pos += 1
        value = "".join(out)
        # two \x escapes forming a UTF-16 surrogate pair make one character (choices.STRING_UNITS)
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        self._add(TokenType.STRING, start, value)

    def _number(self) -> None:
        text = self.text
        n = len(text)
        start = self.pos
        if text.startswith(("0x", "0X"), start):
            self.pos += 2
            while self.pos < n and text[self.pos] in _HEX_DIGITS:
                self.pos += 1
            digits = text[start + 2 : self.pos]
            if not digits:
                raise self.error("DTS_E_EXPREVALINVALIDTOKEN", "hex literal without digits", start)
            suffix = self._suffix("UL")
            self._add(TokenType.HEX, start, int(digits, 16), suffix)
            self._check_end(start)
            return
        while self.pos < n and text[self.pos].isdigit():
            self.pos += 1
        is_real = False
        has_point = False
        if self.pos < n and text[self.pos] == ".":
            has_point = True
            self.pos += 1
            while self.pos < n and text[self.pos].isdigit():
                self.pos += 1
        if self.pos < n and text[self.pos] in "eE":
            look = self.pos + 1
            if look < n and text[look] in "+-":
                look += 1
            if look < n and text[look].isdigit():
                is_real = True
                self.pos = look
                while self.pos < n and text[self.pos].isdigit():
                    self.pos += 1
        body = text[start : self.pos]
        if is_real or has_point:
            suffix = self._suffix("FL")
            if suffix or is_real:
                self._add(TokenType.REAL, start, float(body), suffix or "L")
            else:
                self._add(TokenType.DECIMAL, start, Decimal(body))
        else:
            suffix = self._suffix("UL")
            self._add(TokenType.INTEGER, start, int(body), suffix)
        self._check_end(start)

    def _suffix(self, allowed: str) -> str:
        text = self.text
        suffix = ""
        while (
            self.pos < len(text)
            and text[self.pos].upper() in allowed
            and text[self.pos].upper() not in suffix
        ):
            suffix += text[self.pos].upper()
            self.pos += 1
        if suffix in {"FL", "LF"}:
            raise self.error("DTS_E_EXPREVALINVALIDTOKEN", "a real literal takes F or L, not both")
        return "UL" if suffix in ("UL", "LU") else suffix

    def _check_end(self, start: int) -> None:
        if self.pos < len(self.text) and _is_ident_part(self.text[self.pos]):
            raise self.error(
                "DTS_E_EXPREVALINVALIDTOKEN",
                f"malformed numeric literal {self.text[start : self.pos + 1]!r}",
                start,
            )

    def _variable(self) -> None:
        text = self.text
        start = self.pos
        self.pos += 1
        if self.pos < len(text) and text[self.pos] == "[":
            end = text.find("]", self.pos + 1)
            if end < 0:
                raise self.error("DTS_E_EXPREVALINVALIDTOKEN", "unterminated @[ variable name")
            name = text[self.pos + 1 : end]
            self.pos = end + 1
        else:
            begin = self.pos
            if begin >= len(text) or not (_is_ident_start(text[begin]) or text[begin] == "$"):
                raise self.error(
                    "DTS_E_EXPREVALINVALIDTOKEN", "@ must be followed by a variable name"
                )
            self.pos += 1
            while self.pos < len(text) and _is_ident_part(text[self.pos]):
                self.pos += 1
            name = text[begin : self.pos]
            # @$Package::P and @User::X written without brackets (tolerated)
            while text.startswith("::", self.pos):
                self.pos += 2
                while self.pos < len(text) and _is_ident_part(text[self.pos]):
                    self.pos += 1
                name = text[begin : self.pos]
        if not name.strip():
            raise self.error("DTS_E_EXPREVALINVALIDTOKEN", "empty variable name", start)
        self._add(TokenType.VARIABLE, start, name)

    def _lineage(self) -> None:
        text = self.text
        start = self.pos
        self.pos += 1
        if text.startswith("{", self.pos):
            end = text.find("}", self.pos)
            if end < 0:
                raise self.error("DTS_E_EXPREVALINVALIDTOKEN", "unterminated #{ lineage reference")
            ref = text[self.pos + 1 : end]
            self.pos = end + 1
        else:
            begin = self.pos
            while self.pos < len(text) and text[self.pos].isdigit():
                self.pos += 1
            ref = text[begin : self.pos]
            if not ref:
                raise self.error("DTS_E_EXPREVALINVALIDTOKEN", "# must be followed by a lineage id")
        self._add(TokenType.LINEAGE, start, ref)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an EOF token."""
    return Tokenizer(text).tokenize()
