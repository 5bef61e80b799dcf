"""The package model: immutable, typed objects for everything a .dtsx holds.

One model for every file format. The reader (:mod:`dataflow.package.reader`) turns formats 2, 3,
6 and 8 into it, the writer (:mod:`dataflow.package.writer`) writes it as format 8, and the
builder (:mod:`dataflow.package.builder`) creates it from Python.

Design rules:

* Objects keep their SSIS identity: ``ref_id`` (2012+ naming, derived the way SSIS names objects
  for older formats), ``dtsid`` GUIDs, lineage ids (always in refId form; the numeric ids of
  formats 2/3 are kept in ``id`` fields that do not take part in equality, since a format-8 file
  has none).
* Everything the runtime needs is a typed field or a typed accessor; every other attribute the
  file holds is kept verbatim in ``properties`` / ``attrs`` (:class:`FrozenMap`), so that a loaded
  package saves back faithfully. Booleans are normalised to ``True`` / ``False`` text whatever the
  source format wrote (``-1`` / ``0`` in format 3).
* Payloads we do not model (task ObjectData, enumerator settings, log-provider settings) are kept
  as :class:`XmlNode` trees.
* All collections are tuples; mappings are :class:`FrozenMap`. Objects are hashable and compare by
  value, so "load, save, load again" is checked with ``==``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, overload

from dataflow.core.datatypes import TypeSpec, make_spec, ssis_type

T = TypeVar("T")


class FrozenMap(Mapping[str, str]):
    """An immutable, hashable, insertion-ordered ``str -> str`` mapping."""

    __slots__ = ("_d", "_h")

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._d: dict[str, str] = dict(items)
        self._h: int | None = None

    def __getitem__(self, key: str) -> str:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(frozenset(self._d.items()))
        return self._h

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"

    def set(self, key: str, value: str | None) -> FrozenMap:
        """A copy with ``key`` set (or removed when ``value`` is None)."""
        d = dict(self._d)
        if value is None:
            d.pop(key, None)
        else:
            d[key] = value
        return FrozenMap(d)

    def without(self, *keys: str) -> FrozenMap:
        return FrozenMap((k, v) for k, v in self._d.items() if k not in keys)


EMPTY = FrozenMap()


def to_bool(text: str | None, default: bool = False) -> bool:
    """SSIS booleans: ``True``/``False`` (2012+), ``-1``/``0``/``1`` (2005/2008)."""
    if text is None or text == "":
        return default
    t = text.strip().lower()
    if t in ("true", "-1", "1"):
        return True
    if t in ("false", "0"):
        return False
    return default


def to_int(text: str | None, default: int = 0) -> int:
    if text is None or text.strip() == "":
        return default
    try:
        return int(text.strip())
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class XmlNode:
    """A verbatim XML element we keep but do not model (namespaced tags in Clark notation)."""

    tag: str
    attrs: FrozenMap = EMPTY
    text: str | None = None
    children: tuple[XmlNode, ...] = ()
    tail: str | None = field(default=None, compare=False)
    nsmap: FrozenMap = field(default=EMPTY, compare=False)  # prefixes to keep on write

    def find(self, local_name: str) -> XmlNode | None:
        for c in self.children:
            if c.local_name == local_name:
                return c
        return None

    def iter(self) -> Iterator[XmlNode]:
        yield self
        for c in self.children:
            yield from c.iter()

    @property
    def local_name(self) -> str:
        return self.tag.rsplit("}", 1)[-1]

    def attr(self, local_name: str, default: str | None = None) -> str | None:
        """An attribute by local name, whatever its namespace."""
        for k, v in self.attrs.items():
            if k.rsplit("}", 1)[-1] == local_name:
                return v
        return default


# ------------------------------------------------------------------------------------------------
# Control flow
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PropertyExpression:
    """``DTS:PropertyExpression``: a property whose value an expression computes at run time."""

    name: str
    expression: str


@dataclass(frozen=True, slots=True)
class Variable:
    """A variable (``DTS:Variable``). ``value`` is the persisted text; see :attr:`python_value`."""

    namespace: str
    name: str
    dtsid: str = ""
    data_type: int = 8  # VARIANT code (datatypes.VARIANT_TYPES); 8 = String
    value: str = ""
    expression: str = ""
    evaluate_as_expression: bool = False
    read_only: bool = False
    raise_changed_event: bool = False
    data_subtype: str = ""
    description: str = ""
    properties: FrozenMap = EMPTY  # other attributes (IncludeInDebugDump, CreationName, ...)
    property_expressions: tuple[PropertyExpression, ...] = ()
    value_node: XmlNode | None = None  # Object variables: the persisted SOAP stub, verbatim

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}::{self.name}"

    @property
    def python_value(self) -> Any:
        from dataflow.package.values import parse_variant

        return parse_variant(self.data_type, self.value)


@dataclass(frozen=True, slots=True)
class Parameter:
    """A package (``DTS:PackageParameter``) or project (``Project.params``) parameter."""

    name: str
    data_type: int = 8  # VARIANT code, also for project parameters (TypeCode converted on read)
    value: str | None = None  # persisted text; None when not stored (sensitive, encrypted)
    dtsid: str = ""
    required: bool = False
    sensitive: bool = False
    description: str = ""
    scope: Literal["Package", "Project"] = "Package"
    properties: FrozenMap = EMPTY
    encrypted: bool = field(default=False, compare=False)  # value encrypted in the file, not loaded

    @property
    def qualified_name(self) -> str:
        return f"${self.scope}::{self.name}"

    @property
    def python_value(self) -> Any:
        from dataflow.package.values import parse_variant

        return None if self.value is None else parse_variant(self.data_type, self.value)


@dataclass(frozen=True, slots=True)
class FlatFileColumn:
    """A column of a Flat File connection manager (``DTS:FlatFileColumn``)."""

    name: str
    dtsid: str = ""
    properties: FrozenMap = EMPTY  # ColumnType, ColumnDelimiter, DataType, MaximumWidth, ...

    @property
    def data_type(self) -> TypeSpec:
        t = ssis_type(to_int(self.properties.get("DataType"), 129))
        return make_spec(
            t.name,
            length=to_int(self.properties.get("MaximumWidth"), 50 if t.kind == "string" else 0),
            precision=to_int(self.properties.get("DataPrecision")),
            scale=to_int(self.properties.get("DataScale")),
        )

    @property
    def column_type(self) -> str:
        return self.properties.get("ColumnType", "FixedWidth")

    @property
    def delimiter(self) -> str:
        from dataflow.package.values import unescape_xml_name

        return unescape_xml_name(self.properties.get("ColumnDelimiter", ""))

    @property
    def width(self) -> int:
        return to_int(self.properties.get("ColumnWidth"))

    @property
    def text_qualified(self) -> bool:
        return to_bool(self.properties.get("TextQualified"), True)


@dataclass(frozen=True, slots=True)
class ConnectionManager:
    """A connection manager: package-level (``Package.ConnectionManagers[X]``) or project (.conmgr)."""

    ref_id: str
    name: str
    creation_name: str
    dtsid: str = ""
    description: str = ""
    connection_string: str = ""
    properties: FrozenMap = EMPTY  # attributes of the outer element (DelayValidation, ...)
    object_properties: FrozenMap = (
        EMPTY  # attributes of ObjectData/ConnectionManager (Format, CodePage...)
    )
    flat_file_columns: tuple[FlatFileColumn, ...] = ()
    object_children: tuple[XmlNode, ...] = ()  # other children of ObjectData/ConnectionManager
    payload: XmlNode | None = None  # ObjectData content of non-DTS managers (SMTP, WMI, ...)
    property_expressions: tuple[PropertyExpression, ...] = ()
    scope: Literal["Package", "Project"] = "Package"
    encrypted: tuple[str, ...] = field(default=(), compare=False)  # encrypted values not loaded

    @property
    def kind(self) -> str:
        """The connection type without assembly details: ``OLEDB``, ``FLATFILE``, ``ADO.NET``..."""
        return self.creation_name.split(":", 1)[0].strip().upper()

    def property(self, name: str, default: str | None = None) -> str | None:
        """Any property by name, wherever the file keeps it."""
        if name == "ConnectionString":
            return self.connection_string
        if name in self.object_properties:
            return self.object_properties[name]
        return self.properties.get(name, default)


@dataclass(frozen=True, slots=True)
class PrecedenceConstraint:
    """A precedence constraint between two executables of one container."""

    ref_id: str
    name: str
    from_ref: str
    to_ref: str
    dtsid: str = ""
    value: int = 0  # DTSExecResult: 0 Success, 1 Failure, 2 Completion
    eval_op: int = (
        2  # 1 Expression, 2 Constraint, 3 ExpressionAndConstraint, 4 ExpressionOrConstraint
    )
    expression: str = ""
    logical_and: bool = True
    properties: FrozenMap = EMPTY


@dataclass(frozen=True, slots=True)
class ForEachEnumerator:
    """The enumerator of a Foreach Loop (its settings are the verbatim ObjectData payload)."""

    creation_name: str
    dtsid: str = ""
    name: str = ""
    properties: FrozenMap = EMPTY
    payload: XmlNode | None = None
    property_expressions: tuple[PropertyExpression, ...] = ()


@dataclass(frozen=True, slots=True)
class ForEachVariableMapping:
    value_index: int
    variable_name: str
    dtsid: str = ""
    name: str = ""
    properties: FrozenMap = EMPTY


@dataclass(frozen=True, slots=True)
class LoggingOptions:
    """``DTS:LoggingOptions``: LoggingMode, FilterKind, and the event / column filters."""

    properties: FrozenMap = EMPTY  # LoggingMode, FilterKind
    children: tuple[XmlNode, ...] = ()  # EventFilter / ColumnFilter / SelectedLogProviders

    @property
    def logging_mode(self) -> int:
        """0 UseParentSetting, 1 Enabled, 2 Disabled."""
        return to_int(self.properties.get("LoggingMode"), 0)


@dataclass(frozen=True, slots=True)
class Executable:
    """Any executable: a task host, a Sequence / For Loop / Foreach Loop, an event handler.

    ``kind`` is derived from ``creation_name``; ``pipeline`` is set for Data Flow tasks, ``payload``
    for other tasks.
    """

    ref_id: str
    name: str
    creation_name: str
    executable_type: str = ""
    dtsid: str = ""
    description: str = ""
    properties: FrozenMap = (
        EMPTY  # every other attribute / property, verbatim (booleans normalised)
    )
    variables: tuple[Variable, ...] = ()
    property_expressions: tuple[PropertyExpression, ...] = ()
    logging: LoggingOptions | None = None
    executables: tuple[Executable, ...] = ()
    constraints: tuple[PrecedenceConstraint, ...] = ()
    event_handlers: tuple[Executable, ...] = ()
    foreach_enumerator: ForEachEnumerator | None = None
    variable_mappings: tuple[ForEachVariableMapping, ...] = ()
    payload: XmlNode | None = None
    pipeline: Pipeline | None = None
    event_name: str = ""  # set on event handlers (OnError, OnPreExecute, ...)
    encrypted: tuple[str, ...] = field(default=(), compare=False)  # encrypted values not loaded

    # --- typed accessors ---------------------------------------------------------------------
    @property
    def kind(self) -> str:
        from dataflow.package.classids import executable_kind

        return "eventhandler" if self.event_name else executable_kind(self.creation_name)

    @property
    def task_type(self) -> str:
        """The task type in 2014+ naming (``Microsoft.ExecuteSQLTask``), old names mapped."""
        from dataflow.package.classids import canonical_task_type

        return canonical_task_type(self.creation_name or self.executable_type)

    def _bool(self, name: str, default: bool = False) -> bool:
        return to_bool(self.properties.get(name), default)

    def _int(self, name: str, default: int) -> int:
        return to_int(self.properties.get(name), default)

    @property
    def disabled(self) -> bool:
        return self._bool("Disabled")

    @property
    def delay_validation(self) -> bool:
        return self._bool("DelayValidation")

    @property
    def fail_package_on_failure(self) -> bool:
        return self._bool("FailPackageOnFailure")

    @property
    def fail_parent_on_failure(self) -> bool:
        return self._bool("FailParentOnFailure")

    @property
    def max_error_count(self) -> int:
        return self._int("MaxErrorCount", 1)

    @property
    def force_execution_result(self) -> int:
        """-1 None, 0 Success, 1 Failure, 2 Completion."""
        return self._int("ForceExecutionResult", -1)

    @property
    def transaction_option(self) -> int:
        """0 NotSupported, 1 Supported, 2 Required."""
        return self._int("TransactionOption", 1)

    @property
    def isolation_level(self) -> int:
        return self._int("ISOLevel", 1048576)

    @property
    def disable_event_handlers(self) -> bool:
        return self._bool("DisableEventHandlers")

    @property
    def max_concurrent(self) -> int:
        """MaxConcurrentExecutables (package) / MaxConcurrent (loops); -1 = cores + 2."""
        return self._int("MaxConcurrentExecutables", self._int("MaxConcurrent", -1))

    @property
    def init_expression(self) -> str:
        return self.properties.get("InitExpression", "")

    @property
    def eval_expression(self) -> str:
        return self.properties.get("EvalExpression", "")

    @property
    def assign_expression(self) -> str:
        return self.properties.get("AssignExpression", "")

    # --- navigation ------------------------------------------------------------------------
    def walk(self) -> Iterator[Executable]:
        """This executable and every executable below it, event handlers included."""
        yield self
        for e in self.executables:
            yield from e.walk()
        for h in self.event_handlers:
            yield from h.walk()

    def find(self, name_or_ref: str) -> Executable:
        """An executable below this one by refId, ``\\``-path relative to this one, or unique name."""
        hits = [e for e in self.walk() if e.ref_id == name_or_ref]
        if not hits:
            rel = f"{self.ref_id}\\{name_or_ref}"
            hits = [e for e in self.walk() if e.ref_id == rel]
        if not hits:
            hits = [e for e in self.walk() if e.name == name_or_ref]
        if len(hits) != 1:
            from dataflow.core.errors import ValidationError

            what = "no executable" if not hits else f"{len(hits)} executables"
            raise ValidationError(
                "DTS_W_CANNOTFINDOBJECT" if not hits else "DTS_E_BUILDERERROR",
                f"{what} named {name_or_ref!r}",
                path=self.ref_id,
                hint="name the executable by its refId (Package\\Container\\Task)",
            )
        return hits[0]


@dataclass(frozen=True, slots=True)
class Configuration:
    """A package configuration (``DTS:Configuration``), applied by the runner before validation."""

    name: str
    type: int  # 0 parent variable, 1 XML file, 2 env var, 3 registry, 4 parent var, 5 indirect XML, ...
    string: str = ""
    variable: str = ""
    dtsid: str = ""
    description: str = ""
    properties: FrozenMap = EMPTY


@dataclass(frozen=True, slots=True)
class LogProvider:
    ref_id: str
    name: str
    creation_name: str
    dtsid: str = ""
    description: str = ""
    config_string: str = ""
    properties: FrozenMap = EMPTY
    payload: XmlNode | None = None


@dataclass(frozen=True, slots=True)
class Package(Executable):
    """A whole package: the root executable plus package-level collections."""

    connection_managers: tuple[ConnectionManager, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    configurations: tuple[Configuration, ...] = ()
    log_providers: tuple[LogProvider, ...] = ()
    format_version: int = field(default=8, compare=False)  # of the file it was read from
    source_path: str | None = field(default=None, compare=False)
    project: Any = field(default=None, compare=False, repr=False)  # the Project it belongs to

    @property
    def version_guid(self) -> str:
        return self.properties.get("VersionGUID", "")

    @property
    def protection_level(self) -> int:
        """0 DontSaveSensitive, 1 EncryptSensitiveWithUserKey, 2 …WithPassword, 3 EncryptAllWithPassword,
        4 EncryptAllWithUserKey, 5 ServerStorage."""
        return to_int(self.properties.get("ProtectionLevel"), 1)

    @property
    def checkpoint_file_name(self) -> str:
        return self.properties.get("CheckpointFileName", "")

    @property
    def checkpoint_usage(self) -> int:
        """0 Never, 1 Always, 2 IfExists."""
        return to_int(self.properties.get("CheckpointUsage"), 0)

    @property
    def save_checkpoints(self) -> bool:
        return to_bool(self.properties.get("SaveCheckpoints"))

    @property
    def enable_config(self) -> bool:
        return to_bool(self.properties.get("EnableConfig"))

    def connection(self, name_or_ref: str) -> ConnectionManager:
        """A connection manager by name, refId or DTSID (project managers included)."""
        managers = list(self.connection_managers)
        if self.project is not None:
            managers += list(self.project.connection_managers)
        for cm in managers:
            if name_or_ref in (cm.name, cm.ref_id, cm.dtsid):
                return cm
        from dataflow.core.errors import ValidationError

        raise ValidationError(
            "DTS_E_CONNECTIONNOTFOUND",
            f"no connection manager {name_or_ref!r}",
            path=self.ref_id,
            hint="list the package's connection managers with `dataflow validate`",
        )

    def all_variables(self) -> Iterator[tuple[Executable, Variable]]:
        """Every variable with the executable that scopes it."""
        for exe in self.walk():
            for v in exe.variables:
                yield exe, v

    def save(self, path: str, **kwargs: Any) -> None:
        """Write this package as a format-8 .dtsx file."""
        from dataflow.package.writer import save_package

        save_package(self, path, **kwargs)

    def with_changes(self, **changes: Any) -> Package:
        return replace(self, **changes)


# ------------------------------------------------------------------------------------------------
# Data flow
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomProperty:
    """A component / input / output / column custom property (``<property>``).

    ``value`` is the text; array properties keep their ``<arrayElement>`` nodes in ``elements``.
    ``attrs`` holds dataType, typeConverter, containsID, expressionType, description, ...
    """

    name: str
    value: str = ""
    attrs: FrozenMap = EMPTY
    elements: tuple[XmlNode, ...] | None = None
    id: int | None = field(default=None, compare=False)

    @property
    def data_type(self) -> str:
        return self.attrs.get("dataType", "System.String")

    @property
    def contains_id(self) -> bool:
        return to_bool(self.attrs.get("containsID"))


class _HasProperties:
    custom_properties: tuple[CustomProperty, ...]

    @overload
    def prop(self, name: str) -> str | None: ...
    @overload
    def prop(self, name: str, default: str) -> str: ...
    def prop(self, name: str, default: str | None = None) -> str | None:
        """The text of custom property ``name``."""
        for p in self.custom_properties:
            if p.name == name:
                return p.value
        return default


@dataclass(frozen=True, slots=True)
class ColumnType:
    """The SSIS type attributes every pipeline column carries."""

    data_type: str = "wstr"  # XML token (datatypes.SsisType.token)
    length: int = 0
    precision: int = 0
    scale: int = 0
    code_page: int = 0

    @property
    def spec(self) -> TypeSpec:
        return make_spec(
            ssis_type(self.data_type).name,
            length=self.length,
            precision=self.precision,
            scale=self.scale,
            codepage=self.code_page,
        )


@dataclass(frozen=True, slots=True)
class OutputColumn(_HasProperties):
    ref_id: str
    name: str
    lineage_id: str  # refId form (= own refId in 2012+ packages)
    type: ColumnType = ColumnType()
    attrs: FrozenMap = (
        EMPTY  # sortKeyPosition, specialFlags, dispositions, externalMetadataColumnId...
    )
    custom_properties: tuple[CustomProperty, ...] = ()
    id: int | None = field(default=None, compare=False)
    numeric_lineage_id: int | None = field(default=None, compare=False)

    @property
    def error_row_disposition(self) -> str:
        return self.attrs.get("errorRowDisposition", "NotUsed")

    @property
    def truncation_row_disposition(self) -> str:
        return self.attrs.get("truncationRowDisposition", "NotUsed")

    @property
    def special_flags(self) -> int:
        return to_int(self.attrs.get("specialFlags"))

    @property
    def sort_key_position(self) -> int:
        return to_int(self.attrs.get("sortKeyPosition"))


@dataclass(frozen=True, slots=True)
class InputColumn(_HasProperties):
    ref_id: str
    lineage_id: str  # refId of the upstream output column
    cached_name: str = ""
    cached_type: ColumnType = ColumnType("")  # "" = not cached in the file
    attrs: FrozenMap = (
        EMPTY  # usageType, externalMetadataColumnId, cachedSortKeyPosition, dispositions
    )
    custom_properties: tuple[CustomProperty, ...] = ()
    id: int | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.cached_name

    @property
    def usage_type(self) -> str:
        return self.attrs.get("usageType", "readOnly")

    @property
    def error_row_disposition(self) -> str:
        return self.attrs.get("errorRowDisposition", "NotUsed")

    @property
    def truncation_row_disposition(self) -> str:
        return self.attrs.get("truncationRowDisposition", "NotUsed")


@dataclass(frozen=True, slots=True)
class ExternalColumn(_HasProperties):
    ref_id: str
    name: str
    type: ColumnType = ColumnType()
    attrs: FrozenMap = EMPTY
    custom_properties: tuple[CustomProperty, ...] = ()
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Input(_HasProperties):
    ref_id: str
    name: str
    columns: tuple[InputColumn, ...] = ()
    external_columns: tuple[ExternalColumn, ...] = ()
    external_attrs: FrozenMap | None = (
        None  # attributes of <externalMetadataColumns>; None = absent
    )
    attrs: FrozenMap = EMPTY  # hasSideEffects, errorRowDisposition, ...
    custom_properties: tuple[CustomProperty, ...] = ()
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Output(_HasProperties):
    ref_id: str
    name: str
    columns: tuple[OutputColumn, ...] = ()
    external_columns: tuple[ExternalColumn, ...] = ()
    external_attrs: FrozenMap | None = None
    attrs: FrozenMap = EMPTY  # isErrorOut, synchronousInputId (refId), exclusionGroup, isSorted...
    custom_properties: tuple[CustomProperty, ...] = ()
    id: int | None = field(default=None, compare=False)

    @property
    def is_error_output(self) -> bool:
        return to_bool(self.attrs.get("isErrorOut"))

    @property
    def synchronous_input(self) -> str | None:
        """refId of the input whose rows flow through this output (None: asynchronous)."""
        return self.attrs.get("synchronousInputId") or None

    @property
    def exclusion_group(self) -> int:
        return to_int(self.attrs.get("exclusionGroup"))

    @property
    def is_sorted(self) -> bool:
        return to_bool(self.attrs.get("isSorted"))


@dataclass(frozen=True, slots=True)
class ComponentConnection:
    """A component's link to a connection manager (``<connection>``)."""

    ref_id: str
    name: str
    manager_ref: str = ""  # refId of the connection manager ("" when the link is broken)
    # connectionManagerID as written ({GUID}:external / :invalid forms are written back)
    manager_id: str = field(default="", compare=False)
    attrs: FrozenMap = EMPTY
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Component(_HasProperties):
    ref_id: str
    name: str
    class_id: str  # componentClassID as written
    description: str = ""
    attrs: FrozenMap = EMPTY  # version, contactInfo, usesDispositions, localeId, ...
    custom_properties: tuple[CustomProperty, ...] = ()
    connections: tuple[ComponentConnection, ...] = ()
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()
    id: int | None = field(default=None, compare=False)

    @property
    def user_component_type_name(self) -> str:
        return self.prop("UserComponentTypeName", "")

    @property
    def kind(self) -> str:
        """Canonical component id: ``Microsoft.DerivedColumn``; managed components by their
        UserComponentTypeName (``Microsoft.DataReaderDestinationAdapter``)."""
        from dataflow.package.classids import canonical_component

        return canonical_component(self.class_id, self.user_component_type_name)

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if name in (o.name, o.ref_id):
                return o
        raise KeyError(f"{self.ref_id} has no output {name!r}")

    def input(self, name: str) -> Input:
        for i in self.inputs:
            if name in (i.name, i.ref_id):
                return i
        raise KeyError(f"{self.ref_id} has no input {name!r}")


@dataclass(frozen=True, slots=True)
class DataFlowPath:
    ref_id: str
    name: str
    start_ref: str  # output refId
    end_ref: str  # input refId
    attrs: FrozenMap = EMPTY
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The Data Flow task payload (``<pipeline>``)."""

    components: tuple[Component, ...] = ()
    paths: tuple[DataFlowPath, ...] = ()
    attrs: FrozenMap = EMPTY  # version, defaultBufferMaxRows, defaultBufferSize, engineThreads...
    extra: tuple[XmlNode, ...] = ()  # other children (third-party pipelines' designer payloads)

    def component(self, name_or_ref: str) -> Component:
        for c in self.components:
            if name_or_ref in (c.name, c.ref_id):
                return c
        raise KeyError(f"no component {name_or_ref!r}")

    @property
    def default_buffer_max_rows(self) -> int:
        return to_int(self.attrs.get("defaultBufferMaxRows"), 10000)

    @property
    def default_buffer_size(self) -> int:
        return to_int(self.attrs.get("defaultBufferSize"), 10485760)


def find_first(items: Iterable[T], **match: Any) -> T | None:
    """The first item whose attributes equal ``match`` (small helper for tests and tools)."""
    for item in items:
        if all(getattr(item, k) == v for k, v in match.items()):
            return item
    return None
