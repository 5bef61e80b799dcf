"""The .dtsx reader: formats 2 (2005), 3 (2008/R2), 6 (2012) and 8 (2014-2025) into one model.

Formats 6 and 8 keep properties as ``DTS:`` attributes inside collection wrappers
(``DTS:Executables``...); formats 2 and 3 keep them as ``<DTS:Property DTS:Name=…>`` children with
no wrappers, numeric pipeline ids and DTSID references. :func:`_props` and :func:`_items` hide the
difference; for old formats refIds are derived the way SSIS names objects (``Package\\Task``,
``…\\Comp.Outputs[Out].Columns[Col]``) and numeric lineage ids / ``#17`` expression references are
rewritten to refIds (numeric ids are kept in ``id`` fields).

Sensitive values encrypted in the file (EncryptSensitiveWith…) are left out and listed in the
owning object's ``encrypted`` field; a package encrypted whole (EncryptAll…) raises
:class:`EncryptedPackageError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from lxml import etree

from dataflow.core.errors import EncryptedPackageError, LoadError
from dataflow.package.model import (
    EMPTY,
    ColumnType,
    Component,
    ComponentConnection,
    Configuration,
    ConnectionManager,
    CustomProperty,
    DataFlowPath,
    Executable,
    ExternalColumn,
    FlatFileColumn,
    ForEachEnumerator,
    ForEachVariableMapping,
    FrozenMap,
    Input,
    InputColumn,
    LoggingOptions,
    LogProvider,
    Output,
    OutputColumn,
    Package,
    Parameter,
    Pipeline,
    PrecedenceConstraint,
    PropertyExpression,
    Variable,
    XmlNode,
    to_bool,
    to_int,
)
from dataflow.package.xmlsafe import (
    ENCRYPTED_DATA,
    ENCRYPTED_NAME,
    local,
    parse_file,
    parse_xml,
    to_node,
)

DTS_NS = "www.microsoft.com/SqlServer/Dts"
D = f"{{{DTS_NS}}}"
SUPPORTED_FORMATS = (2, 3, 6, 8)

# Properties whose values are booleans: normalised to True/False whatever the format wrote.
BOOL_PROPS = frozenset(
    {
        "Disabled",
        "DelayValidation",
        "FailPackageOnFailure",
        "FailParentOnFailure",
        "DisableEventHandlers",
        "EnableConfig",
        "SaveCheckpoints",
        "SuppressConfigurationWarnings",
        "ForceExecValue",
        "EvaluateAsExpression",
        "ReadOnly",
        "RaiseChangedEvent",
        "LogicalAnd",
        "Required",
        "Sensitive",
        "TextQualified",
        "ColumnNamesInFirstDataRow",
        "Unicode",
        "AlwaysCheckForRowDelimiters",
        "OfflineMode",
        "RetainSameConnection",
        "IsStoredProcedure",
        "BypassPrepare",
        "InteractiveMode",
        "UpdateObjects",
        "SuppressEventHandlers",
        "ValidateExternalMetadata",
        "OverwriteDestination",
        "IsDestinationPathVariable",
        "IsSourcePathVariable",
        "FastParse",
        "UseBinaryFormat",
    }
)

# Identity fields pulled out of the property bag into typed fields.
_IDENTITY = ("refId", "ObjectName", "DTSID", "Description", "CreationName", "ExecutableType")


def _norm(name: str, value: str) -> str:
    if name in BOOL_PROPS and value.strip() in ("-1", "0", "1", "true", "false", "True", "False"):
        return "True" if to_bool(value) else "False"
    return value


class _Ctx:
    """Per-load state: format, encrypted property names, DTSID -> refId maps."""

    def __init__(self, fmt: int, source: str):
        self.fmt = fmt
        self.source = source
        self.old = fmt < 6
        self.cm_by_dtsid: dict[str, str] = {}

    def props(self, elem: etree._Element) -> dict[str, str]:
        """Scalar properties of a DTS element: DTS attributes plus leaf ``DTS:Property`` children."""
        out: dict[str, str] = {}
        for k, v in elem.attrib.items():
            k = str(k)
            if k.startswith(D):
                name = k[len(D) :]
                out[name] = _norm(name, str(v))
            elif k in ("Encrypted",):
                continue
        for child in elem:
            if child.tag == f"{D}Property" and len(child) == 0:
                name = str(child.get(f"{D}Name", ""))
                if not name or child.get("Encrypted") == "1":
                    continue
                out[name] = _norm(name, child.text or "")
        return out


def _items(elem: etree._Element, tag: str, wrapper: str | None) -> Iterator[etree._Element]:
    """Children ``DTS:tag`` directly under ``elem`` (formats 2/3) or inside ``DTS:wrapper`` (6/8)."""
    for child in elem:
        if child.tag == f"{D}{tag}":
            yield child
        elif wrapper and child.tag == f"{D}{wrapper}":
            for c in child:
                if c.tag == f"{D}{tag}":
                    yield c


def _encrypted_names(elem: etree._Element) -> list[str]:
    """Names of encrypted sensitive values directly inside ``elem`` (and its ObjectData)."""
    names: list[str] = []
    for c in elem.iter():
        if c is not elem and isinstance(c.tag, str) and c.get("Encrypted") == "1":
            names.append(str(c.get(f"{D}Name") or local(c.tag)))
    return names


def _prop_exprs(elem: etree._Element) -> tuple[PropertyExpression, ...]:
    return tuple(
        PropertyExpression(str(c.get(f"{D}Name", "")), c.text or "")
        for c in elem
        if c.tag == f"{D}PropertyExpression"
    )


def _rest(props: dict[str, str], *drop: str) -> FrozenMap:
    return FrozenMap((k, v) for k, v in props.items() if k not in _IDENTITY and k not in drop)


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------


def load_package(path: str | Path, *, password: str | None = None) -> Package:
    """Load a .dtsx file (any format) into the package model."""
    del password  # package passwords cannot decrypt DPAPI/3DES blobs here; see encrypted fields
    p = Path(path)
    root = parse_file(p)
    return read_package(root, str(p))


def load_package_bytes(data: bytes, source: str = "<bytes>") -> Package:
    return read_package(parse_xml(data, source), source)


def package_format(root: etree._Element) -> int:
    for child in root:
        if child.tag == f"{D}Property" and child.get(f"{D}Name") == "PackageFormatVersion":
            return to_int(child.text, -1)
    return -1


def read_package(root: etree._Element, source: str) -> Package:
    if root.tag != f"{D}Executable":
        raise LoadError(
            "DTS_E_WRONGROOTELEMENT",
            f"the root element is <{local(root.tag)}>, not <DTS:Executable> "
            f"in namespace {DTS_NS!r}",
            path=source,
            hint="this is not a .dtsx package",
        )
    if root.get("Encrypted") == "1" or any(
        isinstance(c.tag, str) and local(c.tag) == "EncryptedData" for c in root
    ):
        level = to_int(root.get(f"{D}ProtectionLevel"), 4)
        code = "DTS_E_PACKAGEPASSWORD" if level == 3 else "DTS_E_DECRYPTPACKAGE_USERKEY"
        raise EncryptedPackageError(
            code,
            "the package is encrypted whole (ProtectionLevel "
            f"{'EncryptAllWithPassword' if level == 3 else 'EncryptAllWithUserKey'}); "
            "its content cannot be read here",
            path=source,
            hint="re-save it from SSDT with ProtectionLevel DontSaveSensitive or "
            "EncryptSensitiveWithPassword and supply sensitive values at run time",
        )
    fmt = package_format(root)
    if fmt == -1:
        # Formats 2/3 keep it as a property too; a file without it is not a package we know.
        raise LoadError(
            "DTS_E_UNSUPPORTEDFORMATVERSION",
            "the package has no PackageFormatVersion property",
            path=source,
            hint="supported formats: 2 (2005), 3 (2008), 6 (2012), 8 (2014+)",
        )
    if fmt not in SUPPORTED_FORMATS:
        raise LoadError(
            "DTS_E_UNSUPPORTEDFORMATVERSION",
            f"PackageFormatVersion {fmt} is not supported",
            path=source,
            hint="supported formats: 2 (2005), 3 (2008), 6 (2012), 8 (2014+)",
        )
    ctx = _Ctx(fmt, source)
    try:
        return _read_package(ctx, root)
    except LoadError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # malformed but parseable XML
        raise LoadError(
            "DTS_E_CANTLOADFROMNODE",
            f"unexpected package content: {exc}",
            path=source,
            hint="the file does not follow the .dtsx layout; report it with the file attached",
        ) from exc


def _read_package(ctx: _Ctx, root: etree._Element) -> Package:
    props = ctx.props(root)
    props.pop("PackageFormatVersion", None)
    cms = tuple(
        _read_cm(ctx, e, "Package") for e in _items(root, "ConnectionManager", "ConnectionManagers")
    )
    for cm in cms:
        if cm.dtsid:
            ctx.cm_by_dtsid[cm.dtsid.upper()] = cm.ref_id
    params = tuple(
        _read_parameter(ctx, e) for e in _items(root, "PackageParameter", "PackageParameters")
    )
    configs = tuple(_read_config(ctx, e) for e in _items(root, "Configuration", "Configurations"))
    providers = tuple(
        _read_log_provider(ctx, e) for e in _items(root, "LogProvider", "LogProviders")
    )
    base = _read_executable(ctx, root, "Package", "Package")
    enc = list(base.encrypted)
    for cm in cms:
        enc += [f"{cm.ref_id}.{n}" for n in cm.encrypted]
    return Package(
        ref_id=base.ref_id,
        name=base.name,
        creation_name=base.creation_name,
        executable_type=base.executable_type,
        dtsid=base.dtsid,
        description=base.description,
        properties=base.properties.without("PackageFormatVersion"),
        variables=base.variables,
        property_expressions=base.property_expressions,
        logging=base.logging,
        executables=base.executables,
        constraints=base.constraints,
        event_handlers=base.event_handlers,
        connection_managers=cms,
        parameters=params,
        configurations=configs,
        log_providers=providers,
        format_version=ctx.fmt,
        source_path=ctx.source,
        encrypted=tuple(enc) + tuple(f"{p.qualified_name}" for p in params if p.encrypted),
    )


# ------------------------------------------------------------------------------------------------
# Package-level collections
# ------------------------------------------------------------------------------------------------


def read_connection_manager(
    elem: etree._Element,
    scope: Literal["Package", "Project"] = "Package",
    fmt: int = 8,
    source: str = "",
) -> ConnectionManager:
    """A connection manager element (also the root of a project's .conmgr file)."""
    return _read_cm(_Ctx(fmt, source), elem, scope)


def _read_cm(
    ctx: _Ctx, elem: etree._Element, scope: Literal["Package", "Project"]
) -> ConnectionManager:
    props = ctx.props(elem)
    name = props.get("ObjectName", "")
    ref = props.get("refId") or f"{scope}.ConnectionManagers[{name}]"
    encrypted: list[str] = []
    object_props: dict[str, str] = {}
    ff_cols: list[FlatFileColumn] = []
    others: list[XmlNode] = []
    payload: XmlNode | None = None
    conn_str = props.pop("ConnectionString", "")
    for od in (c for c in elem if c.tag == f"{D}ObjectData"):
        for inner in od:
            if not isinstance(inner.tag, str):
                continue
            if inner.tag == f"{D}ConnectionManager":
                object_props = ctx.props(inner)
                conn_str = object_props.pop("ConnectionString", conn_str)
                for c in inner:
                    if not isinstance(c.tag, str) or (c.tag == f"{D}Property" and len(c) == 0):
                        if isinstance(c.tag, str) and c.get("Encrypted") == "1":
                            encrypted.append(str(c.get(f"{D}Name", local(c.tag))))
                        continue
                    if c.tag == ENCRYPTED_DATA:
                        encrypted.append(ENCRYPTED_NAME)
                    elif c.tag == f"{D}FlatFileColumns":
                        ff_cols += [
                            _read_ff_col(ctx, fc) for fc in c if fc.tag == f"{D}FlatFileColumn"
                        ]
                    elif c.tag == f"{D}FlatFileColumn":
                        ff_cols.append(_read_ff_col(ctx, c))
                    else:
                        others.append(to_node(c, encrypted))
            else:
                payload = to_node(inner, encrypted)
    return ConnectionManager(
        ref_id=ref,
        name=name,
        creation_name=props.get("CreationName", ""),
        dtsid=props.get("DTSID", ""),
        description=props.get("Description", ""),
        connection_string=conn_str,
        properties=_rest(props),
        object_properties=FrozenMap(object_props),
        flat_file_columns=tuple(ff_cols),
        object_children=tuple(others),
        payload=payload,
        property_expressions=_prop_exprs(elem),
        scope=scope,
        encrypted=tuple(encrypted),
    )


def _read_ff_col(ctx: _Ctx, elem: etree._Element) -> FlatFileColumn:
    props = ctx.props(elem)
    return FlatFileColumn(
        name=props.get("ObjectName", ""),
        dtsid=props.get("DTSID", ""),
        properties=_rest(props),
    )


def _read_parameter(ctx: _Ctx, elem: etree._Element) -> Parameter:
    props = ctx.props(elem)
    value: str | None = props.pop("ParameterValue", None)
    encrypted = any(
        c.tag == f"{D}Property"
        and c.get(f"{D}Name") == "ParameterValue"
        and c.get("Encrypted") == "1"
        for c in elem
    )
    return Parameter(
        name=props.get("ObjectName", ""),
        data_type=to_int(props.pop("DataType", None), 8),
        value=value,
        dtsid=props.get("DTSID", ""),
        required=to_bool(props.pop("Required", None)),
        sensitive=to_bool(props.pop("Sensitive", None)),
        description=props.get("Description", ""),
        scope="Package",
        properties=_rest(props),
        encrypted=encrypted,
    )


def _read_config(ctx: _Ctx, elem: etree._Element) -> Configuration:
    props = ctx.props(elem)
    return Configuration(
        name=props.get("ObjectName", ""),
        type=to_int(props.pop("ConfigurationType", None), 0),
        string=props.pop("ConfigurationString", ""),
        variable=props.pop("ConfigurationVariable", ""),
        dtsid=props.get("DTSID", ""),
        description=props.get("Description", ""),
        properties=_rest(props),
    )


def _read_log_provider(ctx: _Ctx, elem: etree._Element) -> LogProvider:
    props = ctx.props(elem)
    name = props.get("ObjectName", "")
    payload = None
    for od in (c for c in elem if c.tag == f"{D}ObjectData"):
        kids = [k for k in od if isinstance(k.tag, str)]
        if kids:
            payload = to_node(kids[0])
    return LogProvider(
        ref_id=props.get("refId") or f"Package.LogProviders[{name}]",
        name=name,
        creation_name=props.get("CreationName", ""),
        dtsid=props.get("DTSID", ""),
        description=props.get("Description", ""),
        config_string=props.pop("ConfigString", ""),
        properties=_rest(props),
        payload=payload,
    )


# ------------------------------------------------------------------------------------------------
# Executables
# ------------------------------------------------------------------------------------------------


def _read_variable(ctx: _Ctx, elem: etree._Element) -> Variable:
    props = ctx.props(elem)
    value = ""
    dtype = 8
    subtype = ""
    value_node: XmlNode | None = None
    for c in elem:
        if c.tag == f"{D}VariableValue":
            dtype = to_int(c.get(f"{D}DataType"), 8)
            subtype = str(c.get(f"{D}DataSubType", ""))
            if len(c):
                value_node = to_node(c)
            else:
                value = c.text or ""
    return Variable(
        namespace=props.pop("Namespace", "User"),
        name=props.get("ObjectName", ""),
        dtsid=props.get("DTSID", ""),
        data_type=dtype,
        value=value,
        expression=props.pop("Expression", ""),
        evaluate_as_expression=to_bool(props.pop("EvaluateAsExpression", None)),
        read_only=to_bool(props.pop("ReadOnly", None)),
        raise_changed_event=to_bool(props.pop("RaiseChangedEvent", None)),
        data_subtype=subtype,
        description=props.get("Description", ""),
        properties=_rest(props),
        property_expressions=_prop_exprs(elem),
        value_node=value_node,
    )


def _read_logging(ctx: _Ctx, elem: etree._Element) -> LoggingOptions:
    props: dict[str, str] = {}
    for k, v in elem.attrib.items():
        if str(k).startswith(D):
            props[str(k)[len(D) :]] = str(v)
    children: list[XmlNode] = []
    for c in elem:
        if not isinstance(c.tag, str):
            continue
        name = c.get(f"{D}Name")
        if c.tag == f"{D}Property" and name in ("LoggingMode", "FilterKind") and len(c) == 0:
            props[str(name)] = c.text or ""
        else:
            children.append(to_node(c))
    return LoggingOptions(FrozenMap(props), tuple(children))


def _read_constraint(
    ctx: _Ctx, elem: etree._Element, container_ref: str, by_dtsid: dict[str, str]
) -> PrecedenceConstraint:
    props = ctx.props(elem)
    name = props.get("ObjectName", "")
    from_ref = props.pop("From", "")
    to_ref = props.pop("To", "")
    for c in elem:
        if c.tag == f"{D}Executable" and c.get("IDREF"):
            target = by_dtsid.get(str(c.get("IDREF")).upper(), str(c.get("IDREF")))
            if to_bool(c.get(f"{D}IsFrom")):
                from_ref = target
            else:
                to_ref = target
    return PrecedenceConstraint(
        ref_id=props.get("refId") or f"{container_ref}.PrecedenceConstraints[{name}]",
        name=name,
        from_ref=from_ref,
        to_ref=to_ref,
        dtsid=props.get("DTSID", ""),
        value=to_int(props.pop("Value", None), 0),
        eval_op=to_int(props.pop("EvalOp", None), 2),
        expression=props.pop("Expression", ""),
        logical_and=to_bool(props.pop("LogicalAnd", None), True),
        properties=_rest(props),
    )


def _read_enumerator(ctx: _Ctx, elem: etree._Element) -> ForEachEnumerator:
    props = ctx.props(elem)
    payload = None
    for od in (c for c in elem if c.tag == f"{D}ObjectData"):
        kids = [k for k in od if isinstance(k.tag, str)]
        if kids:
            payload = to_node(kids[0])
    return ForEachEnumerator(
        creation_name=props.get("CreationName", ""),
        dtsid=props.get("DTSID", ""),
        name=props.get("ObjectName", ""),
        properties=_rest(props),
        payload=payload,
        property_expressions=_prop_exprs(elem),
    )


def _read_mapping(ctx: _Ctx, elem: etree._Element) -> ForEachVariableMapping:
    props = ctx.props(elem)
    return ForEachVariableMapping(
        value_index=to_int(props.pop("ValueIndex", None), 0),
        variable_name=props.pop("VariableName", ""),
        dtsid=props.get("DTSID", ""),
        name=props.get("ObjectName", ""),
        properties=_rest(props),
    )


def _read_executable(
    ctx: _Ctx, elem: etree._Element, ref: str | None, parent_ref: str, event_name: str = ""
) -> Executable:
    props = ctx.props(elem)
    name = props.get("ObjectName", "")
    if event_name:
        ref = props.get("refId") or f"{parent_ref}.EventHandlers[{event_name}]"
    elif ref is None:
        ref = props.get("refId") or f"{parent_ref}\\{name}"
    else:
        ref = props.get("refId") or ref
    children = tuple(
        _read_executable(ctx, c, None, ref) for c in _items(elem, "Executable", "Executables")
    )
    by_dtsid = {c.dtsid.upper(): c.ref_id for c in children if c.dtsid}
    constraints = tuple(
        _read_constraint(ctx, c, ref, by_dtsid)
        for c in _items(elem, "PrecedenceConstraint", "PrecedenceConstraints")
    )
    handlers = tuple(
        _read_executable(
            ctx, h, None, ref, event_name=ctx.props(h).get("EventName", "") or "OnEvent"
        )
        for h in _items(elem, "EventHandler", "EventHandlers")
    )
    logging = next((_read_logging(ctx, c) for c in elem if c.tag == f"{D}LoggingOptions"), None)
    enum = next((_read_enumerator(ctx, c) for c in elem if c.tag == f"{D}ForEachEnumerator"), None)
    mappings = tuple(
        _read_mapping(ctx, c)
        for c in _items(elem, "ForEachVariableMapping", "ForEachVariableMappings")
    )
    variables = tuple(_read_variable(ctx, c) for c in _items(elem, "Variable", "Variables"))
    creation = props.get("CreationName", "") or props.get("ExecutableType", "")
    pipeline: Pipeline | None = None
    payload: XmlNode | None = None
    encrypted: list[str] = []
    for od in (c for c in elem if c.tag == f"{D}ObjectData"):
        kids = [k for k in od if isinstance(k.tag, str)]
        if not kids:
            continue
        if local(kids[0].tag) == "pipeline":
            pipeline = _read_pipeline(ctx, kids[0], ref)
        else:
            payload = to_node(kids[0], encrypted)
    rest = _rest(props, "EventName") if event_name else _rest(props)
    if event_name:
        rest = rest.without("EventName")
    return Executable(
        ref_id=ref,
        name=name,
        creation_name=creation,
        executable_type=props.get("ExecutableType", ""),
        dtsid=props.get("DTSID", ""),
        description=props.get("Description", ""),
        properties=rest,
        variables=variables,
        property_expressions=_prop_exprs(elem),
        logging=logging,
        executables=children,
        constraints=constraints,
        event_handlers=handlers,
        foreach_enumerator=enum,
        variable_mappings=mappings,
        payload=payload,
        pipeline=pipeline,
        event_name=event_name,
        encrypted=tuple(encrypted),
    )


# ------------------------------------------------------------------------------------------------
# Pipeline (Data Flow task payload)
# ------------------------------------------------------------------------------------------------

_HASH_ID = re.compile(r"#(\d+)\b")
# Custom properties holding one lineage id: a bare number in formats 2/3, "#{refId}" in 6/8.
_ID_PROPS = frozenset(
    {
        "SourceInputColumnLineageID",
        "SortColumnId",
        "AggregationColumnId",
        "InputColumnID",
        "OutputColumnLineageID",
        "FileDataColumnID",
        "SourceColumn",
        "DestinationColumn",
    }
)
# Attributes that hold numeric ids in formats 2/3 and refIds in 6/8.
_ID_ATTRS = ("synchronousInputId", "externalMetadataColumnId", "mappedColumnId")


class _Ids:
    """Numeric id -> refId maps of an old-format pipeline."""

    def __init__(self) -> None:
        self.by_id: dict[int, str] = {}
        self.by_lineage: dict[int, str] = {}
        self.name_by_lineage: dict[int, str] = {}
        self.type_by_lineage: dict[int, dict[str, str]] = {}

    def ref(self, value: str | None) -> str | None:
        """An id attribute value as a refId (None for 0 / empty / unknown numeric)."""
        if value is None or value.strip() in ("", "0"):
            return None
        v = value.strip()
        if v.lstrip("-").isdigit():
            return self.by_id.get(int(v))
        return v

    def rewrite(self, text: str, *, lineage_only: bool = False) -> str:
        """``#17`` lineage references in expressions / ID properties -> ``#{refId}``."""

        def sub(m: re.Match[str]) -> str:
            n = int(m.group(1))
            target = self.by_lineage.get(n) or (None if lineage_only else self.by_id.get(n))
            return f"#{{{target}}}" if target else m.group(0)

        return _HASH_ID.sub(sub, text)


def _attrs(elem: etree._Element, drop: Iterable[str]) -> dict[str, str]:
    dropped = set(drop)
    return {str(k): str(v) for k, v in elem.attrib.items() if str(k) not in dropped}


def _child(elem: etree._Element, tag: str) -> etree._Element | None:
    for c in elem:
        if c.tag == tag:
            return c
    return None


def _kids(elem: etree._Element | None, tag: str) -> list[etree._Element]:
    return [] if elem is None else [c for c in elem if c.tag == tag]


def _int_or_none(v: str | None) -> int | None:
    return int(v) if v is not None and v.strip().lstrip("-").isdigit() else None


def _read_pipeline(ctx: _Ctx, elem: etree._Element, task_ref: str) -> Pipeline:
    ids = _Ids()
    comps_el = _kids(_child(elem, "components"), "component")
    # Pass 1 (old formats): assign refIds to every numbered object, so that references resolve.
    if ctx.old or any(c.get("refId") is None for c in comps_el):
        for c in comps_el:
            cref = c.get("refId") or f"{task_ref}\\{c.get('name', '')}"
            _register(ids, c, cref)
            for i in _kids(_child(c, "inputs"), "input"):
                iref = i.get("refId") or f"{cref}.Inputs[{i.get('name', '')}]"
                _register(ids, i, iref)
                for x in _kids(_child(i, "externalMetadataColumns"), "externalMetadataColumn"):
                    _register(
                        ids, x, x.get("refId") or f"{iref}.ExternalColumns[{x.get('name', '')}]"
                    )
            for o in _kids(_child(c, "outputs"), "output"):
                oref = o.get("refId") or f"{cref}.Outputs[{o.get('name', '')}]"
                _register(ids, o, oref)
                for col in _kids(_child(o, "outputColumns"), "outputColumn"):
                    colref = col.get("refId") or f"{oref}.Columns[{col.get('name', '')}]"
                    _register(ids, col, colref)
                    lin = _int_or_none(col.get("lineageId"))
                    if lin is not None:
                        ids.by_lineage[lin] = colref
                        ids.name_by_lineage[lin] = str(col.get("name", ""))
                        ids.type_by_lineage[lin] = {
                            k: str(col.get(k, "0"))
                            for k in ("dataType", "length", "precision", "scale", "codePage")
                        }
                for x in _kids(_child(o, "externalMetadataColumns"), "externalMetadataColumn"):
                    _register(
                        ids, x, x.get("refId") or f"{oref}.ExternalColumns[{x.get('name', '')}]"
                    )
    components = tuple(_read_component(ctx, ids, c, task_ref) for c in comps_el)
    paths = tuple(
        DataFlowPath(
            ref_id=p.get("refId") or f"{task_ref}.Paths[{p.get('name', '')}]",
            name=str(p.get("name", "")),
            start_ref=ids.ref(p.get("startId")) or str(p.get("startId", "")),
            end_ref=ids.ref(p.get("endId")) or str(p.get("endId", "")),
            attrs=FrozenMap(_attrs(p, ("refId", "id", "name", "startId", "endId"))),
            id=_int_or_none(p.get("id")),
        )
        for p in _kids(_child(elem, "paths"), "path")
    )
    extra = tuple(
        to_node(c) for c in elem if isinstance(c.tag, str) and c.tag not in ("components", "paths")
    )
    attrs = _attrs(elem, ("id",))
    attrs.setdefault("version", "1")  # format 8 always writes it
    return Pipeline(components, paths, FrozenMap(attrs), extra)


def _register(ids: _Ids, elem: etree._Element, ref: str) -> None:
    n = _int_or_none(elem.get("id"))
    if n is not None:
        ids.by_id[n] = ref


def _custom_props(ctx: _Ctx, ids: _Ids, elem: etree._Element) -> tuple[CustomProperty, ...]:
    out = []
    for p in _kids(_child(elem, "properties"), "property"):
        attrs = _attrs(p, ("id", "name"))
        contains_id = to_bool(attrs.get("containsID"))
        name = str(p.get("name", ""))
        value = p.text or ""
        is_expression = name in ("Expression", "FriendlyExpression")
        if (
            ctx.old
            and not is_expression
            and (contains_id or name in _ID_PROPS)
            and value.strip().isdigit()
        ):
            value = f"#{value.strip()}"  # a single-id property written as a bare number
        if ctx.old and (
            contains_id or name == "ParameterMap" or name in _ID_PROPS or is_expression
        ):
            value = ids.rewrite(value, lineage_only=is_expression)
        elements = None
        arr = _child(p, "arrayElements")
        if arr is not None:
            elements = tuple(to_node(a) for a in arr if isinstance(a.tag, str))
            attrs["arrayElementCount"] = str(arr.get("arrayElementCount", len(elements)))
            value = ""
        out.append(
            CustomProperty(name, value, FrozenMap(attrs), elements, _int_or_none(p.get("id")))
        )
    return tuple(out)


def _coltype(elem: etree._Element, prefix: str = "") -> ColumnType:
    def g(name: str) -> int:
        key = f"{prefix}{name[0].upper()}{name[1:]}" if prefix else name
        v = elem.get(key)
        if v is None and name == "codePage" and prefix:
            v = elem.get(f"{prefix}Codepage")
        return to_int(v)

    dt_key = f"{prefix}DataType" if prefix else "dataType"
    return ColumnType(
        data_type=str(elem.get(dt_key, "wstr" if not prefix else "")),
        length=g("length"),
        precision=g("precision"),
        scale=g("scale"),
        code_page=g("codePage"),
    )


_TYPE_ATTRS = ("dataType", "length", "precision", "scale", "codePage")
_CACHED_ATTRS = (
    "cachedDataType",
    "cachedLength",
    "cachedPrecision",
    "cachedScale",
    "cachedCodepage",
    "cachedCodePage",
    "cachedName",
)


def _fix_ids(ctx: _Ctx, ids: _Ids, attrs: dict[str, str]) -> dict[str, str]:
    if not ctx.old:
        return attrs
    for key in _ID_ATTRS:
        if key in attrs:
            ref = ids.ref(attrs[key])
            if ref is None:
                del attrs[key]
            else:
                attrs[key] = ref
    return attrs


def _read_component(ctx: _Ctx, ids: _Ids, c: etree._Element, task_ref: str) -> Component:
    cref = c.get("refId") or f"{task_ref}\\{c.get('name', '')}"
    connections = []
    for k in _kids(_child(c, "connections"), "connection"):
        mid = str(k.get("connectionManagerID", ""))
        mref = str(k.get("connectionManagerRefId", ""))
        if not mref:
            guid = mid.split(":", 1)[0].upper()
            mref = ctx.cm_by_dtsid.get(guid, "") if guid.startswith("{") else mid
        name = str(k.get("name", ""))
        connections.append(
            ComponentConnection(
                ref_id=k.get("refId") or f"{cref}.Connections[{name}]",
                name=name,
                manager_ref=mref,
                manager_id=mid,
                attrs=FrozenMap(
                    _attrs(
                        k, ("refId", "id", "name", "connectionManagerID", "connectionManagerRefId")
                    )
                ),
                id=_int_or_none(k.get("id")),
            )
        )
    inputs = []
    for i in _kids(_child(c, "inputs"), "input"):
        iref = i.get("refId") or f"{cref}.Inputs[{i.get('name', '')}]"
        cols = []
        for col in _kids(_child(i, "inputColumns"), "inputColumn"):
            lin_raw = str(col.get("lineageId", ""))
            lin_num = _int_or_none(lin_raw)
            lineage = ids.by_lineage.get(lin_num, lin_raw) if lin_num is not None else lin_raw
            cached_name = col.get("cachedName")
            ctype = _coltype(col, "cached")
            if ctx.old and lin_num is not None:
                cached_name = cached_name or ids.name_by_lineage.get(lin_num, col.get("name") or "")
                t = ids.type_by_lineage.get(lin_num)
                if t and not ctype.data_type:
                    ctype = ColumnType(
                        t["dataType"],
                        to_int(t["length"]),
                        to_int(t["precision"]),
                        to_int(t["scale"]),
                        to_int(t["codePage"]),
                    )
            cached_name = cached_name or ""
            attrs = _fix_ids(
                ctx, ids, _attrs(col, ("refId", "id", "lineageId", "name", *_CACHED_ATTRS))
            )
            cols.append(
                InputColumn(
                    ref_id=col.get("refId") or f"{iref}.Columns[{cached_name}]",
                    lineage_id=lineage,
                    cached_name=cached_name,
                    cached_type=ctype,
                    attrs=FrozenMap(attrs),
                    custom_properties=_custom_props(ctx, ids, col),
                    id=_int_or_none(col.get("id")),
                )
            )
        ext_el = _child(i, "externalMetadataColumns")
        inputs.append(
            Input(
                ref_id=iref,
                name=str(i.get("name", "")),
                columns=tuple(cols),
                external_columns=_ext_cols(ctx, ids, ext_el, iref),
                external_attrs=None if ext_el is None else FrozenMap(_attrs(ext_el, ())),
                attrs=FrozenMap(_fix_ids(ctx, ids, _attrs(i, ("refId", "id", "name")))),
                custom_properties=_custom_props(ctx, ids, i),
                id=_int_or_none(i.get("id")),
            )
        )
    outputs = []
    for o in _kids(_child(c, "outputs"), "output"):
        oref = o.get("refId") or f"{cref}.Outputs[{o.get('name', '')}]"
        cols_o = []
        for col in _kids(_child(o, "outputColumns"), "outputColumn"):
            colref = col.get("refId") or f"{oref}.Columns[{col.get('name', '')}]"
            lin_raw = str(col.get("lineageId", colref))
            lin_num = _int_or_none(lin_raw)
            attrs = _fix_ids(
                ctx, ids, _attrs(col, ("refId", "id", "lineageId", "name", *_TYPE_ATTRS))
            )
            cols_o.append(
                OutputColumn(
                    ref_id=colref,
                    name=str(col.get("name", "")),
                    lineage_id=colref if lin_num is not None else lin_raw,
                    type=_coltype(col),
                    attrs=FrozenMap(attrs),
                    custom_properties=_custom_props(ctx, ids, col),
                    id=_int_or_none(col.get("id")),
                    numeric_lineage_id=lin_num,
                )
            )
        ext_el = _child(o, "externalMetadataColumns")
        outputs.append(
            Output(
                ref_id=oref,
                name=str(o.get("name", "")),
                columns=tuple(cols_o),
                external_columns=_ext_cols(ctx, ids, ext_el, oref),
                external_attrs=None if ext_el is None else FrozenMap(_attrs(ext_el, ())),
                attrs=FrozenMap(_fix_ids(ctx, ids, _attrs(o, ("refId", "id", "name")))),
                custom_properties=_custom_props(ctx, ids, o),
                id=_int_or_none(o.get("id")),
            )
        )
    return Component(
        ref_id=cref,
        name=str(c.get("name", "")),
        class_id=str(c.get("componentClassID", "")),
        description=str(c.get("description", "")),
        attrs=FrozenMap(_attrs(c, ("refId", "id", "name", "componentClassID", "description"))),
        custom_properties=_custom_props(ctx, ids, c),
        connections=tuple(connections),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        id=_int_or_none(c.get("id")),
    )


def _ext_cols(
    ctx: _Ctx, ids: _Ids, ext_el: etree._Element | None, owner: str
) -> tuple[ExternalColumn, ...]:
    return tuple(
        ExternalColumn(
            ref_id=x.get("refId") or f"{owner}.ExternalColumns[{x.get('name', '')}]",
            name=str(x.get("name", "")),
            type=_coltype(x),
            attrs=FrozenMap(_fix_ids(ctx, ids, _attrs(x, ("refId", "id", "name", *_TYPE_ATTRS)))),
            custom_properties=_custom_props(ctx, ids, x),
            id=_int_or_none(x.get("id")),
        )
        for x in _kids(ext_el, "externalMetadataColumn")
    )


__all__ = ["EMPTY", "load_package", "load_package_bytes", "read_connection_manager", "read_package"]
