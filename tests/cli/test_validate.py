"""`dataflow validate`: the compatibility report of a small package holding one of everything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dataflow.cli import invoke
from dataflow.core.errors import CODES

# A format-8 package with: a FLATFILE and an unknown-type connection manager (the latter with an
# encrypted password), an encrypted package parameter, a variable evaluated as an expression,
# a disabled Execute SQL task, a C# Script Task, a WMI task (unsupported for a stated reason),
# a For Loop, a precedence constraint with an expression, an Expression Task, an event handler,
# and a data flow with a Script Component, a Fuzzy Lookup and a Derived Column.
PACKAGE = r"""<?xml version="1.0"?>
<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts"
  DTS:refId="Package" DTS:CreationName="Microsoft.Package" DTS:ExecutableType="Microsoft.Package"
  DTS:DTSID="{00000000-0000-0000-0000-000000000001}" DTS:ObjectName="Everything"
  DTS:ProtectionLevel="1">
  <DTS:Property DTS:Name="PackageFormatVersion">8</DTS:Property>
  <DTS:ConnectionManagers>
    <DTS:ConnectionManager DTS:refId="Package.ConnectionManagers[Input]" DTS:CreationName="FLATFILE"
      DTS:DTSID="{00000000-0000-0000-0000-000000000002}" DTS:ObjectName="Input">
      <DTS:PropertyExpression DTS:Name="ConnectionString">@[$Package::DataDir] + "\\in.csv"</DTS:PropertyExpression>
      <DTS:ObjectData>
        <DTS:ConnectionManager DTS:Format="Delimited" DTS:ConnectionString="in.csv" />
      </DTS:ObjectData>
    </DTS:ConnectionManager>
    <DTS:ConnectionManager DTS:refId="Package.ConnectionManagers[Cloud]" DTS:CreationName="CDATA_CONNECT"
      DTS:DTSID="{00000000-0000-0000-0000-000000000003}" DTS:ObjectName="Cloud">
      <DTS:ObjectData>
        <DTS:ConnectionManager DTS:ConnectionString="Server=x;">
          <DTS:Password DTS:Name="Password" Sensitive="1" Encrypted="1">AQAAANCMnd8BFdERjHoAwE</DTS:Password>
        </DTS:ConnectionManager>
      </DTS:ObjectData>
    </DTS:ConnectionManager>
  </DTS:ConnectionManagers>
  <DTS:PackageParameters>
    <DTS:PackageParameter DTS:CreationName="" DTS:DataType="8" DTS:ObjectName="DataDir"
      DTS:DTSID="{00000000-0000-0000-0000-000000000004}">
      <DTS:Property DTS:DataType="8" DTS:Name="ParameterValue">/data</DTS:Property>
    </DTS:PackageParameter>
    <DTS:PackageParameter DTS:CreationName="" DTS:DataType="8" DTS:ObjectName="ApiKey"
      DTS:Sensitive="True" DTS:DTSID="{00000000-0000-0000-0000-000000000005}">
      <DTS:Property DTS:DataType="8" DTS:Name="ParameterValue" Sensitive="1" Encrypted="1">AQAAAN</DTS:Property>
    </DTS:PackageParameter>
  </DTS:PackageParameters>
  <DTS:Variables>
    <DTS:Variable DTS:CreationName="" DTS:DTSID="{00000000-0000-0000-0000-000000000006}"
      DTS:EvaluateAsExpression="True" DTS:Expression="(1 + " DTS:Namespace="User" DTS:ObjectName="Broken">
      <DTS:VariableValue DTS:DataType="3">0</DTS:VariableValue>
    </DTS:Variable>
  </DTS:Variables>
  <DTS:Executables>
    <DTS:Executable DTS:refId="Package\Run SQL" DTS:CreationName="Microsoft.ExecuteSQLTask"
      DTS:Disabled="True" DTS:DTSID="{00000000-0000-0000-0000-000000000010}"
      DTS:ExecutableType="Microsoft.ExecuteSQLTask" DTS:ObjectName="Run SQL">
      <DTS:ObjectData>
        <SQLTask:SqlTaskData xmlns:SQLTask="www.microsoft.com/sqlserver/dts/tasks/sqltask"
          SQLTask:SqlStatementSource="SELECT 1">
          <SQLTask:ApiToken Encrypted="1">AQAAANCMnd8</SQLTask:ApiToken>
        </SQLTask:SqlTaskData>
      </DTS:ObjectData>
    </DTS:Executable>
    <DTS:Executable DTS:refId="Package\Script" DTS:CreationName="Microsoft.ScriptTask"
      DTS:DTSID="{00000000-0000-0000-0000-000000000011}" DTS:ExecutableType="Microsoft.ScriptTask"
      DTS:ObjectName="Script">
      <DTS:ObjectData>
        <ScriptProject Name="ST_1" Language="CSharp" />
      </DTS:ObjectData>
    </DTS:Executable>
    <DTS:Executable DTS:refId="Package\Watch WMI" DTS:CreationName="Microsoft.WmiEventWatcherTask"
      DTS:DTSID="{00000000-0000-0000-0000-000000000012}"
      DTS:ExecutableType="Microsoft.WmiEventWatcherTask" DTS:ObjectName="Watch WMI" />
    <DTS:Executable DTS:refId="Package\Loop" DTS:CreationName="STOCK:FORLOOP"
      DTS:DTSID="{00000000-0000-0000-0000-000000000013}" DTS:ExecutableType="STOCK:FORLOOP"
      DTS:InitExpression="@[User::Broken] = 0" DTS:EvalExpression="@[User::Broken] &lt; "
      DTS:AssignExpression="" DTS:ObjectName="Loop">
      <DTS:Executables>
        <DTS:Executable DTS:refId="Package\Loop\Count" DTS:CreationName="Microsoft.ExpressionTask"
          DTS:DTSID="{00000000-0000-0000-0000-000000000014}"
          DTS:ExecutableType="Microsoft.ExpressionTask" DTS:ObjectName="Count">
          <DTS:ObjectData>
            <ExpressionTask Expression="@[User::Broken] = @[User::Broken] + + )" />
          </DTS:ObjectData>
        </DTS:Executable>
      </DTS:Executables>
    </DTS:Executable>
    <DTS:Executable DTS:refId="Package\Data Flow" DTS:CreationName="Microsoft.Pipeline"
      DTS:DTSID="{00000000-0000-0000-0000-000000000015}" DTS:ExecutableType="Microsoft.Pipeline"
      DTS:ObjectName="Data Flow">
      <DTS:ObjectData>
        <pipeline version="1">
          <components>
            <component refId="Package\Data Flow\Script Component"
              componentClassID="Microsoft.ManagedComponentHost" name="Script Component">
              <properties>
                <property name="UserComponentTypeName">Microsoft.ScriptComponentHost</property>
                <property name="ScriptLanguage">VisualBasic</property>
              </properties>
              <outputs>
                <output refId="Package\Data Flow\Script Component.Outputs[Output 0]" name="Output 0" />
              </outputs>
            </component>
            <component refId="Package\Data Flow\Fuzzy" componentClassID="Microsoft.FuzzyLookup" name="Fuzzy" />
            <component refId="Package\Data Flow\Derive" componentClassID="{49928E82-9C4E-49F0-AABE-3812B82707EC}"
              name="Derive">
              <outputs>
                <output refId="Package\Data Flow\Derive.Outputs[Derived Column Output]" name="Derived Column Output">
                  <outputColumns>
                    <outputColumn refId="Package\Data Flow\Derive.Outputs[Derived Column Output].Columns[Bad]"
                      lineageId="Package\Data Flow\Derive.Outputs[Derived Column Output].Columns[Bad]"
                      name="Bad" dataType="i4">
                      <properties>
                        <property containsID="true" dataType="System.String" name="Expression">UPPER(</property>
                      </properties>
                    </outputColumn>
                  </outputColumns>
                </output>
              </outputs>
            </component>
          </components>
        </pipeline>
      </DTS:ObjectData>
    </DTS:Executable>
  </DTS:Executables>
  <DTS:PrecedenceConstraints>
    <DTS:PrecedenceConstraint DTS:refId="Package.PrecedenceConstraints[Constraint]"
      DTS:From="Package\Run SQL" DTS:To="Package\Script" DTS:EvalOp="3" DTS:Expression="@[User::Broken] ==="
      DTS:LogicalAnd="True" DTS:ObjectName="Constraint" />
  </DTS:PrecedenceConstraints>
  <DTS:EventHandlers>
    <DTS:EventHandler DTS:refId="Package.EventHandlers[OnError]" DTS:CreationName="OnError"
      DTS:DTSID="{00000000-0000-0000-0000-000000000016}" DTS:EventID="0" DTS:EventName="OnError">
      <DTS:Variables />
      <DTS:Executables />
    </DTS:EventHandler>
  </DTS:EventHandlers>
</DTS:Executable>
"""


@pytest.fixture
def package(tmp_path: Path) -> Path:
    path = tmp_path / "everything.dtsx"
    path.write_text(PACKAGE, encoding="utf-8")
    return path


def validate_json(path: Path | str, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out = invoke(["validate", str(path), "--json", *extra])
    return code, json.loads(out)


def by_ref(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["refId"]: i for i in items}


def test_json_has_the_documented_keys(package: Path) -> None:
    code, report = validate_json(package)
    assert code == 0
    for key in (
        "loaded", "format", "encrypted", "executables", "components", "connections",
        "unsupported", "expressions", "errors",
    ):  # fmt: skip
        assert key in report, key
    assert report["loaded"] is True
    assert report["format"] == 8
    assert report["name"] == "Everything"
    assert report["errors"] == []


def test_every_executable_is_listed_with_its_status(package: Path) -> None:
    _, report = validate_json(package)
    exes = by_ref(report["executables"])
    assert set(exes) == {
        "Package", "Package\\Run SQL", "Package\\Script", "Package\\Watch WMI", "Package\\Loop",
        "Package\\Loop\\Count", "Package\\Data Flow", "Package.EventHandlers[OnError]",
    }  # fmt: skip
    assert exes["Package"]["kind"] == "package"
    assert exes["Package\\Loop"]["kind"] == "forloop"
    assert exes["Package.EventHandlers[OnError]"]["kind"] == "eventhandler"
    assert exes["Package\\Run SQL"]["taskType"] == "Microsoft.ExecuteSQLTask"
    assert exes["Package\\Run SQL"]["disabled"] is True
    for e in exes.values():
        assert e["status"] in ("supported", "unsupported")
        if e["status"] == "unsupported":
            assert e["reason"] and e["code"] in CODES
    wmi = exes["Package\\Watch WMI"]
    assert wmi["status"] == "unsupported"
    assert wmi["code"] == "DTS_E_UNSUPPORTEDTASK"
    assert "WMI" in wmi["reason"]


def test_script_task_and_component_need_a_python_port(package: Path) -> None:
    _, report = validate_json(package)
    script = by_ref(report["executables"])["Package\\Script"]
    assert script["status"] == "unsupported"
    assert script["code"] == "DTS_E_SCRIPTNEEDSPYTHONPORT"
    assert "C#" in script["reason"] and "Python port" in script["reason"]
    comp = by_ref(report["components"])["Package\\Data Flow\\Script Component"]
    assert comp["kind"] == "Microsoft.ScriptComponentHost"
    assert comp["classId"] == "Microsoft.ManagedComponentHost"
    assert comp["code"] == "DTS_E_SCRIPTNEEDSPYTHONPORT"
    assert "Visual Basic" in comp["reason"]


def test_components_report_canonical_kind_and_class_id_as_written(package: Path) -> None:
    _, report = validate_json(package)
    comps = by_ref(report["components"])
    derive = comps["Package\\Data Flow\\Derive"]
    assert derive["kind"] == "Microsoft.DerivedColumn"
    assert derive["classId"] == "{49928E82-9C4E-49F0-AABE-3812B82707EC}"
    assert derive["task"] == "Package\\Data Flow"
    fuzzy = comps["Package\\Data Flow\\Fuzzy"]
    assert fuzzy["status"] == "unsupported"
    assert fuzzy["code"] == "DTS_W_UNSUPPORTEDCOMPONENT"
    assert "out of scope" in fuzzy["reason"]


def test_unknown_connection_types_are_flagged(package: Path) -> None:
    _, report = validate_json(package)
    cms = by_ref(report["connections"])
    assert cms["Package.ConnectionManagers[Input]"]["status"] == "known"
    assert cms["Package.ConnectionManagers[Input]"]["kind"] == "FLATFILE"
    cloud = cms["Package.ConnectionManagers[Cloud]"]
    assert cloud["status"] == "unknown"
    assert cloud["code"] == "DTS_E_UNSUPPORTEDCONNECTIONTYPE"
    assert cloud["creationName"] == "CDATA_CONNECT"


def test_unsupported_is_a_flat_list_with_codes_and_ref_ids(package: Path) -> None:
    _, report = validate_json(package)
    items = report["unsupported"]
    assert all(i["code"] in CODES and i["refId"] for i in items)
    by = {(i["type"], i["refId"]): i for i in items}
    assert by[("connection", "Package.ConnectionManagers[Cloud]")]["code"] == (
        "DTS_E_UNSUPPORTEDCONNECTIONTYPE"
    )
    assert by[("component", "Package\\Data Flow\\Fuzzy")]["code"] == "DTS_W_UNSUPPORTEDCOMPONENT"
    assert by[("executable", "Package\\Watch WMI")]["code"] == "DTS_E_UNSUPPORTEDTASK"
    # one entry per unsupported executable, component and unknown connection: no more, no less
    expected = sum(e["status"] != "supported" for e in report["executables"])
    expected += sum(c["status"] != "supported" for c in report["components"])
    expected += sum(c["status"] == "unknown" for c in report["connections"])
    assert len(items) == expected


def test_encrypted_values_say_how_to_supply_them(package: Path) -> None:
    _, report = validate_json(package)
    enc = {(e["refId"], e["property"]): e for e in report["encrypted"]}
    assert set(enc) == {
        ("Package.ConnectionManagers[Cloud]", "Password"),
        ("$Package::ApiKey", "ParameterValue"),
        ("Package\\Run SQL", "ApiToken"),
    }
    cm = enc[("Package.ConnectionManagers[Cloud]", "Password")]
    assert cm["supply"] == "--conn"
    assert cm["path"] == "\\Package.Connections[Cloud].Properties[Password]"
    assert "--conn 'Cloud=" in cm["hint"]
    prm = enc[("$Package::ApiKey", "ParameterValue")]
    assert prm["supply"] == "--param"
    assert "$Package::ApiKey=" in prm["hint"]
    task = enc[("Package\\Run SQL", "ApiToken")]
    assert task["supply"] == "--set"
    assert task["path"] == "\\Package\\Run SQL.Properties[ApiToken]"
    assert task["hint"] == "--set '\\Package\\Run SQL.Properties[ApiToken]=<value>'"
    assert all(e["code"] == "DTS_W_ENCRYPTEDPROPERTYMISSING" for e in report["encrypted"])


def test_human_output_is_a_table_with_a_summary(package: Path) -> None:
    code, out = invoke(["validate", str(package)])
    assert code == 0
    assert "Executables" in out and "Components" in out and "Connection managers" in out
    assert "Package\\Watch WMI" in out
    assert "Everything" in out and "loaded" in out
    assert "8 executables" in out and "3 components" in out
    assert "3 encrypted values to supply" in out


def test_missing_file_exits_5_and_says_not_found(tmp_path: Path) -> None:
    code, report = validate_json(tmp_path / "nope.dtsx")
    assert code == 5
    assert report["loaded"] is False
    assert report["format"] is None
    [err] = report["errors"]
    assert err["code"] == "DTS_E_OPENPACKAGEFILE"
    assert "not found" in err["message"]
    code, out = invoke(["validate", str(tmp_path / "nope.dtsx")])
    assert code == 5
    assert "not found" in out and "DTS_E_OPENPACKAGEFILE" in out


def test_an_unexpected_exception_while_loading_is_a_coded_error(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataflow.package.reader

    def boom(path: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(dataflow.package.reader, "load_package", boom)
    code, report = validate_json(package)
    assert code == 5
    [err] = report["errors"]
    assert err["code"] == "DTS_E_CANTLOADFROMNODE"
    assert err["refId"] == "Package"
    assert "RuntimeError: boom" in err["message"]


def test_a_section_that_fails_costs_only_that_section(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataflow.pipeline.registry

    def boom(component_id: str) -> tuple[str, str]:
        raise ValueError(f"cannot judge {component_id}")

    monkeypatch.setattr(dataflow.pipeline.registry, "support", boom)
    code, report = validate_json(package)
    assert code == 0  # the package loaded; the report says what it could not analyse
    assert report["components"] == []
    assert len(report["executables"]) == 8
    [err] = report["errors"]
    assert err["code"] == "DTS_E_CANTLOADFROMNODE"
    assert "components" in err["message"] and "ValueError" in err["message"]


def test_usage_errors_exit_6() -> None:
    code, _ = invoke(["validate"])
    assert code == 6
    code, _ = invoke(["validate", "x.dtsx", "--no-such-option"])
    assert code == 6


def test_help_documents_the_json_shape() -> None:
    code, out = invoke(["validate", "--help"])
    assert code == 0
    for key in ("loaded", "format", "encrypted", "executables", "components", "connections"):
        assert key in out
    assert '"packages"' in out


def test_project_option_on_a_package_file_is_ignored_gracefully(package: Path) -> None:
    code, report = validate_json(package, "--package", "whatever")
    assert code == 0
    assert report["name"] == "Everything"


def test_expressions_that_do_not_parse_are_listed(package: Path) -> None:
    _, report = validate_json(package)
    found = {(x["refId"], x["property"]) for x in report["expressions"]}
    assert found == {
        ("Package.Variables[User::Broken]", "Expression"),
        ("Package\\Loop", "EvalExpression"),
        ("Package\\Loop\\Count", "Expression"),
        ("Package.PrecedenceConstraints[Constraint]", "Expression"),
        (
            "Package\\Data Flow\\Derive.Outputs[Derived Column Output].Columns[Bad]",
            "Expression",
        ),
    }
    for x in report["expressions"]:
        assert x["code"] == "DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION"
        assert x["message"] and x["expression"]
        assert isinstance(x["line"], int) and isinstance(x["column"], int)
    # the ones that parse are not listed: the connection manager's property expression and the
    # For Loop's InitExpression
    assert not any(r.startswith("Package.ConnectionManagers") for r, _ in found)
    assert ("Package\\Loop", "InitExpression") not in found


# ------------------------------------------------------------------------------------------------
# Projects
# ------------------------------------------------------------------------------------------------

SSIS_NS = 'xmlns:SSIS="www.microsoft.com/SqlServer/SSIS"'
DTS_NS = 'xmlns:DTS="www.microsoft.com/SqlServer/Dts"'

MANIFEST = f"""<SSIS:Project SSIS:ProtectionLevel="EncryptSensitiveWithUserKey" {SSIS_NS}>
  <SSIS:Properties><SSIS:Property SSIS:Name="Name">Sales</SSIS:Property></SSIS:Properties>
  <SSIS:Packages>
    <SSIS:Package SSIS:Name="Load.dtsx" SSIS:EntryPoint="1" />
    <SSIS:Package SSIS:Name="Everything.dtsx" SSIS:EntryPoint="1" />
  </SSIS:Packages>
  <SSIS:ConnectionManagers>
    <SSIS:ConnectionManager SSIS:Name="Warehouse.conmgr" />
    <SSIS:ConnectionManager SSIS:Name="Odd.conmgr" />
  </SSIS:ConnectionManagers>
</SSIS:Project>"""

DTPROJ = f"""<?xml version="1.0" encoding="utf-8"?>
<Project><DeploymentModel>Project</DeploymentModel>
  <DeploymentModelSpecificContent><Manifest>{MANIFEST}</Manifest></DeploymentModelSpecificContent>
</Project>"""

PARAMS = f"""<?xml version="1.0"?>
<SSIS:Parameters {SSIS_NS}>
  <SSIS:Parameter SSIS:Name="DbPassword">
    <SSIS:Properties>
      <SSIS:Property SSIS:Name="Sensitive">1</SSIS:Property>
      <SSIS:Property SSIS:Name="Value" SSIS:Sensitive="1">AQAAANCMnd8BFdERjHoAwE</SSIS:Property>
      <SSIS:Property SSIS:Name="DataType">18</SSIS:Property>
    </SSIS:Properties>
  </SSIS:Parameter>
</SSIS:Parameters>"""


def conmgr(name: str, creation: str) -> str:
    return f"""<?xml version="1.0"?>
<DTS:ConnectionManager {DTS_NS} DTS:ObjectName="{name}" DTS:CreationName="{creation}"
  DTS:DTSID="{{E8464E14-D126-4B86-AFFB-295B0D35060{len(name) % 10}}}">
  <DTS:ObjectData>
    <DTS:ConnectionManager DTS:ConnectionString="Data Source=db01;User ID=etl;">
      <DTS:Password DTS:Name="Password" Sensitive="1" Encrypted="1">AQAAANCMnd8</DTS:Password>
    </DTS:ConnectionManager>
  </DTS:ObjectData>
</DTS:ConnectionManager>"""


LOAD = PACKAGE.split("<DTS:ConnectionManagers>", maxsplit=1)[0].replace("Everything", "Load") + (
    "<DTS:Executables /></DTS:Executable>"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "Sales"
    folder.mkdir()
    files = {
        "Sales.dtproj": DTPROJ,
        "Project.params": PARAMS,
        "Warehouse.conmgr": conmgr("Warehouse", "OLEDB"),
        "Odd.conmgr": conmgr("Odd", "SOMETHING_ELSE"),
        "Load.dtsx": LOAD,
        "Everything.dtsx": PACKAGE,
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_project_reports_itself_and_each_package(project: Path) -> None:
    code, report = validate_json(project)
    assert code == 0, report
    assert report["project"] == str(project)
    assert report["name"] == "Sales"
    assert report["loaded"] is True
    assert [p["name"] for p in report["packages"]] == ["Load", "Everything"]
    assert all(p["loaded"] for p in report["packages"])
    cms = by_ref(report["connections"])
    assert cms["Project.ConnectionManagers[Warehouse]"]["status"] == "known"
    assert cms["Project.ConnectionManagers[Odd]"]["status"] == "unknown"
    assert [u["refId"] for u in report["unsupported"]] == ["Project.ConnectionManagers[Odd]"]
    enc = {(e["refId"], e["property"]): e["supply"] for e in report["encrypted"]}
    assert enc == {
        ("Project.ConnectionManagers[Warehouse]", "Password"): "--conn",
        ("Project.ConnectionManagers[Odd]", "Password"): "--conn",
        ("$Project::DbPassword", "ParameterValue"): "--param",
    }
    everything = report["packages"][1]
    assert len(everything["executables"]) == 8


def test_project_dtproj_file_is_the_same_as_its_folder(project: Path) -> None:
    _, by_folder = validate_json(project)
    _, by_file = validate_json(project / "Sales.dtproj")
    assert by_file["packages"] == by_folder["packages"]


def test_project_with_a_package_that_does_not_load_exits_5(project: Path) -> None:
    (project / "Everything.dtsx").write_text(PACKAGE[:500], encoding="utf-8")
    code, report = validate_json(project)
    assert code == 5
    assert report["loaded"] is False
    load, broken = report["packages"]
    assert load["loaded"] is True
    assert broken["loaded"] is False
    assert [e["code"] for e in broken["errors"]] == ["DTS_E_LOADPACKAGEXML"]


def test_project_package_option_reports_one_package(project: Path) -> None:
    code, report = validate_json(project, "--package", "Everything")
    assert code == 0
    assert "packages" not in report
    assert report["name"] == "Everything"
    assert len(report["components"]) == 3
    code, report = validate_json(project, "--package", "Nope.dtsx")
    assert code == 5
    assert [e["code"] for e in report["errors"]] == ["DTS_E_PACKAGENOTFOUND"]


def test_ispac_project(project: Path, tmp_path: Path) -> None:
    import zipfile
    from urllib.parse import quote

    ispac = tmp_path / "Sales.ispac"
    with zipfile.ZipFile(ispac, "w") as zf:
        zf.writestr("@Project.manifest", MANIFEST)
        for f in project.iterdir():
            if f.suffix != ".dtproj":
                zf.writestr(quote(f.name), f.read_bytes())
    code, report = validate_json(ispac)
    assert code == 0, report
    assert [p["name"] for p in report["packages"]] == ["Load", "Everything"]


def test_missing_project_exits_5(tmp_path: Path) -> None:
    code, report = validate_json(tmp_path / "Nope.ispac")
    assert code == 5
    assert [e["code"] for e in report["errors"]] == ["DTS_E_PROJECTLOADERROR"]
    assert "not found" in report["errors"][0]["message"]


def test_folder_without_a_project_exits_5(tmp_path: Path) -> None:
    code, report = validate_json(tmp_path)
    assert code == 5
    assert [e["code"] for e in report["errors"]] == ["DTS_E_PROJECTLOADERROR"]


def test_project_human_output(project: Path) -> None:
    code, out = invoke(["validate", str(project)])
    assert code == 0
    assert "Project Sales" in out
    assert "Package Load.dtsx" in out and "Package Everything.dtsx" in out
    assert "2 packages (2 loaded)" in out


def test_project_missing_a_connection_manager_file_exits_5(project: Path) -> None:
    (project / "Odd.conmgr").unlink()
    code, report = validate_json(project)
    assert code == 5
    [err] = report["errors"]
    assert err["code"] == "DTS_E_PROJECTLOADERROR"
    assert "Odd.conmgr" in err["message"]
    assert err["refId"]
    assert all(p["loaded"] for p in report["packages"])
