"""What a data flow runs with: variables, parameters, resolved connections, cancellation, events.

The control-flow runner builds a :class:`RunContext` for each Data Flow task it runs;
:func:`dataflow.pipeline.run_data_flow` builds one from the package's defaults and the caller's
values. Connection managers arrive *resolved*: overrides applied and property expressions
(e.g. a ConnectionString built from ``@[$Package::DataDir]``) evaluated.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dataflow.core.datatypes import VARIANT_TYPES
from dataflow.core.errors import Cancelled, ExpressionError, ValidationError
from dataflow.package.model import ConnectionManager, Executable, Package, Variable


@dataclass(frozen=True, slots=True)
class Event:
    """An event raised while a data flow runs (OnProgress, OnWarning, OnInformation, OnError)."""

    name: str
    source: str  # refId of the component or task
    message: str
    code: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    time: dt.datetime = field(default_factory=dt.datetime.now)


EventSink = Callable[[Event], None]


class VariableStore:
    """Variables and parameters by qualified name (``User::X``, ``$Package::P``), thread-safe.

    Values are Python values; ``types`` holds the SSIS type name of each (``DT_I4``...) so that
    expressions type values exactly as SSIS does.
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._types: dict[str, str] = {}
        self._read_only: set[str] = set()
        self._lock = threading.Lock()

    def define(self, name: str, value: Any, ssis_type: str, *, read_only: bool = False) -> None:
        with self._lock:
            self._values[name] = value
            self._types[name] = ssis_type
            if read_only:
                self._read_only.add(name)

    def resolve(self, name: str) -> str:
        """The qualified name of ``name`` (a bare ``X`` finds ``User::X``, then any namespace)."""
        if name in self._values:
            return name
        for candidate in (f"User::{name}", f"$Package::{name}", f"$Project::{name}"):
            if candidate in self._values:
                return candidate
        hits = [k for k in self._values if k.split("::", 1)[-1] == name]
        if len(hits) == 1:
            return hits[0]
        raise ValidationError(
            "DTS_E_VARIABLENOTFOUND",
            f"no variable {name!r}" if not hits else f"variable name {name!r} is ambiguous: {hits}",
            hint="name the variable with its namespace, e.g. User::RowCount",
        )

    def get(self, name: str) -> Any:
        with self._lock:
            return self._values[self.resolve(name)]

    def set(self, name: str, value: Any) -> None:
        key = self.resolve(name)
        with self._lock:
            if key in self._read_only:
                raise ValidationError("DTS_E_VARIABLEREADONLY", f"variable {key} is read-only")
            self._values[key] = value

    def values(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def types(self) -> dict[str, str]:
        with self._lock:
            return dict(self._types)

    def __contains__(self, name: object) -> bool:
        try:
            self.resolve(str(name))
        except ValidationError:
            return False
        return True


def _variable_type(v: Variable) -> str:
    info = VARIANT_TYPES.get(v.data_type)
    return info.dt if info is not None else "DT_WSTR"


def system_variables(pkg: Package, task: Executable | None = None) -> dict[str, tuple[Any, str]]:
    """The package-scope system variables a data flow can read."""
    now = dt.datetime.now()
    return {
        "System::PackageName": (pkg.name, "DT_WSTR"),
        "System::PackageID": (pkg.dtsid, "DT_WSTR"),
        "System::VersionGUID": (pkg.version_guid, "DT_WSTR"),
        "System::ExecutionInstanceGUID": ("{" + str(uuid.uuid4()).upper() + "}", "DT_WSTR"),
        "System::StartTime": (now, "DT_DATE"),
        "System::ContainerStartTime": (now, "DT_DATE"),
        "System::MachineName": (socket.gethostname(), "DT_WSTR"),
        "System::UserName": (os.environ.get("USER", ""), "DT_WSTR"),
        "System::TaskName": (task.name if task else "", "DT_WSTR"),
        "System::TaskID": (task.dtsid if task else "", "DT_WSTR"),
        "System::SourceName": (task.name if task else pkg.name, "DT_WSTR"),
        "System::LocaleID": (1033, "DT_I4"),
    }


@dataclass
class RunContext:
    """Everything a data flow needs at run time."""

    package: Package
    task: Executable
    variables: VariableStore
    connections: dict[str, ConnectionManager]  # by refId, resolved
    cancel: threading.Event = field(default_factory=threading.Event)
    on_event: EventSink | None = None
    batch_rows: int | None = None  # override of the task's DefaultBufferMaxRows hint

    def emit(
        self, name: str, source: str, message: str, code: str | None = None, **data: Any
    ) -> None:
        if self.on_event is not None:
            self.on_event(Event(name, source, message, code, data))

    def check_cancel(self, where: str) -> None:
        if self.cancel.is_set():
            raise Cancelled("the data flow was cancelled", path=where)

    def connection(self, manager_ref: str) -> ConnectionManager:
        if manager_ref in self.connections:
            return self.connections[manager_ref]
        for cm in self.connections.values():
            if manager_ref in (cm.name, cm.dtsid):
                return cm
        raise ValidationError(
            "DTS_E_CONNECTIONNOTFOUND",
            f"connection manager {manager_ref!r} not found",
            path=self.task.ref_id,
            hint="check the component's connection, or pass connections={name: ...}",
        )


def _coerce(value: Any, ssis_type: str) -> Any:
    """A caller-given value converted to the variable's type (strings from the command line)."""
    if not isinstance(value, str) or ssis_type in ("DT_WSTR", "DT_STR"):
        return value
    from dataflow.package.values import parse_variant

    codes = {v.dt: v.code for v in VARIANT_TYPES.values()}
    code = codes.get(ssis_type)
    if code is None:
        return value
    try:
        return parse_variant(code, value)
    except (ValueError, ArithmeticError) as exc:
        raise ValidationError(
            "DTS_E_EXPREVALASSIGNMENTTYPEMISMATCH",
            f"value {value!r} does not convert to {ssis_type}: {exc}",
            hint="give a value of the variable's type",
        ) from None


def build_variables(
    pkg: Package,
    task: Executable | None = None,
    parameters: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> VariableStore:
    """Package defaults, then the caller's parameters and variables (API.md naming rules)."""
    store = VariableStore()
    for name, (value, t) in system_variables(pkg, task).items():
        store.define(name, value, t, read_only=True)
    project = pkg.project
    for p in (*(project.parameters if project is not None else ()), *pkg.parameters):
        t = VARIANT_TYPES[p.data_type].dt if p.data_type in VARIANT_TYPES else "DT_WSTR"
        store.define(p.qualified_name, p.python_value, t, read_only=True)
    scopes = [pkg] if task is None else [e for e in pkg.walk() if task.ref_id.startswith(e.ref_id)]
    for exe in scopes:
        for v in exe.variables:
            try:
                value = v.python_value
            except (ValueError, ArithmeticError) as exc:
                raise ValidationError(
                    "DTS_E_INVALIDATTRIBUTEVALUE",
                    f"variable {v.qualified_name} holds {v.value!r}, not a value of its type: {exc}",
                    path=exe.ref_id,
                    hint=f"set the variable with variables={{'{v.qualified_name}': ...}}",
                ) from None
            store.define(v.qualified_name, value, _variable_type(v), read_only=v.read_only)
    for key, value in (parameters or {}).items():
        name = key if key.startswith("$") else _param_key(store, key)
        if name not in store.types():
            raise ValidationError(
                "DTS_E_VARIABLENOTFOUND",
                f"the package has no parameter {key!r}",
                hint="list the package's parameters with `dataflow validate`",
            )
        store.define(name, _coerce(value, store.types()[name]), store.types()[name], read_only=True)
    for key, value in (variables or {}).items():
        name = key if "::" in key else f"User::{key}"
        if name not in store.types():
            raise ValidationError(
                "DTS_E_VARIABLENOTFOUND",
                f"the package has no variable {name!r}",
                hint="variables are keyed Namespace::Name",
            )
        t = store.types()[name]
        store.define(name, _coerce(value, t), t)
    return store


def _param_key(store: VariableStore, bare: str) -> str:
    types = store.types()
    for candidate in (f"$Package::{bare}", f"$Project::{bare}"):
        if candidate in types:
            return candidate
    return f"$Package::{bare}"


# ------------------------------------------------------------------------------------------------
# Connection managers
# ------------------------------------------------------------------------------------------------

_FILE_KINDS = frozenset({"FLATFILE", "FILE", "MULTIFLATFILE", "MULTIFILE", "EXCEL", "CACHE"})


def _set_property(cm: ConnectionManager, name: str, value: str) -> ConnectionManager:
    if name == "ConnectionString":
        return replace(cm, connection_string=value)
    if name in cm.object_properties or cm.kind in _FILE_KINDS:
        return replace(cm, object_properties=cm.object_properties.set(name, value))
    return replace(cm, properties=cm.properties.set(name, value))


def used_connections(task: Executable) -> set[str]:
    """refIds / DTSIDs of the connection managers the components of a Data Flow task use."""
    used: set[str] = set()
    if task.pipeline is not None:
        for comp in task.pipeline.components:
            for link in comp.connections:
                used.add(link.manager_ref)
                used.add(link.manager_id.split(":", 1)[0])
    return used


def resolve_connections(
    pkg: Package,
    variables: VariableStore,
    overrides: Mapping[str, str] | None = None,
    only: set[str] | None = None,
) -> dict[str, ConnectionManager]:
    """Every connection manager the package can use, with the caller's overrides (by name or
    refId) applied and property expressions evaluated. Keyed by refId. With ``only``, the
    expressions of other managers are not evaluated (they may read variables of another scope,
    e.g. a Foreach Loop's, that a data flow does not have)."""
    managers = list(pkg.connection_managers)
    if pkg.project is not None:
        managers = list(pkg.project.connection_managers) + managers
    overrides = dict(overrides or {})
    out: dict[str, ConnectionManager] = {}
    for cm in managers:
        resolved = cm
        wanted = only is None or bool({cm.ref_id, cm.dtsid, cm.name} & only)
        for pe in cm.property_expressions if wanted else ():
            from dataflow.expressions import evaluate

            try:
                value = evaluate(
                    pe.expression, variables=variables.values(), types=variables.types()
                )
            except ExpressionError as exc:
                raise ValidationError(
                    exc.code,
                    f"property expression {pe.name} of connection manager {cm.name!r} failed: "
                    f"{exc.message}",
                    path=cm.ref_id,
                    hint="supply the parameters and variables the expression reads",
                ) from exc
            resolved = _set_property(resolved, pe.name, "" if value is None else str(value))
        for key in (cm.name, cm.ref_id):
            if key in overrides:
                resolved = replace(resolved, connection_string=overrides.pop(key))
        out[cm.ref_id] = resolved
    if overrides:
        raise ValidationError(
            "DTS_E_CONNECTIONNOTFOUND",
            f"no connection manager named {sorted(overrides)}",
            path=pkg.ref_id,
            hint="connection overrides are keyed by connection manager name",
        )
    return out
