"""Project loading: project folders (.dtproj), .ispac files, package-model projects, the corpus."""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from lxml import etree

from dataflow.core.errors import EncryptedPackageError, LoadError
from dataflow.package.model import Package
from dataflow.package.project import Project, load_project
from dataflow.package.reader import load_package
from dataflow.package.writer import save_package
from dataflow.package.xmlsafe import parse_xml

SSIS = 'xmlns:SSIS="www.microsoft.com/SqlServer/SSIS"'
DTS = 'xmlns:DTS="www.microsoft.com/SqlServer/Dts"'
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "dtsx-corpus"

# ------------------------------------------------------------------------------------------------
# A small synthetic project, written by hand
# ------------------------------------------------------------------------------------------------

MANIFEST = f"""<SSIS:Project SSIS:ProtectionLevel="EncryptSensitiveWithUserKey" {SSIS}>
  <SSIS:Properties>
    <SSIS:Property SSIS:Name="ID">{{11111111-2222-3333-4444-555555555555}}</SSIS:Property>
    <SSIS:Property SSIS:Name="Name">Sales</SSIS:Property>
    <SSIS:Property SSIS:Name="VersionMajor">1</SSIS:Property>
    <SSIS:Property SSIS:Name="PasswordVerifier" SSIS:Sensitive="1">AQAAANCMnd8BFdERjHoAwE</SSIS:Property>
  </SSIS:Properties>
  <SSIS:Packages>
    <SSIS:Package SSIS:Name="Load.dtsx" SSIS:EntryPoint="1" />
    <SSIS:Package SSIS:Name="Daily Helper.dtsx" SSIS:EntryPoint="0" />
  </SSIS:Packages>
  <SSIS:ConnectionManagers>
    <SSIS:ConnectionManager SSIS:Name="ProjectCM.conmgr" />
  </SSIS:ConnectionManagers>
  <SSIS:DeploymentInfo>
    <SSIS:ProjectConnectionParameters>
      <SSIS:Parameter SSIS:Name="CM.ProjectCM.ConnectionString">
        <SSIS:Properties>
          <SSIS:Property SSIS:Name="ID"> </SSIS:Property>
          <SSIS:Property SSIS:Name="Required">0</SSIS:Property>
          <SSIS:Property SSIS:Name="Sensitive">0</SSIS:Property>
          <SSIS:Property SSIS:Name="Value">Data Source=db;Initial Catalog=Sales;</SSIS:Property>
          <SSIS:Property SSIS:Name="DataType">18</SSIS:Property>
        </SSIS:Properties>
      </SSIS:Parameter>
    </SSIS:ProjectConnectionParameters>
    <SSIS:PackageInfo />
  </SSIS:DeploymentInfo>
</SSIS:Project>"""

DTPROJ = f"""\ufeff<?xml version="1.0" encoding="utf-8"?>
<Project xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <DeploymentModel>Project</DeploymentModel>
  <ProductVersion>16.0.5467.0</ProductVersion>
  <DeploymentModelSpecificContent>
    <Manifest>
      {MANIFEST}
    </Manifest>
  </DeploymentModelSpecificContent>
  <Configurations />
</Project>"""


def _param(
    name: str,
    typecode: int,
    value: str | None,
    *,
    required: str = "0",
    sensitive: str = "0",
    value_attrs: str = "",
) -> str:
    value_prop = (
        ""
        if value is None
        else f'<SSIS:Property SSIS:Name="Value" {value_attrs}>{value}</SSIS:Property>'
    )
    return f"""<SSIS:Parameter SSIS:Name="{name}">
    <SSIS:Properties>
      <SSIS:Property SSIS:Name="ID">{{aaaaaaaa-0000-0000-0000-{typecode:012d}}}</SSIS:Property>
      <SSIS:Property SSIS:Name="CreationName"></SSIS:Property>
      <SSIS:Property SSIS:Name="Description">{name} parameter</SSIS:Property>
      <SSIS:Property SSIS:Name="IncludeInDebugDump">0</SSIS:Property>
      <SSIS:Property SSIS:Name="Required">{required}</SSIS:Property>
      <SSIS:Property SSIS:Name="Sensitive">{sensitive}</SSIS:Property>
      {value_prop}
      <SSIS:Property SSIS:Name="DataType">{typecode}</SSIS:Property>
    </SSIS:Properties>
  </SSIS:Parameter>"""


PARAMS = f"""<?xml version="1.0"?>
<SSIS:Parameters {SSIS}>
  {_param("ServerName", 18, "db01", required="1")}
  {_param("BatchSize", 9, "500")}
  {_param("FullLoad", 3, "true")}
  {_param("Cutoff", 16, "2024-03-01T00:00:00")}
  {_param("Rate", 15, "1.25")}
  {_param("RowLimit", 11, "9000000000")}
  {
    _param(
        "DbPassword",
        18,
        "AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA",
        sensitive="1",
        value_attrs='SSIS:Sensitive="1"',
    )
}
  {_param("ApiKey", 18, "", sensitive="1", value_attrs='SSIS:Sensitive="1"')}
</SSIS:Parameters>"""

CONMGR = f"""<?xml version="1.0"?>
<DTS:ConnectionManager {DTS}
  DTS:ObjectName="ProjectCM"
  DTS:DTSID="{{E8464E14-D126-4B86-AFFB-295B0D3506F4}}"
  DTS:CreationName="OLEDB">
  <DTS:PropertyExpression DTS:Name="ServerName">@[$Project::ServerName]</DTS:PropertyExpression>
  <DTS:ObjectData>
    <DTS:ConnectionManager
      DTS:ConnectionString="Data Source=db01;User ID=etl;Initial Catalog=Sales;Provider=SQLNCLI11.1;">
      <DTS:Password DTS:Name="Password" Sensitive="1" Encrypted="1">AQAAANCMnd8BFdERjHoA</DTS:Password>
    </DTS:ConnectionManager>
  </DTS:ObjectData>
</DTS:ConnectionManager>"""


def _dtsx(name: str) -> str:
    return f"""<?xml version="1.0"?>
<DTS:Executable {DTS} DTS:refId="Package" DTS:CreationName="Microsoft.Package"
  DTS:DTSID="{{0F0F0F0F-1111-2222-3333-444444444444}}" DTS:ExecutableType="Microsoft.Package"
  DTS:ObjectName="{name}" DTS:ProtectionLevel="0">
  <DTS:Property DTS:Name="PackageFormatVersion">8</DTS:Property>
  <DTS:ConnectionManagers>
    <DTS:ConnectionManager DTS:refId="Package.ConnectionManagers[LocalFile]"
      DTS:CreationName="FILE" DTS:DTSID="{{ABABABAB-1111-2222-3333-444444444444}}"
      DTS:ObjectName="LocalFile">
      <DTS:ObjectData>
        <DTS:ConnectionManager DTS:FileUsageType="0" DTS:ConnectionString="C:\\data\\in.txt" />
      </DTS:ObjectData>
    </DTS:ConnectionManager>
  </DTS:ConnectionManagers>
  <DTS:Variables />
  <DTS:Executables />
</DTS:Executable>"""


FILES = {
    "Sales.dtproj": DTPROJ,
    "Project.params": PARAMS,
    "ProjectCM.conmgr": CONMGR,
    "Load.dtsx": _dtsx("Load"),
    "Daily Helper.dtsx": _dtsx("Daily Helper"),
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    """An .ispac as SSDT writes it: OPC part names are percent-escaped."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name if name == "@Project.manifest" else quote(name), data)
    return path


def _ispac(path: Path, files: dict[str, str], manifest: str = MANIFEST) -> Path:
    members = {n: t.encode() for n, t in files.items() if not n.endswith(".dtproj")}
    members["@Project.manifest"] = manifest.encode()
    members["[Content_Types].xml"] = b'<?xml version="1.0"?><Types/>'
    return _zip(path, members)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return _write(tmp_path / "Sales", FILES)


# ------------------------------------------------------------------------------------------------
# Project deployment model: folder, .dtproj, .ispac
# ------------------------------------------------------------------------------------------------


def test_folder_project_identity(project_dir: Path) -> None:
    proj = load_project(project_dir)
    assert proj.name == "Sales"
    assert proj.deployment_model == "Project"
    assert proj.protection_level == "EncryptSensitiveWithUserKey"
    assert proj.protection_level_code == 1
    assert proj.properties["ID"] == "{11111111-2222-3333-4444-555555555555}"
    assert proj.properties["VersionMajor"] == "1"
    assert "PasswordVerifier" not in proj.properties
    assert proj.package_names == ("Load.dtsx", "Daily Helper.dtsx")
    assert proj.entry_points == ("Load.dtsx",)
    assert proj.missing == ()
    assert proj.source_path == str(project_dir / "Sales.dtproj")


def test_parameters_typecodes_converted(project_dir: Path) -> None:
    proj = load_project(project_dir)
    by_name = {p.name: p for p in proj.parameters}
    assert list(by_name) == [
        "ServerName",
        "BatchSize",
        "FullLoad",
        "Cutoff",
        "Rate",
        "RowLimit",
        "DbPassword",
        "ApiKey",
    ]
    # System.TypeCode in the file -> VARIANT code in the model
    assert {n: p.data_type for n, p in by_name.items()} == {
        "ServerName": 8,
        "BatchSize": 3,
        "FullLoad": 11,
        "Cutoff": 7,
        "Rate": 14,
        "RowLimit": 20,
        "DbPassword": 8,
        "ApiKey": 8,
    }
    assert by_name["BatchSize"].python_value == 500
    assert by_name["FullLoad"].python_value is True
    assert by_name["Cutoff"].python_value == dt.datetime(2024, 3, 1)
    assert by_name["Rate"].python_value == decimal.Decimal("1.25")
    assert by_name["RowLimit"].python_value == 9_000_000_000
    server = by_name["ServerName"]
    assert (server.value, server.required, server.sensitive) == ("db01", True, False)
    assert server.scope == "Project"
    assert server.qualified_name == "$Project::ServerName"
    assert server.dtsid == "{aaaaaaaa-0000-0000-0000-000000000018}"
    assert server.description == "ServerName parameter"
    assert server.properties == {"CreationName": "", "IncludeInDebugDump": "0"}
    assert proj.parameter("$Project::BatchSize") is by_name["BatchSize"]


def test_sensitive_parameters_load_without_value(project_dir: Path) -> None:
    proj = load_project(project_dir)
    secret = proj.parameter("DbPassword")
    assert (secret.sensitive, secret.value, secret.encrypted) == (True, None, True)
    not_saved = proj.parameter("ApiKey")  # DontSaveSensitive: nothing stored, nothing encrypted
    assert (not_saved.sensitive, not_saved.value, not_saved.encrypted) == (True, None, False)
    assert "$Project::DbPassword" in proj.encrypted
    assert "$Project::ApiKey" not in proj.encrypted


def test_connection_parameters_from_manifest(project_dir: Path) -> None:
    proj = load_project(project_dir)
    (cp,) = proj.connection_parameters
    assert cp.name == "CM.ProjectCM.ConnectionString"
    assert (cp.scope, cp.data_type, cp.value) == (
        "Project",
        8,
        "Data Source=db;Initial Catalog=Sales;",
    )
    assert cp.dtsid == ""


def test_project_connection_managers(project_dir: Path) -> None:
    proj = load_project(project_dir)
    (cm,) = proj.connection_managers
    assert cm.name == "ProjectCM"
    assert cm.scope == "Project"
    assert cm.ref_id == "Project.ConnectionManagers[ProjectCM]"
    assert cm.kind == "OLEDB"
    assert cm.dtsid == "{E8464E14-D126-4B86-AFFB-295B0D3506F4}"
    assert cm.connection_string.startswith("Data Source=db01;User ID=etl;")
    assert cm.property_expressions[0].expression == "@[$Project::ServerName]"
    assert cm.encrypted == ("Password",)
    assert "Project.ConnectionManagers[ProjectCM].Password" in proj.encrypted
    assert proj.connection("{E8464E14-D126-4B86-AFFB-295B0D3506F4}") is cm


def test_package_lookup_and_project_connections(project_dir: Path) -> None:
    proj = load_project(project_dir)
    pkg = proj.package("Load.dtsx")
    assert isinstance(pkg, Package)
    assert pkg.name == "Load"
    assert pkg.project is proj
    assert proj.package("Load") is pkg  # loaded once, then kept
    assert proj.package("load.DTSX") is pkg  # case-insensitive fallback
    assert pkg.source_path == str(project_dir / "Load.dtsx")
    project_cm = pkg.connection("ProjectCM")
    assert project_cm.scope == "Project"
    assert pkg.connection("Project.ConnectionManagers[ProjectCM]") is project_cm
    assert pkg.connection("LocalFile").scope == "Package"
    assert [p.name for p in proj.packages()] == ["Load", "Daily Helper"]
    assert proj.package("Daily Helper").name == "Daily Helper"


def test_dtproj_file_same_as_folder(project_dir: Path) -> None:
    from_dir = load_project(project_dir)
    from_file = load_project(project_dir / "Sales.dtproj")
    assert from_file == from_dir
    assert from_file.package("Load") == from_dir.package("Load")


def test_ispac_same_as_folder(project_dir: Path, tmp_path: Path) -> None:
    ispac = _ispac(tmp_path / "Sales.ispac", FILES)
    with zipfile.ZipFile(ispac) as zf:  # the zip holds OPC-escaped names, as SSDT writes them
        assert "Daily%20Helper.dtsx" in zf.namelist()
    proj = load_project(ispac)
    assert isinstance(proj, Project)
    assert proj == load_project(project_dir)
    assert proj.source_path == str(ispac)
    assert proj.parameter("DbPassword").encrypted is True
    pkg = proj.package("Daily Helper")
    assert pkg.source_path == f"{ispac}!Daily Helper.dtsx"
    assert pkg == load_project(project_dir).package("Daily Helper.dtsx")
    assert pkg.connection("ProjectCM").scope == "Project"
    assert pkg.project is proj


def test_unpacked_ispac_folder(tmp_path: Path) -> None:
    files = {n: t for n, t in FILES.items() if not n.endswith(".dtproj")}
    folder = _write(tmp_path / "unpacked", {**files, "@Project.manifest": MANIFEST})
    proj = load_project(folder)
    assert proj.package_names == ("Load.dtsx", "Daily Helper.dtsx")
    assert proj.package("Load").connection("ProjectCM").name == "ProjectCM"
    assert load_project(folder / "@Project.manifest") == proj


def test_listed_package_without_file(project_dir: Path) -> None:
    (project_dir / "Daily Helper.dtsx").unlink()
    (project_dir / "ProjectCM.conmgr").unlink()
    proj = load_project(project_dir)
    assert proj.missing == ("Daily Helper.dtsx", "ProjectCM.conmgr")
    assert proj.connection_managers == ()
    with pytest.raises(LoadError) as exc:
        proj.package("Daily Helper")
    assert exc.value.code == "DTS_E_PACKAGENOTFOUND"
    assert exc.value.path == str(project_dir / "Daily Helper.dtsx")
    assert proj.package("Load").name == "Load"


def test_project_without_params_file(project_dir: Path) -> None:
    (project_dir / "Project.params").unlink()
    proj = load_project(project_dir)
    assert proj.parameters == ()
    assert len(proj.connection_parameters) == 1


# ------------------------------------------------------------------------------------------------
# Package deployment model (.dtproj of 2005/2008, and 2012+ with DeploymentModel Package)
# ------------------------------------------------------------------------------------------------

OLD_DTPROJ = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <ProductVersion>10.50.1600.1</ProductVersion>
  <SchemaVersion>9.0.1.0</SchemaVersion>
  <DataSources />
  <DTSPackages>
    <DtsPackage>
      <Name>Load.dtsx</Name>
      <FullPath>Packages\\Load.dtsx</FullPath>
      <References />
    </DtsPackage>
    <DtsPackage>
      <Name>Gone.dtsx</Name>
      <FullPath>Gone.dtsx</FullPath>
    </DtsPackage>
  </DTSPackages>
</Project>"""

NEW_PACKAGE_MODEL = """<?xml version="1.0" encoding="utf-8"?>
<Project>
  <DeploymentModel>Package</DeploymentModel>
  <DeploymentModelSpecificContent>
    <Manifest>
      <DTSPackages>
        <DtsPackage FormatVersion="6"><Name>Load.dtsx</Name><FullPath>Load.dtsx</FullPath></DtsPackage>
      </DTSPackages>
    </Manifest>
  </DeploymentModelSpecificContent>
</Project>"""


def test_package_model_dtproj(tmp_path: Path) -> None:
    folder = _write(tmp_path / "Old", {"Old.dtproj": OLD_DTPROJ})
    _write(folder / "Packages", {"Load.dtsx": _dtsx("Load")})
    proj = load_project(folder)
    assert proj.deployment_model == "Package"
    assert proj.name == "Old"
    assert proj.package_names == ("Load.dtsx", "Gone.dtsx")
    assert proj.entries[0].file == "Packages/Load.dtsx"
    assert proj.missing == ("Gone.dtsx",)
    assert (proj.parameters, proj.connection_managers, proj.protection_level) == ((), (), "")
    assert proj.properties["ProductVersion"] == "10.50.1600.1"
    pkg = proj.package("Load")
    assert pkg.project is proj
    assert pkg.source_path == str(folder / "Packages" / "Load.dtsx")


def test_package_model_in_manifest(tmp_path: Path) -> None:
    folder = _write(tmp_path / "Pm", {"Pm.dtproj": NEW_PACKAGE_MODEL, "Load.dtsx": _dtsx("Load")})
    proj = load_project(folder / "Pm.dtproj")
    assert (proj.deployment_model, proj.package_names) == ("Package", ("Load.dtsx",))
    assert proj.package("Load.dtsx").name == "Load"


# ------------------------------------------------------------------------------------------------
# Errors: every one a coded LoadError with the path
# ------------------------------------------------------------------------------------------------


def _load_error(path: Path) -> LoadError:
    with pytest.raises(LoadError) as exc:
        load_project(path)
    return exc.value


def test_missing_path(tmp_path: Path) -> None:
    err = _load_error(tmp_path / "nope.ispac")
    assert (err.code, err.path) == ("DTS_E_PROJECTLOADERROR", str(tmp_path / "nope.ispac"))


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "Sales.ispac"
    bad.write_text("this is not a zip archive")
    err = _load_error(bad)
    assert (err.code, err.path) == ("DTS_E_PROJECTLOADERROR", str(bad))
    assert "zip" in err.message


def test_package_file_is_not_a_project(project_dir: Path) -> None:
    err = _load_error(project_dir / "Load.dtsx")
    assert (err.code, err.path) == ("DTS_E_PROJECTLOADERROR", str(project_dir / "Load.dtsx"))
    assert err.hint is not None and "load_package" in err.hint


def test_zip_without_manifest(tmp_path: Path) -> None:
    ispac = _zip(tmp_path / "Sales.ispac", {"Load.dtsx": _dtsx("Load").encode()})
    err = _load_error(ispac)
    assert (err.code, err.path) == ("DTS_E_PROJECTLOADERROR", str(ispac))
    assert "@Project.manifest" in err.message


@pytest.mark.parametrize(
    "member",
    [
        "../evil.dtsx",
        "/etc/evil.dtsx",
        "%2e%2e/evil.dtsx",
        "a/../../evil.dtsx",
        "C:/evil.dtsx",
        "..\\evil.dtsx",
    ],
)
def test_zip_slip_member_rejected(tmp_path: Path, member: str) -> None:
    ispac = tmp_path / "Sales.ispac"
    with zipfile.ZipFile(ispac, "w") as zf:
        zf.writestr("@Project.manifest", MANIFEST)
        zf.writestr(member, _dtsx("Evil"))
    err = _load_error(ispac)
    assert (err.code, err.path) == ("DTS_E_PROJECTLOADERROR", str(ispac))
    assert "unsafe name" in err.message
    assert not (tmp_path.parent / "evil.dtsx").exists()


def test_unknown_package_lists_available(project_dir: Path) -> None:
    proj = load_project(project_dir)
    with pytest.raises(LoadError) as exc:
        proj.package("Extract")
    assert exc.value.code == "DTS_E_PACKAGENOTFOUND"
    assert exc.value.path == str(project_dir / "Sales.dtproj")
    assert "Load.dtsx, Daily Helper.dtsx" in exc.value.message


@pytest.mark.parametrize("name", ["Sales.dtproj", "Project.params", "ProjectCM.conmgr"])
def test_malformed_xml(project_dir: Path, name: str) -> None:
    (project_dir / name).write_text("<SSIS:Parameters><unclosed>", encoding="utf-8")
    err = _load_error(project_dir)
    assert (err.code, err.path) == ("DTS_E_LOADPACKAGEXML", str(project_dir / name))


def test_malformed_package_raises_on_access(project_dir: Path) -> None:
    (project_dir / "Load.dtsx").write_text("<DTS:Executable", encoding="utf-8")
    proj = load_project(project_dir)  # packages load on demand
    with pytest.raises(LoadError) as exc:
        proj.package("Load")
    assert (exc.value.code, exc.value.path) == (
        "DTS_E_LOADPACKAGEXML",
        str(project_dir / "Load.dtsx"),
    )


def test_malformed_manifest_in_ispac(tmp_path: Path) -> None:
    ispac = _ispac(tmp_path / "Sales.ispac", FILES, manifest="<SSIS:Project")
    err = _load_error(ispac)
    assert (err.code, err.path) == ("DTS_E_LOADPACKAGEXML", f"{ispac}!@Project.manifest")


def test_entity_in_manifest_rejected(tmp_path: Path) -> None:
    evil = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + MANIFEST
    err = _load_error(_ispac(tmp_path / "Sales.ispac", FILES, manifest=evil))
    assert err.code == "DTS_E_XMLENTITYREJECTED"


def test_unknown_typecode(project_dir: Path) -> None:
    text = f"<SSIS:Parameters {SSIS}>{_param('Odd', 17, 'x')}</SSIS:Parameters>"
    (project_dir / "Project.params").write_text(text, encoding="utf-8")
    err = _load_error(project_dir)
    assert (err.code, err.path) == (
        "DTS_E_INVALIDATTRIBUTEVALUE",
        str(project_dir / "Project.params"),
    )
    assert "'Odd'" in err.message


def test_conmgr_with_wrong_root(project_dir: Path) -> None:
    (project_dir / "ProjectCM.conmgr").write_text(f"<DTS:Executable {DTS}/>", encoding="utf-8")
    err = _load_error(project_dir)
    assert (err.code, err.path) == ("DTS_E_WRONGROOTELEMENT", str(project_dir / "ProjectCM.conmgr"))


def test_folder_without_project(tmp_path: Path) -> None:
    err = _load_error(_write(tmp_path / "empty", {"Load.dtsx": _dtsx("Load")}))
    assert (err.code, err.path) == ("DTS_E_PROJECTLOADERROR", str(tmp_path / "empty"))


def test_folder_with_two_dtproj(project_dir: Path) -> None:
    shutil.copy(project_dir / "Sales.dtproj", project_dir / "Copy.dtproj")
    err = _load_error(project_dir)
    assert err.code == "DTS_E_PROJECTLOADERROR"
    assert "Copy.dtproj, Sales.dtproj" in err.message


def test_dtproj_without_package_list(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "x",
        {"X.dtproj": "<Project><DeploymentModel>Project</DeploymentModel></Project>"},
    )
    err = _load_error(folder / "X.dtproj")
    assert (err.code, err.path) == ("DTS_E_PROJECTLOADERROR", str(folder / "X.dtproj"))


# ------------------------------------------------------------------------------------------------
# The corpus: every .dtproj with its sibling files, as a real folder and as an .ispac
# ------------------------------------------------------------------------------------------------

DTPROJS = sorted(CORPUS.glob("*/*.dtproj")) if CORPUS.is_dir() else []


def _rebuild_folder(dtproj: Path, dest: Path) -> Path:
    """The project folder as it was: the corpus flattens paths into ``dir__dir__file`` names."""
    plain = dtproj.name.rsplit("__", 1)[-1]
    prefix = dtproj.name[: len(dtproj.name) - len(plain)]
    dest.mkdir()
    for f in dtproj.parent.iterdir():
        rest = f.name[len(prefix) :]
        if f.is_file() and f.name.startswith(prefix) and "__" not in rest:
            shutil.copy(f, dest / rest)
    return dest / plain


def _rebuild_ispac(folder: Path, dtproj: Path, dest: Path) -> Path:
    """An .ispac of the folder, its @Project.manifest taken from the .dtproj's embedded one."""
    root = parse_xml(dtproj.read_bytes(), str(dtproj))
    manifest = root.find(
        "DeploymentModelSpecificContent/Manifest/{www.microsoft.com/SqlServer/SSIS}Project"
    )
    assert manifest is not None
    members = {
        "@Project.manifest": etree.tostring(manifest, xml_declaration=True, encoding="utf-8")
    }
    for f in folder.iterdir():
        if f.suffix.lower() in (".dtsx", ".params", ".conmgr"):
            members[f.name] = f.read_bytes()
    return _zip(dest, members)


def _load_present(proj: Project, present: set[str]) -> dict[str, Package | None]:
    """Each listed package whose file the corpus holds; None for a package encrypted whole."""
    out: dict[str, Package | None] = {}
    for entry in proj.entries:
        if entry.file not in present:
            continue
        try:
            pkg = proj.package(entry.name)
        except EncryptedPackageError as exc:  # the corpus holds one EncryptAllWithUserKey package
            assert exc.code in ("DTS_E_DECRYPTPACKAGE_USERKEY", "DTS_E_PACKAGEPASSWORD")
            out[entry.name] = None
            continue
        assert pkg.project is proj
        assert pkg.name
        for comp in (c for e in pkg.walk() if e.pipeline for c in e.pipeline.components):
            for link in comp.connections:
                ref = link.manager_ref
                if ref.startswith("Project.ConnectionManagers[") and any(
                    cm.ref_id == ref for cm in proj.connection_managers
                ):
                    assert pkg.connection(ref).scope == "Project"
        out[entry.name] = pkg
    return out


@pytest.mark.corpus
@pytest.mark.parametrize(
    "dtproj", DTPROJS or [None], ids=lambda p: p and f"{p.parent.name}/{p.name}"
)
def test_corpus_project(dtproj: Path | None, tmp_path: Path) -> None:
    """Loads every corpus project. The corpus holds only the packages some package of it needed,
    so a listed package whose .dtsx is absent is only required to be reported in ``missing``."""
    if dtproj is None:
        pytest.skip("../shared/dtsx-corpus not present (it sits beside the checkout in CI only)")
    path = _rebuild_folder(dtproj, tmp_path / "project")
    folder = path.parent
    proj = load_project(path if len(list(folder.glob("*.dtproj"))) > 1 else folder)
    present = {e.file for e in proj.entries if (folder / e.file).is_file()}
    assert {e.file for e in proj.entries} - present == {
        m for m in proj.missing if not m.endswith(".conmgr")
    }
    assert all(not (folder / m).is_file() for m in proj.missing)
    assert all(cm.scope == "Project" for cm in proj.connection_managers)
    loaded = _load_present(proj, present)
    assert set(loaded) == {e.name for e in proj.entries if e.file in present}
    if proj.deployment_model == "Project":
        ispac = load_project(_rebuild_ispac(folder, path, tmp_path / "project.ispac"))
        assert ispac == proj
        from_zip = _load_present(ispac, present)
        assert from_zip == loaded
        # Issue 2: packages taken from an .ispac built from a corpus project folder round-trip.
        for name, pkg in from_zip.items():
            if pkg is None:
                continue
            out = tmp_path / f"rt-{len(name)}-{abs(hash(name))}.dtsx"
            save_package(pkg, out)
            assert load_package(out) == pkg, f"{name} from the .ispac does not round-trip"
