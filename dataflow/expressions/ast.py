"""Stage 2 output: the expression tree (frozen dataclasses).

The parser builds untyped nodes (``type`` is ``None``); the type checker returns a copy of the
tree where every node carries its SSIS :class:`TypeSpec`, references are resolved and implicit
conversions are explicit :class:`Cast` nodes with ``implicit=True``. Both back ends
(:mod:`.scalar`, :mod:`.polars_backend`) walk that typed tree. Positions (``line``, ``column``)
and types do not take part in equality, so round-trip tests compare structure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from dataflow.core.datatypes import TypeSpec


@dataclass(frozen=True, kw_only=True)
class Node:
    line: int = field(default=0, compare=False, repr=False)
    column: int = field(default=0, compare=False, repr=False)
    type: TypeSpec | None = field(default=None, compare=False, repr=False)

    def children(self) -> Iterator[Node]:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                yield from (v for v in value if isinstance(v, Node))

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, depth first, left to right."""
        yield self
        for child in self.children():
            yield from child.walk()

    @property
    def spec(self) -> TypeSpec:
        """The type of a checked node (raises on an unchecked one)."""
        if self.type is None:
            raise ValueError(f"{type(self).__name__} has not been type-checked")
        return self.type


@dataclass(frozen=True)
class Literal(Node):
    """A literal: value already decoded; ``literal_type`` is its SSIS type; ``text`` the source."""

    value: Any
    literal_type: TypeSpec
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class NullLiteral(Node):
    """``NULL(DT_…)``."""

    target: TypeSpec


@dataclass(frozen=True)
class ColumnRef(Node):
    """``Name``, ``[Name]`` or ``[Source].[Name]``."""

    name: str
    qualifier: str | None = None
    bracketed: bool = field(default=False, compare=False)
    qualifier_bracketed: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class LineageRef(Node):
    """``#123`` or ``#{Package\\DFT\\Comp.Outputs[Out].Columns[Col]}``."""

    ref: str


@dataclass(frozen=True)
class VariableRef(Node):
    """``@Name``, ``@[Name]``, ``@[Ns::Name]``, ``@[$Package::P]``; ``name`` is as written."""

    name: str
    bracketed: bool = field(default=True, compare=False)
    resolved: str | None = field(default=None, compare=False)  # Namespace::Name after checking

    @property
    def namespace(self) -> str | None:
        return self.name.split("::", 1)[0] if "::" in self.name else None

    @property
    def short_name(self) -> str:
        return self.name.split("::", 1)[1] if "::" in self.name else self.name


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-", "!", "~"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / % & | ^ && || == != < > <= >=
    left: Node
    right: Node


@dataclass(frozen=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Cast(Node):
    target: TypeSpec
    operand: Node
    implicit: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Function(Node):
    """A function call; ``name`` upper-case. Date-part arguments stay string literals."""

    name: str
    args: tuple[Node, ...]
    bracketed: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Assignment(Node):
    """``@[User::X] = expr`` (For Loop Init/Assign expressions, Expression Task)."""

    target: VariableRef
    value: Node


@dataclass(frozen=True)
class References:
    """What an expression refers to (for dependency analysis and validation)."""

    columns: tuple[str, ...]
    variables: tuple[str, ...]  # as written (User::X, X, $Package::P)
    lineage: tuple[str, ...]
    assigned: str | None = None


def snake_name(cls: type) -> str:
    """``NullLiteral`` -> ``null_literal`` (visitor method names)."""
    return "".join(
        f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(cls.__name__)
    )


def references(node: Node) -> References:
    cols: dict[str, None] = {}
    vars_: dict[str, None] = {}
    lineage: dict[str, None] = {}
    assigned = None
    for n in node.walk():
        if isinstance(n, ColumnRef):
            cols[f"{n.qualifier}.{n.name}" if n.qualifier else n.name] = None
        elif isinstance(n, VariableRef):
            vars_[n.name] = None
        elif isinstance(n, LineageRef):
            lineage[n.ref] = None
    if isinstance(node, Assignment):
        assigned = node.target.name
        vars_.pop(node.target.name, None)
        if any(
            isinstance(n, VariableRef) and n.name == node.target.name for n in node.value.walk()
        ):
            vars_[node.target.name] = None
    return References(tuple(cols), tuple(vars_), tuple(lineage), assigned)
