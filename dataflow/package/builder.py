"""The builder API: create an SSIS package in Python, object by object.

The builders are mutable; :meth:`PackageBuilder.build` returns the same immutable
:class:`~dataflow.package.model.Package` that :func:`~dataflow.package.reader.load_package` gives
for the equivalent format-8 file (refIds named as SSIS names them, lineage ids in refId form,
booleans as ``True``/``False``, SSDT's attributes and component properties), and
:meth:`PackageBuilder.save` writes it as a format-8 ``.dtsx`` laid out as SSDT writes it::

    from dataflow.package import builder as b

    p = b.PackageBuilder("Sales", seed=1)              # seed: reproducible DTSIDs / VersionGUID
    p.parameter("DataDir", "String", "/data", required=True)
    p.variable("User::Region", "String", "EAST")
    p.variable("User::RowCount", "Int32", 0)
    src = p.flat_file_connection(
        "Source", "/data/sales.csv",
        columns=[("id", "DT_I4"), ("region", "DT_WSTR", 20), ("amount", "DT_NUMERIC", 10, 2)],
    )
    src.expression("ConnectionString", '@[$Package::DataDir] + "/sales.csv"')
    p.flat_file_connection("Target", "/data/east.csv")   # columns taken from the destination
    p.connection("Warehouse", "OLEDB", "Data Source=.;Initial Catalog=DW;Provider=SQLNCLI11.1;")

    load = p.sequence("Load")
    trunc = load.execute_sql("Truncate", "Warehouse", "TRUNCATE TABLE dbo.Sales")
    df = load.data_flow("Data Flow Task")
    s = df.source("Flat File Source", "Microsoft.FlatFileSource", connection="Source")
    d = df.transform("Derived Column", "Microsoft.DerivedColumn", upstream=s)
    d.derived_column("total", "amount * 2", "DT_NUMERIC", precision=12, scale=2)
    cs = df.transform("Split", "Microsoft.ConditionalSplit", upstream=d)
    cs.case("East", 'region == "EAST"')
    df.destination("Out", "Microsoft.FlatFileDestination", upstream=(cs, "East"), connection="Target")
    df.transform("Count", "Microsoft.RowCount", upstream=(cs, "Conditional Split Default Output"),
                 variable="User::RowCount")
    load.constraint(trunc, df, on="Success")

    pkg = p.build()                                     # dataflow.package.model.Package
    pkg.save("sales.dtsx")                              # or p.save("sales.dtsx")

What the builders cover:

* **Package**: :class:`PackageBuilder` (identity like SSDT: DTSID, VersionGUID, CreationDate,
  CreatorName...; :meth:`~PackageBuilder.checkpoints`; ``protection_level``), package
  :meth:`~PackageBuilder.parameter` (Required, Sensitive), connection managers of any
  CreationName (:meth:`~PackageBuilder.connection`), flat-file managers with columns
  (:meth:`~PackageBuilder.flat_file_connection`), FILE managers, property expressions on all of
  them (:meth:`ConnectionBuilder.expression`).
* **Every executable** (:class:`ExecutableBuilder`): variables (``Namespace::Name``, type by name
  or VARIANT code, value, expression, ReadOnly), property expressions, logging options, event
  handlers, and the executable options ``disabled``, ``delay_validation``,
  ``fail_package_on_failure``, ``fail_parent_on_failure``, ``max_error_count``,
  ``force_execution_result``, ``force_exec_value``, ``transaction_option``,
  ``isolation_level``, ``disable_event_handlers``, ``max_concurrent``, ``locale_id``
  (keyword arguments of every ``task``/container method, or :meth:`ExecutableBuilder.set`).
* **Containers** (:class:`ContainerBuilder`: package, Sequence, For Loop, Foreach Loop, event
  handler): tasks of any type with a payload (:class:`XmlNode` or XML text), Execute SQL tasks,
  data flows, nested containers, precedence constraints (value, expression, LogicalAnd).
* **Data flows** (:class:`DataFlowBuilder`): components by class id
  (:meth:`~DataFlowBuilder.source`, :meth:`~DataFlowBuilder.transform`,
  :meth:`~DataFlowBuilder.destination` pick a helper by class id; :meth:`~DataFlowBuilder.component`
  builds anything else input by input), connections, inputs, outputs, columns, error outputs
  (``ErrorCode`` / ``ErrorColumn``) with dispositions, and paths. Helpers: Flat File Source /
  Destination, OLE DB Source / Destination, Derived Column, Conditional Split, Multicast, Union
  All, Row Count, Data Conversion, Sort, Aggregate, Lookup, DataReader Destination.

Columns are resolved when :meth:`PackageBuilder.build` runs, component by component in the order
they were created (an upstream component is always created before its downstream ones), so
columns added to a component after its downstream components were created are still seen.
Expressions (Derived Column, Conditional Split) are written as SSDT writes them: ``Expression``
with ``#{refId}`` column references and bracketed function names, ``FriendlyExpression`` as given.
Inconsistent input (unknown upstream output or column, duplicate names, unknown connection
manager or variable...) raises :class:`~dataflow.core.errors.ValidationError` with code
``DTS_E_BUILDERERROR`` and the refId of the object concerned.
"""

from __future__ import annotations

import datetime as dt
import getpass
import random
import re
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, TypeVar

from dataflow.core.datatypes import TypeSpec, make_spec, parse_type_spec, ssis_type, variant_type
from dataflow.core.errors import ValidationError
from dataflow.package.classids import MANAGED_HOST, canonical_component, canonical_task_type
from dataflow.package.model import (
    ColumnType,
    Component,
    ComponentConnection,
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
    Output,
    OutputColumn,
    Package,
    Parameter,
    Pipeline,
    PrecedenceConstraint,
    PropertyExpression,
    Variable,
    XmlNode,
)
from dataflow.package.values import escape_xml_name, format_variant
from dataflow.package.xmlsafe import parse_xml, to_node

__all__ = [
    "AggregateBuilder",
    "ComponentBuilder",
    "ConditionalSplitBuilder",
    "ConnectionBuilder",
    "ContainerBuilder",
    "DataConversionBuilder",
    "DataFlowBuilder",
    "DataReaderDestinationBuilder",
    "DerivedColumnBuilder",
    "EventHandlerBuilder",
    "ExecutableBuilder",
    "FlatFileConnectionBuilder",
    "FlatFileDestinationBuilder",
    "FlatFileSourceBuilder",
    "InputRef",
    "LookupBuilder",
    "MulticastBuilder",
    "OLEDBDestinationBuilder",
    "OLEDBSourceBuilder",
    "OutputRef",
    "PackageBuilder",
    "RowCountBuilder",
    "SortBuilder",
    "TaskBuilder",
    "UnionAllBuilder",
    "column_type",
    "lineage_expression",
]

DTS_NS: Final = "www.microsoft.com/SqlServer/Dts"
_D: Final = f"{{{DTS_NS}}}"
PRODUCT_VERSION: Final = "16.0.5685.2"  # LastModifiedProductVersion: SSDT for SQL Server 2022
SEEDED_CREATION_DATE: Final = dt.datetime(2024, 1, 1)  # CreationDate of packages built with seed=

ColumnDef: TypeAlias = (
    tuple[str, str] | tuple[str, str, int] | tuple[str, str, int, int] | tuple[str, TypeSpec]
)
"""A column: ``(name, type)``, ``(name, "DT_WSTR", 20)``, ``(name, "DT_NUMERIC", 10, 2)``,
``(name, "DT_STR", 50, 1252)`` (positional arguments in the order of the type's parameters),
``(name, "DT_STR(50,1252)")`` or ``(name, TypeSpec)``."""

DISPOSITIONS: Final = ("FailComponent", "IgnoreFailure", "RedirectRow", "NotUsed")
_RESULTS: Final = {"none": -1, "success": 0, "failure": 1, "completion": 2}
_TRANSACTION: Final = {"notsupported": 0, "supported": 1, "required": 2}
_LOGGING_MODES: Final = {"useparentsetting": 0, "enabled": 1, "disabled": 2}
_CHECKPOINT_USAGE: Final = {"never": 0, "always": 1, "ifexists": 2}
_PROTECTION: Final = {
    "dontsavesensitive": 0,
    "encryptsensitivewithuserkey": 1,
    "encryptsensitivewithpassword": 2,
    "encryptallwithpassword": 3,
    "encryptallwithuserkey": 4,
    "serverstorage": 5,
}
_EVAL_OPS: Final = {
    "expression": 1,
    "constraint": 2,
    "expressionandconstraint": 3,
    "expressionorconstraint": 4,
}

_TASK_DESCRIPTIONS: Final = {
    "Microsoft.ExecuteSQLTask": "Execute SQL Task",
    "Microsoft.Pipeline": "Data Flow Task",
    "Microsoft.ScriptTask": "Script Task",
    "Microsoft.FileSystemTask": "File System Task",
    "Microsoft.ExpressionTask": "Expression Task",
    "Microsoft.SendMailTask": "Send Mail Task",
    "Microsoft.ExecutePackageTask": "Execute Package Task",
    "Microsoft.ExecuteProcess": "Execute Process Task",
    "Microsoft.FtpTask": "FTP Task",
    "Microsoft.BulkInsertTask": "Bulk Insert Task",
    "STOCK:SEQUENCE": "Sequence Container",
    "STOCK:FORLOOP": "For Loop Container",
    "STOCK:FOREACHLOOP": "Foreach Loop Container",
}
_TASK_CONTACTS: Final = {
    "Microsoft.ExecuteSQLTask": (
        "Execute SQL Task; Microsoft Corporation; SQL Server 2022; © 2022 Microsoft Corporation; "
        "All Rights Reserved;http://www.microsoft.com/sql/support/default.asp;1"
    ),
}
_PIPELINE_CONTACT: Final = (
    "Performs high-performance data extraction, transformation and loading;Microsoft Corporation; "
    "Microsoft SQL Server; (C) Microsoft Corporation; All Rights Reserved;"
    "http://www.microsoft.com/sql/support/default.asp;1"
)
_SQLTASK_NS: Final = "www.microsoft.com/sqlserver/dts/tasks/sqltask"
_OBJECT_VALUE: Final = (
    '<DTS:VariableValue xmlns:DTS="www.microsoft.com/SqlServer/Dts" '
    'DTS:DataSubType="ManagedSerializable" DTS:DataType="13">'
    '<SOAP-ENV:Envelope xmlns:clr="http://schemas.microsoft.com/soap/encoding/clr/1.0" '
    'xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
    '<SOAP-ENV:Body><xsd:anyType id="ref-1"></xsd:anyType></SOAP-ENV:Body>'
    "</SOAP-ENV:Envelope></DTS:VariableValue>"
)


def _error(message: str, path: str, hint: str | None = None) -> ValidationError:
    return ValidationError("DTS_E_BUILDERERROR", message, path=path, hint=hint)


def _bool(value: bool) -> str:
    return "True" if value else "False"


def _lookup(table: Mapping[str, int], value: str | int, what: str, path: str) -> int:
    if isinstance(value, int):
        return value
    key = value.replace(" ", "").replace("_", "").lower()
    if key not in table:
        raise _error(f"unknown {what} {value!r}", path, hint=f"use one of {', '.join(table)}")
    return table[key]


class _Ids:
    """DTSID / VersionGUID generator: ``{UPPER-CASE-GUID}``, reproducible when seeded."""

    def __init__(self, seed: int | str | None) -> None:
        self._rng = random.Random(seed) if seed is not None else None

    def guid(self) -> str:
        if self._rng is None:
            u = uuid.uuid4()
        else:
            u = uuid.UUID(int=self._rng.getrandbits(128), version=4)
        return "{" + str(u).upper() + "}"


# ------------------------------------------------------------------------------------------------
# Types and expressions
# ------------------------------------------------------------------------------------------------

_STRING_DEFAULT_LENGTH: Final = 50


def _spec(
    data_type: str | TypeSpec,
    args: Sequence[int] = (),
    *,
    length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    code_page: int | None = None,
    path: str = "",
) -> TypeSpec:
    try:
        if isinstance(data_type, TypeSpec):
            base = data_type
        elif "(" in data_type:
            base = parse_type_spec(data_type)
        else:
            t = ssis_type(data_type)
            if len(args) > len(t.params):
                raise _error(f"{t.name} takes {len(t.params)} argument(s), got {len(args)}", path)
            values = dict(zip(t.params, args, strict=False))
            base = make_spec(t.name, **values)
    except ValidationError as exc:
        if exc.code == "DTS_E_BUILDERERROR":
            raise
        raise _error(exc.message, path, hint=exc.hint) from None
    values2 = {
        "length": base.length if length is None else length,
        "precision": base.precision if precision is None else precision,
        "scale": base.scale if scale is None else scale,
        "codepage": base.codepage if code_page is None else code_page,
    }
    if base.name in ("DT_STR", "DT_WSTR", "DT_BYTES") and not values2["length"]:
        values2["length"] = _STRING_DEFAULT_LENGTH
    return make_spec(base.name, **values2)


def column_type(
    data_type: str | TypeSpec,
    *args: int,
    length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    code_page: int | None = None,
) -> ColumnType:
    """The pipeline :class:`ColumnType` of an SSIS type: ``column_type("DT_WSTR", 20)``,
    ``column_type("DT_NUMERIC", precision=12, scale=2)``, ``column_type("DT_STR(50,1252)")``."""
    spec = _spec(
        data_type, args, length=length, precision=precision, scale=scale, code_page=code_page
    )
    return _coltype(spec)


def _coltype(spec: TypeSpec) -> ColumnType:
    t = spec.type
    return ColumnType(
        data_type=t.token or "",
        length=spec.length if "length" in t.params else 0,
        precision=spec.precision if "precision" in t.params else 0,
        scale=spec.scale if "scale" in t.params else 0,
        code_page=spec.codepage if "codepage" in t.params else 0,
    )


def _def_spec(col: ColumnDef, path: str) -> tuple[str, TypeSpec]:
    name = col[0]
    dtype = col[1]
    args = [a for a in col[2:] if isinstance(a, int)]
    return name, _spec(dtype, args, path=path)


_IDENT = re.compile(r"[^\W\d]\w*")  # SSIS identifiers: Unicode letters, digits, _
_VARIABLE = re.compile(r"@[A-Za-z_$][A-Za-z0-9_:$]*")
_NOT_FUNCTIONS: Final = frozenset({"NULL", "TRUE", "FALSE"})


def lineage_expression(text: str, columns: Mapping[str, str]) -> tuple[str, list[str]]:
    """SSDT's ``Expression`` form of a friendly expression, and the column names it uses.

    ``columns`` maps column names to lineage ids (refIds). Bracketed ``[Name]`` and bare
    identifiers naming a column become ``#{refId}``; bare identifiers followed by ``(`` (function
    calls) are bracketed (``[GETDATE]()``) as SSDT writes them; string literals and variable
    references (``@[User::X]``, ``@X``) are left alone. No expression parser is involved.
    """
    out: list[str] = []
    used: list[str] = []

    def use(name: str) -> None:
        out.append(f"#{{{columns[name]}}}")
        if name not in used:
            used.append(name)

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(text[i:j])
            i = j
        elif ch == "@":
            if text.startswith("@[", i):
                j = text.find("]", i)
                j = n if j < 0 else j + 1
            else:
                m = _VARIABLE.match(text, i)
                j = m.end() if m else i + 1
            out.append(text[i:j])
            i = j
        elif text.startswith("#{", i):
            j = text.find("}", i)
            j = n if j < 0 else j + 1
            out.append(text[i:j])
            i = j
        elif ch == "[":
            j = text.find("]", i)
            if j < 0:
                out.append(text[i:])
                break
            inner = text[i + 1 : j]
            if inner in columns:
                use(inner)
            else:
                out.append(text[i : j + 1])
            i = j + 1
        elif (m := _IDENT.match(text, i)) is not None:
            word = m.group()
            k = m.end()
            after = k
            while after < n and text[after] in " \t\r\n":
                after += 1
            call = after < n and text[after] == "("
            if word in columns and not call:
                use(word)
            elif call and word.upper() not in _NOT_FUNCTIONS and not word.upper().startswith("DT_"):
                out.append(f"[{word}]")
            else:
                out.append(word)
            i = k
        elif ch.isdigit():
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "._"):
                j += 1
            out.append(text[i:j])
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out), used


# ------------------------------------------------------------------------------------------------
# Custom properties
# ------------------------------------------------------------------------------------------------

PropValue: TypeAlias = str | int | bool | None


def _prop_text(value: PropValue) -> tuple[str, str]:
    if value is None:
        return "", "System.Null"
    if isinstance(value, bool):
        return ("true" if value else "false"), "System.Boolean"
    if isinstance(value, int):
        return str(value), "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    return value, "System.String"


def _cprop(
    name: str,
    value: PropValue,
    description: str | None = None,
    *,
    data_type: str | None = None,
    **attrs: str,
) -> CustomProperty:
    text, inferred = _prop_text(value)
    a = {"dataType": data_type or inferred}
    if description:
        a["description"] = description
    a.update(attrs)
    return CustomProperty(name, text, FrozenMap(a))


def _set_prop(props: list[CustomProperty], prop: CustomProperty) -> None:
    for k, p in enumerate(props):
        if p.name == prop.name:
            props[k] = prop
            return
    props.append(prop)


_EXPRESSION_DESC: Final = "Derived Column Expression"
_FRIENDLY_DESC: Final = "Derived Column Friendly Expression"
_FAST_PARSE_DESC: Final = (
    "Indicates whether the column uses the faster, locale-neutral parsing routines."
)


def _contact(name: str, version: int) -> str:
    return (
        f"{name};Microsoft Corporation; Microsoft SQL Server; (C) Microsoft Corporation; "
        f"All Rights Reserved; http://www.microsoft.com/sql/support;{version}"
    )


# ------------------------------------------------------------------------------------------------
# Connection managers
# ------------------------------------------------------------------------------------------------


class ConnectionBuilder:
    """A connection manager under construction (any ``CreationName``)."""

    def __init__(
        self,
        package: PackageBuilder,
        name: str,
        creation_name: str,
        connection_string: str = "",
        *,
        description: str = "",
        properties: Mapping[str, str] | None = None,
        object_properties: Mapping[str, str] | None = None,
        payload: XmlNode | str | None = None,
    ) -> None:
        self.package = package
        self.name = name
        self.ref_id = f"Package.ConnectionManagers[{name}]"
        self.creation_name = creation_name
        self.connection_string = connection_string
        self.description = description
        self.dtsid = package._ids.guid()
        self.properties: dict[str, str] = dict(properties or {})
        self.object_properties: dict[str, str] = dict(object_properties or {})
        self.payload = _payload(payload, self.ref_id)
        self.property_expressions: list[PropertyExpression] = []

    def expression(self, property_name: str, expression: str) -> ConnectionBuilder:
        """A property expression (``ConnectionString``, ``ServerName``...)."""
        self.property_expressions = [
            p for p in self.property_expressions if p.name != property_name
        ]
        self.property_expressions.append(PropertyExpression(property_name, expression))
        return self

    def _columns(self) -> tuple[FlatFileColumn, ...]:
        return ()

    def build(self) -> ConnectionManager:
        return ConnectionManager(
            ref_id=self.ref_id,
            name=self.name,
            creation_name=self.creation_name,
            dtsid=self.dtsid,
            description=self.description,
            connection_string=self.connection_string,
            properties=FrozenMap(self.properties),
            object_properties=FrozenMap(self.object_properties),
            flat_file_columns=self._columns(),
            payload=self.payload,
            property_expressions=tuple(self.property_expressions),
        )


class FlatFileConnectionBuilder(ConnectionBuilder):
    """A Flat File connection manager (``FLATFILE``) with its columns (dtsx-format.md §6).

    ``columns=None`` leaves the columns to the Flat File Destination that writes through this
    manager: they are then the destination's input columns.
    """

    def __init__(
        self,
        package: PackageBuilder,
        name: str,
        path: str,
        columns: Sequence[ColumnDef] | None = None,
        *,
        header: bool = True,
        delimiter: str = ",",
        row_delimiter: str = "\r\n",
        text_qualifier: str | None = None,
        code_page: int = 1252,
        unicode: bool = False,
        locale_id: int = 1033,
        header_rows_to_skip: int = 0,
        data_rows_to_skip: int = 0,
        header_row_delimiter: str = "\r\n",
        description: str = "",
    ) -> None:
        props: dict[str, str] = {
            "Format": "Delimited",
            "LocaleID": str(locale_id),
        }
        if unicode:
            props["Unicode"] = "True"
        props["HeaderRowDelimiter"] = escape_xml_name(header_row_delimiter)
        if header:
            props["ColumnNamesInFirstDataRow"] = "True"
        if header_rows_to_skip:
            props["HeaderRowsToSkip"] = str(header_rows_to_skip)
        if data_rows_to_skip:
            props["DataRowsToSkip"] = str(data_rows_to_skip)
        props["RowDelimiter"] = ""
        props["TextQualifier"] = (
            escape_xml_name(text_qualifier) if text_qualifier else "_x003C_none_x003E_"
        )
        if not unicode:
            props["CodePage"] = str(code_page)
        super().__init__(
            package, name, "FLATFILE", path, description=description, object_properties=props
        )
        self.delimiter = delimiter
        self.row_delimiter = row_delimiter
        self.code_page = code_page
        self.unicode = unicode
        self.column_specs: list[tuple[str, TypeSpec]] | None = None
        self.columns_from: ComponentBuilder | None = None  # the destination that gave the columns
        self._dtsids: dict[str, str] = {}
        if columns is not None:
            self.set_columns([_def_spec(c, self.ref_id) for c in columns])

    def set_columns(self, columns: Sequence[tuple[str, TypeSpec]]) -> None:
        names = [c[0] for c in columns]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise _error(f"duplicate flat-file column name(s) {sorted(dup)}", self.ref_id)
        self.column_specs = list(columns)
        for n in names:
            if n not in self._dtsids:
                self._dtsids[n] = self.package._ids.guid()

    def column_type(self, spec: TypeSpec) -> ColumnType:
        """The pipeline type of a column of this file (DT_STR takes the file's code page)."""
        if spec.name == "DT_STR":
            spec = make_spec("DT_STR", length=spec.length, codepage=self.code_page)
        if spec.name == "DT_TEXT":
            spec = make_spec("DT_TEXT", codepage=self.code_page)
        return _coltype(spec)

    def _columns(self) -> tuple[FlatFileColumn, ...]:
        specs = self.column_specs or []
        out = []
        for k, (name, spec) in enumerate(specs):
            last = k == len(specs) - 1
            props = {
                "ColumnType": "Delimited",
                "ColumnDelimiter": escape_xml_name(self.row_delimiter if last else self.delimiter),
            }
            if spec.name in ("DT_STR", "DT_WSTR", "DT_BYTES"):
                props["MaximumWidth"] = str(spec.length)
            props["DataType"] = str(spec.type.code)
            if spec.name == "DT_NUMERIC":
                props["DataPrecision"] = str(spec.precision)
            if spec.name in ("DT_NUMERIC", "DT_DECIMAL") and spec.scale:
                props["DataScale"] = str(spec.scale)
            props["TextQualified"] = "True"
            out.append(
                FlatFileColumn(name=name, dtsid=self._dtsids[name], properties=FrozenMap(props))
            )
        return tuple(out)


def _payload(payload: XmlNode | str | None, path: str) -> XmlNode | None:
    if payload is None or isinstance(payload, XmlNode):
        return payload
    return to_node(parse_xml(payload.encode("utf-8"), path))


# ------------------------------------------------------------------------------------------------
# Control flow
# ------------------------------------------------------------------------------------------------


def _variable(
    ids: _Ids,
    name: str,
    data_type: str | int,
    value: Any,
    *,
    expression: str | None,
    read_only: bool,
    raise_changed_event: bool,
    description: str,
    path: str,
) -> Variable:
    namespace, _, short = name.rpartition("::")
    namespace = namespace or "User"
    if not short:
        raise _error(f"empty variable name {name!r}", path)
    try:
        vt = variant_type(data_type)
    except ValidationError as exc:
        raise _error(
            exc.message, path, hint="use a type name (String, Int32, Boolean...) or a VARIANT code"
        ) from None
    value_node = None
    subtype = ""
    if vt.code == 13:
        text = ""
        subtype = "ManagedSerializable"
        value_node = to_node(parse_xml(_OBJECT_VALUE.encode(), path))
    elif value is None:
        text = {8: "", 7: "12/30/1899 12:00:00 AM", 11: "0"}.get(vt.code, "0")
    else:
        text = format_variant(vt.code, value)
    return Variable(
        namespace=namespace,
        name=short,
        dtsid=ids.guid(),
        data_type=vt.code,
        value=text,
        expression=expression or "",
        evaluate_as_expression=expression is not None,
        read_only=read_only,
        raise_changed_event=raise_changed_event,
        data_subtype=subtype,
        description=description,
        properties=FrozenMap({"IncludeInDebugDump": "6789" if namespace == "System" else "2345"}),
        value_node=value_node,
    )


class ExecutableBuilder:
    """What every executable has: identity, options, variables, expressions, logging, handlers."""

    def __init__(
        self,
        package: PackageBuilder | None,
        parent: ContainerBuilder | None,
        name: str,
        *,
        ref_id: str,
        creation_name: str,
        executable_type: str,
        description: str,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self._package = package
        self.parent = parent
        self.name = name
        self.ref_id = ref_id
        self.creation_name = creation_name
        self.executable_type = executable_type
        self.description = description
        self.dtsid = self.package._ids.guid()
        self.properties: dict[str, str] = dict(properties or {})
        self.variables: list[Variable] = []
        self.property_expressions: list[PropertyExpression] = []
        self.logging_options: LoggingOptions | None = None
        self.event_handlers: list[EventHandlerBuilder] = []

    @property
    def package(self) -> PackageBuilder:
        assert self._package is not None
        return self._package

    # --- options ----------------------------------------------------------------------------
    def set(
        self,
        *,
        disabled: bool | None = None,
        delay_validation: bool | None = None,
        fail_package_on_failure: bool | None = None,
        fail_parent_on_failure: bool | None = None,
        max_error_count: int | None = None,
        force_execution_result: str | int | None = None,
        force_exec_value: bool | None = None,
        transaction_option: str | int | None = None,
        isolation_level: int | None = None,
        disable_event_handlers: bool | None = None,
        max_concurrent: int | None = None,
        locale_id: int | None = None,
        description: str | None = None,
    ) -> ExecutableBuilder:
        """Executable options; only the ones given are written (SSDT omits defaults)."""
        p = self.properties
        for key, flag in (
            ("Disabled", disabled),
            ("DelayValidation", delay_validation),
            ("FailPackageOnFailure", fail_package_on_failure),
            ("FailParentOnFailure", fail_parent_on_failure),
            ("ForceExecValue", force_exec_value),
            ("DisableEventHandlers", disable_event_handlers),
        ):
            if flag is not None:
                p[key] = _bool(flag)
        if max_error_count is not None:
            p["MaxErrorCount"] = str(max_error_count)
        if force_execution_result is not None:
            p["ForceExecutionResult"] = str(
                _lookup(_RESULTS, force_execution_result, "execution result", self.ref_id)
            )
        if transaction_option is not None:
            p["TransactionOption"] = str(
                _lookup(_TRANSACTION, transaction_option, "transaction option", self.ref_id)
            )
        if isolation_level is not None:
            p["ISOLevel"] = str(isolation_level)
        if max_concurrent is not None:
            key = "MaxConcurrentExecutables" if self.ref_id == "Package" else "MaxConcurrent"
            p[key] = str(max_concurrent)
        if locale_id is not None:
            p["LocaleID"] = str(locale_id)
        if description is not None:
            self.description = description
        return self

    def property(self, name: str, value: str) -> ExecutableBuilder:
        """Any other executable attribute, verbatim (``ThreadHint``, ``VersionComments``...)."""
        self.properties[name] = value
        return self

    # --- contents ---------------------------------------------------------------------------
    def variable(
        self,
        name: str,
        data_type: str | int = "String",
        value: Any = None,
        *,
        expression: str | None = None,
        read_only: bool = False,
        raise_changed_event: bool = False,
        description: str = "",
    ) -> Variable:
        """A variable scoped to this executable. ``name`` is ``Namespace::Name`` or ``Name``
        (namespace ``User``); ``data_type`` a type name (``String``, ``Int32``, ``Boolean``,
        ``DateTime``, ``Object``...) or a VARIANT code; ``expression`` sets EvaluateAsExpression."""
        v = _variable(
            self.package._ids,
            name,
            data_type,
            value,
            expression=expression,
            read_only=read_only,
            raise_changed_event=raise_changed_event,
            description=description,
            path=self.ref_id,
        )
        if any(x.qualified_name == v.qualified_name for x in self.variables):
            raise _error(f"variable {v.qualified_name} is declared twice", self.ref_id)
        self.variables.append(v)
        return v

    def expression(self, property_name: str, expression: str) -> ExecutableBuilder:
        """A property expression on this executable (``Disable``, ``SqlStatementSource``...)."""
        self.property_expressions = [
            p for p in self.property_expressions if p.name != property_name
        ]
        self.property_expressions.append(PropertyExpression(property_name, expression))
        return self

    def logging(
        self,
        mode: str | int = "Enabled",
        *,
        events: Iterable[str] = (),
        filter_kind: int = 1,
        providers: Iterable[str] = (),
    ) -> ExecutableBuilder:
        """Logging options: ``mode`` UseParentSetting / Enabled / Disabled; ``events`` the event
        filter (``filter_kind`` 1: log only these events, 0: log all but these); ``providers``
        the DTSIDs of the log providers selected."""
        code = _lookup(_LOGGING_MODES, mode, "logging mode", self.ref_id)
        children: list[XmlNode] = []
        ev = list(events)
        if ev:
            text = ",".join([str(len(ev)), *(f"{len(e)},{e}" for e in ev)])
            children.append(
                XmlNode(
                    f"{_D}Property",
                    FrozenMap({f"{_D}DataType": "8", f"{_D}Name": "EventFilter"}),
                    text,
                )
            )
        prov = list(providers)
        if prov:
            children.append(
                XmlNode(
                    f"{_D}SelectedLogProviders",
                    children=tuple(
                        XmlNode(f"{_D}SelectedLogProvider", FrozenMap({f"{_D}InstanceID": p}))
                        for p in prov
                    ),
                )
            )
        self.logging_options = LoggingOptions(
            FrozenMap({"FilterKind": str(filter_kind if ev else 0), "LoggingMode": str(code)}),
            tuple(children),
        )
        return self

    def event_handler(self, event: str) -> EventHandlerBuilder:
        """The event handler of ``event`` (``OnError``, ``OnPreExecute``...) on this executable."""
        for h in self.event_handlers:
            if h.event == event:
                return h
        h = EventHandlerBuilder(self, event)
        self.event_handlers.append(h)
        return h

    # --- model ------------------------------------------------------------------------------
    def _finalize(self) -> None:
        for h in self.event_handlers:
            h._finalize()

    def _fields(self) -> dict[str, Any]:
        return {
            "ref_id": self.ref_id,
            "name": self.name,
            "creation_name": self.creation_name,
            "executable_type": self.executable_type,
            "dtsid": self.dtsid,
            "description": self.description,
            "properties": FrozenMap(self.properties),
            "variables": tuple(self.variables),
            "property_expressions": tuple(self.property_expressions),
            "logging": self.logging_options,
            "event_handlers": tuple(h.build() for h in self.event_handlers),
        }

    def build(self) -> Executable:
        return Executable(**self._fields())

    def _walk(self) -> Iterable[ExecutableBuilder]:
        yield self
        for h in self.event_handlers:
            yield from h._walk()


class TaskBuilder(ExecutableBuilder):
    """A task of any type; its ObjectData is ``payload`` (an :class:`XmlNode` or XML text)."""

    def __init__(
        self,
        parent: ContainerBuilder,
        name: str,
        task_type: str,
        payload: XmlNode | str | None = None,
        *,
        description: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        ref = f"{parent.ref_id}\\{name}"
        canonical = canonical_task_type(task_type)
        creation = canonical if canonical.startswith("Microsoft.") else task_type
        props = {"LocaleID": "-1"}
        if creation in _TASK_CONTACTS:
            props["TaskContact"] = _TASK_CONTACTS[creation]
        props.update(properties or {})
        super().__init__(
            parent.package,
            parent,
            name,
            ref_id=ref,
            creation_name=creation,
            executable_type=creation,
            description=_TASK_DESCRIPTIONS.get(creation, name)
            if description is None
            else description,
            properties=props,
        )
        self.payload = _payload(payload, ref)

    def build(self) -> Executable:
        return Executable(**self._fields(), payload=self.payload)


class ContainerBuilder(ExecutableBuilder):
    """An executable holding executables and precedence constraints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executables: list[ExecutableBuilder] = []
        self._constraints: list[PrecedenceConstraint] = []

    def _child_ref(self, name: str) -> str:
        if not name or "\\" in name:
            raise _error(
                f"invalid executable name {name!r}", self.ref_id, hint="names cannot contain '\\'"
            )
        if any(e.name == name for e in self.executables):
            raise _error(f"{self.ref_id} already has an executable named {name!r}", self.ref_id)
        return f"{self.ref_id}\\{name}"

    def _container(
        self,
        cls: type[_Ctr],
        name: str,
        stock: str,
        description: str | None,
        properties: dict[str, str] | None = None,
    ) -> _Ctr:
        """A new child container of SSIS type ``stock`` (``STOCK:SEQUENCE``...), not yet added."""
        return cls(
            self.package,
            self,
            name,
            ref_id=self._child_ref(name),
            creation_name=stock,
            executable_type=stock,
            description=_TASK_DESCRIPTIONS[stock] if description is None else description,
            properties=properties or {"LocaleID": "-1"},
        )

    def _add(self, exe: ExecutableBuilder, options: Mapping[str, Any]) -> None:
        if options:
            exe.set(**options)
        self.executables.append(exe)

    def task(
        self,
        name: str,
        task_type: str,
        payload: XmlNode | str | None = None,
        *,
        description: str | None = None,
        properties: Mapping[str, str] | None = None,
        **options: Any,
    ) -> TaskBuilder:
        """A task of any type (``Microsoft.ExecuteSQLTask``, ``Microsoft.ScriptTask``...)."""
        self._child_ref(name)
        t = TaskBuilder(
            self, name, task_type, payload, description=description, properties=properties
        )
        self._add(t, options)
        return t

    def execute_sql(
        self,
        name: str,
        connection: str,
        sql: str,
        *,
        result_type: str | None = None,
        **options: Any,
    ) -> TaskBuilder:
        """An Execute SQL task running ``sql`` on connection manager ``connection``."""
        cm = self.package._connection(connection, self.ref_id)
        attrs = {
            f"{{{_SQLTASK_NS}}}Connection": cm.dtsid,
            f"{{{_SQLTASK_NS}}}SqlStatementSource": sql,
        }
        if result_type:
            attrs[f"{{{_SQLTASK_NS}}}ResultType"] = f"ResultSetType_{result_type}"
        node = XmlNode(
            f"{{{_SQLTASK_NS}}}SqlTaskData",
            FrozenMap(attrs),
            nsmap=FrozenMap({"SQLTask": _SQLTASK_NS}),
        )
        return self.task(name, "Microsoft.ExecuteSQLTask", node, **options)

    def data_flow(
        self, name: str, *, description: str | None = None, **options: Any
    ) -> DataFlowBuilder:
        """A Data Flow task (``Microsoft.Pipeline``)."""
        self._child_ref(name)
        d = DataFlowBuilder(self, name, description=description)
        self._add(d, options)
        return d

    def sequence(
        self, name: str, *, description: str | None = None, **options: Any
    ) -> SequenceBuilder:
        """A Sequence container."""
        s = self._container(SequenceBuilder, name, "STOCK:SEQUENCE", description)
        self._add(s, options)
        return s

    def for_loop(
        self,
        name: str,
        init: str = "",
        eval: str = "",  # SSIS's name (EvalExpression)
        assign: str = "",
        *,
        description: str | None = None,
        **options: Any,
    ) -> ForLoopBuilder:
        """A For Loop container with its InitExpression / EvalExpression / AssignExpression."""
        props = {"LocaleID": "-1", "MaxConcurrent": "1"}
        if init:
            props["InitExpression"] = init
        if eval:
            props["EvalExpression"] = eval
        if assign:
            props["AssignExpression"] = assign
        f = self._container(ForLoopBuilder, name, "STOCK:FORLOOP", description, props)
        self._add(f, options)
        return f

    def foreach_loop(
        self,
        name: str,
        enumerator: str = "Microsoft.ForEachFileEnumerator",
        settings: Mapping[str, str | int | bool] | None = None,
        *,
        payload: XmlNode | str | None = None,
        mappings: Iterable[tuple[int, str]] = (),
        enumerator_expressions: Mapping[str, str] | None = None,
        description: str | None = None,
        **options: Any,
    ) -> ForEachLoopBuilder:
        """A Foreach Loop container. ``settings`` fill the enumerator's payload for the file
        enumerator (``Folder``, ``FileSpec``, ``FileNameRetrievalType``, ``Recurse``); other
        enumerators take their ObjectData as ``payload``. ``mappings`` are
        ``(value index, "User::Variable")`` pairs; ``enumerator_expressions`` property
        expressions of the enumerator (``Directory``, ``FileSpec``...)."""
        f = self._container(ForEachLoopBuilder, name, "STOCK:FOREACHLOOP", description)
        ref = f.ref_id
        node = _payload(payload, ref)
        if node is None and settings is not None:
            if enumerator != "Microsoft.ForEachFileEnumerator":
                raise _error(
                    f"settings= only describes the file enumerator, not {enumerator!r}",
                    ref,
                    hint="give the enumerator's ObjectData as payload=",
                )
            values = {"FileNameRetrievalType": "0", "Recurse": "0"}
            for k, v in settings.items():
                values[k] = ("-1" if v else "0") if isinstance(v, bool) else str(v)
            order = ["Folder", "FileSpec", "FileNameRetrievalType", "Recurse"]
            keys = [k for k in order if k in values] + [k for k in values if k not in order]
            node = XmlNode(
                "ForEachFileEnumeratorProperties",
                children=tuple(XmlNode("FEFEProperty", FrozenMap({k: values[k]})) for k in keys),
            )
        dtsid = self.package._ids.guid()
        f.enumerator = ForEachEnumerator(
            creation_name=enumerator,
            dtsid=dtsid,
            name=dtsid,
            payload=node,
            property_expressions=tuple(
                PropertyExpression(k, v) for k, v in (enumerator_expressions or {}).items()
            ),
        )
        for index, variable in mappings:
            mid = self.package._ids.guid()
            f.mappings.append(ForEachVariableMapping(index, variable, mid, mid))
        self._add(f, options)
        return f

    def constraint(
        self,
        from_: ExecutableBuilder | str,
        to: ExecutableBuilder | str,
        on: str | int | None = "Success",
        *,
        expression: str | None = None,
        logical_and: bool = True,
        eval_op: str | int | None = None,
        name: str | None = None,
    ) -> PrecedenceConstraint:
        """A precedence constraint between two executables of this container.

        ``on`` is Success / Failure / Completion (or None for an expression-only constraint);
        with ``expression`` the constraint is ExpressionAndConstraint (``eval_op`` overrides:
        Expression, Constraint, ExpressionAndConstraint, ExpressionOrConstraint).
        """
        if (
            isinstance(from_, ExecutableBuilder)
            and isinstance(to, ExecutableBuilder)
            and from_.parent is to.parent
            and from_.parent is not None
            and from_.parent is not self
            and not any(e is from_ for e in self.executables)
        ):
            # Both live in the same nested container: the constraint belongs there.
            return from_.parent.constraint(
                from_,
                to,
                on,
                expression=expression,
                logical_and=logical_and,
                eval_op=eval_op,
                name=name,
            )
        src = self._member(from_)
        dst = self._member(to)
        value = 0 if on is None else _lookup(_RESULTS, on, "constraint value", self.ref_id)
        if value < 0:
            raise _error(
                "a precedence constraint value is Success, Failure or Completion", self.ref_id
            )
        if eval_op is not None:
            op = _lookup(_EVAL_OPS, eval_op, "evaluation operation", self.ref_id)
        elif expression:
            op = 1 if on is None else 3
        else:
            op = 2
        if op != 2 and not expression:
            raise _error("an expression constraint needs expression=", self.ref_id)
        if name is None:
            taken = {c.name for c in self._constraints}
            name = "Constraint"
            k = 0
            while name in taken:
                k += 1
                name = f"Constraint {k}"
        elif any(c.name == name for c in self._constraints):
            raise _error(f"{self.ref_id} already has a precedence constraint {name!r}", self.ref_id)
        pc = PrecedenceConstraint(
            ref_id=f"{self.ref_id}.PrecedenceConstraints[{name}]",
            name=name,
            from_ref=src.ref_id,
            to_ref=dst.ref_id,
            dtsid=self.package._ids.guid(),
            value=value,
            eval_op=op,
            expression=expression or "",
            logical_and=logical_and,
        )
        self._constraints.append(pc)
        return pc

    def _member(self, exe: ExecutableBuilder | str) -> ExecutableBuilder:
        for e in self.executables:
            if e is exe or (isinstance(exe, str) and exe in (e.name, e.ref_id)):
                return e
        what = exe if isinstance(exe, str) else exe.ref_id
        raise _error(
            f"{what} is not an executable of {self.ref_id}",
            self.ref_id,
            hint="precedence constraints link executables of the same container",
        )

    def _finalize(self) -> None:
        super()._finalize()
        for e in self.executables:
            e._finalize()

    def _fields(self) -> dict[str, Any]:
        f = super()._fields()
        f["executables"] = tuple(e.build() for e in self.executables)
        f["constraints"] = tuple(self._constraints)
        return f

    def _walk(self) -> Iterable[ExecutableBuilder]:
        yield from super()._walk()
        for e in self.executables:
            yield from e._walk()


class SequenceBuilder(ContainerBuilder):
    """A Sequence container (``STOCK:SEQUENCE``)."""


class ForLoopBuilder(ContainerBuilder):
    """A For Loop container (``STOCK:FORLOOP``)."""


class ForEachLoopBuilder(ContainerBuilder):
    """A Foreach Loop container (``STOCK:FOREACHLOOP``) with its enumerator and mappings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enumerator: ForEachEnumerator | None = None
        self.mappings: list[ForEachVariableMapping] = []

    def _fields(self) -> dict[str, Any]:
        f = super()._fields()
        f["foreach_enumerator"] = self.enumerator
        f["variable_mappings"] = tuple(self.mappings)
        return f


class EventHandlerBuilder(ContainerBuilder):
    """An event handler (``OnError``, ``OnPreExecute``...): a container run on the event."""

    def __init__(self, owner: ExecutableBuilder, event: str) -> None:
        if not event or any(c in event for c in "[]\\"):
            raise _error(f"invalid event name {event!r}", owner.ref_id)
        super().__init__(
            owner.package,
            None,
            "",  # SSDT writes no ObjectName on event handlers: the reader's name is ""
            ref_id=f"{owner.ref_id}.EventHandlers[{event}]",
            creation_name=event,
            executable_type="",
            description="",
            properties={"EventID": "0", "LocaleID": "-1"},
        )
        self.owner = owner
        self.event = event
        self.variables.append(
            _variable(
                self.package._ids,
                "System::Propagate",
                "Boolean",
                True,
                expression=None,
                read_only=False,
                raise_changed_event=False,
                description="The propagate property of the event",
                path=self.ref_id,
            )
        )

    def build(self) -> Executable:
        return Executable(**self._fields(), event_name=self.event)


# ------------------------------------------------------------------------------------------------
# Data flow: inputs, outputs, components
# ------------------------------------------------------------------------------------------------


class OutputRef:
    """An output of a component under construction (usable as ``upstream=``)."""

    def __init__(
        self,
        component: ComponentBuilder,
        name: str,
        *,
        synchronous_input: InputRef | None = None,
        attrs: Mapping[str, str] | None = None,
        external: bool = True,
    ) -> None:
        self.component = component
        self.name = name
        self.ref_id = f"{component.ref_id}.Outputs[{name}]"
        self.synchronous_input = synchronous_input
        self.attrs: dict[str, str] = dict(attrs or {})
        if synchronous_input is not None:
            self.attrs["synchronousInputId"] = synchronous_input.ref_id
        self.columns: list[OutputColumn] = []
        self.external_columns: list[ExternalColumn] = []
        self.external_attrs: dict[str, str] | None = {} if external else None
        self.properties: list[CustomProperty] = []
        self.path: str | None = None  # refId of the path leaving this output

    @property
    def is_error(self) -> bool:
        return self.attrs.get("isErrorOut") == "true"

    def add_column(
        self,
        name: str,
        data_type: str | TypeSpec | ColumnType = "DT_WSTR",
        *args: int,
        length: int | None = None,
        precision: int | None = None,
        scale: int | None = None,
        code_page: int | None = None,
        attrs: Mapping[str, str] | None = None,
        properties: Iterable[CustomProperty] = (),
    ) -> OutputColumn:
        """An output column (its lineage id is its refId, as SSIS names it)."""
        if any(c.name == name for c in self.columns):
            raise _error(f"{self.ref_id} already has a column {name!r}", self.ref_id)
        if isinstance(data_type, ColumnType):
            ctype = data_type
        else:
            spec = _spec(
                data_type,
                args,
                length=length,
                precision=precision,
                scale=scale,
                code_page=code_page,
                path=self.ref_id,
            )
            ctype = _coltype(spec)
        ref = f"{self.ref_id}.Columns[{name}]"
        col = OutputColumn(ref, name, ref, ctype, FrozenMap(attrs or {}), tuple(properties))
        self.columns.append(col)
        return col

    def add_error_columns(self) -> None:
        """``ErrorCode`` (specialFlags 1) and ``ErrorColumn`` (specialFlags 2), both DT_I4."""
        self.add_column("ErrorCode", "DT_I4", attrs={"specialFlags": "1"})
        self.add_column("ErrorColumn", "DT_I4", attrs={"specialFlags": "2"})

    def visible_columns(self) -> list[OutputColumn]:
        """The columns a downstream input sees: those flowing through a synchronous output from
        its input's upstream, then this output's own."""
        inherited: list[OutputColumn] = []
        sync = self.synchronous_input
        if sync is not None and sync.upstream is not None:
            inherited = sync.upstream.visible_columns()
        return inherited + list(self.columns)

    def build(self) -> Output:
        return Output(
            ref_id=self.ref_id,
            name=self.name,
            columns=tuple(self.columns),
            external_columns=tuple(self.external_columns),
            external_attrs=None if self.external_attrs is None else FrozenMap(self.external_attrs),
            attrs=FrozenMap(self.attrs),
            custom_properties=tuple(self.properties),
        )


class InputRef:
    """An input of a component under construction."""

    def __init__(
        self,
        component: ComponentBuilder,
        name: str,
        *,
        attrs: Mapping[str, str] | None = None,
        external: bool = True,
    ) -> None:
        self.component = component
        self.name = name
        self.ref_id = f"{component.ref_id}.Inputs[{name}]"
        self.attrs: dict[str, str] = dict(attrs or {})
        self.upstream: OutputRef | None = None
        self.columns: list[InputColumn] = []
        self.external_columns: list[ExternalColumn] = []
        self.external_attrs: dict[str, str] | None = {} if external else None
        self.properties: list[CustomProperty] = []
        self.select: list[str] | Literal["all"] | None = None  # generic inputs: columns to use

    def upstream_columns(self) -> dict[str, OutputColumn]:
        """Columns of the upstream output by name (first wins on duplicate names)."""
        out: dict[str, OutputColumn] = {}
        if self.upstream is not None:
            for c in self.upstream.visible_columns():
                out.setdefault(c.name, c)
        return out

    def column(self, name: str) -> OutputColumn:
        cols = self.upstream_columns()
        if name not in cols:
            raise _error(
                f"no column {name!r} reaches {self.ref_id}",
                self.ref_id,
                hint=f"upstream columns: {', '.join(cols) or '(none)'}",
            )
        return cols[name]

    def use(
        self,
        col: OutputColumn,
        *,
        attrs: Mapping[str, str] | None = None,
        properties: Iterable[CustomProperty] = (),
    ) -> InputColumn:
        """An input column reading upstream column ``col`` (replaced when used twice)."""
        ic = InputColumn(
            ref_id=f"{self.ref_id}.Columns[{col.name}]",
            lineage_id=col.lineage_id,
            cached_name=col.name,
            cached_type=col.type,
            attrs=FrozenMap(attrs or {}),
            custom_properties=tuple(properties),
        )
        for k, existing in enumerate(self.columns):
            if existing.lineage_id == col.lineage_id:
                self.columns[k] = ic
                return ic
        self.columns.append(ic)
        return ic

    def build(self) -> Input:
        return Input(
            ref_id=self.ref_id,
            name=self.name,
            columns=tuple(self.columns),
            external_columns=tuple(self.external_columns),
            external_attrs=None if self.external_attrs is None else FrozenMap(self.external_attrs),
            attrs=FrozenMap(self.attrs),
            custom_properties=tuple(self.properties),
        )


Upstream: TypeAlias = "ComponentBuilder | OutputRef | tuple[ComponentBuilder, str]"
_C = TypeVar("_C", bound="ComponentBuilder")
_Ctr = TypeVar("_Ctr", bound="ContainerBuilder")


class ComponentBuilder:
    """A pipeline component; the generic builder for any class id.

    Build anything input by input: :meth:`add_input` (``columns="all"`` or a list of upstream
    column names), :meth:`add_output`, :meth:`add_error_output`, :meth:`property`,
    :meth:`connect`. The helpers below (Derived Column, Sort...) are subclasses.
    """

    kind: str = ""  # canonical class id a subclass builds

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str,
        *,
        description: str = "",
        attrs: Mapping[str, str] | None = None,
        properties: Mapping[str, PropValue] | None = None,
    ) -> None:
        self.flow = flow
        self.name = name
        self.class_id = class_id
        self.ref_id = f"{flow.ref_id}\\{name}"
        self.description = description
        self.attrs: dict[str, str] = dict(attrs or {})
        self.properties: list[CustomProperty] = []
        for k, v in (properties or {}).items():
            self.property(k, v)
        self.connections: list[ComponentConnection] = []
        self.inputs: list[InputRef] = []
        self.outputs: list[OutputRef] = []

    # --- generic API ------------------------------------------------------------------------
    def property(
        self, name: str, value: PropValue, *, data_type: str | None = None, **attrs: str
    ) -> ComponentBuilder:
        """A component custom property (``True`` -> ``true``/System.Boolean, ``None`` ->
        System.Null...); ``attrs`` adds ``description``, ``typeConverter``, ``containsID``..."""
        _set_prop(self.properties, _cprop(name, value, data_type=data_type, **attrs))
        return self

    def connect(
        self, manager: str | ConnectionBuilder, name: str = "Connection", *, description: str = ""
    ) -> ComponentConnection:
        """Link the component to a package connection manager (``<connection name=...>``)."""
        cm = (
            manager
            if isinstance(manager, ConnectionBuilder)
            else self.flow.package._connection(manager, self.ref_id)
        )
        conn = ComponentConnection(
            ref_id=f"{self.ref_id}.Connections[{name}]",
            name=name,
            manager_ref=cm.ref_id,
            manager_id=cm.ref_id,
            attrs=FrozenMap({"description": description} if description else {}),
        )
        self.connections = [c for c in self.connections if c.name != name] + [conn]
        return conn

    def add_input(
        self,
        name: str,
        upstream: Upstream | None = None,
        *,
        columns: Iterable[str] | Literal["all"] | None = None,
        **attrs: str,
    ) -> InputRef:
        """An input, connected to ``upstream`` (a component, ``(component, output name)`` or an
        :class:`OutputRef`) by a path; ``columns`` selects upstream columns by name (``"all"``)."""
        if any(i.name == name for i in self.inputs):
            raise _error(f"{self.ref_id} already has an input {name!r}", self.ref_id)
        inp = InputRef(self, name, attrs=attrs)
        self.inputs.append(inp)
        if columns is not None:
            inp.select = "all" if columns == "all" else list(columns)
        if upstream is not None:
            self.flow._connect(self.flow._resolve(upstream, self.ref_id), inp)
        return inp

    def add_output(
        self,
        name: str,
        columns: Iterable[ColumnDef] = (),
        *,
        synchronous_input: InputRef | str | None = None,
        exclusion_group: int | None = None,
        is_error: bool = False,
        **attrs: str,
    ) -> OutputRef:
        """An output; ``synchronous_input`` makes it synchronous (rows of that input flow
        through it); ``columns`` are its own columns."""
        if any(o.name == name for o in self.outputs):
            raise _error(f"{self.ref_id} already has an output {name!r}", self.ref_id)
        sync = self._input(synchronous_input) if synchronous_input is not None else None
        a: dict[str, str] = {}
        if exclusion_group:
            a["exclusionGroup"] = str(exclusion_group)
        if is_error:
            a["isErrorOut"] = "true"
        a.update(attrs)
        out = OutputRef(self, name, synchronous_input=sync, attrs=a)
        for c in columns:
            cname, spec = _def_spec(c, out.ref_id)
            out.add_column(cname, _coltype(spec))
        self.outputs.append(out)
        return out

    def add_error_output(
        self,
        name: str | None = None,
        *,
        synchronous_input: InputRef | str | None = None,
        exclusion_group: int | None = None,
        **attrs: str,
    ) -> OutputRef:
        """An error output (``isErrorOut``) with ``ErrorCode`` / ``ErrorColumn``. For a
        synchronous component give the input: the rows of the input flow to it."""
        out = self.add_output(
            name or f"{self.name} Error Output",
            (),
            synchronous_input=synchronous_input,
            exclusion_group=exclusion_group,
            is_error=True,
            **attrs,
        )
        out.add_error_columns()
        return out

    def output(self, name: str | None = None) -> OutputRef:
        """An output by name (default: the first non-error output)."""
        for o in self.outputs:
            if (name is None and not o.is_error) or o.name == name:
                return o
        raise _error(
            f"{self.ref_id} has no output {name!r}" if name else f"{self.ref_id} has no output",
            self.ref_id,
            hint=f"outputs: {', '.join(o.name for o in self.outputs) or '(none)'}",
        )

    def error_output(self) -> OutputRef:
        for o in self.outputs:
            if o.is_error:
                return o
        raise _error(f"{self.ref_id} has no error output", self.ref_id)

    def input(self, name: str | None = None) -> InputRef:
        return self._input(name)

    def _input(self, which: InputRef | str | None) -> InputRef:
        if isinstance(which, InputRef):
            if which.component is not self:
                raise _error(f"{which.ref_id} is not an input of {self.ref_id}", self.ref_id)
            return which
        for i in self.inputs:
            if which is None or i.name == which:
                return i
        raise _error(
            f"{self.ref_id} has no input {which!r}" if which else f"{self.ref_id} has no input",
            self.ref_id,
        )

    def _default_output(self) -> OutputRef:
        return self.output()

    def _disposition(self, value: str) -> str:
        if value not in DISPOSITIONS:
            raise _error(
                f"unknown row disposition {value!r}",
                self.ref_id,
                hint=f"use one of {', '.join(DISPOSITIONS)}",
            )
        return value

    # --- resolution -------------------------------------------------------------------------
    def _resolve(self) -> None:
        """Compute input columns (and anything else depending on upstream columns)."""
        for inp in self.inputs:
            if inp.select is None:
                continue
            inp.columns = []
            cols = inp.upstream_columns()
            names = list(cols) if inp.select == "all" else inp.select
            for n in names:
                inp.use(inp.column(n))

    def build(self) -> Component:
        return Component(
            ref_id=self.ref_id,
            name=self.name,
            class_id=self.class_id,
            description=self.description,
            attrs=FrozenMap(self.attrs),
            custom_properties=tuple(self.properties),
            connections=tuple(self.connections),
            inputs=tuple(i.build() for i in self.inputs),
            outputs=tuple(o.build() for o in self.outputs),
        )


def _std_attrs(
    flow: DataFlowBuilder, contact: str, version: int, *, dispositions: bool, locale: bool = False
) -> dict[str, str]:
    a = {"contactInfo": _contact(contact, version)}
    if locale:
        a["localeId"] = flow.package.properties.get("LocaleID", "1033")
    if dispositions:
        a["usesDispositions"] = "true"
    if version:
        a["version"] = str(version)
    return a


class FlatFileSourceBuilder(ComponentBuilder):
    """Flat File Source: output columns (and external columns) from the connection's columns."""

    kind = "Microsoft.FlatFileSource"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.FlatFileSource",
        *,
        connection: str,
        retain_nulls: bool = False,
        error_disposition: str = "FailComponent",
        truncation_disposition: str = "FailComponent",
        fast_parse: bool = False,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Flat File Source",
            attrs=_std_attrs(flow, "Flat File Source", 1, dispositions=True, locale=True),
        )
        cm = flow.package._connection(connection, self.ref_id)
        if not isinstance(cm, FlatFileConnectionBuilder) or not cm.column_specs:
            raise _error(
                f"connection manager {connection!r} is not a flat-file connection with columns",
                self.ref_id,
                hint="create it with PackageBuilder.flat_file_connection(..., columns=[...])",
            )
        self.property(
            "RetainNulls",
            retain_nulls,
            description="Specifies whether zero-length columns are treated as null.",
        )
        self.property(
            "FileNameColumnName",
            "",
            description="Specifies the name of an output column containing the file name. If no name is "
            "specified, no output column containing the file name will be generated.",
        )
        self.connect(cm, "FlatFileConnection")
        out = self.add_output("Flat File Source Output")
        out.external_attrs = {"isUsed": "True"}
        err = self._disposition(error_disposition)
        trunc = self._disposition(truncation_disposition)
        for cname, spec in cm.column_specs:
            ctype = cm.column_type(spec)
            ext_ref = f"{out.ref_id}.ExternalColumns[{cname}]"
            out.add_column(
                cname,
                ctype,
                attrs={
                    "errorOrTruncationOperation": "Conversion",
                    "errorRowDisposition": err,
                    "externalMetadataColumnId": ext_ref,
                    "truncationRowDisposition": trunc,
                },
                properties=(
                    _cprop("FastParse", fast_parse, _FAST_PARSE_DESC),
                    _cprop(
                        "UseBinaryFormat", False, "Indicates whether the data is in binary format."
                    ),
                ),
            )
            out.external_columns.append(ExternalColumn(ext_ref, cname, ctype))
        eo = self.add_output("Flat File Source Error Output", is_error=True)
        raw = "Flat File Source Error Output Column"
        raw_type = ColumnType("nText") if cm.unicode else ColumnType("text", code_page=cm.code_page)
        eo.add_column(raw, raw_type, attrs={"description": raw})
        eo.add_error_columns()


class FlatFileDestinationBuilder(ComponentBuilder):
    """Flat File Destination: input columns mapped by name to the connection's columns (external
    columns); a connection without columns takes the input columns as its columns."""

    kind = "Microsoft.FlatFileDestination"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.FlatFileDestination",
        *,
        upstream: Upstream,
        connection: str,
        columns: Iterable[str] | None = None,
        overwrite: bool = True,
        header: str | None = None,
        escape_qualifier: bool = False,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Flat File Destination",
            attrs=_std_attrs(flow, "Flat File Destination", 1, dispositions=False, locale=True),
        )
        cm = flow.package._connection(connection, self.ref_id)
        if not isinstance(cm, FlatFileConnectionBuilder):
            raise _error(
                f"connection manager {connection!r} is not a flat-file connection", self.ref_id
            )
        self.manager = cm
        self.property(
            "Overwrite",
            overwrite,
            description="Specifies whether the data will overwrite or append to the destination file.",
        )
        self.property(
            "Header",
            header,
            description="Specifies the text to write to the destination file before any data is written.",
            expressionType="Notify",
        )
        self.property(
            "EscapeQualifier",
            escape_qualifier,
            description="When text qualifier is enabled, specifies whether the text qualifier in the data "
            "written to the destination file will be escaped or not.",
        )
        self.connect(cm, "FlatFileConnection")
        inp = self.add_input("Flat File Destination Input", upstream, hasSideEffects="true")
        inp.external_attrs = {"isUsed": "True"}
        self.selected = None if columns is None else list(columns)

    def _resolve(self) -> None:
        inp = self.inputs[0]
        cols = inp.upstream_columns()
        names = list(cols) if self.selected is None else self.selected
        chosen = [inp.column(n) for n in names]
        cm = self.manager
        if cm.column_specs is None or cm.columns_from is self:
            cm.set_columns([(c.name, c.type.spec) for c in chosen])
            cm.columns_from = self
        specs = cm.column_specs or []
        known = {n for n, _ in specs}
        inp.columns = []
        inp.external_columns = []
        for cname, spec in specs:
            inp.external_columns.append(
                ExternalColumn(
                    f"{inp.ref_id}.ExternalColumns[{cname}]", cname, cm.column_type(spec)
                )
            )
        for c in chosen:
            if c.name not in known:
                raise _error(
                    f"column {c.name!r} has no column of that name in connection manager {cm.name!r}",
                    self.ref_id,
                    hint="select the columns to write with columns=[...]",
                )
            inp.use(
                c, attrs={"externalMetadataColumnId": f"{inp.ref_id}.ExternalColumns[{c.name}]"}
            )


class _ExpressionComponent(ComponentBuilder):
    """Shared by Derived Column and Conditional Split: expressions over input columns."""

    def _lineage(self, friendly: str) -> str:
        inp = self.inputs[0]
        cols = inp.upstream_columns()
        text, used = lineage_expression(friendly, {n: c.lineage_id for n, c in cols.items()})
        for n in used:
            if not any(ic.lineage_id == cols[n].lineage_id for ic in inp.columns):
                inp.use(cols[n])
        return text


class DerivedColumnBuilder(_ExpressionComponent):
    """Derived Column: :meth:`derived_column` adds a column, :meth:`replace` overwrites one."""

    kind = "Microsoft.DerivedColumn"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.DerivedColumn",
        *,
        upstream: Upstream,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Creates new column values by applying expressions to transformation input columns. "
            "Create new columns or overwrite existing ones. For example, concatenate the values from the "
            "'first name' and 'last name' column to make a 'full name' column.",
            attrs=_std_attrs(flow, "Derived Column", 0, dispositions=True),
        )
        inp = self.add_input(
            "Derived Column Input",
            upstream,
            description="Input to the Derived Column Transformation",
        )
        self.add_output(
            "Derived Column Output",
            synchronous_input=inp,
            exclusion_group=1,
            description="Default Output of the Derived Column Transformation",
        )
        self.add_error_output(
            "Derived Column Error Output",
            synchronous_input=inp,
            exclusion_group=1,
            description="Error Output of the Derived Column Transformation",
        )
        self._new: list[tuple[str, str, str, str]] = []  # name, expression, error, truncation
        self._replaced: list[tuple[str, str, str, str]] = []

    def derived_column(
        self,
        name: str,
        expression: str,
        data_type: str | TypeSpec = "DT_WSTR",
        *args: int,
        length: int | None = None,
        precision: int | None = None,
        scale: int | None = None,
        code_page: int | None = None,
        error_disposition: str = "FailComponent",
        truncation_disposition: str = "FailComponent",
    ) -> OutputColumn:
        """A new column on ``Derived Column Output`` computed by ``expression``."""
        err = self._disposition(error_disposition)
        trunc = self._disposition(truncation_disposition)
        col = self.output().add_column(
            name,
            data_type,
            *args,
            length=length,
            precision=precision,
            scale=scale,
            code_page=code_page,
            attrs={
                "errorOrTruncationOperation": "Computation",
                "errorRowDisposition": err,
                "truncationRowDisposition": trunc,
            },
        )
        self._new.append((name, expression, err, trunc))
        return col

    def replace(
        self,
        column: str,
        expression: str,
        *,
        error_disposition: str = "FailComponent",
        truncation_disposition: str = "FailComponent",
    ) -> DerivedColumnBuilder:
        """Replace the values of upstream column ``column`` (a ``readWrite`` input column)."""
        if any(r[0] == column for r in self._replaced):
            raise _error(f"column {column!r} is replaced twice", self.ref_id)
        self._replaced.append(
            (
                column,
                expression,
                self._disposition(error_disposition),
                self._disposition(truncation_disposition),
            )
        )
        return self

    def _props(self, friendly: str) -> tuple[CustomProperty, CustomProperty]:
        return (
            _cprop("Expression", self._lineage(friendly), _EXPRESSION_DESC, containsID="true"),
            _cprop(
                "FriendlyExpression",
                friendly,
                _FRIENDLY_DESC,
                containsID="true",
                expressionType="Notify",
            ),
        )

    def _resolve(self) -> None:
        inp = self.inputs[0]
        inp.columns = []
        out = self.output()
        by_name = {c.name: k for k, c in enumerate(out.columns)}
        upstream = inp.upstream_columns()
        for name, expr, _err, _trunc in self._new:
            if name in upstream:
                raise _error(
                    f"new column {name!r} has the name of an upstream column",
                    out.ref_id,
                    hint="use replace() to overwrite a column, or pick another name",
                )
            k = by_name[name]
            col = out.columns[k]
            out.columns[k] = OutputColumn(
                col.ref_id, col.name, col.lineage_id, col.type, col.attrs, self._props(expr)
            )
        for column, expr, err, trunc in self._replaced:
            target = inp.column(column)
            props = self._props(expr)
            inp.use(
                target,
                attrs={
                    "errorOrTruncationOperation": "Computation",
                    "errorRowDisposition": err,
                    "truncationRowDisposition": trunc,
                    "usageType": "readWrite",
                },
                properties=props,
            )


class ConditionalSplitBuilder(_ExpressionComponent):
    """Conditional Split: :meth:`case` adds an output with its condition (EvaluationOrder in
    the order added); rows no case takes go to the default output."""

    kind = "Microsoft.ConditionalSplit"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.ConditionalSplit",
        *,
        upstream: Upstream,
        default_output: str = "Conditional Split Default Output",
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Routes data rows to different outputs depending on the content of the data. Use "
            "conditions (SSIS expressions) to specify which rows are routed. For example, separate records "
            "that need to be cleaned from those that are ready to be loaded or route only a subset of records.",
            attrs=_std_attrs(flow, "Conditional Split", 0, dispositions=True),
        )
        inp = self.add_input(
            "Conditional Split Input",
            upstream,
            description="Input to the Conditional Split Transformation",
        )
        d = self.add_output(
            default_output,
            synchronous_input=inp,
            exclusion_group=1,
            description="Default Output of the Conditional Split Transformation",
        )
        d.properties.append(_cprop("IsDefaultOut", True))
        self.default = d
        self.add_error_output(
            "Conditional Split Error Output",
            synchronous_input=inp,
            exclusion_group=1,
            description="Error Output of the Conditional Split Transformation",
        )
        self._cases: list[tuple[OutputRef, str]] = []

    def case(
        self,
        name: str,
        condition: str,
        *,
        error_disposition: str = "FailComponent",
        truncation_disposition: str = "FailComponent",
    ) -> OutputRef:
        """An output taking the rows for which ``condition`` is true (and no earlier case was)."""
        n = len(self._cases) + 1
        out = self.add_output(
            name,
            synchronous_input=self.inputs[0],
            exclusion_group=1,
            description=f"Output {n} of the Conditional Split Transformation",
            errorOrTruncationOperation="Computation",
            errorRowDisposition=self._disposition(error_disposition),
            truncationRowDisposition=self._disposition(truncation_disposition),
        )
        self.outputs.remove(out)
        self.outputs.insert(self.outputs.index(self.default), out)
        self._cases.append((out, condition))
        return out

    def _resolve(self) -> None:
        self.inputs[0].columns = []
        for order, (out, condition) in enumerate(self._cases):
            out.properties = [
                _cprop(
                    "Expression",
                    self._lineage(condition),
                    "Specifies the expression. This expression version uses lineage identifiers instead "
                    "of column names.",
                    containsID="true",
                ),
                _cprop(
                    "FriendlyExpression",
                    condition,
                    "Specifies the friendly version of the expression. This expression version uses "
                    "column names.",
                    containsID="true",
                    expressionType="Notify",
                ),
                _cprop(
                    "EvaluationOrder",
                    order,
                    "Specifies the position of the condition in the list of conditions that the "
                    "transformation evaluates. The evaluation order is from the lowest to the highest value.",
                ),
            ]


class MulticastBuilder(ComponentBuilder):
    """Multicast: every downstream component taking it as ``upstream`` gets a new output."""

    kind = "Microsoft.Multicast"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.Multicast",
        *,
        upstream: Upstream,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Distributes every input row to every row in one or more outputs. For example, "
            "branch your data flow to make a copy of data so that some values can be masked before "
            "sharing with external partners.",
            attrs=_std_attrs(flow, "Multicast", 0, dispositions=False),
        )
        self.add_input("Multicast Input 1", upstream)

    def new_output(self) -> OutputRef:
        n = len(self.outputs) + 1
        return self.add_output(
            f"Multicast Output {n}",
            synchronous_input=self.inputs[0],
            deleteOutputOnPathDetached="true",
        )

    def _default_output(self) -> OutputRef:
        for o in self.outputs:
            if o.path is None:
                return o
        return self.new_output()

    def output(self, name: str | None = None) -> OutputRef:
        if name is not None and not any(o.name == name for o in self.outputs):
            m = re.fullmatch(r"Multicast Output (\d+)", name)
            if m and int(m.group(1)) == len(self.outputs) + 1:
                return self.new_output()
        if name is None and not self.outputs:
            return self.new_output()
        return super().output(name)


class UnionAllBuilder(ComponentBuilder):
    """Union All: output columns are the first input's columns; later inputs map by name."""

    kind = "Microsoft.UnionAll"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.UnionAll",
        *,
        upstream: Upstream | Sequence[Upstream],
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Combines rows from multiple data flows without sorting. For example, add rows back "
            "to a data flow after correction of errors. If sorting is important, we recommend using the "
            "Merge transformation.",
            attrs=_std_attrs(flow, "Union All", 1, dispositions=False),
        )
        self.add_output("Union All Output 1")
        ups: list[Upstream]
        if isinstance(upstream, (ComponentBuilder, OutputRef)):
            ups = [upstream]
        elif isinstance(upstream, tuple) and len(upstream) == 2 and isinstance(upstream[1], str):
            ups = [(upstream[0], upstream[1])]  # (component, output name)
        else:
            ups = list(upstream)
        for u in ups:
            self.add(u)

    def add(self, upstream: Upstream) -> InputRef:
        """Another input."""
        n = len(self.inputs) + 1
        return self.add_input(f"Union All Input {n}", upstream)

    def _resolve(self) -> None:
        out = self.outputs[0]
        out.columns = []
        for inp in self.inputs:
            for c in inp.upstream_columns().values():
                if not any(o.name == c.name for o in out.columns):
                    out.add_column(c.name, c.type)
        by_name = {c.name: c for c in out.columns}
        for inp in self.inputs:
            inp.columns = []
            for c in inp.upstream_columns().values():
                target = by_name[c.name]
                inp.use(
                    c,
                    properties=(
                        _cprop(
                            "OutputColumnLineageID",
                            f"#{{{target.lineage_id}}}",
                            "Output column lineage ID",
                            data_type="System.Int32",
                            containsID="true",
                        ),
                    ),
                )


class RowCountBuilder(ComponentBuilder):
    """Row Count: the number of rows is stored in ``variable`` when the data flow ends."""

    kind = "Microsoft.RowCount"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.RowCount",
        *,
        upstream: Upstream,
        variable: str,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Counts the rows in a dataset.",
            attrs=_std_attrs(flow, "Row Count", 0, dispositions=False),
        )
        if "::" not in variable:
            variable = f"User::{variable}"
        self.variable = variable
        self.property(
            "VariableName", variable, description="Specifies the variable to hold the row count."
        )
        inp = self.add_input("Row Count Input 1", upstream, hasSideEffects="true")
        self.add_output("Row Count Output 1", synchronous_input=inp)


class DataConversionBuilder(ComponentBuilder):
    """Data Conversion: :meth:`convert` adds a converted copy of an upstream column."""

    kind = "Microsoft.DataConvert"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.DataConvert",
        *,
        upstream: Upstream,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Data Conversion",
            attrs=_std_attrs(flow, "Data Conversion", 0, dispositions=True),
        )
        inp = self.add_input("Data Conversion Input", upstream)
        self.add_output("Data Conversion Output", synchronous_input=inp, exclusion_group=1)
        self.add_error_output(
            "Data Conversion Error Output", synchronous_input=inp, exclusion_group=1
        )
        self._sources: list[tuple[str, str, bool]] = []  # output column, source column, fast parse

    def convert(
        self,
        column: str,
        data_type: str | TypeSpec,
        *args: int,
        name: str | None = None,
        length: int | None = None,
        precision: int | None = None,
        scale: int | None = None,
        code_page: int | None = None,
        fast_parse: bool = False,
        error_disposition: str = "FailComponent",
        truncation_disposition: str = "FailComponent",
    ) -> OutputColumn:
        """A new column ``name`` (default ``Copy of <column>``) holding ``column`` converted."""
        out_name = name or f"Copy of {column}"
        col = self.output().add_column(
            out_name,
            data_type,
            *args,
            length=length,
            precision=precision,
            scale=scale,
            code_page=code_page,
            attrs={
                "errorOrTruncationOperation": "Conversion",
                "errorRowDisposition": self._disposition(error_disposition),
                "truncationRowDisposition": self._disposition(truncation_disposition),
            },
        )
        self._sources.append((out_name, column, fast_parse))
        return col

    def _resolve(self) -> None:
        inp = self.inputs[0]
        inp.columns = []
        out = self.output()
        upstream = inp.upstream_columns()
        for out_name, column, fast in self._sources:
            if out_name in upstream:
                raise _error(f"column {out_name!r} has the name of an upstream column", out.ref_id)
            src = inp.column(column)
            inp.use(src)
            k = next(k for k, c in enumerate(out.columns) if c.name == out_name)
            c = out.columns[k]
            out.columns[k] = OutputColumn(
                c.ref_id,
                c.name,
                c.lineage_id,
                c.type,
                c.attrs,
                (
                    _cprop(
                        "SourceInputColumnLineageID",
                        f"#{{{src.lineage_id}}}",
                        "Specifies the input column used as the source of data for the conversion.",
                        data_type="System.Int32",
                        containsID="true",
                    ),
                    _cprop("FastParse", fast, _FAST_PARSE_DESC),
                ),
            )


SortKey: TypeAlias = str | tuple[str, str] | tuple[str, bool]


class SortBuilder(ComponentBuilder):
    """Sort: ``keys`` are column names (ascending), ``(name, "DESC")`` or ``(name, False)``."""

    kind = "Microsoft.Sort"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.Sort",
        *,
        upstream: Upstream,
        keys: Sequence[SortKey] = (),
        eliminate_duplicates: bool = False,
        max_threads: int = -1,
        passthrough: Iterable[str] | None = None,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Sorts input data in ascending or descending order when it cannot be sorted at its "
            "source. For example, sort sales data by 'customer id' before it is written to a flat file and "
            "delivered to another department. Note: We do not recommend this transformation for large data flows.",
            attrs=_std_attrs(flow, "Sort", 1, dispositions=False),
        )
        self.property(
            "EliminateDuplicates",
            eliminate_duplicates,
            description="Indicates whether the Sort transformation removes rows with duplicate sort values.",
        )
        self.property(
            "MaximumThreads",
            max_threads,
            description="Specifies the maximum number of threads to use for sorting.",
            expressionType="Notify",
        )
        self.add_input("Sort Input", upstream)
        self.add_output("Sort Output", isSorted="true")
        self.keys: list[tuple[str, bool]] = []
        for k in keys:
            if isinstance(k, str):
                self.keys.append((k, True))
            elif isinstance(k[1], bool):
                self.keys.append((k[0], k[1]))
            else:
                self.keys.append((k[0], k[1].upper() not in ("DESC", "DESCENDING")))
        if not self.keys:
            raise _error("a Sort needs at least one key column", self.ref_id)
        self.passthrough = None if passthrough is None else list(passthrough)

    def _resolve(self) -> None:
        inp = self.inputs[0]
        out = self.outputs[0]
        inp.columns = []
        out.columns = []
        cols = inp.upstream_columns()
        positions: dict[str, int] = {}
        for k, (name, asc) in enumerate(self.keys, start=1):
            inp.column(name)
            positions[name] = k if asc else -k
        names = list(cols) if self.passthrough is None else self.passthrough
        for n in names:
            inp.column(n)
        wanted = set(names) | set(positions)
        for n in [c for c in cols if c in wanted]:
            src = cols[n]
            pos = positions.get(n, 0)
            inp.use(
                src,
                properties=(
                    _cprop(
                        "NewComparisonFlags",
                        0,
                        "Specifies the comparison options for character data.",
                    ),
                    _cprop("NewSortKeyPosition", pos, "Specifies the sort order of the column."),
                ),
            )
            out.add_column(
                n,
                src.type,
                attrs={"sortKeyPosition": str(pos)} if pos else None,
                properties=(
                    _cprop(
                        "SortColumnId",
                        f"#{{{src.lineage_id}}}",
                        "Specifies the lineage identifier of the input column that is associated with this "
                        "output column.",
                        data_type="System.Int32",
                        containsID="true",
                    ),
                ),
            )


AGGREGATIONS: Final = {
    "group by": 0,
    "groupby": 0,
    "count": 1,
    "count all": 2,
    "countall": 2,
    "count distinct": 3,
    "countdistinct": 3,
    "sum": 4,
    "average": 5,
    "avg": 5,
    "minimum": 6,
    "min": 6,
    "maximum": 7,
    "max": 7,
}


class AggregateBuilder(ComponentBuilder):
    """Aggregate: :meth:`group_by` and :meth:`aggregate` add columns to ``Aggregate Output 1``."""

    kind = "Microsoft.Aggregate"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.Aggregate",
        *,
        upstream: Upstream,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Aggregates data with functions such as Average, Sum, Count, Max, and Min. For "
            "example, group data to compute the sum of sales per product or the average visits per day.",
            attrs=_std_attrs(flow, "Aggregate", 3, dispositions=False),
        )
        scale_desc = (
            "Specifies the approximate number of group by keys that the aggregation produces. Low indicates "
            "500,000 key values, Medium indicates 5 million key values, and High indicates more than 25 "
            "million key values. Unspecified indicates no KeyScale value is used."
        )
        keys_desc = (
            "Specifies the exact number of group by keys that the aggregation produces. If a KeyScale value "
            "is specified, the value in Keys takes precedence."
        )
        self.property("KeyScale", 0, description=scale_desc, typeConverter="KeyScaleType")
        self.property("Keys", None, description=keys_desc)
        self.property(
            "CountDistinctScale",
            0,
            typeConverter="KeyScaleType",
            description="Specifies the approximate number of distinct values in a column that the aggregation "
            "counts distinctly. Low indicates 500,000 key values, Medium indicates 5 million key values, and "
            "High indicates more than 25 million key values. Unspecified indicates no CountDistinctScale "
            "value is used.",
        )
        self.property(
            "CountDistinctKeys",
            None,
            description="Specifies the exact number of distinct values in a column that the aggregation counts "
            "distinctly. If a CountDistinctScale value is specified, the value in CountDistinctKeys takes "
            "precedence.",
        )
        self.property(
            "AutoExtendFactor",
            25,
            description="Specifies the percentage by which memory can be extended during the aggregation. "
            "Valid values are between 1 and 100.",
        )
        self.add_input("Aggregate Input 1", upstream)
        out = self.add_output("Aggregate Output 1")
        out.properties = [
            _cprop("KeyScale", 0, scale_desc, typeConverter="KeyScaleType"),
            _cprop("Keys", None, keys_desc),
        ]
        self._aggs: list[tuple[str, str | None, int]] = []  # output name, source column, type

    def group_by(self, column: str, name: str | None = None) -> AggregateBuilder:
        """Group by ``column`` (output column ``name``, default the column's name)."""
        return self.aggregate(column, "group by", name)

    def aggregate(
        self, column: str | None, function: str = "sum", name: str | None = None
    ) -> AggregateBuilder:
        """An aggregation: ``function`` is group by, count, count all (``column=None``), count
        distinct, sum, average, minimum or maximum."""
        code = _lookup(AGGREGATIONS, function.lower().replace("_", " "), "aggregation", self.ref_id)
        if column is None and code != 2:
            raise _error(f"{function} needs a column", self.ref_id)
        out_name = name or (column if column is not None else "Count All")
        if any(a[0] == out_name for a in self._aggs):
            raise _error(f"{self.outputs[0].ref_id} already has a column {out_name!r}", self.ref_id)
        self._aggs.append((out_name, column, code))
        return self

    def _resolve(self) -> None:
        inp = self.inputs[0]
        out = self.outputs[0]
        inp.columns = []
        out.columns = []
        for out_name, column, code in self._aggs:
            props = []
            if column is not None:
                src = inp.column(column)
                inp.use(src)
                ctype = _aggregate_type(src.type, code)
                props.append(
                    _cprop(
                        "AggregationColumnId",
                        f"#{{{src.lineage_id}}}",
                        "Specifies the ID of the input column used in the aggregation.",
                        data_type="System.Int32",
                        containsID="true",
                    )
                )
            else:
                ctype = ColumnType("ui8")
            props += [
                _cprop(
                    "AggregationType",
                    code,
                    "Specifies the type of aggregation.",
                    typeConverter="AggregationType",
                ),
                _cprop(
                    "IsBig",
                    1 if code in (4, 5) else 0,
                    "Indicates whether the column requires special handling because it may contain oversized "
                    "data or it requires precision beyond a float data type.",
                ),
                _cprop("AggregationComparisonFlags", 0, "Specifies the string comparison options."),
            ]
            out.add_column(out_name, ctype, properties=props)


def _aggregate_type(t: ColumnType, code: int) -> ColumnType:
    """The output type SSIS gives an aggregation of a column of type ``t``."""
    if code in (1, 2, 3):
        return ColumnType("ui8")
    integer = t.data_type in ("i1", "i2", "i4", "i8", "ui1", "ui2", "ui4", "ui8")
    if code == 4 and integer:
        return ColumnType("ui8" if t.data_type.startswith("ui") else "i8")
    if code == 5 and (integer or t.data_type in ("r4", "r8")):
        return ColumnType("r8")
    return t


class LookupBuilder(ComponentBuilder):
    """Lookup against a query on an OLE DB connection manager (full cache by default).

    ``join`` pairs input columns with reference columns (``[(input, reference)]`` or a dict);
    ``add`` lists the reference columns copied to ``Lookup Match Output`` as column definitions
    (``("label", "DT_WSTR", 50)``); ``join_types`` gives the type of a reference join column
    when it differs from its input column's; ``no_match`` is ``"error"`` (rows without a match
    are errors: ``error_disposition`` of the match output) or ``"no_match_output"``; ``cache``
    is ``"full"``, ``"partial"`` or ``"none"``.
    """

    kind = "Microsoft.Lookup"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.Lookup",
        *,
        upstream: Upstream,
        connection: str,
        query: str,
        join: Sequence[tuple[str, str]] | Mapping[str, str],
        add: Sequence[ColumnDef] = (),
        join_types: Mapping[str, str | TypeSpec] | None = None,
        no_match: Literal["error", "no_match_output"] = "error",
        error_disposition: str = "FailComponent",
        cache: Literal["full", "partial", "none"] = "full",
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="Joins additional columns to the data flow by looking up values in a table. For "
            "example, join to the 'employee id' column the employees table to get 'hire date' and 'employee "
            "name'. We recommend this transformation when the lookup table can fit into memory.",
            attrs=_std_attrs(flow, "Lookup", 6, dispositions=True),
        )
        self.query = query
        self.joins = list(join.items()) if isinstance(join, Mapping) else list(join)
        if not self.joins:
            raise _error("a Lookup needs at least one join column", self.ref_id)
        self.join_types = dict(join_types or {})
        self.cache = {"full": 0, "partial": 1, "none": 2}[cache]
        self.no_match = 0 if no_match == "error" else 1
        self.connect(
            flow.package._connection(connection, self.ref_id),
            "OleDbConnection",
            description="Connection manager used to access lookup data.",
        )
        inp = self.add_input("Lookup Input", upstream)
        match = self.add_output(
            "Lookup Match Output",
            synchronous_input=inp,
            exclusion_group=1,
            errorOrTruncationOperation="Lookup",
            errorRowDisposition=self._disposition(error_disposition),
        )
        self.add_output(
            "Lookup No Match Output",
            synchronous_input=inp,
            exclusion_group=1,
            description="The Lookup output that handles rows with no matching entries in the reference "
            'dataset. Use this output when the NoMatchBehavior property is set to "Send rows with no '
            'matching entries to the no match output."',
        )
        self.add_error_output("Lookup Error Output", synchronous_input=inp, exclusion_group=1)
        self.reference: list[
            tuple[str, str, ColumnType]
        ] = []  # output name, reference column, type
        for c in add:
            ref_name, spec = _def_spec(c, match.ref_id)
            ctype = _coltype(spec)
            self.reference.append((ref_name, ref_name, ctype))
            match.add_column(
                ref_name,
                ctype,
                attrs={
                    "errorOrTruncationOperation": "Copy Column",
                    "truncationRowDisposition": "FailComponent",
                },
                properties=(
                    _cprop(
                        "CopyFromReferenceColumn",
                        ref_name,
                        "Specifies the column in the reference table from which a column is copied.",
                    ),
                ),
            )

    def _resolve(self) -> None:
        inp = self.inputs[0]
        inp.columns = []
        upstream = inp.upstream_columns()
        for out_name, _ref, _t in self.reference:
            if out_name in upstream:
                raise _error(
                    f"lookup column {out_name!r} has the name of an upstream column", self.ref_id
                )
        ref_cols: list[tuple[str, ColumnType]] = []
        params: list[str] = []
        for in_name, ref_name in self.joins:
            src = inp.column(in_name)
            inp.use(
                src,
                properties=(
                    _cprop(
                        "JoinToReferenceColumn",
                        ref_name,
                        "Specifies the column in the reference table that a column joins.",
                    ),
                    _cprop(
                        "CopyFromReferenceColumn",
                        None,
                        "Specifies the column in the reference table from which a column is copied.",
                    ),
                ),
            )
            jt = self.join_types.get(ref_name)
            ref_cols.append((ref_name, _coltype(_spec(jt)) if jt is not None else src.type))
            params.append(f"#{{{src.lineage_id}}};")
        ref_cols += [(r, t) for _o, r, t in self.reference if r not in {n for n, _ in ref_cols}]
        meta = "".join(
            f'<referenceColumn name="{_xml_attr(n)}" dataType="{ssis_type(t.data_type).name}" length="{t.length}" '
            f'precision="{t.precision}" scale="{t.scale}" codePage="{t.code_page}"/>'
            for n, t in ref_cols
        )
        where = " and ".join(f"[refTable].[{r}] = ?" for _i, r in self.joins)
        mm = "Specifies the column code page to use when code page information is unavailable from the data source."
        sql_editor = "Microsoft.DataTransformationServices.Controls.ModalMultilineStringEditor"
        self.properties = [
            _cprop(
                "SqlCommand",
                self.query,
                "Specifies the SQL statement that generates the lookup table.",
                expressionType="Notify",
                UITypeEditor=sql_editor,
            ),
            _cprop(
                "SqlCommandParam",
                f"select * from ({self.query}) [refTable]\nwhere {where}",
                "Specifies a SQL statement that uses parameters to generate the lookup table.",
                expressionType="Notify",
                UITypeEditor=sql_editor,
            ),
            _cprop(
                "ConnectionType",
                0,
                "Specifies the type of connection used to access the reference dataset.",
                typeConverter="LookupConnectionType",
            ),
            _cprop(
                "CacheType",
                self.cache,
                "Specifies the cache type of the lookup table.",
                typeConverter="CacheType",
            ),
            _cprop(
                "NoMatchBehavior",
                self.no_match,
                "Specifies how the Lookup transformation handles rows without matching entries in the "
                "reference data set.",
                typeConverter="LookupNoMatchBehavior",
            ),
            _cprop(
                "NoMatchCachePercentage",
                0,
                "Specifies the percentage of the cache that is allocated for rows with no matching entries "
                "in the reference dataset.",
            ),
            _cprop(
                "MaxMemoryUsage",
                25,
                "Maximum Memory Usage for Reference Cache on a 32 bit platform.",
            ),
            _cprop(
                "MaxMemoryUsage64",
                25,
                "Maximum Memory Usage for Reference Cache on a 64 bit platform.",
                data_type="System.Int64",
            ),
            _cprop(
                "ReferenceMetadataXml",
                f"<referenceMetadata><referenceColumns>{meta}</referenceColumns></referenceMetadata>",
                "Indicates whether to reference metadata in an XML format.",
            ),
            _cprop(
                "ParameterMap",
                "".join(params),
                "Specifies the list of lineage identifiers that map to the parameters that the SQL statement "
                "in the SQLCommand property uses. Entries in the list are separated by semicolons.",
                containsID="true",
            ),
            _cprop("DefaultCodePage", 1252, mm),
            _cprop(
                "TreatDuplicateKeysAsError",
                False,
                "Determines whether duplicate keys in the reference data should be treated as errors when "
                "full cache mode is used.",
            ),
        ]


_OLEDB_TIMEOUT_DESC: Final = "The number of seconds before a command times out.  A value of 0 indicates an infinite time-out."
_OLEDB_CODEPAGE_DESC: Final = "Specifies the column code page to use when code page information is unavailable from the data source."
_OLEDB_CONNECTION_DESC: Final = "The OLE DB runtime connection used to access the database."
_SQL_EDITOR: Final = "Microsoft.DataTransformationServices.Controls.ModalMultilineStringEditor"


class OLEDBSourceBuilder(ComponentBuilder):
    """OLE DB Source reading ``table`` (AccessMode 0) or ``sql`` (AccessMode 2); its columns are
    given (``columns=[ColumnDef...]``): the builder cannot ask the database."""

    kind = "Microsoft.OLEDBSource"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.OLEDBSource",
        *,
        connection: str,
        columns: Sequence[ColumnDef],
        table: str | None = None,
        sql: str | None = None,
        error_disposition: str = "FailComponent",
        truncation_disposition: str = "FailComponent",
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="OLE DB Source",
            attrs=_std_attrs(flow, "OLE DB Source", 7, dispositions=True),
        )
        if (table is None) == (sql is None):
            raise _error("an OLE DB Source reads either table= or sql=", self.ref_id)
        self.property("CommandTimeout", 0, description=_OLEDB_TIMEOUT_DESC)
        self.property(
            "OpenRowset",
            table or "",
            description="Specifies the name of the database object used to open a rowset.",
        )
        self.property(
            "OpenRowsetVariable",
            "",
            description="Specifies the variable that contains the name of the database object used to open a "
            "rowset.",
        )
        self.property(
            "SqlCommand",
            sql or "",
            description="The SQL command to be executed.",
            UITypeEditor=_SQL_EDITOR,
        )
        self.property(
            "SqlCommandVariable",
            "",
            description="The variable that contains the SQL command to be executed.",
        )
        self.property("DefaultCodePage", 1252, description=_OLEDB_CODEPAGE_DESC)
        self.property(
            "AlwaysUseDefaultCodePage",
            False,
            description="Forces the use of the DefaultCodePage property value when describing character data.",
        )
        self.property(
            "AccessMode",
            0 if table is not None else 2,
            description="Specifies the mode used to access the database.",
            typeConverter="AccessMode",
        )
        self.property(
            "ParameterMapping",
            "",
            description="The mappings between the parameters in the SQL command and variables.",
        )
        self.connect(
            flow.package._connection(connection, self.ref_id),
            "OleDbConnection",
            description=_OLEDB_CONNECTION_DESC,
        )
        out = self.add_output("OLE DB Source Output")
        out.external_attrs = {"isUsed": "True"}
        err = self.add_output("OLE DB Source Error Output", is_error=True)
        attrs = {
            "errorOrTruncationOperation": "Conversion",
            "errorRowDisposition": self._disposition(error_disposition),
            "truncationRowDisposition": self._disposition(truncation_disposition),
        }
        for c in columns:
            cname, spec = _def_spec(c, out.ref_id)
            ctype = _coltype(spec)
            ext_ref = f"{out.ref_id}.ExternalColumns[{cname}]"
            out.add_column(cname, ctype, attrs={**attrs, "externalMetadataColumnId": ext_ref})
            out.external_columns.append(ExternalColumn(ext_ref, cname, ctype))
            err.add_column(cname, ctype)
        err.add_error_columns()


class OLEDBDestinationBuilder(ComponentBuilder):
    """OLE DB Destination writing to ``table`` (fast load by default). ``columns`` selects the
    upstream columns written (default all); ``table_columns`` are the table's columns (external
    columns; default: the selected columns); ``mapping`` maps input column names to table column
    names where they differ (the others map by name)."""

    kind = "Microsoft.OLEDBDestination"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = "Microsoft.OLEDBDestination",
        *,
        upstream: Upstream,
        connection: str,
        table: str,
        columns: Iterable[str] | None = None,
        table_columns: Sequence[ColumnDef] | None = None,
        mapping: Mapping[str, str] | None = None,
        fast_load: bool = True,
        fast_load_options: str = "TABLOCK,CHECK_CONSTRAINTS",
        error_disposition: str = "FailComponent",
        default_code_page: int = 1252,
    ) -> None:
        super().__init__(
            flow,
            name,
            class_id,
            description="OLE DB Destination",
            attrs=_std_attrs(flow, "OLE DB Destination", 4, dispositions=True),
        )
        self.property("CommandTimeout", 0, description=_OLEDB_TIMEOUT_DESC)
        self.property(
            "OpenRowset",
            table,
            description="Specifies the name of the database object used to open a rowset.",
        )
        self.property(
            "OpenRowsetVariable",
            "",
            description="Specifies the variable that contains the name of the database object used to open a "
            "rowset.",
        )
        self.property(
            "SqlCommand",
            "",
            description="The SQL command to be executed.",
            UITypeEditor=_SQL_EDITOR,
        )
        self.property("DefaultCodePage", default_code_page, description=_OLEDB_CODEPAGE_DESC)
        self.property(
            "AlwaysUseDefaultCodePage",
            False,
            description="Forces the use of the DefaultCodePage property value when describing character data.",
        )
        self.property(
            "AccessMode",
            3 if fast_load else 0,
            description="Specifies the mode used to access the database.",
            typeConverter="AccessMode",
        )
        self.property(
            "FastLoadKeepIdentity",
            False,
            description="Indicates whether the values supplied for identity columns will be copied to the "
            "destination. If false, values for identity columns will be auto-generated at the destination. "
            "Applies only if fast load is turned on.",
        )
        self.property(
            "FastLoadKeepNulls",
            False,
            description="Indicates whether the columns containing null will have null inserted in the "
            "destination. If false, columns containing null will have their default values inserted at the "
            "destination. Applies only if fast load is turned on.",
        )
        self.property(
            "FastLoadOptions",
            fast_load_options if fast_load else "",
            description="Specifies options to be used with fast load.  Applies only if fast load is turned on.",
        )
        self.property(
            "FastLoadMaxInsertCommitSize",
            2147483647,
            description="Specifies when commits are issued during data insertion.  A value of 0 specifies that "
            "one commit will be issued at the end of data insertion.  Applies only if fast load is turned on.",
        )
        self.connect(
            flow.package._connection(connection, self.ref_id),
            "OleDbConnection",
            description=_OLEDB_CONNECTION_DESC,
        )
        inp = self.add_input(
            "OLE DB Destination Input",
            upstream,
            errorOrTruncationOperation="Insert",
            errorRowDisposition=self._disposition(error_disposition),
            hasSideEffects="true",
        )
        inp.external_attrs = {"isUsed": "True"}
        self.add_error_output(
            "OLE DB Destination Error Output", synchronous_input=inp, exclusion_group=1
        )
        self.selected = None if columns is None else list(columns)
        self.table_columns = (
            None if table_columns is None else [_def_spec(c, inp.ref_id) for c in table_columns]
        )
        self.mapping = dict(mapping or {})

    def _resolve(self) -> None:
        inp = self.inputs[0]
        cols = inp.upstream_columns()
        chosen = [inp.column(n) for n in (list(cols) if self.selected is None else self.selected)]
        table = (
            [(self.mapping.get(c.name, c.name), c.type) for c in chosen]
            if self.table_columns is None
            else [(n, _coltype(spec)) for n, spec in self.table_columns]
        )
        known = {n for n, _t in table}
        inp.columns = []
        inp.external_columns = [
            ExternalColumn(f"{inp.ref_id}.ExternalColumns[{n}]", n, t) for n, t in table
        ]
        for c in chosen:
            target = self.mapping.get(c.name, c.name)
            if target not in known:
                raise _error(
                    f"column {c.name!r} has no table column {target!r}",
                    self.ref_id,
                    hint="select the columns with columns=[...] or map them with mapping=",
                )
            inp.use(
                c, attrs={"externalMetadataColumnId": f"{inp.ref_id}.ExternalColumns[{target}]"}
            )


def _xml_attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


class DataReaderDestinationBuilder(ComponentBuilder):
    """DataReader Destination (managed host, ``Microsoft.DataReaderDestinationAdapter``): the rows
    a client (dtsclient) reads; ``columns`` selects upstream columns (default all)."""

    kind = "Microsoft.DataReaderDestinationAdapter"

    def __init__(
        self,
        flow: DataFlowBuilder,
        name: str,
        class_id: str = MANAGED_HOST,
        *,
        upstream: Upstream,
        columns: Iterable[str] | None = None,
        read_timeout: int = 30000,
        fail_on_timeout: bool = False,
    ) -> None:
        super().__init__(
            flow,
            name,
            MANAGED_HOST,
            description="Exposes the data in a data flow by using the ADO.NET DataReader interface. "
            "Applications such as SQL Server Reporting Services can then consume the data.",
            attrs={
                "contactInfo": "Exposes the data in a data flow by using the ADO.NET DataReader interface. "
                "Applications such as SQL Server Reporting Services can then consume the data.;Microsoft "
                "Corporation; Microsoft SQL Server; (C) Microsoft Corporation; All Rights Reserved; "
                "http://www.microsoft.com/sql/support;0",
            },
        )
        self.property(
            "ReadTimeout",
            read_timeout,
            description="Specifies the number of milliseconds before a time-out occurs.",
        )
        self.property(
            "DataReader",
            None,
            description="Specifies an object that implements the IDataReader interface.",
        )
        self.property(
            "FailOnTimeout",
            fail_on_timeout,
            description="Indicates whether the component fails when a read time-out occurs.",
        )
        self.property("UserComponentTypeName", "Microsoft.DataReaderDestinationAdapter")
        self.add_input(
            "DataReader Destination Input",
            upstream,
            columns="all" if columns is None else list(columns),
            hasSideEffects="true",
        )


_HELPERS: Final[dict[str, type[ComponentBuilder]]] = {
    c.kind: c
    for c in (
        FlatFileSourceBuilder,
        FlatFileDestinationBuilder,
        DerivedColumnBuilder,
        ConditionalSplitBuilder,
        MulticastBuilder,
        UnionAllBuilder,
        RowCountBuilder,
        DataConversionBuilder,
        SortBuilder,
        AggregateBuilder,
        LookupBuilder,
        DataReaderDestinationBuilder,
        OLEDBSourceBuilder,
        OLEDBDestinationBuilder,
    )
}
_HELPER_ALIASES: Final = {
    "MICROSOFT.DATAREADERDESTINATION": "Microsoft.DataReaderDestinationAdapter",
    "MICROSOFT.DATAREADERDESTINATIONADAPTER": "Microsoft.DataReaderDestinationAdapter",
}


class DataFlowBuilder(TaskBuilder):
    """A Data Flow task: its components and the paths between them."""

    def __init__(
        self, parent: ContainerBuilder, name: str, *, description: str | None = None
    ) -> None:
        super().__init__(
            parent,
            name,
            "Microsoft.Pipeline",
            None,
            description=description,
            properties={"TaskContact": _PIPELINE_CONTACT},
        )
        self.pipeline_attrs: dict[str, str] = {"version": "1"}
        self.components: list[ComponentBuilder] = []
        self.paths: list[tuple[str, str, OutputRef, InputRef]] = []  # refId, name, start, end

    def buffers(
        self,
        *,
        default_buffer_max_rows: int | None = None,
        default_buffer_size: int | None = None,
        engine_threads: int | None = None,
        run_in_optimized_mode: bool | None = None,
    ) -> DataFlowBuilder:
        """Pipeline attributes (``defaultBufferMaxRows``...); only the given ones are written."""
        for key, value in (
            ("defaultBufferMaxRows", default_buffer_max_rows),
            ("defaultBufferSize", default_buffer_size),
            ("engineThreads", engine_threads),
        ):
            if value is not None:
                self.pipeline_attrs[key] = str(value)
        if run_in_optimized_mode is not None:
            self.pipeline_attrs["runInOptimizedMode"] = "true" if run_in_optimized_mode else "false"
        return self

    # --- components -------------------------------------------------------------------------
    def _register(self, comp: _C) -> _C:
        self.components.append(comp)
        return comp

    def _check_name(self, name: str) -> None:
        if not name or "\\" in name:
            raise _error(f"invalid component name {name!r}", self.ref_id)
        if any(c.name == name for c in self.components):
            raise _error(f"{self.ref_id} already has a component named {name!r}", self.ref_id)

    def _helper(self, class_id: str, kwargs: Mapping[str, Any]) -> type[ComponentBuilder] | None:
        key = _HELPER_ALIASES.get(class_id.strip().upper())
        if key is None:
            uct = kwargs.get("user_component_type_name")
            key = canonical_component(class_id, str(uct) if uct else "")
        return _HELPERS.get(key)

    def component(
        self,
        name: str,
        class_id: str,
        *,
        description: str = "",
        attrs: Mapping[str, str] | None = None,
        properties: Mapping[str, PropValue] | None = None,
    ) -> ComponentBuilder:
        """A generic component of any class id: add inputs, outputs, columns and connections
        with the :class:`ComponentBuilder` methods."""
        self._check_name(name)
        c = ComponentBuilder(
            self, name, class_id, description=description, attrs=attrs, properties=properties
        )
        return self._register(c)

    def _make(self, name: str, class_id: str, kwargs: dict[str, Any]) -> ComponentBuilder | None:
        self._check_name(name)
        helper = self._helper(class_id, kwargs)
        if helper is None:
            return None
        kwargs.pop("user_component_type_name", None)
        canonical = canonical_component(class_id)
        comp = helper(self, name, canonical if canonical in _HELPERS else class_id, **kwargs)
        return self._register(comp)

    def source(
        self,
        name: str,
        class_id: str,
        *,
        connection: str | None = None,
        columns: Sequence[ColumnDef] = (),
        properties: Mapping[str, PropValue] | None = None,
        **kwargs: Any,
    ) -> ComponentBuilder:
        """A source component: Flat File Source (columns from ``connection``), OLE DB Source
        (``columns``, ``table=`` or ``sql=``); any other class id gets one output
        ``<name> Output`` with ``columns``."""
        if connection is not None:
            kwargs["connection"] = connection
        if columns and self._helper(class_id, kwargs) is not None:
            kwargs["columns"] = columns  # OLE DB Source; Flat File Source rejects it
        made = self._make(name, class_id, kwargs)
        if made is not None:
            for k, v in (properties or {}).items():
                made.property(k, v)
            return made
        c = self.component(name, class_id, properties=properties)
        if connection is not None:
            c.connect(connection)
        c.add_output(f"{name} Output", columns)
        if kwargs:
            raise _error(f"unexpected options {sorted(kwargs)} for {class_id}", c.ref_id)
        return c

    def transform(
        self,
        name: str,
        class_id: str,
        upstream: Upstream | Sequence[Upstream],
        *,
        properties: Mapping[str, PropValue] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A transformation; helpers by class id (Derived Column, Conditional Split, Multicast,
        Union All, Row Count, Data Conversion, Sort, Aggregate, Lookup); any other class id gets
        a synchronous output ``<name> Output`` over input ``<name> Input``."""
        kwargs["upstream"] = upstream
        made = self._make(name, class_id, kwargs)
        if made is not None:
            for k, v in (properties or {}).items():
                made.property(k, v)
            return made
        kwargs.pop("upstream")
        c = self.component(name, class_id, properties=properties)
        connection = kwargs.pop("connection", None)
        if connection is not None:
            c.connect(connection)
        columns = kwargs.pop("columns", None)
        if kwargs:
            raise _error(f"unexpected options {sorted(kwargs)} for {class_id}", c.ref_id)
        if not isinstance(upstream, (ComponentBuilder, OutputRef, tuple)):
            raise _error(f"{class_id} takes one upstream", c.ref_id)
        inp = c.add_input(f"{name} Input", upstream, columns=columns)
        c.add_output(f"{name} Output", synchronous_input=inp)
        return c

    def destination(
        self,
        name: str,
        class_id: str,
        upstream: Upstream,
        *,
        connection: str | None = None,
        properties: Mapping[str, PropValue] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A destination; Flat File Destination and DataReader Destination by helper; any other
        class id reads all (or ``columns=[...]``) upstream columns on input ``<name> Input``."""
        kwargs["upstream"] = upstream
        if connection is not None:
            kwargs["connection"] = connection
        made = self._make(name, class_id, kwargs)
        if made is not None:
            for k, v in (properties or {}).items():
                made.property(k, v)
            return made
        c = self.component(name, class_id, properties=properties)
        if connection is not None:
            c.connect(connection)
        kwargs.pop("upstream")
        kwargs.pop("connection", None)
        columns = kwargs.pop("columns", "all")
        if kwargs:
            raise _error(f"unexpected options {sorted(kwargs)} for {class_id}", c.ref_id)
        c.add_input(f"{name} Input", upstream, columns=columns, hasSideEffects="true")
        return c

    # helpers by name ---------------------------------------------------------------------------
    def flat_file_source(self, name: str, connection: str, **kwargs: Any) -> FlatFileSourceBuilder:
        self._check_name(name)
        return self._register(FlatFileSourceBuilder(self, name, connection=connection, **kwargs))

    def flat_file_destination(
        self, name: str, upstream: Upstream, connection: str, **kwargs: Any
    ) -> FlatFileDestinationBuilder:
        self._check_name(name)
        b = FlatFileDestinationBuilder(
            self, name, upstream=upstream, connection=connection, **kwargs
        )
        return self._register(b)

    def derived_column(self, name: str, upstream: Upstream) -> DerivedColumnBuilder:
        self._check_name(name)
        return self._register(DerivedColumnBuilder(self, name, upstream=upstream))

    def conditional_split(
        self, name: str, upstream: Upstream, **kwargs: Any
    ) -> ConditionalSplitBuilder:
        self._check_name(name)
        return self._register(ConditionalSplitBuilder(self, name, upstream=upstream, **kwargs))

    def multicast(self, name: str, upstream: Upstream) -> MulticastBuilder:
        self._check_name(name)
        return self._register(MulticastBuilder(self, name, upstream=upstream))

    def union_all(self, name: str, upstreams: Sequence[Upstream]) -> UnionAllBuilder:
        self._check_name(name)
        return self._register(UnionAllBuilder(self, name, upstream=list(upstreams)))

    def row_count(self, name: str, upstream: Upstream, variable: str) -> RowCountBuilder:
        self._check_name(name)
        return self._register(RowCountBuilder(self, name, upstream=upstream, variable=variable))

    def data_conversion(self, name: str, upstream: Upstream) -> DataConversionBuilder:
        self._check_name(name)
        return self._register(DataConversionBuilder(self, name, upstream=upstream))

    def sort(
        self, name: str, upstream: Upstream, keys: Sequence[SortKey], **kwargs: Any
    ) -> SortBuilder:
        self._check_name(name)
        return self._register(SortBuilder(self, name, upstream=upstream, keys=keys, **kwargs))

    def aggregate(self, name: str, upstream: Upstream) -> AggregateBuilder:
        self._check_name(name)
        return self._register(AggregateBuilder(self, name, upstream=upstream))

    def lookup(
        self, name: str, upstream: Upstream, connection: str, query: str, **kwargs: Any
    ) -> LookupBuilder:
        self._check_name(name)
        b = LookupBuilder(
            self, name, upstream=upstream, connection=connection, query=query, **kwargs
        )
        return self._register(b)

    def datareader_destination(
        self, name: str, upstream: Upstream, **kwargs: Any
    ) -> DataReaderDestinationBuilder:
        self._check_name(name)
        b = DataReaderDestinationBuilder(self, name, upstream=upstream, **kwargs)
        return self._register(b)

    def oledb_source(self, name: str, connection: str, **kwargs: Any) -> OLEDBSourceBuilder:
        self._check_name(name)
        return self._register(OLEDBSourceBuilder(self, name, connection=connection, **kwargs))

    def oledb_destination(
        self, name: str, upstream: Upstream, connection: str, table: str, **kwargs: Any
    ) -> OLEDBDestinationBuilder:
        self._check_name(name)
        b = OLEDBDestinationBuilder(
            self, name, upstream=upstream, connection=connection, table=table, **kwargs
        )
        return self._register(b)

    # --- paths ------------------------------------------------------------------------------
    def _resolve(self, upstream: Upstream, path: str) -> OutputRef:
        if isinstance(upstream, OutputRef):
            out = upstream
        elif isinstance(upstream, ComponentBuilder):
            out = upstream._default_output()
        elif (
            isinstance(upstream, tuple)
            and len(upstream) == 2
            and isinstance(upstream[0], ComponentBuilder)
        ):
            out = upstream[0].output(upstream[1])
        else:
            raise _error(
                f"unknown upstream {upstream!r}",
                path,
                hint="give a component, (component, output name) or an output",
            )
        if out.component.flow is not self:
            raise _error(f"{out.ref_id} is in another data flow", path)
        return out

    def _connect(self, out: OutputRef, inp: InputRef) -> None:
        if out.path is not None:
            raise _error(
                f"{out.ref_id} is already connected by {out.path}",
                inp.ref_id,
                hint="an output feeds one input; use a Multicast to feed several",
            )
        if inp.upstream is not None:
            raise _error(f"{inp.ref_id} is already connected", inp.ref_id)
        if out.component is inp.component:
            raise _error(f"{out.ref_id} cannot feed its own component", inp.ref_id)
        taken = {p[0] for p in self.paths}
        ref = f"{self.ref_id}.Paths[{out.name}]"
        k = 0
        while ref in taken:
            k += 1
            ref = f"{self.ref_id}.Paths[{out.name}{k}]"
        out.path = ref
        inp.upstream = out
        self.paths.append((ref, out.name, out, inp))

    def _finalize(self) -> None:
        super()._finalize()
        for c in self.components:
            c._resolve()

    def build(self) -> Executable:
        pipeline = Pipeline(
            components=tuple(c.build() for c in self.components),
            paths=tuple(
                DataFlowPath(ref_id=ref, name=name, start_ref=o.ref_id, end_ref=i.ref_id)
                for ref, name, o, i in self.paths
            ),
            attrs=FrozenMap(self.pipeline_attrs),
        )
        return Executable(**self._fields(), pipeline=pipeline)


# ------------------------------------------------------------------------------------------------
# Package
# ------------------------------------------------------------------------------------------------


class PackageBuilder(ContainerBuilder):
    """A package under construction; :meth:`build` gives the immutable model.

    ``seed`` makes every generated GUID reproducible (and, unless ``created`` is given, sets
    CreationDate to :data:`SEEDED_CREATION_DATE` and the creator to ``dataflow``), so two builds
    with the same seed save byte-identical files. ``protection_level`` (a name such as
    ``DontSaveSensitive`` or its number; ``None`` leaves it out, meaning SSIS's default
    EncryptSensitiveWithUserKey) is DontSaveSensitive by default: the builder encrypts nothing.
    """

    def __init__(
        self,
        name: str,
        *,
        seed: int | str | None = None,
        description: str = "",
        locale_id: int = 1033,
        created: dt.datetime | None = None,
        creator: str | None = None,
        computer: str | None = None,
        protection_level: str | int | None = "DontSaveSensitive",
        package_type: int = 5,
        version_build: int = 1,
    ) -> None:
        self._ids = _Ids(seed)
        if created is None:
            created = (
                SEEDED_CREATION_DATE
                if seed is not None
                else dt.datetime.now().replace(microsecond=0)
            )
        if computer is None:
            computer = "dataflow" if seed is not None else socket.gethostname()
        if creator is None:
            creator = f"{computer}\\dataflow" if seed is not None else f"{computer}\\{_user()}"
        props = {
            "CreationDate": format_variant(7, created),
            "CreatorComputerName": computer,
            "CreatorName": creator,
            "LastModifiedProductVersion": PRODUCT_VERSION,
            "LocaleID": str(locale_id),
            "PackageType": str(package_type),
            "VersionBuild": str(version_build),
        }
        if protection_level is not None:
            level = _lookup(_PROTECTION, protection_level, "protection level", "Package")
            props["ProtectionLevel"] = str(level)
        super().__init__(
            self,
            None,
            name,
            ref_id="Package",
            creation_name="Microsoft.Package",
            executable_type="Microsoft.Package",
            description=description,
            properties=props,
        )
        self.properties["VersionGUID"] = self._ids.guid()
        self.connections: list[ConnectionBuilder] = []
        self.parameters: list[Parameter] = []

    # --- package-level collections ------------------------------------------------------------
    def parameter(
        self,
        name: str,
        data_type: str | int = "String",
        value: Any = None,
        *,
        required: bool = False,
        sensitive: bool = False,
        description: str = "",
    ) -> Parameter:
        """A package parameter (``$Package::name``). Values of sensitive parameters are kept in
        the model and written in clear text (the builder cannot encrypt; the package's
        ProtectionLevel is DontSaveSensitive unless given): supply secrets at run time."""
        if name.startswith("$Package::"):
            name = name[len("$Package::") :]
        if not name or "::" in name:
            raise _error(f"invalid parameter name {name!r}", self.ref_id)
        if any(p.name == name for p in self.parameters):
            raise _error(f"parameter $Package::{name} is declared twice", self.ref_id)
        try:
            vt = variant_type(data_type)
        except ValidationError as exc:
            raise _error(exc.message, self.ref_id) from None
        if value is None:
            text = {8: "", 7: "12/30/1899 12:00:00 AM", 11: "0"}.get(vt.code, "0")
        else:
            text = format_variant(vt.code, value)
        p = Parameter(
            name=name,
            data_type=vt.code,
            value=text,
            dtsid=self._ids.guid(),
            required=required,
            sensitive=sensitive,
            description=description,
        )
        self.parameters.append(p)
        return p

    def connection(
        self,
        name: str,
        creation_name: str,
        connection_string: str = "",
        *,
        description: str = "",
        properties: Mapping[str, str] | None = None,
        object_properties: Mapping[str, str] | None = None,
        payload: XmlNode | str | None = None,
    ) -> ConnectionBuilder:
        """A connection manager of any type (``OLEDB``, ``ADO.NET:...``, ``EXCEL``, ``SMTP``...).
        ``object_properties`` are the attributes of its inner ``DTS:ConnectionManager``;
        ``payload`` replaces that element for managers that keep other XML."""
        self._check_cm_name(name)
        cm = ConnectionBuilder(
            self,
            name,
            creation_name,
            connection_string,
            description=description,
            properties=properties,
            object_properties=object_properties,
            payload=payload,
        )
        self.connections.append(cm)
        return cm

    def file_connection(
        self, name: str, path: str, usage: int = 0, *, description: str = ""
    ) -> ConnectionBuilder:
        """A File connection manager (``FILE``); ``usage`` 0 existing file, 1 create file,
        2 existing folder, 3 create folder."""
        props = {"FileUsageType": str(usage)} if usage else {}
        return self.connection(name, "FILE", path, description=description, object_properties=props)

    def flat_file_connection(
        self, name: str, path: str, columns: Sequence[ColumnDef] | None = None, **kwargs: Any
    ) -> FlatFileConnectionBuilder:
        """A Flat File connection manager (delimited). ``columns`` are :data:`ColumnDef`;
        keywords: ``header``, ``delimiter``, ``row_delimiter``, ``text_qualifier``,
        ``code_page``, ``unicode``, ``locale_id``, ``header_rows_to_skip``,
        ``data_rows_to_skip``, ``header_row_delimiter``, ``description``.

        ``row_delimiter`` is CRLF by default, as in SSDT; files written on Linux (polars,
        pandas, csv) end rows with LF: pass ``row_delimiter="\n"`` for them, or SSIS (and this
        runtime) reads the whole file as one row."""
        self._check_cm_name(name)
        cm = FlatFileConnectionBuilder(self, name, path, columns, **kwargs)
        self.connections.append(cm)
        return cm

    def _check_cm_name(self, name: str) -> None:
        if not name or any(c in name for c in "[]"):
            raise _error(f"invalid connection manager name {name!r}", self.ref_id)
        if any(c.name == name for c in self.connections):
            raise _error(
                f"connection manager {name!r} is declared twice",
                f"Package.ConnectionManagers[{name}]",
            )

    def _connection(self, name: str, path: str) -> ConnectionBuilder:
        for c in self.connections:
            if name in (c.name, c.ref_id):
                return c
        raise _error(
            f"no connection manager {name!r}",
            path,
            hint=f"connection managers: {', '.join(c.name for c in self.connections) or '(none)'}",
        )

    def checkpoints(
        self, file_name: str, usage: str | int = "IfExists", *, save: bool = True
    ) -> PackageBuilder:
        """Checkpoint restart: CheckpointFileName, CheckpointUsage (Never / Always / IfExists),
        SaveCheckpoints."""
        self.properties["CheckpointFileName"] = file_name
        self.properties["CheckpointUsage"] = str(
            _lookup(_CHECKPOINT_USAGE, usage, "checkpoint usage", self.ref_id)
        )
        self.properties["SaveCheckpoints"] = _bool(save)
        return self

    # --- build ------------------------------------------------------------------------------
    def build(self) -> Package:
        """The immutable package (may be called again after further changes)."""
        self._finalize()
        self._validate()
        f = self._fields()
        return Package(
            **f,
            connection_managers=tuple(c.build() for c in self.connections),
            parameters=tuple(self.parameters),
        )

    def save(self, path: str | Path) -> Package:
        """Build and write the package as a format-8 .dtsx file; returns the package."""
        pkg = self.build()
        from dataflow.package.writer import save_package

        save_package(pkg, str(path))
        return pkg

    def _validate(self) -> None:
        declared = {v.qualified_name for e in self._walk() for v in e.variables}
        for e in self._walk():
            if isinstance(e, DataFlowBuilder):
                for c in e.components:
                    if (
                        isinstance(c, RowCountBuilder)
                        and not c.variable.startswith("System::")
                        and c.variable not in declared
                    ):
                        raise _error(
                            f"variable {c.variable} is not declared",
                            c.ref_id,
                            hint="declare it with .variable(...) on the package or a container",
                        )
                for ref, _name, o, _i in e.paths:
                    if o.path != ref:
                        raise _error(f"path {ref} is inconsistent", e.ref_id)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (containers without a passwd entry)
        return "dataflow"
