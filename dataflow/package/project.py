"""SSIS projects: a project folder (.dtproj), an unpacked or packed deployment file (.ispac).

A project of the *project deployment model* (SSIS 2012+) is a manifest (``@Project.manifest`` in
an .ispac, embedded in the .dtproj as ``DeploymentModelSpecificContent/Manifest``) naming its
packages and connection managers, a ``Project.params`` file, one ``.conmgr`` file per project
connection manager and the ``.dtsx`` files. A .dtproj of the *package deployment model*
(2005-2008, or 2012+ with ``DeploymentModel`` Package) only lists packages.

:func:`load_project` reads the project files eagerly and the packages on demand;
:meth:`Project.package` returns a package wired to the project, so that ``pkg.connection()`` finds
project connection managers. An .ispac is read into memory and never extracted; member names with
absolute paths or ``..`` are rejected. Sensitive values encrypted in the files are not loaded
(``Parameter.encrypted``, :attr:`Project.encrypted`); they must be supplied at run time.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Final, Literal, TypeAlias
from urllib.parse import unquote

from lxml import etree

from dataflow.core.datatypes import variant_from_typecode
from dataflow.core.errors import LoadError, ValidationError
from dataflow.package.model import (
    EMPTY,
    ConnectionManager,
    FrozenMap,
    Package,
    Parameter,
    to_bool,
    to_int,
)
from dataflow.package.reader import DTS_NS, read_connection_manager, read_package
from dataflow.package.xmlsafe import local, parse_xml

SSIS_NS: Final = "www.microsoft.com/SqlServer/SSIS"
S: Final = f"{{{SSIS_NS}}}"
MANIFEST: Final = "@Project.manifest"
PARAMS: Final = "Project.params"

# Project ProtectionLevel names (as the manifest writes them) -> DTSProtectionLevel values.
PROTECTION_LEVELS: Final[dict[str, int]] = {
    "DontSaveSensitive": 0,
    "EncryptSensitiveWithUserKey": 1,
    "EncryptSensitiveWithPassword": 2,
    "EncryptAllWithPassword": 3,
    "EncryptAllWithUserKey": 4,
    "ServerStorage": 5,
}

# Limits for reading an .ispac into memory (a zip can claim any size).
MAX_MEMBER_BYTES: Final = 256 * 1024 * 1024
MAX_ISPAC_BYTES: Final = 1024 * 1024 * 1024

_DRIVE = re.compile(r"^[A-Za-z]:")


# ------------------------------------------------------------------------------------------------
# Where the project's files are: a folder or the members of an .ispac
# ------------------------------------------------------------------------------------------------


class _Folder:
    """Project files beside the .dtproj (or an unpacked .ispac), read when asked for."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def _path(self, name: str) -> Path:
        return self.base / name.replace("\\", "/")

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def where(self, name: str) -> str:
        return str(self._path(name))

    def read(self, name: str) -> bytes:
        path = self._path(name)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise LoadError(
                "DTS_E_PROJECTLOADERROR",
                f"cannot read a project file: {exc.strerror or exc}",
                path=str(path),
            ) from None


class _Archive:
    """The members of an .ispac, read into memory once (names percent-decoded: OPC escapes them)."""

    def __init__(self, path: Path, members: dict[str, bytes]) -> None:
        self.path = path
        self.members = members
        self.folded = {k.casefold(): k for k in members}

    def _key(self, name: str) -> str | None:
        if name in self.members:
            return name
        return self.folded.get(name.casefold())

    def exists(self, name: str) -> bool:
        return self._key(name) is not None

    def where(self, name: str) -> str:
        return f"{self.path}!{self._key(name) or name}"

    def read(self, name: str) -> bytes:
        key = self._key(name)
        if key is None:
            raise LoadError(
                "DTS_E_PROJECTLOADERROR", f"the .ispac has no member {name!r}", path=str(self.path)
            )
        return self.members[key]


_Files: TypeAlias = _Folder | _Archive


# ------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectPackage:
    """A package the project lists (manifest ``SSIS:Package``, old .dtproj ``DtsPackage``)."""

    name: str  # as listed: "Load.dtsx"
    entry_point: bool = True
    path: str = ""  # file relative to the project when it differs from the name (package model)

    @property
    def file(self) -> str:
        return self.path or self.name


@dataclass(frozen=True, slots=True)
class Project:
    """A loaded SSIS project. Immutable; packages are read on first use and then kept."""

    name: str
    protection_level: str = ""  # as the manifest writes it ("" for package-model projects)
    deployment_model: Literal["Project", "Package"] = "Project"
    parameters: tuple[Parameter, ...] = ()  # Project.params, scope "Project"
    connection_managers: tuple[ConnectionManager, ...] = ()  # the .conmgr files, scope "Project"
    entries: tuple[ProjectPackage, ...] = ()  # packages in manifest order
    connection_parameters: tuple[Parameter, ...] = ()  # manifest's generated CM.<Name>.<Property>
    properties: FrozenMap = EMPTY  # manifest SSIS:Properties (ID, Name, VersionMajor, ...)
    source_path: str | None = field(default=None, compare=False)
    missing: tuple[str, ...] = ()  # files the manifest lists that the project does not hold
    encrypted: tuple[str, ...] = field(default=(), compare=False)  # encrypted values not loaded
    _files: _Files | None = field(default=None, compare=False, repr=False)
    _loaded: dict[str, Package] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def package_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)

    @property
    def entry_points(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries if e.entry_point)

    @property
    def protection_level_code(self) -> int:
        """ProtectionLevel as a number (0 DontSaveSensitive ... 5 ServerStorage)."""
        return PROTECTION_LEVELS.get(self.protection_level, 0)

    def entry(self, name: str) -> ProjectPackage:
        """The listed package ``name`` ("Load.dtsx" or "Load"; case-insensitive as a fallback)."""
        wanted = [name] if name.lower().endswith(".dtsx") else [name, f"{name}.dtsx"]
        for w in wanted:
            for e in self.entries:
                if e.name == w:
                    return e
        folded = {w.casefold() for w in wanted}
        for e in self.entries:
            if e.name.casefold() in folded:
                return e
        raise LoadError(
            "DTS_E_PACKAGENOTFOUND",
            f"the project has no package {name!r}; "
            f"it has: {', '.join(self.package_names) or 'none'}",
            path=self.source_path,
            hint="name a package as the project lists it, e.g. 'Load.dtsx' or 'Load'",
        )

    def package(self, name: str) -> Package:
        """The package ``name`` ("Load.dtsx" or "Load"), loaded and wired to this project."""
        e = self.entry(name)
        cached = self._loaded.get(e.name)
        if cached is not None:
            return cached
        files = self._files
        if files is None or not files.exists(e.file):
            raise LoadError(
                "DTS_E_PACKAGENOTFOUND",
                f"the project lists {e.name!r} but holds no file {e.file!r}",
                path=files.where(e.file) if files is not None else self.source_path,
                hint="add the .dtsx file to the project folder or rebuild the .ispac",
            )
        where = files.where(e.file)
        pkg = replace(read_package(parse_xml(files.read(e.file), where), where), project=self)
        return self._loaded.setdefault(e.name, pkg)  # threads racing here all get one object

    def packages(self) -> Iterator[Package]:
        """Every listed package, in manifest order (loading each)."""
        for e in self.entries:
            yield self.package(e.name)

    def parameter(self, name: str) -> Parameter:
        """A project parameter by ``Name`` or ``$Project::Name``."""
        bare = name.removeprefix("$Project::")
        for p in (*self.parameters, *self.connection_parameters):
            if p.name == bare:
                return p
        raise ValidationError(
            "DTS_E_VARIABLENOTFOUND",
            f"no project parameter {name!r}",
            path=self.source_path,
            hint=f"project parameters: {', '.join(p.name for p in self.parameters) or 'none'}",
        )

    def connection(self, name_or_ref: str) -> ConnectionManager:
        """A project connection manager by name, refId or DTSID."""
        for cm in self.connection_managers:
            if name_or_ref in (cm.name, cm.ref_id, cm.dtsid):
                return cm
        raise ValidationError(
            "DTS_E_CONNECTIONNOTFOUND",
            f"no project connection manager {name_or_ref!r}",
            path=self.source_path,
        )


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------


def load_project(path: str | Path) -> Project:
    """Load a project: an .ispac file, a .dtproj file, or a folder holding a .dtproj (or an
    unpacked .ispac with ``@Project.manifest``)."""
    p = Path(path)
    if p.is_dir():
        dtprojs = sorted(p.glob("*.dtproj"))
        if len(dtprojs) == 1:
            return _load_dtproj(dtprojs[0])
        if len(dtprojs) > 1:
            raise LoadError(
                "DTS_E_PROJECTLOADERROR",
                f"the folder holds {len(dtprojs)} .dtproj files: "
                f"{', '.join(d.name for d in dtprojs)}",
                path=str(p),
                hint="pass the .dtproj file to load",
            )
        if (p / MANIFEST).is_file():
            return _load_manifest_project(_Folder(p), p, p.name)
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            "the folder holds no .dtproj file and no @Project.manifest",
            path=str(p),
            hint="pass a project folder, a .dtproj file or an .ispac file",
        )
    if not p.is_file():
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            "the project file does not exist",
            path=str(p),
            hint="check the path",
        )
    if p.suffix.lower() == ".dtproj":
        return _load_dtproj(p)
    if p.name == MANIFEST:
        return _load_manifest_project(_Folder(p.parent), p, p.parent.name)
    if p.suffix.lower() == ".dtsx":
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            "this is a package, not a project",
            path=str(p),
            hint="load it with load_package(), or pass its project folder",
        )
    return _load_manifest_project(_read_ispac(p), p, p.stem)


def _read_ispac(p: Path) -> _Archive:
    members: dict[str, bytes] = {}
    total = 0
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                name = _member_name(info.filename, p)
                if name in members:
                    raise LoadError(
                        "DTS_E_PROJECTLOADERROR", f"the .ispac holds {name!r} twice", path=str(p)
                    )
                if info.file_size > MAX_MEMBER_BYTES:
                    raise _too_big(p, name)
                with zf.open(info) as f:
                    data = f.read(MAX_MEMBER_BYTES + 1)
                total += len(data)
                if len(data) > MAX_MEMBER_BYTES or total > MAX_ISPAC_BYTES:
                    raise _too_big(p, name)
                members[name] = data
    except zipfile.BadZipFile as exc:
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            f"not an .ispac (zip) file: {exc}",
            path=str(p),
            hint="pass an .ispac built by SSDT, a .dtproj file or a project folder",
        ) from None
    except (OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise LoadError(
            "DTS_E_PROJECTLOADERROR", f"cannot read the .ispac: {exc}", path=str(p)
        ) from None
    return _Archive(p, members)


def _member_name(raw: str, p: Path) -> str:
    """A zip member name, percent-decoded; absolute names and ``..`` are refused (zip slip)."""
    name = unquote(raw).replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or _DRIVE.match(name) or ".." in parts or "\x00" in name or not parts:
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            f"the .ispac holds a member with an unsafe name: {raw!r}",
            path=str(p),
            hint="member names must be relative and stay inside the archive; "
            "the file may be malicious",
        )
    return "/".join(parts)


def _too_big(p: Path, name: str) -> LoadError:
    return LoadError(
        "DTS_E_PROJECTLOADERROR",
        f"the .ispac member {name!r} is too large to load "
        f"(limits: {MAX_MEMBER_BYTES} bytes a member, {MAX_ISPAC_BYTES} in all)",
        path=str(p),
    )


def _load_dtproj(p: Path) -> Project:
    source = str(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            f"cannot read the project file: {exc.strerror or exc}",
            path=source,
        ) from None
    root = parse_xml(data, source)
    if local(root.tag) != "Project":
        raise LoadError(
            "DTS_E_WRONGROOTELEMENT",
            f"the root element is <{local(root.tag)}>, not <Project>",
            path=source,
            hint="this is not an Integration Services project (.dtproj) file",
        )
    files = _Folder(p.parent)
    manifests = [
        mf
        for c in _children(root, "DeploymentModelSpecificContent")
        for mf in _children(c, "Manifest")
    ]
    manifest = next((m for mf in manifests for m in _children(mf, "Project", S)), None)
    if manifest is not None:
        return _read_manifest(manifest, files, source, p.stem)
    # Package deployment model: <DTSPackages> at the top (2005/2008) or in the Manifest (2012+).
    lists = [pk for holder in (root, *manifests) for pk in _children(holder, "DTSPackages")]
    if _text(_first(root, "DeploymentModel")).strip() == "Project" or not lists:
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            "the project file holds no manifest (DeploymentModelSpecificContent/Manifest) "
            "and no package list (DTSPackages)",
            path=source,
            hint="open and save the project in SSDT, or load its packages one by one",
        )
    entries = []
    for d in (d for pk in lists for d in _children(pk, "DtsPackage")):
        name = _text(_first(d, "Name")).strip()
        full = _text(_first(d, "FullPath")).strip().replace("\\", "/")
        if name or full:
            entries.append(
                ProjectPackage(name or PurePosixPath(full).name, True, "" if full == name else full)
            )
    props = {k: _text(_first(root, k)).strip() for k in ("ProductVersion", "SchemaVersion")}
    return Project(
        name=p.stem,
        deployment_model="Package",
        entries=tuple(entries),
        properties=FrozenMap((k, v) for k, v in props.items() if v),
        source_path=source,
        missing=tuple(e.file for e in entries if not files.exists(e.file)),
        _files=files,
    )


def _load_manifest_project(files: _Files, p: Path, default_name: str) -> Project:
    source = files.where(MANIFEST)
    if not files.exists(MANIFEST):
        raise LoadError(
            "DTS_E_PROJECTLOADERROR",
            "the file holds no @Project.manifest; it is not an .ispac",
            path=str(p),
            hint="build the .ispac with SSDT or load the project folder (.dtproj)",
        )
    root = parse_xml(files.read(MANIFEST), source)
    if root.tag != f"{S}Project":
        raise LoadError(
            "DTS_E_WRONGROOTELEMENT",
            f"the manifest root element is <{local(root.tag)}>, not <SSIS:Project> "
            f"in namespace {SSIS_NS!r}",
            path=source,
        )
    return _read_manifest(root, files, str(p), default_name)


def _read_manifest(m: etree._Element, files: _Files, source: str, default_name: str) -> Project:
    encrypted: list[str] = []
    props: dict[str, str] = {}
    for prop in _ssis(m, "Properties", "Property"):
        name = prop.get(f"{S}Name", "")
        if _is_secret(prop):
            # PasswordVerifier only checks a project password; nothing needs its value.
            if _has_content(prop) and name != "PasswordVerifier":
                encrypted.append(name)
            continue
        props[name] = _text(prop).strip()
    entries = tuple(
        ProjectPackage(str(e.get(f"{S}Name", "")), to_bool(e.get(f"{S}EntryPoint"), True))
        for e in _ssis(m, "Packages", "Package")
        if e.get(f"{S}Name")
    )
    cm_files = [
        str(e.get(f"{S}Name", "")) for e in _ssis(m, "ConnectionManagers", "ConnectionManager")
    ]
    missing = [e.file for e in entries if not files.exists(e.file)]
    cms: list[ConnectionManager] = []
    for f in (f for f in cm_files if f):
        if not files.exists(f):
            missing.append(f)
            continue
        cm = _read_conmgr(files, f)
        cms.append(cm)
        encrypted += [f"{cm.ref_id}.{n}" for n in cm.encrypted]
    conn_params = tuple(
        _read_parameter(e, source)
        for d in _children(m, "DeploymentInfo", S)
        for pc in _children(d, "ProjectConnectionParameters", S)
        for e in _children(pc, "Parameter", S)
    )
    if files.exists(PARAMS):
        where = files.where(PARAMS)
        proot = parse_xml(files.read(PARAMS), where)
        if proot.tag != f"{S}Parameters":
            raise LoadError(
                "DTS_E_WRONGROOTELEMENT",
                f"the root element is <{local(proot.tag)}>, not <SSIS:Parameters>",
                path=where,
            )
        params = tuple(_read_parameter(e, where) for e in _children(proot, "Parameter", S))
    else:  # some tools write the project parameters into the manifest instead
        params = tuple(_read_parameter(e, source) for e in _ssis(m, "Parameters", "Parameter"))
    encrypted += [p.qualified_name for p in (*params, *conn_params) if p.encrypted]
    return Project(
        name=props.get("Name") or default_name,
        protection_level=str(m.get(f"{S}ProtectionLevel", "")),
        deployment_model="Project",
        parameters=params,
        connection_managers=tuple(cms),
        entries=entries,
        connection_parameters=conn_params,
        properties=FrozenMap(props),
        source_path=source,
        missing=tuple(missing),
        encrypted=tuple(encrypted),
        _files=files,
    )


def _read_conmgr(files: _Files, name: str) -> ConnectionManager:
    where = files.where(name)
    root = parse_xml(files.read(name), where)
    if root.tag != f"{{{DTS_NS}}}ConnectionManager":
        raise LoadError(
            "DTS_E_WRONGROOTELEMENT",
            f"the root element is <{local(root.tag)}>, not <DTS:ConnectionManager>",
            path=where,
            hint="a .conmgr file holds one connection manager",
        )
    cm = read_connection_manager(root, scope="Project", fmt=8, source=where)
    if not cm.name:  # the file name is the manager's name in SSDT
        stem = PurePosixPath(name).name.removesuffix(".conmgr")
        cm = replace(cm, name=stem, ref_id=f"Project.ConnectionManagers[{stem}]")
    return cm


def _read_parameter(elem: etree._Element, source: str) -> Parameter:
    """An ``SSIS:Parameter`` (Project.params and the manifest share the shape)."""
    name = str(elem.get(f"{S}Name", ""))
    props: dict[str, str] = {}
    value: str | None = None
    encrypted = False
    for prop in _ssis(elem, "Properties", "Property"):
        pname = str(prop.get(f"{S}Name", ""))
        if pname == "Value":
            if _is_secret(prop):
                encrypted = _has_content(prop)
            else:
                value = _text(prop)
        else:
            props[pname] = _text(prop).strip()
    typecode = to_int(props.pop("DataType", None), 18)
    try:
        vt = variant_from_typecode(typecode)
    except ValidationError:
        raise LoadError(
            "DTS_E_INVALIDATTRIBUTEVALUE",
            f"project parameter {name!r} has DataType {typecode}, not a System.TypeCode",
            path=source,
            hint="Project.params DataType is a System.TypeCode (18 String, 9 Int32, ...)",
        ) from None
    return Parameter(
        name=name,
        data_type=vt.code,
        value=value,
        dtsid=props.pop("ID", ""),
        required=to_bool(props.pop("Required", None)),
        sensitive=to_bool(props.pop("Sensitive", None)),
        description=props.pop("Description", ""),
        scope="Project",
        properties=FrozenMap(props),
        encrypted=encrypted,
    )


# ------------------------------------------------------------------------------------------------
# XML helpers
# ------------------------------------------------------------------------------------------------


def _children(elem: etree._Element, name: str, ns: str = "") -> list[etree._Element]:
    return [c for c in elem if c.tag == f"{ns}{name}"]


def _first(elem: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in elem if c.tag == name), None)


def _ssis(elem: etree._Element, wrapper: str, item: str) -> list[etree._Element]:
    return [c for w in _children(elem, wrapper, S) for c in _children(w, item, S)]


def _text(elem: etree._Element | None) -> str:
    return "" if elem is None or elem.text is None else str(elem.text)


def _is_secret(elem: etree._Element) -> bool:
    """A value marked sensitive or encrypted (``SSIS:Sensitive="1"``, ``Encrypted="1"``)."""
    attrs: Mapping[str, str] = {local(k): str(v) for k, v in elem.attrib.items()}
    return to_bool(attrs.get("Sensitive")) or to_bool(attrs.get("Encrypted"))


def _has_content(elem: etree._Element) -> bool:
    return bool(_text(elem).strip()) or any(isinstance(c.tag, str) for c in elem)


__all__ = ["PROTECTION_LEVELS", "Project", "ProjectPackage", "load_project"]
