"""The .dtsx writer: the package model as a format-8 (SQL Server 2014+) package.

Layout follows what SSDT writes (``reference/ssis/dtsx-format.md`` §1 and §3): ``DTS:``
attributes with ``refId`` first and the rest in case-insensitive alphabetical order, collection
wrappers (``DTS:Executables``, ``DTS:Variables``...), child elements in SSDT's order, booleans as
``True``/``False``, defaults omitted where SSDT omits them, the pipeline un-namespaced with refIds
and refId lineage ids. Loading the written file gives a model equal to the one written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from lxml import etree

from dataflow.package.model import (
    ColumnType,
    Component,
    ConnectionManager,
    CustomProperty,
    Executable,
    ExternalColumn,
    Input,
    LoggingOptions,
    Output,
    Package,
    Pipeline,
    PropertyExpression,
    Variable,
    XmlNode,
)

DTS_NS = "www.microsoft.com/SqlServer/Dts"
D = f"{{{DTS_NS}}}"
FORMAT_VERSION = 8


def _order(keys: Iterable[str]) -> list[str]:
    ks = list(dict.fromkeys(keys))
    first = [k for k in ks if k == "refId"]
    return first + sorted((k for k in ks if k != "refId"), key=str.lower)


def _dts(parent: etree._Element | None, tag: str, attrs: Mapping[str, str]) -> etree._Element:
    """A ``DTS:tag`` element with ``DTS:``-qualified attributes in SSDT order."""
    if parent is None:
        el = etree.Element(f"{D}{tag}", nsmap={"DTS": DTS_NS})
    else:
        el = etree.SubElement(parent, f"{D}{tag}")
    for k in _order(attrs):
        el.set(f"{D}{k}", attrs[k])
    return el


def _plain(parent: etree._Element, tag: str, attrs: Mapping[str, str]) -> etree._Element:
    el = etree.SubElement(parent, tag)
    for k in _order(attrs):
        el.set(k, attrs[k])
    return el


def _node(parent: etree._Element, node: XmlNode) -> etree._Element:
    nsmap = {(k or None): v for k, v in node.nsmap.items() if v != DTS_NS} or None
    el = etree.SubElement(parent, node.tag, nsmap=nsmap)  # type: ignore[arg-type]
    for k, v in node.attrs.items():
        el.set(k, v)
    el.text = node.text
    for c in node.children:
        _node(el, c)
    el.tail = node.tail
    return el


def _identity(
    ref_id: str | None, name: str, dtsid: str, creation_name: str | None, description: str = ""
) -> dict[str, str]:
    out: dict[str, str] = {}
    if ref_id:
        out["refId"] = ref_id
    if creation_name is not None:
        out["CreationName"] = creation_name
    if dtsid:
        out["DTSID"] = dtsid
    if description:
        out["Description"] = description
    out["ObjectName"] = name
    return out


def _prop_exprs(parent: etree._Element, exprs: Iterable[PropertyExpression]) -> None:
    for pe in exprs:
        _dts(parent, "PropertyExpression", {"Name": pe.name}).text = pe.expression


# ------------------------------------------------------------------------------------------------
# Control flow
# ------------------------------------------------------------------------------------------------


def _variable(parent: etree._Element, v: Variable) -> None:
    attrs = _identity(None, v.name, v.dtsid, v.properties.get("CreationName", ""), v.description)
    attrs.update(v.properties)
    attrs["Namespace"] = v.namespace
    if v.expression:
        attrs["Expression"] = v.expression
    if v.evaluate_as_expression:
        attrs["EvaluateAsExpression"] = "True"
    if v.read_only:
        attrs["ReadOnly"] = "True"
    if v.raise_changed_event:
        attrs["RaiseChangedEvent"] = "True"
    el = _dts(parent, "Variable", attrs)
    _prop_exprs(el, v.property_expressions)
    if v.value_node is not None:
        vv = _node(el, v.value_node)
    else:
        vattrs = {"DataType": str(v.data_type)}
        if v.data_subtype:
            vattrs["DataSubType"] = v.data_subtype
        vv = _dts(el, "VariableValue", vattrs)
        vv.text = v.value


def _logging(parent: etree._Element, lo: LoggingOptions) -> None:
    el = _dts(parent, "LoggingOptions", lo.properties)
    for c in lo.children:
        _node(el, c)


def _executable(
    parent: etree._Element | None, e: Executable, tag: str = "Executable"
) -> etree._Element:
    attrs = _identity(e.ref_id, e.name, e.dtsid, e.creation_name, e.description)
    if tag == "EventHandler" and not e.name:
        del attrs["ObjectName"]  # SSDT names event handlers by EventName only
    if e.executable_type:
        attrs["ExecutableType"] = e.executable_type
    if e.event_name:
        attrs["EventName"] = e.event_name
    attrs.update(e.properties)
    el = _dts(parent, tag, attrs)
    return _executable_body(el, e)


def _executable_body(el: etree._Element, e: Executable) -> etree._Element:
    if e.foreach_enumerator is not None:
        fe = e.foreach_enumerator
        fattrs = _identity(None, fe.name, fe.dtsid, fe.creation_name)
        fattrs.update(fe.properties)
        fel = _dts(el, "ForEachEnumerator", fattrs)
        _prop_exprs(fel, fe.property_expressions)
        if fe.payload is not None:
            _node(_dts(fel, "ObjectData", {}), fe.payload)
    variables = _dts(el, "Variables", {})
    for v in e.variables:
        _variable(variables, v)
    if e.logging is not None:
        _logging(el, e.logging)
    _prop_exprs(el, e.property_expressions)
    if e.executables or e.kind in ("package", "sequence", "forloop", "foreachloop", "eventhandler"):
        exes = _dts(el, "Executables", {})
        for c in e.executables:
            _executable(exes, c)
    if e.constraints:
        pcs = _dts(el, "PrecedenceConstraints", {})
        for pc in e.constraints:
            attrs = _identity(pc.ref_id, pc.name, pc.dtsid, pc.properties.get("CreationName", ""))
            attrs.update(pc.properties)
            attrs["From"] = pc.from_ref
            attrs["To"] = pc.to_ref
            attrs["LogicalAnd"] = "True" if pc.logical_and else "False"
            if pc.value != 0:
                attrs["Value"] = str(pc.value)
            if pc.eval_op != 2:
                attrs["EvalOp"] = str(pc.eval_op)
            if pc.expression:
                attrs["Expression"] = pc.expression
            _dts(pcs, "PrecedenceConstraint", attrs)
    if e.event_handlers:
        ehs = _dts(el, "EventHandlers", {})
        for h in e.event_handlers:
            _executable(ehs, h, "EventHandler")
    if e.variable_mappings:
        maps = _dts(el, "ForEachVariableMappings", {})
        for m in e.variable_mappings:
            attrs = _identity(None, m.name, m.dtsid, m.properties.get("CreationName", ""))
            attrs.update(m.properties)
            attrs["ValueIndex"] = str(m.value_index)
            attrs["VariableName"] = m.variable_name
            _dts(maps, "ForEachVariableMapping", attrs)
    if e.pipeline is not None:
        _pipeline(_dts(el, "ObjectData", {}), e.pipeline)
    elif e.payload is not None:
        _node(_dts(el, "ObjectData", {}), e.payload)
    return el


def connection_manager_element(
    cm: ConnectionManager, parent: etree._Element | None = None
) -> etree._Element:
    """A ``DTS:ConnectionManager`` element (inside a package, or the root of a .conmgr file)."""
    attrs = _identity(cm.ref_id, cm.name, cm.dtsid, cm.creation_name, cm.description)
    attrs.update(cm.properties)
    el = _dts(parent, "ConnectionManager", attrs)
    _prop_exprs(el, cm.property_expressions)
    od = _dts(el, "ObjectData", {})
    if cm.payload is not None:
        _node(od, cm.payload)
        return el
    inner_attrs = dict(cm.object_properties)
    if cm.connection_string or not cm.object_properties:
        inner_attrs["ConnectionString"] = cm.connection_string
    inner = _dts(od, "ConnectionManager", inner_attrs)
    if cm.flat_file_columns:
        cols = _dts(inner, "FlatFileColumns", {})
        for c in cm.flat_file_columns:
            a = dict(c.properties)
            a["ObjectName"] = c.name
            if c.dtsid:
                a["DTSID"] = c.dtsid
            a.setdefault("CreationName", "")
            _dts(cols, "FlatFileColumn", a)
    for child in cm.object_children:
        _node(inner, child)
    return el


def package_element(pkg: Package) -> etree._Element:
    attrs = _identity(pkg.ref_id, pkg.name, pkg.dtsid, pkg.creation_name, pkg.description)
    attrs["ExecutableType"] = pkg.executable_type or "Microsoft.Package"
    attrs.update(pkg.properties)
    root = _dts(None, "Executable", attrs)
    _dts(root, "Property", {"Name": "PackageFormatVersion"}).text = str(FORMAT_VERSION)
    if pkg.connection_managers:
        cms = _dts(root, "ConnectionManagers", {})
        for cm in pkg.connection_managers:
            connection_manager_element(cm, cms)
    if pkg.configurations:
        cfgs = _dts(root, "Configurations", {})
        for c in pkg.configurations:
            a = _identity(
                None, c.name, c.dtsid, c.properties.get("CreationName", ""), c.description
            )
            a.update(c.properties)
            a["ConfigurationString"] = c.string
            if c.variable:
                a["ConfigurationVariable"] = c.variable
            if c.type:
                a["ConfigurationType"] = str(c.type)
            _dts(cfgs, "Configuration", a)
    if pkg.log_providers:
        lps = _dts(root, "LogProviders", {})
        for lp in pkg.log_providers:
            a = _identity(lp.ref_id, lp.name, lp.dtsid, lp.creation_name, lp.description)
            a.update(lp.properties)
            a["ConfigString"] = lp.config_string
            lel = _dts(lps, "LogProvider", a)
            if lp.payload is not None:
                _node(_dts(lel, "ObjectData", {}), lp.payload)
    if pkg.parameters:
        pps = _dts(root, "PackageParameters", {})
        for p in pkg.parameters:
            a = _identity(
                None, p.name, p.dtsid, p.properties.get("CreationName", ""), p.description
            )
            a.update(p.properties)
            a["DataType"] = str(p.data_type)
            if p.required:
                a["Required"] = "True"
            if p.sensitive:
                a["Sensitive"] = "True"
            pel = _dts(pps, "PackageParameter", a)
            if p.value is not None:
                _dts(
                    pel, "Property", {"DataType": str(p.data_type), "Name": "ParameterValue"}
                ).text = p.value
    return _executable_body(root, pkg)


# ------------------------------------------------------------------------------------------------
# Pipeline
# ------------------------------------------------------------------------------------------------


def _type_attrs(t: ColumnType, prefix: str = "") -> dict[str, str]:
    def key(name: str) -> str:
        if not prefix:
            return name
        if name == "codePage":
            return f"{prefix}Codepage"
        return f"{prefix}{name[0].upper()}{name[1:]}"

    out: dict[str, str] = {}
    if t.data_type or not prefix:
        out[key("dataType")] = t.data_type
    for name, value in (
        ("length", t.length),
        ("precision", t.precision),
        ("scale", t.scale),
        ("codePage", t.code_page),
    ):
        if value:
            out[key(name)] = str(value)
    return out


def _properties(parent: etree._Element, props: tuple[CustomProperty, ...]) -> None:
    if not props:
        return
    pel = etree.SubElement(parent, "properties")
    for p in props:
        attrs = dict(p.attrs)
        count = attrs.pop("arrayElementCount", None)
        attrs["name"] = p.name
        el = _plain(pel, "property", attrs)
        if p.elements is not None:
            arr = etree.SubElement(el, "arrayElements")
            arr.set("arrayElementCount", count or str(len(p.elements)))
            for a in p.elements:
                _node(arr, a)
        else:
            el.text = p.value


def _external(
    parent: etree._Element, attrs: Mapping[str, str] | None, cols: tuple[ExternalColumn, ...]
) -> None:
    if attrs is None and not cols:
        return
    ext = _plain(parent, "externalMetadataColumns", attrs or {})
    for x in cols:
        a = {"refId": x.ref_id, "name": x.name, **_type_attrs(x.type), **x.attrs}
        xel = _plain(ext, "externalMetadataColumn", a)
        _properties(xel, x.custom_properties)


def _input(parent: etree._Element, i: Input) -> None:
    el = _plain(parent, "input", {"refId": i.ref_id, "name": i.name, **i.attrs})
    _properties(el, i.custom_properties)
    if i.columns:
        cols = etree.SubElement(el, "inputColumns")
        for c in i.columns:
            a = {"refId": c.ref_id, "lineageId": c.lineage_id, "cachedName": c.cached_name}
            a.update(_type_attrs(c.cached_type, "cached"))
            a.update(c.attrs)
            cel = _plain(cols, "inputColumn", a)
            _properties(cel, c.custom_properties)
    _external(el, i.external_attrs, i.external_columns)


def _output(parent: etree._Element, o: Output) -> None:
    el = _plain(parent, "output", {"refId": o.ref_id, "name": o.name, **o.attrs})
    _properties(el, o.custom_properties)
    if o.columns:
        cols = etree.SubElement(el, "outputColumns")
        for c in o.columns:
            a = {
                "refId": c.ref_id,
                "name": c.name,
                "lineageId": c.lineage_id,
                **_type_attrs(c.type),
            }
            a.update(c.attrs)
            cel = _plain(cols, "outputColumn", a)
            _properties(cel, c.custom_properties)
    _external(el, o.external_attrs, o.external_columns)


def _component(parent: etree._Element, c: Component) -> None:
    attrs = {"refId": c.ref_id, "name": c.name, "componentClassID": c.class_id, **c.attrs}
    if c.description:
        attrs["description"] = c.description
    el = _plain(parent, "component", attrs)
    _properties(el, c.custom_properties)
    if c.connections:
        conns = etree.SubElement(el, "connections")
        for k in c.connections:
            a = {"refId": k.ref_id, "name": k.name, **k.attrs}
            a["connectionManagerID"] = k.manager_id if ":" in k.manager_id else k.manager_ref
            if k.manager_ref:
                a["connectionManagerRefId"] = k.manager_ref
            _plain(conns, "connection", a)
    if c.inputs:
        ins = etree.SubElement(el, "inputs")
        for i in c.inputs:
            _input(ins, i)
    if c.outputs:
        outs = etree.SubElement(el, "outputs")
        for o in c.outputs:
            _output(outs, o)


def _pipeline(parent: etree._Element, p: Pipeline) -> None:
    attrs = dict(p.attrs)
    attrs.setdefault("version", "1")
    el = _plain(parent, "pipeline", attrs)
    comps = etree.SubElement(el, "components")
    for c in p.components:
        _component(comps, c)
    paths = etree.SubElement(el, "paths")
    for path in p.paths:
        _plain(
            paths,
            "path",
            {
                "refId": path.ref_id,
                "name": path.name,
                "startId": path.start_ref,
                "endId": path.end_ref,
                **path.attrs,
            },
        )
    for x in p.extra:
        _node(el, x)


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------


def to_xml_bytes(pkg: Package) -> bytes:
    """The package as format-8 .dtsx bytes (UTF-8, indented like SSDT writes)."""
    root = package_element(pkg)
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0"?>\n' + body + b"\n"


def save_package(pkg: Package, path: str | os.PathLike[str]) -> None:
    """Write ``pkg`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    target = Path(path)
    data = to_xml_bytes(pkg)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
