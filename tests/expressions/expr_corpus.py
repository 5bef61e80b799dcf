"""Extract every stored expression of a .dtsx with the column and variable types it sees.

Sources (reference/ssis/dtsx-format.md): pipeline ``Expression``/``FriendlyExpression``
properties (Derived Column, Conditional Split; ``#17`` lineage ids in formats 2/3, ``#{refId}``
in 2012+), ``DTS:PropertyExpression``, precedence-constraint expressions, For Loop
Init/Eval/Assign expressions and variables evaluated as expressions. Formats 2/3 store
properties as ``<DTS:Property DTS:Name="...">`` children, 2012+ as attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from dataflow.core.datatypes import (
    VARIANT_TYPES,
    TypeSpec,
    make_spec,
    ssis_type,
    variant_from_typecode,
)

DTS = "www.microsoft.com/SqlServer/Dts"
SSIS = "www.microsoft.com/SqlServer/SSIS"
Q = f"{{{DTS}}}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
BOOLEAN_HOSTS = ("ConditionalSplit", "PrecedenceConstraint", "ForLoop.EvalExpression")


@dataclass(frozen=True)
class StoredExpression:
    package: str
    host: str  # DerivedColumn | ConditionalSplit | PropertyExpression | PrecedenceConstraint | ForLoop.* | Variable
    where: str
    text: str
    columns: dict[str, TypeSpec] = field(default_factory=dict, compare=False, hash=False)
    lineage: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def _prop(elem: etree._Element, name: str) -> str | None:
    """An object's property: 2012+ attribute, or a 2005/2008 <DTS:Property> child."""
    value = elem.get(f"{Q}{name}")
    if value is not None:
        return value
    for child in elem.findall(f"{Q}Property"):
        if child.get(f"{Q}Name") == name:
            return child.text or ""
    return None


def _variant_spec(code: str | None) -> TypeSpec:
    vt = VARIANT_TYPES.get(int(code)) if code and code.strip().lstrip("-").isdigit() else None
    name = vt.dt if vt else "DT_WSTR"
    if name in ("DT_EMPTY", "DT_NULL"):
        name = "DT_EMPTY"
    return make_spec(name, length=4000 if name == "DT_WSTR" else 0)


def variables_of(root: etree._Element, project_params: dict[str, TypeSpec]) -> dict[str, TypeSpec]:
    out: dict[str, TypeSpec] = dict(project_params)
    for var in root.iter(f"{Q}Variable"):
        ns = _prop(var, "Namespace") or "User"
        name = _prop(var, "ObjectName")
        value = var.find(f"{Q}VariableValue")
        if not name:
            continue
        code = value.get(f"{Q}DataType") if value is not None else None
        out.setdefault(f"{ns}::{name}", _variant_spec(code))
    for param in root.iter(f"{Q}PackageParameter"):
        name = _prop(param, "ObjectName")
        if name:
            out[f"$Package::{name}"] = _variant_spec(_prop(param, "DataType"))
    return out


def project_parameters(package: Path) -> dict[str, TypeSpec]:
    """Parameters of the Project.params files beside the package (same repository folder)."""
    out: dict[str, TypeSpec] = {}
    for params in sorted(package.parent.glob("*Project.params")):
        try:
            root = etree.parse(str(params), PARSER).getroot()
        except etree.XMLSyntaxError:
            continue
        for p in root.iter(f"{{{SSIS}}}Parameter"):
            name = p.get(f"{{{SSIS}}}Name")
            code = None
            for prop in p.iter(f"{{{SSIS}}}Property"):
                if prop.get(f"{{{SSIS}}}Name") == "DataType":
                    code = prop.text
            if name:
                vt = variant_from_typecode(int(code)) if code and code.isdigit() else None
                spec = _variant_spec(str(vt.code)) if vt else make_spec("DT_WSTR", length=4000)
                out[f"$Project::{name}"] = spec
    return out


def _column_spec(col: etree._Element) -> TypeSpec | None:
    token = col.get("dataType") or col.get("cachedDataType")
    if not token:
        return None
    t = ssis_type(token)

    def num(attr: str) -> int:
        raw = col.get(attr) or col.get("cached" + attr[0].upper() + attr[1:]) or "0"
        return int(raw) if raw.strip().lstrip("-").isdigit() else 0

    return make_spec(
        t.name,
        length=num("length") or (4000 if t.name in ("DT_WSTR", "DT_STR", "DT_BYTES") else 0),
        precision=num("precision"),
        scale=num("scale"),
        codepage=num("codePage"),
    )


def _pipeline_expressions(package: str, pipeline: etree._Element) -> Iterator[StoredExpression]:
    by_lineage: dict[str, tuple[str, TypeSpec]] = {}
    for col in pipeline.iter("outputColumn"):
        spec = _column_spec(col)
        if spec is None:
            continue
        for key in {col.get("lineageId"), col.get("refId"), col.get("id")} - {None}:
            assert key is not None
            by_lineage.setdefault(key, (col.get("name") or "", spec))
    all_names: dict[str, TypeSpec] = {}
    for name, spec in by_lineage.values():
        all_names.setdefault(name, spec)
    for comp in pipeline.iter("component"):
        comp_name = comp.get("name") or comp.get("refId") or "?"
        inputs: dict[str, TypeSpec] = {}
        for col in comp.iter("inputColumn"):
            ref = col.get("lineageId") or ""
            name = col.get("cachedName") or (
                by_lineage[ref][0] if ref in by_lineage else col.get("name")
            )
            spec = by_lineage[ref][1] if ref in by_lineage else _column_spec(col)
            if name and spec is not None:
                inputs[name] = spec
        columns = {**all_names, **inputs}
        lineage_cols = {f"#{key}": spec for key, (_n, spec) in by_lineage.items()}
        lineage = {key: f"#{key}" for key in by_lineage}
        for prop in comp.iter("property"):
            pname = prop.get("name")
            if pname not in ("Expression", "FriendlyExpression") or not (prop.text or "").strip():
                continue
            owner = prop.getparent().getparent() if prop.getparent() is not None else None
            if owner is None or owner.tag == "component":
                continue
            host = "ConditionalSplit" if owner.tag == "output" else "DerivedColumn"
            where = (
                f"{comp_name} / {owner.get('name') or owner.get('refId') or owner.tag} / {pname}"
            )
            cols = {**columns, **lineage_cols} if pname == "Expression" else columns
            yield StoredExpression(package, host, where, prop.text or "", cols, lineage)


def expressions_of(
    path: Path, corpus_root: Path
) -> tuple[list[StoredExpression], dict[str, TypeSpec]]:
    package = path.relative_to(corpus_root).as_posix()
    root = etree.parse(str(path), PARSER).getroot()
    variables = variables_of(root, project_parameters(path))
    found: list[StoredExpression] = []
    for pe in root.iter(f"{Q}PropertyExpression"):
        if (pe.text or "").strip():
            found.append(
                StoredExpression(
                    package, "PropertyExpression", pe.get(f"{Q}Name") or "?", pe.text or ""
                )
            )
    for pc in root.iter(f"{Q}PrecedenceConstraint"):
        text = _prop(pc, "Expression")
        if text and text.strip():
            found.append(
                StoredExpression(
                    package, "PrecedenceConstraint", _prop(pc, "ObjectName") or "?", text
                )
            )
    for exe in root.iter(f"{Q}Executable"):
        for name in ("InitExpression", "EvalExpression", "AssignExpression"):
            text = _prop(exe, name)
            if text and text.strip():
                found.append(
                    StoredExpression(
                        package, f"ForLoop.{name}", _prop(exe, "ObjectName") or "?", text
                    )
                )
    for var in root.iter(f"{Q}Variable"):
        flag = (_prop(var, "EvaluateAsExpression") or "").strip().lower()
        text = _prop(var, "Expression")
        if flag in ("true", "-1", "1") and text and text.strip():
            where = f"{_prop(var, 'Namespace') or 'User'}::{_prop(var, 'ObjectName')}"
            found.append(StoredExpression(package, "Variable", where, text))
    for pipeline in root.iter("pipeline"):
        found.extend(_pipeline_expressions(package, pipeline))
    return found, variables
