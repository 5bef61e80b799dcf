"""Stage 3: the type checker. Untyped tree + column/variable types -> typed tree.

Resolves column, lineage and variable references, applies SSIS's implicit conversions
(:mod:`.types`), checks every operator and function (:mod:`.functions`) and returns a new tree
in which every node has its ``type`` and every implicit conversion is an explicit
``Cast(implicit=True)``. A type error names the operator or function, the operand types and
the position in the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from dataflow.core.datatypes import TypeSpec, make_spec
from dataflow.core.errors import ExpressionError

from . import ast
from .ast import snake_name
from .codes import code
from .functions import DATEPART_ONLY_IN, DATEPARTS, FUNCTIONS
from .generator import generate
from .types import (
    BOOL,
    DBTIMESTAMP,
    DEFAULT_WSTR_LENGTH,
    FLOATS,
    R8,
    SIGNED_INTS,
    UNSIGNED_INTS,
    cast_is_legal,
    common_date,
    common_numeric,
    decimal_ps,
    is_date,
    is_int,
    is_numeric,
    is_string,
    kind,
    working_type,
    wstr,
)

#: types of the System variables an expression may read (control-flow scope)
SYSTEM_VARIABLES: Final[dict[str, TypeSpec]] = {
    **{
        f"System::{n}": wstr(DEFAULT_WSTR_LENGTH)
        for n in (
            "PackageName", "PackageID", "MachineName", "UserName", "ExecutionInstanceGUID",
            "CreatorName", "CreatorComputerName", "VersionGUID", "VersionComments", "SourceName",
            "SourceID", "SourceDescription", "TaskName", "TaskID", "ErrorDescription",
            "ParentContainerGUID", "SourceParentGUID", "ProductVersion", "LastModifiedProductVersion",
            "ContainerName", "ServerName", "ServerExecutionID_Str", "PackagePath",
        )
    },
    **{n: make_spec("DT_DATE") for n in (
        "System::StartTime", "System::ContainerStartTime", "System::CreationDate",
        "System::EventHandlerStartTime",
    )},
    **{n: make_spec("DT_I4") for n in (
        "System::ErrorCode", "System::VersionMajor", "System::VersionMinor", "System::VersionBuild",
        "System::LocaleID", "System::CancelEvent", "System::TaskTransactionOption",
        "System::ExecutionValue",
    )},
    "System::ServerExecutionID": make_spec("DT_I8"),
    "System::Propagate": BOOL,
    "System::InteractiveMode": BOOL,
    "System::OfflineMode": BOOL,
}  # fmt: skip

_ARITH: Final = frozenset({"+", "-", "*", "/", "%"})
_BITWISE: Final = frozenset({"&", "|", "^"})
_LOGICAL: Final = frozenset({"&&", "||"})
_COMPARE: Final = frozenset({"==", "!=", "<", ">", "<=", ">="})
_KIND_WORDS: Final[dict[str, str]] = {
    "num": "a numeric type", "snum": "a signed numeric type", "r8": "a numeric type",
    "int": "an integer type", "str": "a string type (DT_WSTR/DT_STR)", "len": "a string or BLOB type",
    "date": "a date/time type", "part": "a datepart string literal", "any": "any type",
}  # fmt: skip


def normalize_variable_key(name: str) -> str:
    """A caller's variable key in ``Namespace::Name`` form (bare ``X`` means ``User::X``)."""
    return name if "::" in name else f"User::{name}"


def resolve_variable(name: str, available: Mapping[str, object]) -> str | None:
    """The ``Namespace::Name`` key ``@name`` refers to, or None (choices.VARIABLE_SCOPE)."""
    if "::" in name:
        return name if name in available else None
    candidates = [k for k in available if "::" in k and k.split("::", 1)[1] == name]
    if f"User::{name}" in candidates:
        return f"User::{name}"
    non_param = [k for k in candidates if not k.startswith("$")]
    if len(non_param) == 1:
        return non_param[0]
    if len(non_param) > 1:
        raise KeyError(name)  # ambiguous
    return None


class TypeChecker:
    def __init__(
        self,
        text: str,
        columns: Mapping[str, TypeSpec] | None = None,
        variables: Mapping[str, TypeSpec] | None = None,
        lineage: Mapping[str, str] | None = None,
    ) -> None:
        self.text = text
        self.columns = dict(columns or {})
        self.columns_ci = {k.lower(): k for k in self.columns}
        self.variables = dict(variables or {})
        self.lineage = dict(lineage or {})

    # -- errors ----------------------------------------------------------------------------------
    def error(self, code: str, message: str, node: ast.Node) -> ExpressionError:
        return ExpressionError(
            code, message, expression=self.text, line=node.line or None, column=node.column or None
        )

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def convert(node: ast.Node, target: TypeSpec) -> ast.Node:
        """``node`` converted to ``target`` (an implicit cast unless it already has that type)."""
        if node.type == target:
            return node
        if isinstance(node, ast.NullLiteral):
            return replace(node, target=target, type=target)
        return ast.Cast(target, node, True, line=node.line, column=node.column, type=target)

    def lookup_column(
        self, node: ast.Node, name: str, qualifier: str | None
    ) -> tuple[str, TypeSpec]:
        keys = [f"{qualifier}.{name}", name] if qualifier else [name]
        for key in keys:
            if key in self.columns:
                return key, self.columns[key]
            if key.lower() in self.columns_ci:
                real = self.columns_ci[key.lower()]
                return real, self.columns[real]
        shown = f"{qualifier}.{name}" if qualifier else name
        raise self.error(
            "DTS_E_EXPREVALINPUTCOLUMNNAMENOTFOUND",
            f"column [{shown}] was not found among the input columns",
            node,
        )

    # -- main ------------------------------------------------------------------------------------
    def check(self, node: ast.Node) -> ast.Node:
        if isinstance(node, ast.Assignment):
            target = self.visit(node.target)
            value = self.visit(node.value, root=True)
            assert isinstance(target, ast.VariableRef)
            ttype = target.spec
            if not cast_is_legal(value.spec, ttype) and value.spec.name != ttype.name:
                raise self.error(
                    "DTS_E_EXPREVALASSIGNMENTTYPEMISMATCH",
                    f"the result type {value.spec} cannot be assigned to @[{target.resolved}] of type {ttype}",
                    node,
                )
            return replace(node, target=target, value=self.convert(value, ttype), type=ttype)
        return self.visit(node, root=True)

    def visit(self, node: ast.Node, root: bool = False) -> ast.Node:
        method = getattr(self, f"visit_{snake_name(type(node))}")
        result: ast.Node = method(node, root)
        return result

    def visit_literal(self, node: ast.Literal, root: bool) -> ast.Node:
        return replace(node, type=node.literal_type)

    def visit_null_literal(self, node: ast.NullLiteral, root: bool) -> ast.Node:
        return replace(node, type=node.target if root else working_type(node.target))

    def visit_column_ref(self, node: ast.ColumnRef, root: bool) -> ast.Node:
        key, spec = self.lookup_column(node, node.name, node.qualifier)
        return replace(node, name=key, qualifier=None, type=working_type(_fill(spec)))

    def visit_lineage_ref(self, node: ast.LineageRef, root: bool) -> ast.Node:
        ref = node.ref
        name = self.lineage.get(ref) or self.lineage.get(f"#{ref}")
        if name is None and not ref.isdigit() and ".Columns[" in ref:
            name = ref.rsplit(".Columns[", 1)[1].rstrip("]")  # choices.LINEAGE_REFID
        if name is None:
            raise self.error(
                "DTS_E_EXPREVALINPUTCOLUMNNAMENOTFOUND",
                f"lineage reference #{ref} is not mapped to a column",
                node,
            )
        key, spec = self.lookup_column(node, name, None)
        col = ast.ColumnRef(key, None, True, line=node.line, column=node.column)
        return replace(col, type=working_type(_fill(spec)))

    def visit_variable_ref(self, node: ast.VariableRef, root: bool) -> ast.Node:
        try:
            key = resolve_variable(node.name, self.variables)
        except KeyError:
            raise self.error(
                code("DTS_E_EXPREVALAMBIGUOUSVARIABLENNAME"),
                f"variable @{node.name} is ambiguous; qualify it with its namespace",
                node,
            ) from None
        if key is None:
            raise self.error(
                "DTS_E_EXPREVALVARIABLENOTFOUND", f"variable @[{node.name}] was not found", node
            )
        spec = _fill(self.variables[key])
        return replace(node, resolved=key, type=working_type(spec))

    def visit_unary(self, node: ast.Unary, root: bool) -> ast.Node:
        operand = self.visit(node.operand)
        t = operand.spec
        ok = {
            "-": is_numeric(t) and t.name not in UNSIGNED_INTS,
            "!": t.name == "DT_BOOL",
            "~": is_int(t),
        }[node.op]
        if not ok:
            raise self.error(
                "DTS_E_EXPREVALUNSUPPORTEDUNNARYTYPE",
                f"the unary operator {node.op!r} cannot be applied to an operand of type {t}",
                node,
            )
        return replace(node, operand=operand, type=t)

    def _mismatch(
        self, node: ast.Binary, lt: TypeSpec, rt: TypeSpec, why: str = ""
    ) -> ExpressionError:
        return self.error(
            "DTS_E_EXPREVALBINARYTYPEMISMATCH",
            f"the binary operator {node.op!r} cannot be applied to operands of types {lt} and {rt}"
            + (f": {why}" if why else ""),
            node,
        )

    def visit_binary(self, node: ast.Binary, root: bool) -> ast.Node:
        left = self.visit(node.left)
        right = self.visit(node.right)
        lt, rt = left.spec, right.spec
        op = node.op
        if op in _LOGICAL:
            if lt.name != "DT_BOOL" or rt.name != "DT_BOOL":
                raise self._mismatch(node, lt, rt, "both operands must be DT_BOOL")
            return replace(node, left=left, right=right, type=BOOL)
        if op in _ARITH:
            if op == "+" and is_string(lt) and is_string(rt):
                length = (lt.length or DEFAULT_WSTR_LENGTH) + (rt.length or DEFAULT_WSTR_LENGTH)
                t = wstr(length)
                return replace(
                    node,
                    left=self.convert(left, _as_wstr(lt)),
                    right=self.convert(right, _as_wstr(rt)),
                    type=t,
                )
            if not (is_numeric(lt) and is_numeric(rt)):
                why = (
                    "convert the non-string operand with a cast such as (DT_WSTR,n)"
                    if (op == "+" and (is_string(lt) or is_string(rt)))
                    else "both operands must be numeric"
                )
                raise self._mismatch(node, lt, rt, why)
            if op == "%" and not (is_int(lt) and is_int(rt)):
                raise self._mismatch(node, lt, rt, "both operands of % must be integers")
            common = common_numeric(lt, rt, op)
            if common is None:
                raise self._mismatch(node, lt, rt, "no implicit conversion between these types")
            if common.name == "DT_NUMERIC":
                # operands keep their own precision/scale as DT_NUMERIC; the op rescales
                lconv = self.convert(left, _as_numeric(lt))
                rconv = self.convert(right, _as_numeric(rt))
            else:
                lconv, rconv = self.convert(left, common), self.convert(right, common)
            return replace(node, left=lconv, right=rconv, type=common)
        if op in _BITWISE:
            if not (is_int(lt) and is_int(rt)):
                raise self._mismatch(node, lt, rt, "bitwise operators need integer operands")
            if (lt.name in SIGNED_INTS) != (rt.name in SIGNED_INTS):
                raise self.error(
                    code("DTS_E_EXPREVALBINARYSIGNMISMATCH"),
                    f"the bitwise operator {node.op!r} needs both operands signed or both unsigned,"
                    f" not {lt} and {rt}",
                    node,
                )
            common = common_numeric(lt, rt)
            assert common is not None
            return replace(
                node,
                left=self.convert(left, common),
                right=self.convert(right, common),
                type=common,
            )
        assert op in _COMPARE
        target = self._comparable(node, lt, rt)
        return replace(
            node, left=self.convert(left, target), right=self.convert(right, target), type=BOOL
        )

    def _comparable(self, node: ast.Binary, lt: TypeSpec, rt: TypeSpec) -> TypeSpec:
        if is_numeric(lt) and is_numeric(rt):
            common = common_numeric(lt, rt)
            if common is None:
                raise self._mismatch(node, lt, rt, "no implicit conversion between these types")
            return common
        if is_string(lt) and is_string(rt):
            return wstr(max(lt.length, rt.length) or DEFAULT_WSTR_LENGTH)
        if is_date(lt) and is_date(rt):
            common = common_date(lt, rt)
            if common is None:
                raise self._mismatch(node, lt, rt, "time types cannot be compared with date types")
            return common
        if lt.name == rt.name and lt.name in ("DT_BOOL", "DT_GUID", "DT_BYTES"):
            return (
                lt
                if lt.name != "DT_BYTES"
                else make_spec("DT_BYTES", length=max(lt.length, rt.length))
            )
        raise self._mismatch(node, lt, rt, "the operands are not of comparable types")

    def visit_conditional(self, node: ast.Conditional, root: bool) -> ast.Node:
        cond = self.visit(node.condition)
        then = self.visit(node.then)
        other = self.visit(node.otherwise)
        if cond.spec.name != "DT_BOOL":
            raise self.error(
                code("DTS_E_EXPREVALCONDITIONALOPINVALIDCONDITIONTYPE"),
                f"the condition of ?: must be DT_BOOL, not {cond.spec}",
                node,
            )
        a, b = then.spec, other.spec
        target: TypeSpec | None = None
        if a == b:
            target = a
        elif is_numeric(a) and is_numeric(b):
            target = common_numeric(a, b)
            if target is not None and target.name == "DT_NUMERIC":
                (p1, s1), (p2, s2) = _ps(a), _ps(b)
                s = max(s1, s2)
                target = make_spec(
                    "DT_NUMERIC", precision=min(38, max(p1 - s1, p2 - s2) + s), scale=s
                )
        elif is_string(a) and is_string(b):
            target = wstr(max(a.length, b.length) or DEFAULT_WSTR_LENGTH)
        elif is_date(a) and is_date(b):
            target = common_date(a, b)
        elif a.name == b.name:
            target = replace(a, length=max(a.length, b.length))
        if target is None:
            raise self.error(
                "DTS_E_EXPREVALCONDITIONALOPTYPEMISMATCH",
                f"the branches of ?: have incompatible types {a} and {b}",
                node,
            )
        return replace(
            node,
            condition=cond,
            then=self.convert(then, target),
            otherwise=self.convert(other, target),
            type=target,
        )

    def visit_cast(self, node: ast.Cast, root: bool) -> ast.Node:
        operand = self.visit(node.operand)
        target = node.target if root else working_type(node.target)
        if not cast_is_legal(operand.spec, target):
            raise self.error(
                "DTS_E_EXPREVALINVALIDCAST",
                f"the cast ({target}) cannot be applied to an operand of type {operand.spec}",
                node,
            )
        return replace(node, target=target, operand=operand, type=target)

    def visit_function(self, node: ast.Function, root: bool) -> ast.Node:
        fdef = FUNCTIONS.get(node.name)
        if fdef is None:
            raise self.error(
                "DTS_E_EXPREVALINVALIDFUNCTION", f"{node.name} is not a known function", node
            )
        if len(node.args) != len(fdef.args):
            raise self.error(
                "DTS_E_EXPREVALINVALIDNUMBEROFPARAMS",
                f"{node.name} takes {len(fdef.args)} argument(s), got {len(node.args)}",
                node,
            )
        args: list[ast.Node] = []
        for i, (arg, want) in enumerate(zip(node.args, fdef.args, strict=True)):
            if want == "part":
                args.append(self._datepart(node, arg))
                continue
            checked = self.visit(arg)
            t = checked.spec
            converted: ast.Node | None = None
            if want == "any":
                converted = checked
            elif want in ("num", "r8", "snum") and is_numeric(t):
                if want == "snum" and t.name in UNSIGNED_INTS:
                    converted = None
                else:
                    converted = self.convert(checked, R8) if want == "r8" else checked
            elif want == "int" and is_int(t):
                converted = checked
            elif want == "str" and is_string(t):
                converted = self.convert(checked, _as_wstr(t))
            elif want == "len" and (is_string(t) or t.name in ("DT_IMAGE", "DT_BYTES")):
                converted = checked if not is_string(t) else self.convert(checked, _as_wstr(t))
            elif want == "date" and (is_date(t) or is_string(t)):
                converted = checked if is_date(t) else self.convert(checked, DBTIMESTAMP)
                if t.name in ("DT_DBTIME", "DT_DBTIME2") and node.name in ("YEAR", "MONTH", "DAY"):
                    converted = None
            if converted is None:
                raise self.error(
                    "DTS_E_EXPREVALPARAMTYPEMISMATCH",
                    f"{node.name}: argument {i + 1} has type {t}; it must be {_KIND_WORDS[want]}"
                    + (
                        ""
                        if want not in ("num", "int", "str") or kind(t) == "numeric"
                        else " (use a cast)"
                    ),
                    arg,
                )
            args.append(converted)
        if node.name == "REPLACENULL":
            a, b = args
            if a.spec.name in ("DT_TEXT", "DT_NTEXT", "DT_IMAGE"):
                raise self.error(
                    "DTS_E_EXPREVALPARAMTYPEMISMATCH",
                    "REPLACENULL does not accept BLOB types",
                    a,
                )
            if b.spec != a.spec:
                if not cast_is_legal(b.spec, a.spec):
                    raise self.error(
                        "DTS_E_EXPREVALPARAMTYPEMISMATCH",
                        f"REPLACENULL: argument 2 of type {b.spec} cannot be converted to {a.spec}",
                        b,
                    )
                args[1] = self.convert(b, a.spec)
        result = fdef.result([a.spec for a in args], args)
        return replace(node, args=tuple(args), type=result)

    def _datepart(self, node: ast.Function, arg: ast.Node) -> ast.Node:
        if not (isinstance(arg, ast.Literal) and isinstance(arg.value, str)):
            raise self.error(
                code("DTS_E_EXPREVALINVALIDDATEPARTNODE"),
                f"{node.name}: the datepart must be a double-quoted string literal, not {generate(arg)}",
                arg,
            )
        part = arg.value.strip().lower()
        if part not in DATEPARTS or node.name not in DATEPART_ONLY_IN.get(
            part, frozenset({node.name})
        ):
            raise self.error(
                "DTS_E_EXPREVALINVALIDDATEPART", f"{node.name}: unknown datepart {arg.value!r}", arg
            )
        return replace(arg, type=arg.literal_type)


def _fill(spec: TypeSpec) -> TypeSpec:
    """String types without a length get the DT_WSTR default (4000)."""
    if spec.name in ("DT_STR", "DT_WSTR", "DT_BYTES") and not spec.length:
        return replace(spec, length=DEFAULT_WSTR_LENGTH)
    return spec


def _as_wstr(spec: TypeSpec) -> TypeSpec:
    return spec if spec.name == "DT_WSTR" else wstr(spec.length or DEFAULT_WSTR_LENGTH)


def _ps(spec: TypeSpec) -> tuple[int, int]:
    if spec.name in FLOATS:
        return 38, 6
    return decimal_ps(spec)


def _as_numeric(spec: TypeSpec) -> TypeSpec:
    if spec.name == "DT_NUMERIC":
        return spec
    p, s = _ps(spec)
    return make_spec("DT_NUMERIC", precision=p, scale=s)


def typecheck(
    tree: ast.Node,
    text: str,
    columns: Mapping[str, TypeSpec] | None = None,
    variables: Mapping[str, TypeSpec] | None = None,
    lineage: Mapping[str, str] | None = None,
) -> ast.Node:
    """The typed tree of ``tree`` (see module docstring)."""
    return TypeChecker(text, columns, variables, lineage).check(tree)
