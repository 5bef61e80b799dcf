"""The compatibility report behind ``dataflow validate``: what of a package this runtime can run.

:func:`check_package` loads a package (:func:`check_project` a project) and lists, without
running anything:

* every executable (package, containers, tasks, event handlers) and every data-flow component as
  ``supported``, ``unsupported`` (with the reason and a code) or ``encrypted`` (a package
  encrypted whole: nothing inside it can be read);
* every connection manager, ``known`` or ``unknown`` (``DTS_E_UNSUPPORTEDCONNECTIONTYPE``);
* every sensitive value that was encrypted in the file and therefore not loaded, with the
  command-line option that supplies it at run time (``--param``, ``--conn``, ``--set``);
* every stored expression that does not parse;
* load errors, always coded (:class:`~dataflow.core.errors.DataflowError`).

Nothing here raises for a bad package: whatever goes wrong becomes an entry of ``errors``. The
report is data (frozen dataclasses); :meth:`CompatReport.to_dict` is the JSON shape the command
prints. Support comes from the registries (:mod:`dataflow.control.registry`,
:mod:`dataflow.pipeline.registry`), so a task or component becomes ``supported`` here as soon as
its module registers itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from dataflow.control import registry as task_registry
from dataflow.core.errors import DataflowError, EncryptedPackageError, ExpressionError, LoadError
from dataflow.package.model import Component, ConnectionManager, Executable, Package, Parameter
from dataflow.pipeline import registry as component_registry

if TYPE_CHECKING:
    from dataflow.package.project import Project

Status = Literal["supported", "unsupported", "encrypted"]
T = TypeVar("T")

#: Connection manager types (``CreationName`` before the first ``:``) this runtime knows.
KNOWN_CONNECTION_KINDS: Final[frozenset[str]] = frozenset(
    {
        "OLEDB", "FLATFILE", "FILE", "ADO.NET", "EXCEL", "ODBC", "SMTP", "FTP", "HTTP", "CACHE",
        "MULTIFLATFILE", "MULTIFILE", "MSOLAP100", "WMI", "SMOSERVER", "MSMQ", "SQLMOBILE",
    }
)  # fmt: skip

#: Suffixes (and directories) that name a project rather than a package.
PROJECT_SUFFIXES: Final[frozenset[str]] = frozenset({".ispac", ".dtproj"})

SCRIPT_TASK: Final = "Microsoft.ScriptTask"
SCRIPT_COMPONENT: Final = "Microsoft.ScriptComponentHost"

#: Components whose ``Expression`` custom properties are SSIS expressions.
EXPRESSION_COMPONENTS: Final[frozenset[str]] = frozenset(
    {"Microsoft.DerivedColumn", "Microsoft.ConditionalSplit"}
)

_LANGUAGES: Final[dict[str, str]] = {
    "CSHARP": "C#",
    "MICROSOFT VISUAL C# 2008": "C#",
    "MICROSOFT VISUAL C# 2010": "C#",
    "MICROSOFT VISUAL C# 2012": "C#",
    "VISUALBASIC": "Visual Basic",
    "MICROSOFT VISUAL BASIC .NET": "Visual Basic .NET",
    "MICROSOFT VISUAL BASIC 2008": "Visual Basic",
    "MICROSOFT VISUAL BASIC 2010": "Visual Basic",
    "MICROSOFT VISUAL BASIC 2012": "Visual Basic",
}

_ENCRYPTED_CODE: Final = "DTS_W_ENCRYPTEDPROPERTYMISSING"
_OBJECT_PATHS: Final = ("Package\\", "Package.", "Project.", "$Package::", "$Project::")
_BLOB_PREFIX: Final = "("  # the reader names a whole encrypted blob "(sensitive properties ...)"


# ------------------------------------------------------------------------------------------------
# Report rows
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecutableStatus:
    """One executable: the package, a container, a task or an event handler."""

    ref_id: str
    name: str
    kind: str  # package, sequence, forloop, foreachloop, task, eventhandler
    task_type: str  # canonical (Microsoft.ExecuteSQLTask); containers: STOCK:SEQUENCE ...
    status: Status
    reason: str = ""
    code: str = ""  # set when status is not "supported"
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "name": self.name,
            "kind": self.kind,
            "taskType": self.task_type,
            "status": self.status,
            "reason": self.reason,
            "code": self.code,
            "disabled": self.disabled,
        }


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    """One data-flow component."""

    ref_id: str
    name: str
    task: str  # refId of the Data Flow task holding it
    kind: str  # canonical: Microsoft.DerivedColumn; managed components by UserComponentTypeName
    class_id: str  # componentClassID as written in the file
    status: Status
    reason: str = ""
    code: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "name": self.name,
            "task": self.task,
            "kind": self.kind,
            "classId": self.class_id,
            "status": self.status,
            "reason": self.reason,
            "code": self.code,
        }


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """One connection manager (package or project scope)."""

    ref_id: str
    name: str
    creation_name: str
    kind: str
    scope: str
    status: Literal["known", "unknown"]
    reason: str = ""
    code: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "name": self.name,
            "creationName": self.creation_name,
            "kind": self.kind,
            "scope": self.scope,
            "status": self.status,
            "reason": self.reason,
            "code": self.code,
        }


@dataclass(frozen=True, slots=True)
class EncryptedValue:
    """A sensitive value that was encrypted in the file, so it was not loaded.

    ``supply`` is the ``dataflow run`` option that provides it (``--param``, ``--conn`` or
    ``--set``; empty when it cannot be supplied, for a package encrypted whole) and ``hint`` the
    option written out.
    """

    ref_id: str
    path: str  # SSIS property path (\\Package.Connections[X].Properties[Password]) or the file
    property: str
    supply: str
    hint: str
    code: str = _ENCRYPTED_CODE

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "refId": self.ref_id,
            "path": self.path,
            "property": self.property,
            "supply": self.supply,
            "hint": self.hint,
        }


@dataclass(frozen=True, slots=True)
class UnsupportedItem:
    """One entry of the flat ``unsupported`` list."""

    code: str
    ref_id: str
    type: Literal["executable", "component", "connection"]
    kind: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "refId": self.ref_id,
            "type": self.type,
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ExpressionIssue:
    """A stored expression that does not parse."""

    code: str
    ref_id: str  # the object holding the expression
    property: str  # Properties[ConnectionString], Expression, EvalExpression, ...
    expression: str
    message: str
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "refId": self.ref_id,
            "property": self.property,
            "expression": self.expression,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }


@dataclass(frozen=True, slots=True)
class ErrorEntry:
    """A coded error (a :class:`DataflowError` as data), with the refId it concerns."""

    code: str
    ref_id: str
    message: str
    path: str | None = None
    hint: str | None = None
    phase: str = "load"
    hresult: str = ""

    @classmethod
    def from_error(cls, exc: DataflowError, owner: str = "Package") -> ErrorEntry:
        """``exc`` as data; its refId is the object path it names, else ``owner``.

        Load errors name a file (or ``file!member``) in ``path``; the object they concern is then
        the package (or the project) itself.
        """
        path = exc.path or ""
        ref = path if path.startswith(_OBJECT_PATHS) else owner
        return cls(exc.code, ref, exc.message, exc.path, exc.hint, exc.phase, exc.info.hex)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "refId": self.ref_id,
            "hresult": self.hresult,
            "message": self.message,
            "path": self.path,
            "hint": self.hint,
            "phase": self.phase,
        }


# ------------------------------------------------------------------------------------------------
# Reports
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompatReport:
    """The compatibility report of one package."""

    package: str  # the file (or the package's name inside a project)
    name: str
    loaded: bool
    format: int | None  # PackageFormatVersion; None when the file did not get that far
    encrypted: tuple[EncryptedValue, ...] = ()
    executables: tuple[ExecutableStatus, ...] = ()
    components: tuple[ComponentStatus, ...] = ()
    connections: tuple[ConnectionStatus, ...] = ()
    unsupported: tuple[UnsupportedItem, ...] = ()
    expressions: tuple[ExpressionIssue, ...] = ()
    errors: tuple[ErrorEntry, ...] = ()

    @property
    def exit_code(self) -> int:
        """dtexec's codes: 0 when the package loaded, 5 ("could not load") otherwise."""
        return 0 if self.loaded else 5

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "name": self.name,
            "loaded": self.loaded,
            "format": self.format,
            "encrypted": [e.to_dict() for e in self.encrypted],
            "executables": [e.to_dict() for e in self.executables],
            "components": [c.to_dict() for c in self.components],
            "connections": [c.to_dict() for c in self.connections],
            "unsupported": [u.to_dict() for u in self.unsupported],
            "expressions": [x.to_dict() for x in self.expressions],
            "errors": [e.to_dict() for e in self.errors],
        }


@dataclass(frozen=True, slots=True)
class ProjectReport:
    """The compatibility report of a project: project-level items plus one report per package."""

    project: str
    name: str
    loaded: bool  # the project and every package in it loaded
    connections: tuple[ConnectionStatus, ...] = ()
    encrypted: tuple[EncryptedValue, ...] = ()
    unsupported: tuple[UnsupportedItem, ...] = ()
    expressions: tuple[ExpressionIssue, ...] = ()
    errors: tuple[ErrorEntry, ...] = ()
    packages: tuple[CompatReport, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        return 0 if self.loaded else 5

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "name": self.name,
            "loaded": self.loaded,
            "connections": [c.to_dict() for c in self.connections],
            "encrypted": [e.to_dict() for e in self.encrypted],
            "unsupported": [u.to_dict() for u in self.unsupported],
            "expressions": [x.to_dict() for x in self.expressions],
            "errors": [e.to_dict() for e in self.errors],
            "packages": [p.to_dict() for p in self.packages],
        }


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------


def is_project_path(path: str | Path) -> bool:
    """A project is an ``.ispac``, a ``.dtproj`` or a folder; anything else is a package file."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() in PROJECT_SUFFIXES


def check_path(path: str | Path, package: str | None = None) -> CompatReport | ProjectReport:
    """The report of a package file, or of a project (only ``package`` of it when given)."""
    try:
        if is_project_path(path):
            report = check_project(path)
            return report if package is None else _one_package(report, package)
        return check_package(path)
    except Exception as exc:  # last resort: a defect here must still end in a coded report
        return _not_loaded(str(path), Path(path).stem, _unexpected(exc, str(path)))


def check_package(path: str | Path) -> CompatReport:
    """Load the package at ``path`` and report on it; never raises for a bad package."""
    source = str(path)
    p = Path(path)
    if not p.exists():
        err = LoadError(
            "DTS_E_OPENPACKAGEFILE",
            "package file not found: the file does not exist",
            path=source,
            hint="check the path",
        )
        return _not_loaded(source, p.stem, err)
    if p.is_dir():
        err = LoadError(
            "DTS_E_OPENPACKAGEFILE", "this is a folder, not a package file", path=source
        )
        return _not_loaded(source, p.name, err)
    from dataflow.package.reader import load_package

    try:
        pkg = load_package(p)
    except EncryptedPackageError as exc:
        return _encrypted_whole(source, p, exc)
    except DataflowError as exc:
        return _not_loaded(source, p.stem, exc)
    except Exception as exc:  # never crash on a package: anything else is a coded load error
        return _not_loaded(source, p.stem, _unexpected(exc, source))
    return report_package(pkg, source)


def report_package(pkg: Package, source: str | None = None) -> CompatReport:
    """The report of an already loaded package."""
    return _report(pkg, source if source is not None else (pkg.source_path or pkg.name))


def check_project(path: str | Path) -> ProjectReport:
    """Load a project (.ispac, folder or .dtproj) and report on it and on each of its packages."""
    from dataflow.package.project import load_project

    source = str(path)
    name = Path(path).stem
    if not Path(path).exists():
        err = LoadError(
            "DTS_E_PROJECTLOADERROR",
            "project not found: the path does not exist",
            path=source,
            hint="check the path",
        )
        return ProjectReport(source, name, False, errors=(ErrorEntry.from_error(err, "Project"),))
    try:
        project = load_project(path)
    except DataflowError as exc:
        return ProjectReport(source, name, False, errors=(ErrorEntry.from_error(exc, "Project"),))
    except Exception as exc:  # never crash: coded, with the type of what went wrong
        err = LoadError(
            "DTS_E_PROJECTLOADERROR",
            f"unexpected error while loading the project: {type(exc).__name__}: {exc}",
            path=source,
            hint="report it with the project attached",
        )
        return ProjectReport(source, name, False, errors=(ErrorEntry.from_error(err, "Project"),))
    sections = _Sections(source, "Project")
    connections = sections.section(
        "connection managers", lambda: (_connection(cm) for cm in project.connection_managers)
    )
    encrypted = sections.section("encrypted values", lambda: _project_encrypted(project))
    expressions = sections.section(
        "expressions",
        lambda: _check_all(
            (cm.ref_id, f"Properties[{x.name}]", x.expression)
            for cm in project.connection_managers
            for x in cm.property_expressions
        ),
    )
    missing = [
        ErrorEntry.from_error(
            LoadError(
                "DTS_E_PROJECTLOADERROR",
                f"the project lists {missing_file!r} but holds no such file",
                path=source,
                hint="add the file to the project folder or rebuild the .ispac",
            ),
            "Project",
        )
        for missing_file in project.missing
        if not missing_file.lower().endswith(".dtsx")  # a missing package is its own report
    ]
    packages: list[CompatReport] = []
    for pkg_name in project.package_names:
        try:
            pkg = project.package(pkg_name)
        except EncryptedPackageError as exc:
            packages.append(_encrypted_whole(pkg_name, Path(exc.path or pkg_name), exc))
        except DataflowError as exc:
            packages.append(_not_loaded(pkg_name, Path(pkg_name).stem, exc))
        except Exception as exc:
            packages.append(_not_loaded(pkg_name, Path(pkg_name).stem, _unexpected(exc, pkg_name)))
        else:
            packages.append(report_package(pkg, pkg_name))
    return ProjectReport(
        project=source,
        name=project.name or name,
        loaded=not missing and all(r.loaded for r in packages),
        connections=connections,
        encrypted=encrypted,
        unsupported=tuple(_unsupported_connections(connections)),
        expressions=expressions,
        errors=tuple(missing + sections.errors),
        packages=tuple(packages),
    )


# ------------------------------------------------------------------------------------------------
# Not loaded
# ------------------------------------------------------------------------------------------------


def _unexpected(exc: Exception, source: str) -> LoadError:
    return LoadError(
        "DTS_E_CANTLOADFROMNODE",
        f"unexpected error while loading: {type(exc).__name__}: {exc}",
        path=source,
        hint="report it with the file attached",
    )


def _not_loaded(source: str, name: str, exc: DataflowError) -> CompatReport:
    return CompatReport(source, name, False, None, errors=(ErrorEntry.from_error(exc),))


def _encrypted_whole(source: str, path: Path, exc: DataflowError) -> CompatReport:
    """A package encrypted whole: it names itself (when the outer element says who it is)."""
    name, ref = path.stem, "Package"
    if path.is_file():
        from dataflow.package.xmlsafe import parse_file

        try:  # the outer element is plain XML; only its body is ciphertext
            root = parse_file(path)
        except DataflowError:
            pass
        else:
            for key, value in root.attrib.items():
                local = str(key).rsplit("}", 1)[-1]
                if local == "ObjectName":
                    name = str(value)
                elif local == "refId":
                    ref = str(value)
    reason = exc.message
    return CompatReport(
        package=source,
        name=name,
        loaded=False,
        format=None,
        encrypted=(
            EncryptedValue(
                ref_id=ref,
                path=source,
                property="(whole package)",
                supply="",
                hint=exc.hint or "",
                code=exc.code,
            ),
        ),
        executables=(
            ExecutableStatus(
                ref, name, "package", "Microsoft.Package", "encrypted", reason, exc.code
            ),
        ),
        errors=(ErrorEntry.from_error(exc),),
    )


def _one_package(report: ProjectReport, package: str) -> CompatReport:
    wanted = package.lower()
    for r in report.packages:
        if wanted in (r.package.lower(), r.name.lower(), Path(r.package).stem.lower()):
            return r
    if not report.loaded and not report.packages:
        errors = report.errors
    else:
        err = LoadError(
            "DTS_E_PACKAGENOTFOUND",
            f"no package {package!r} in the project "
            f"(it has: {', '.join(r.package for r in report.packages) or 'none'})",
            path=report.project,
        )
        errors = (ErrorEntry.from_error(err, "Project"),)
    return CompatReport(package, Path(package).stem, False, None, errors=errors)


# ------------------------------------------------------------------------------------------------
# Loaded
# ------------------------------------------------------------------------------------------------


class _Sections:
    """Builds report sections; a section that fails becomes a coded error, not a crash.

    A model we did not expect (or a defect in a checker) must not cost the rest of the report:
    the error names the section, and the other sections are still reported.
    """

    def __init__(self, source: str, owner: str = "Package") -> None:
        self.source = source
        self.owner = owner
        self.errors: list[ErrorEntry] = []

    def section(self, what: str, build: Callable[[], Iterable[T]]) -> tuple[T, ...]:
        try:
            return tuple(build())
        except Exception as exc:
            err = LoadError(
                "DTS_E_CANTLOADFROMNODE",
                f"loaded, but its {what} could not be analysed: {type(exc).__name__}: {exc}",
                path=self.source,
                hint="report it with the file attached",
            )
            self.errors.append(ErrorEntry.from_error(err, self.owner))
            return ()


def _report(pkg: Package, source: str) -> CompatReport:
    sections = _Sections(source)
    section = sections.section
    executables = section("executables", lambda: (_executable(e) for e in pkg.walk()))
    components = section(
        "components",
        lambda: (
            _component(c, exe.ref_id)
            for exe in pkg.walk()
            if exe.pipeline is not None
            for c in exe.pipeline.components
        ),
    )
    connections = section(
        "connection managers", lambda: (_connection(cm) for cm in pkg.connection_managers)
    )
    encrypted = section("encrypted values", lambda: _encrypted(pkg))
    expressions = section("expressions", lambda: _check_all(_stored_expressions(pkg)))
    unsupported = [
        UnsupportedItem(e.code, e.ref_id, "executable", e.task_type, e.reason)
        for e in executables
        if e.status != "supported"
    ]
    unsupported += [
        UnsupportedItem(c.code, c.ref_id, "component", c.kind, c.reason)
        for c in components
        if c.status != "supported"
    ]
    unsupported += _unsupported_connections(connections)
    return CompatReport(
        package=source,
        name=pkg.name,
        loaded=True,
        format=pkg.format_version,
        encrypted=encrypted,
        executables=executables,
        components=components,
        connections=connections,
        unsupported=tuple(unsupported),
        expressions=expressions,
        errors=tuple(sections.errors),
    )


def _unsupported_connections(connections: tuple[ConnectionStatus, ...]) -> list[UnsupportedItem]:
    return [
        UnsupportedItem(c.code, c.ref_id, "connection", c.kind, c.reason)
        for c in connections
        if c.status != "known"
    ]


def _script_language(text: str | None, default: str) -> str:
    if not text:
        return default
    return _LANGUAGES.get(text.strip().upper(), text.strip())


def _executable(exe: Executable) -> ExecutableStatus:
    kind = exe.kind
    task_type = exe.event_name if kind == "eventhandler" else exe.task_type
    if kind == "eventhandler":
        # An event handler is a container the control-flow runner runs, like a Sequence.
        status, reason = task_registry.support("", "sequence")
        if status != "supported":
            reason = "event handlers are run by the control-flow runner, not implemented yet"
    else:
        status, reason = task_registry.support(task_type, kind)
    code = ""
    if status != "supported":
        code = "DTS_E_UNSUPPORTEDTASK"
        if task_type == SCRIPT_TASK:
            lang = _script_language(exe.payload.attr("Language") if exe.payload else None, "script")
            code = "DTS_E_SCRIPTNEEDSPYTHONPORT"
            reason = f"{lang} Script Task needs a Python port"
    return ExecutableStatus(
        ref_id=exe.ref_id,
        name=exe.name,
        kind=kind,
        task_type=task_type,
        status="supported" if status == "supported" else "unsupported",
        reason=reason,
        code=code,
        disabled=exe.disabled,
    )


def _component(comp: Component, task_ref: str) -> ComponentStatus:
    kind = comp.kind
    status, reason = component_registry.support(kind)
    code = ""
    if status != "supported":
        code = "DTS_W_UNSUPPORTEDCOMPONENT"
        if kind == SCRIPT_COMPONENT:
            # SSIS 2005 wrote no ScriptLanguage: its Script Components were VB.NET only.
            lang = _script_language(comp.prop("ScriptLanguage"), "Visual Basic .NET")
            code = "DTS_E_SCRIPTNEEDSPYTHONPORT"
            reason = f"{lang} Script Component needs a Python port"
    return ComponentStatus(
        ref_id=comp.ref_id,
        name=comp.name,
        task=task_ref,
        kind=kind,
        class_id=comp.class_id,
        status="supported" if status == "supported" else "unsupported",
        reason=reason,
        code=code,
    )


def _connection(cm: ConnectionManager) -> ConnectionStatus:
    kind = cm.kind
    known = kind in KNOWN_CONNECTION_KINDS
    return ConnectionStatus(
        ref_id=cm.ref_id,
        name=cm.name,
        creation_name=cm.creation_name,
        kind=kind,
        scope=cm.scope,
        status="known" if known else "unknown",
        reason="" if known else f"connection manager type {cm.creation_name!r} is not known here",
        code="" if known else "DTS_E_UNSUPPORTEDCONNECTIONTYPE",
    )


# ------------------------------------------------------------------------------------------------
# Encrypted sensitive values
# ------------------------------------------------------------------------------------------------


def _exe_path(ref_id: str) -> str:
    return "\\" + ref_id


def _cm_encrypted(cm: ConnectionManager) -> Iterator[EncryptedValue]:
    scope = "Project" if cm.scope == "Project" else "Package"
    base = f"\\{scope}.Connections[{cm.name}]"
    for prop in dict.fromkeys(cm.encrypted):
        if prop.startswith(_BLOB_PREFIX):  # one blob of unknown properties: the whole string
            path = f"{base}.Properties[ConnectionString]"
            hint = f"--conn '{cm.name}=<connection string including its password>'"
        else:
            path = f"{base}.Properties[{prop}]"
            hint = f"--conn '{cm.name}=<connection string including {prop}>'"
        yield EncryptedValue(cm.ref_id, path, prop, "--conn", hint)


def _param_encrypted(prm: Parameter, scope: str) -> EncryptedValue:
    qualified = f"${scope}::{prm.name}"
    return EncryptedValue(
        ref_id=qualified,
        path=f"\\{scope}.Parameters[{prm.name}]" if scope == "Project" else qualified,
        property="ParameterValue",
        supply="--param",
        hint=f"--param '{qualified}=<value>'",
    )


def _exe_encrypted(ref_id: str, names: tuple[str, ...]) -> Iterator[EncryptedValue]:
    for prop in dict.fromkeys(names):
        path = f"{_exe_path(ref_id)}.Properties[{prop}]"
        yield EncryptedValue(ref_id, path, prop, "--set", f"--set '{path}=<value>'")


def _encrypted(pkg: Package) -> Iterator[EncryptedValue]:
    # Package.encrypted also repeats its managers' and parameters' entries; those are reported
    # from their owners, with the option that fits them.
    owned = tuple(f"{cm.ref_id}." for cm in pkg.connection_managers)
    params = {p.qualified_name for p in pkg.parameters}
    own = tuple(n for n in pkg.encrypted if not n.startswith(owned) and n not in params)
    yield from _exe_encrypted(pkg.ref_id, own)
    for cm in pkg.connection_managers:
        yield from _cm_encrypted(cm)
    for prm in pkg.parameters:
        if prm.encrypted:
            yield _param_encrypted(prm, "Package")
    for exe in pkg.walk():
        if exe is not pkg and exe.encrypted:
            yield from _exe_encrypted(exe.ref_id, exe.encrypted)


def _project_encrypted(project: Project) -> Iterator[EncryptedValue]:
    owned = tuple(f"{cm.ref_id}." for cm in project.connection_managers)
    params = (*project.parameters, *project.connection_parameters)
    qualified = {p.qualified_name for p in params}
    for prop in dict.fromkeys(project.encrypted):
        if not prop.startswith(owned) and prop not in qualified:
            path = f"\\Project.Properties[{prop}]"
            yield EncryptedValue("Project", path, prop, "--set", f"--set '{path}=<value>'")
    for cm in project.connection_managers:
        yield from _cm_encrypted(cm)
    for prm in params:
        if prm.encrypted:
            yield _param_encrypted(prm, "Project")


# ------------------------------------------------------------------------------------------------
# Expressions
# ------------------------------------------------------------------------------------------------

#: (refId of the owner, property, expression text)
_Stored = tuple[str, str, str]


def _stored_expressions(pkg: Package) -> Iterator[_Stored]:
    """Every expression the package stores, with where it is stored."""
    for cm in pkg.connection_managers:
        for x in cm.property_expressions:
            yield cm.ref_id, f"Properties[{x.name}]", x.expression
    for exe in pkg.walk():
        for x in exe.property_expressions:
            yield exe.ref_id, f"Properties[{x.name}]", x.expression
        for v in exe.variables:
            vref = f"{exe.ref_id}.Variables[{v.qualified_name}]"
            if v.evaluate_as_expression:
                yield vref, "Expression", v.expression
            for x in v.property_expressions:
                yield vref, f"Properties[{x.name}]", x.expression
        for pc in exe.constraints:
            if pc.eval_op != 2:  # 2 = constraint only: a stored expression is not used
                yield pc.ref_id, "Expression", pc.expression
        if exe.foreach_enumerator is not None:
            for x in exe.foreach_enumerator.property_expressions:
                yield f"{exe.ref_id}.ForEachEnumerator", f"Properties[{x.name}]", x.expression
        if exe.kind == "forloop":
            yield exe.ref_id, "InitExpression", exe.init_expression
            yield exe.ref_id, "EvalExpression", exe.eval_expression
            yield exe.ref_id, "AssignExpression", exe.assign_expression
        if exe.task_type == "Microsoft.ExpressionTask" and exe.payload is not None:
            yield exe.ref_id, "Expression", exe.payload.attr("Expression") or ""
        if exe.pipeline is not None:
            for comp in exe.pipeline.components:
                if comp.kind in EXPRESSION_COMPONENTS:
                    yield from _component_expressions(comp)


def _component_expressions(comp: Component) -> Iterator[_Stored]:
    for out in comp.outputs:
        if out.prop("Expression"):
            yield out.ref_id, "Expression", out.prop("Expression", "")
        for col in out.columns:
            if col.prop("Expression"):
                yield col.ref_id, "Expression", col.prop("Expression", "")
    for inp in comp.inputs:
        for icol in inp.columns:
            if icol.prop("Expression"):
                yield icol.ref_id, "Expression", icol.prop("Expression", "")


def _check_all(stored: Iterable[_Stored]) -> Iterator[ExpressionIssue]:
    """Parse every stored expression; yield the ones that do not parse."""
    from dataflow.expressions import parse  # here: the expression engine is not needed before

    for ref_id, prop, text in stored:
        if not text or not text.strip():
            continue
        try:
            parse(text)
        except ExpressionError as exc:
            yield ExpressionIssue(exc.code, ref_id, prop, text, exc.message, exc.line, exc.column)
        except DataflowError as exc:
            yield ExpressionIssue(exc.code, ref_id, prop, text, exc.message)
        except Exception as exc:  # a parser defect must not stop the report; it is reported
            yield ExpressionIssue(
                "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION",
                ref_id,
                prop,
                text,
                f"the expression parser failed: {type(exc).__name__}: {exc}",
            )


__all__ = [
    "KNOWN_CONNECTION_KINDS",
    "CompatReport",
    "ComponentStatus",
    "ConnectionStatus",
    "EncryptedValue",
    "ErrorEntry",
    "ExecutableStatus",
    "ExpressionIssue",
    "ProjectReport",
    "UnsupportedItem",
    "check_package",
    "check_path",
    "check_project",
    "is_project_path",
    "report_package",
]
