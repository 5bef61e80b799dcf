"""The builder API: build packages in Python, check the model, save as format 8 and load back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dataflow.core.errors import ValidationError
from dataflow.package import builder as b
from dataflow.package.model import Executable, FrozenMap, Package, Pipeline, XmlNode
from dataflow.package.reader import load_package
from dataflow.package.writer import save_package, to_xml_bytes
from tests.package.modeldiff import first_difference as difference

GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\}$")
SQLTASK = "www.microsoft.com/sqlserver/dts/tasks/sqltask"


def round_trip(pkg: Package, tmp_path: Path) -> Package:
    """Save with the writer, load with the reader: the loaded model must equal the built one."""
    out = tmp_path / f"{pkg.name}.dtsx"
    save_package(pkg, out)
    loaded = load_package(out)
    assert difference(pkg, loaded) is None
    assert loaded == pkg
    assert loaded.format_version == 8
    return loaded


def pipeline_of(pkg: Package, task: str) -> Pipeline:
    p = pkg.find(task).pipeline
    assert p is not None
    return p


# ------------------------------------------------------------------------------------------------
# Packages shared with test_layout
# ------------------------------------------------------------------------------------------------


def sales_package(seed: int | None = 7) -> b.PackageBuilder:
    """The README example."""
    p = b.PackageBuilder("Sales", seed=seed)
    p.parameter("DataDir", "String", "/data", required=True)
    p.variable("User::Region", "String", "EAST")
    p.variable("User::RowCount", "Int32", 0)
    p.variable("User::Out", "String", expression='@[$Package::DataDir] + "/out.csv"')
    src = p.flat_file_connection(
        "Source",
        "/data/sales.csv",
        columns=[("id", "DT_I4"), ("region", "DT_WSTR", 20), ("amount", "DT_NUMERIC", 10, 2)],
        header=True,
        delimiter=",",
        text_qualifier='"',
    )
    src.expression("ConnectionString", '@[$Package::DataDir] + "/sales.csv"')
    p.flat_file_connection("Target", "/data/east.csv")
    p.connection("Warehouse", "OLEDB", "Data Source=.;Initial Catalog=DW;Provider=SQLNCLI11.1;")
    load = p.sequence("Load")
    sql = load.execute_sql("Truncate", "Warehouse", "TRUNCATE TABLE dbo.Sales")
    df = load.data_flow("Data Flow Task")
    s = df.source("Flat File Source", "Microsoft.FlatFileSource", connection="Source")
    d = df.transform("Derived Column", "Microsoft.DerivedColumn", upstream=s)
    d.derived_column("total", "amount * 2", "DT_NUMERIC", precision=12, scale=2)
    cs = df.transform("Split", "Microsoft.ConditionalSplit", upstream=d)
    cs.case("East", 'region == "EAST"')
    df.destination(
        "Out", "Microsoft.FlatFileDestination", upstream=(cs, "East"), connection="Target"
    )
    df.transform(
        "Count",
        "Microsoft.RowCount",
        upstream=(cs, "Conditional Split Default Output"),
        variable="User::RowCount",
    )
    load.constraint(sql, df, on="Success")
    return p


def everything_package(seed: int | None = 11) -> b.PackageBuilder:
    """Every kind of object the builder makes (control flow and data flow)."""
    p = b.PackageBuilder("Everything", seed=seed, description="all objects")
    p.checkpoints("/tmp/everything.chk", "IfExists", save=True)
    p.set(max_concurrent=4, max_error_count=2)
    p.parameter("DataDir", "String", "/data", required=True)
    p.parameter("Password", "String", "secret", sensitive=True, description="db password")
    p.parameter("Limit", "Int32", 10)
    p.variable("User::i", "Int32", 0)
    p.variable("User::File", "String")
    p.variable("User::Flag", "Boolean", True, read_only=True)
    p.variable("User::Started", "DateTime", dt.datetime(2024, 5, 6, 13, 4, 5))
    p.variable("User::Ratio", 5, 0.5)  # VARIANT code 5 = Double
    p.variable("User::Rows", "Object")
    p.variable("User::Counted", "Int64", 0, raise_changed_event=True)
    p.variable("Audit::Who", "String", "me")
    p.logging("Enabled", events=["OnError", "OnWarning"])
    src = p.flat_file_connection(
        "Source",
        "/data/in.txt",
        columns=[
            ("id", "DT_I4"),
            ("name", "DT_STR", 30),
            ("city", "DT_WSTR", 40),
            ("amount", "DT_NUMERIC", 12, 2),
            ("price", "DT_R8"),
            ("day", "DT_DBDATE"),
        ],
        delimiter="|",
        row_delimiter="\n",
        text_qualifier='"',
        code_page=65001,
    )
    src.expression("ConnectionString", '@[$Package::DataDir] + "/in.txt"')
    p.flat_file_connection("Out", "/data/out.txt", header=False, delimiter="\t")
    p.connection(
        "DW",
        "OLEDB",
        "Data Source=.;Initial Catalog=DW;Provider=SQLNCLI11.1;Integrated Security=SSPI;",
    ).expression("ServerName", '"localhost"')
    p.file_connection("Log", "/data/log.txt", usage=1)
    p.connection(
        "Mail",
        "SMTP",
        payload='<SmtpConnectionManager ConnectionString="SmtpServer=mail;UseWindowsAuthentication=False;'
        'EnableSsl=False;" />',
    )
    p.connection(
        "Ado", "ADO.NET:System.Data.SqlClient.SqlConnection, System.Data", "Data Source=.;"
    )
    p.flat_file_connection("Errors", "/data/errors.txt")

    prep = p.execute_sql("Prepare", "DW", "DELETE FROM dbo.Staging", disabled=False)
    prep.expression(
        "SqlStatementSource",
        '"DELETE FROM dbo.Staging WHERE id > " + (DT_WSTR, 10) @[$Package::Limit]',
    )
    seq = p.sequence("Stage", fail_package_on_failure=True, transaction_option="Required")
    seq.variable("User::Local", "String", "x")
    script = seq.task(
        "Script",
        "Microsoft.ScriptTask",
        payload='<ScriptProject Name="ST_1" Language="CSharpScript"><ProjectItem Name="main.cs">'
        "class A {}</ProjectItem></ScriptProject>",
        max_error_count=5,
        force_execution_result="Success",
        delay_validation=True,
    )
    loop = seq.for_loop(
        "Loop", init="@[User::i] = 0", eval="@[User::i] < 3", assign="@[User::i] = @[User::i] + 1"
    )
    inner = loop.sequence("Inner")
    inner.task("Wait", "Microsoft.ExpressionTask", isolation_level=4096)
    copy = inner.data_flow("Copy table")
    rows = copy.source(
        "Src",
        "Microsoft.OLEDBSource",
        connection="DW",
        columns=[("id", "DT_I4"), ("name", "DT_WSTR", 50), ("price", "DT_CY")],
        sql="SELECT id, name, price FROM dbo.Items",
    )
    copy.oledb_destination("Dst", rows, "DW", "[dbo].[Items2]", columns=["id", "name"])
    copy.datareader_destination("Src errors", (rows, "OLE DB Source Error Output"))
    seq.constraint(script, loop, on="Completion")
    files = p.foreach_loop(
        "Files",
        enumerator="Microsoft.ForEachFileEnumerator",
        settings={"Folder": "/data", "FileSpec": "*.csv", "Recurse": False},
        mappings=[(0, "User::File")],
        enumerator_expressions={"Directory": "@[$Package::DataDir]"},
    )
    files.task("Touch", "Microsoft.FileSystemTask", disable_event_handlers=True)
    df = files.data_flow("Load")
    df.buffers(default_buffer_max_rows=5000)
    s = df.source("Read", "Microsoft.FlatFileSource", connection="Source")
    conv = df.transform("Convert", "Microsoft.DataConvert", upstream=s)
    conv.convert("name", "DT_WSTR", 30, name="name_w")
    d = df.derived_column("Derive", conv)
    d.derived_column("total", "[amount] * 2 + LEN(city)", "DT_NUMERIC", precision=14, scale=2)
    d.derived_column("loaded", "GETDATE()", "DT_DBTIMESTAMP")
    d.replace("city", 'UPPER(city) + "!"', error_disposition="RedirectRow")
    cs = df.conditional_split("Split", d)
    cs.case("Big", "total > 100", error_disposition="RedirectRow")
    cs.case("Named", '!ISNULL(name_w) && name_w != "x"')
    mc = df.multicast("Copy", (cs, "Big"))
    srt = df.sort("Order", mc, keys=["city", ("id", "DESC")])
    agg = df.aggregate("Totals", srt)
    agg.group_by("city")
    agg.aggregate("total", "sum", "sum_total")
    agg.aggregate(None, "count all", "n")
    look = df.lookup(
        "Find",
        mc,
        "DW",
        "SELECT id, label FROM dbo.Labels",
        join=[("id", "id")],
        add=[("label", "DT_WSTR", 50)],
        no_match="no_match_output",
    )
    un = df.union_all("Merge", [(cs, "Named"), (look, "Lookup Match Output")])
    df.datareader_destination("Reader", un, read_timeout=1000)
    df.flat_file_destination("Write", agg, "Out")
    df.row_count("Count", (look, "Lookup No Match Output"), "User::Counted")
    gen = df.component(
        "Custom", "Vendor.Component", properties={"Mode": 2, "Flag": True, "Note": None}
    )
    gen.connect("DW", "OleDbConnection")
    gin = gen.add_input(
        "Custom Input", (cs, "Conditional Split Default Output"), columns=["id", "city"]
    )
    gout = gen.add_output(
        "Custom Output", [("code", "DT_STR", 10)], synchronous_input=gin, exclusion_group=1
    )
    gen.add_error_output("Custom Error Output", synchronous_input=gin, exclusion_group=1)
    df.destination("Sink", "Vendor.Sink", upstream=gout, columns=["id", "code"])
    errs = df.transform("Errors", "Vendor.Fixer", upstream=(d, "Derived Column Error Output"))
    df.destination("Bad Rows", "Microsoft.FlatFileDestination", upstream=errs, connection="Errors")

    p.constraint(prep, seq, on="Success")
    p.constraint(seq, files, on="Success", expression="@[User::i] == 3", logical_and=False)
    p.constraint(prep, files, on="Failure", name="On failure")
    p.constraint(files, "Stage", on=None, expression="@[User::Flag]")
    on_error = p.event_handler("OnError")
    on_error.execute_sql("Log error", "DW", "INSERT INTO dbo.Errors VALUES (1)")
    on_error.variable("User::Message", "String", "failed")
    h = script.event_handler("OnPreExecute")
    note = h.task("Note", "Microsoft.ExpressionTask")
    note2 = h.task("Note 2", "Microsoft.ExpressionTask")
    h.constraint(note, note2)
    return p


def build_everything(seed: int | None = 11) -> Package:
    return everything_package(seed).build()


# ------------------------------------------------------------------------------------------------
# The README example
# ------------------------------------------------------------------------------------------------


def test_readme_example(tmp_path: Path) -> None:
    pkg = sales_package().build()
    assert isinstance(pkg, Package)
    assert (
        pkg.name == "Sales" and pkg.ref_id == "Package" and pkg.creation_name == "Microsoft.Package"
    )
    assert [p.qualified_name for p in pkg.parameters] == ["$Package::DataDir"]
    assert pkg.parameters[0].required and pkg.parameters[0].value == "/data"
    out = next(v for v in pkg.variables if v.name == "Out")
    assert out.evaluate_as_expression and out.expression == '@[$Package::DataDir] + "/out.csv"'

    source = pkg.connection("Source")
    assert source.ref_id == "Package.ConnectionManagers[Source]"
    assert source.kind == "FLATFILE" and source.connection_string == "/data/sales.csv"
    assert [c.name for c in source.flat_file_columns] == ["id", "region", "amount"]
    assert source.flat_file_columns[1].data_type.name == "DT_WSTR"
    assert source.flat_file_columns[1].data_type.length == 20
    assert str(source.flat_file_columns[2].data_type) == "DT_NUMERIC(10,2)"
    assert [c.delimiter for c in source.flat_file_columns] == [",", ",", "\r\n"]
    assert source.object_properties["TextQualifier"] == "_x0022_"
    assert source.object_properties["ColumnNamesInFirstDataRow"] == "True"
    assert source.property_expressions[0].name == "ConnectionString"

    load = pkg.find("Load")
    assert load.ref_id == "Package\\Load" and load.kind == "sequence"
    truncate = pkg.find("Truncate")
    assert (
        truncate.ref_id == "Package\\Load\\Truncate"
        and truncate.task_type == "Microsoft.ExecuteSQLTask"
    )
    assert truncate.payload is not None
    assert truncate.payload.attr("Connection") == pkg.connection("Warehouse").dtsid
    (pc,) = load.constraints
    assert pc.ref_id == "Package\\Load.PrecedenceConstraints[Constraint]"
    assert (pc.from_ref, pc.to_ref, pc.value, pc.eval_op) == (
        truncate.ref_id,
        "Package\\Load\\Data Flow Task",
        0,
        2,
    )

    flow = pipeline_of(pkg, "Data Flow Task")
    dft = "Package\\Load\\Data Flow Task"
    src = flow.component("Flat File Source")
    assert src.ref_id == f"{dft}\\Flat File Source"
    assert src.connections[0].manager_ref == "Package.ConnectionManagers[Source]"
    assert src.connections[0].ref_id == f"{dft}\\Flat File Source.Connections[FlatFileConnection]"
    sout = src.output("Flat File Source Output")
    amount = sout.columns[2]
    assert (
        amount.ref_id == f"{dft}\\Flat File Source.Outputs[Flat File Source Output].Columns[amount]"
    )
    assert amount.lineage_id == amount.ref_id
    assert (amount.type.data_type, amount.type.precision, amount.type.scale) == ("numeric", 10, 2)
    assert amount.attrs["externalMetadataColumnId"] == sout.external_columns[2].ref_id
    assert src.output("Flat File Source Error Output").is_error_output

    derived = flow.component("Derived Column")
    (din,) = derived.inputs
    assert [c.lineage_id for c in din.columns] == [amount.lineage_id]
    total = derived.output("Derived Column Output").columns[0]
    assert total.prop("Expression") == f"#{{{amount.lineage_id}}} * 2"
    assert total.prop("FriendlyExpression") == "amount * 2"
    assert derived.output("Derived Column Output").synchronous_input == din.ref_id

    split = flow.component("Split")
    assert [o.name for o in split.outputs] == [
        "East",
        "Conditional Split Default Output",
        "Conditional Split Error Output",
    ]
    east = split.output("East")
    region = sout.columns[1]
    assert east.prop("Expression") == f'#{{{region.lineage_id}}} == "EAST"'
    assert east.prop("EvaluationOrder") == "0"
    assert split.output("Conditional Split Default Output").prop("IsDefaultOut") == "true"
    assert {o.exclusion_group for o in split.outputs} == {1}

    out_comp = flow.component("Out")
    target = pkg.connection("Target")
    assert [c.name for c in target.flat_file_columns] == ["id", "region", "amount", "total"]
    (oin,) = out_comp.inputs
    assert [c.lineage_id for c in oin.columns] == [
        *(c.lineage_id for c in sout.columns),
        total.lineage_id,
    ]
    assert oin.columns[3].attrs["externalMetadataColumnId"] == oin.external_columns[3].ref_id

    count = flow.component("Count")
    assert count.prop("VariableName") == "User::RowCount"
    paths = {(p.name, p.start_ref, p.end_ref) for p in flow.paths}
    assert (
        "East",
        f"{dft}\\Split.Outputs[East]",
        f"{dft}\\Out.Inputs[Flat File Destination Input]",
    ) in paths
    assert len(flow.paths) == 4
    assert all(p.ref_id == f"{dft}.Paths[{p.name}]" for p in flow.paths)
    round_trip(pkg, tmp_path)


def test_save_writes_a_loadable_package(tmp_path: Path) -> None:
    target = tmp_path / "sales.dtsx"
    built = sales_package().save(target)
    assert load_package(target) == built
    built.save(str(tmp_path / "again.dtsx"))
    assert load_package(tmp_path / "again.dtsx") == built


# ------------------------------------------------------------------------------------------------
# Identity
# ------------------------------------------------------------------------------------------------


def all_dtsids(pkg: Package) -> list[str]:
    ids = [pkg.version_guid]
    ids += [c.dtsid for c in pkg.connection_managers]
    ids += [c.dtsid for cm in pkg.connection_managers for c in cm.flat_file_columns]
    ids += [p.dtsid for p in pkg.parameters]
    for exe in pkg.walk():
        ids.append(exe.dtsid)
        ids += [v.dtsid for v in exe.variables]
        ids += [c.dtsid for c in exe.constraints]
        ids += [m.dtsid for m in exe.variable_mappings]
        if exe.foreach_enumerator is not None:
            ids.append(exe.foreach_enumerator.dtsid)
    return ids


def test_generated_identity_is_braced_upper_case_and_unique() -> None:
    built = everything_package(seed=None).build()
    ids = all_dtsids(built)
    assert len(ids) > 40
    assert all(GUID.match(i) for i in ids), [i for i in ids if not GUID.match(i)]
    assert len(set(ids)) == len(ids)
    assert built.properties["LastModifiedProductVersion"] == b.PRODUCT_VERSION
    assert re.match(r"^\d+/\d+/\d{4} \d+:\d\d:\d\d [AP]M$", built.properties["CreationDate"])


def test_seed_makes_builds_reproducible() -> None:
    a, c = build_everything(seed=3), build_everything(seed=3)
    assert a == c
    assert to_xml_bytes(a) == to_xml_bytes(c)
    assert a.properties["CreationDate"] == "1/1/2024 12:00:00 AM"
    d = build_everything(seed=4)
    assert a.dtsid != d.dtsid and a.version_guid != d.version_guid
    unseeded = sales_package(seed=None).build()
    assert unseeded.dtsid != sales_package(seed=None).build().dtsid


# ------------------------------------------------------------------------------------------------
# Control flow
# ------------------------------------------------------------------------------------------------


def test_everything_round_trips(tmp_path: Path) -> None:
    pkg = build_everything()
    round_trip(pkg, tmp_path)


def test_package_properties_variables_parameters() -> None:
    pkg = build_everything()
    assert pkg.checkpoint_file_name == "/tmp/everything.chk"
    assert pkg.checkpoint_usage == 2 and pkg.save_checkpoints
    assert pkg.max_concurrent == 4 and pkg.max_error_count == 2
    assert pkg.protection_level == 0
    assert pkg.description == "all objects"
    assert pkg.logging is not None and pkg.logging.logging_mode == 1
    (event_filter,) = pkg.logging.children
    assert event_filter.text == "2,7,OnError,9,OnWarning"

    params = {p.name: p for p in pkg.parameters}
    assert params["Password"].sensitive and params["Password"].description == "db password"
    assert params["Limit"].data_type == 3 and params["Limit"].python_value == 10
    assert not params["Limit"].required

    v = {x.qualified_name: x for x in pkg.variables}
    assert (
        v["User::Flag"].data_type == 11
        and v["User::Flag"].value == "-1"
        and v["User::Flag"].read_only
    )
    assert v["User::Flag"].python_value is True
    assert v["User::Started"].value == "5/6/2024 1:04:05 PM"
    assert v["User::Started"].python_value == dt.datetime(2024, 5, 6, 13, 4, 5)
    assert v["User::Ratio"].data_type == 5 and v["User::Ratio"].python_value == 0.5
    assert v["User::Rows"].data_type == 13 and v["User::Rows"].data_subtype == "ManagedSerializable"
    assert v["User::Rows"].value_node is not None
    assert v["User::Counted"].raise_changed_event and v["User::Counted"].data_type == 20
    assert v["Audit::Who"].namespace == "Audit"
    assert v["User::File"].value == "" and v["User::i"].value == "0"
    assert all(x.properties["IncludeInDebugDump"] == "2345" for x in pkg.variables)


def test_containers_tasks_and_options() -> None:
    pkg = build_everything()
    stage = pkg.find("Stage")
    assert (
        stage.kind == "sequence" and stage.fail_package_on_failure and stage.transaction_option == 2
    )
    assert [x.name for x in stage.variables] == ["Local"]
    script = pkg.find("Package\\Stage\\Script")
    assert script.task_type == "Microsoft.ScriptTask"
    assert (
        script.max_error_count == 5
        and script.force_execution_result == 0
        and script.delay_validation
    )
    assert script.payload is not None and script.payload.tag == "ScriptProject"
    loop = pkg.find("Loop")
    assert loop.kind == "forloop" and loop.ref_id == "Package\\Stage\\Loop"
    assert (loop.init_expression, loop.eval_expression, loop.assign_expression) == (
        "@[User::i] = 0",
        "@[User::i] < 3",
        "@[User::i] = @[User::i] + 1",
    )
    wait = pkg.find("Wait")
    assert wait.ref_id == "Package\\Stage\\Loop\\Inner\\Wait" and wait.isolation_level == 4096
    files = pkg.find("Files")
    assert files.kind == "foreachloop"
    fe = files.foreach_enumerator
    assert fe is not None and fe.creation_name == "Microsoft.ForEachFileEnumerator"
    assert fe.payload is not None
    assert [dict(c.attrs) for c in fe.payload.children] == [
        {"Folder": "/data"},
        {"FileSpec": "*.csv"},
        {"FileNameRetrievalType": "0"},
        {"Recurse": "0"},
    ]
    assert fe.property_expressions[0].name == "Directory"
    (mapping,) = files.variable_mappings
    assert (mapping.value_index, mapping.variable_name) == (0, "User::File")
    assert pkg.find("Touch").disable_event_handlers
    prepare = pkg.find("Prepare")
    assert not prepare.disabled and prepare.properties["Disabled"] == "False"
    assert prepare.property_expressions[0].name == "SqlStatementSource"


def test_precedence_constraints() -> None:
    pkg = build_everything()
    pcs = {c.name: c for c in pkg.constraints}
    assert list(pcs) == ["Constraint", "Constraint 1", "On failure", "Constraint 2"]
    first = pcs["Constraint"]
    assert (first.from_ref, first.to_ref, first.value, first.eval_op, first.logical_and) == (
        "Package\\Prepare",
        "Package\\Stage",
        0,
        2,
        True,
    )
    both = pcs["Constraint 1"]
    assert (both.eval_op, both.expression, both.logical_and) == (3, "@[User::i] == 3", False)
    assert pcs["On failure"].value == 1
    expr_only = pcs["Constraint 2"]
    assert (expr_only.eval_op, expr_only.from_ref, expr_only.to_ref) == (
        1,
        "Package\\Files",
        "Package\\Stage",
    )
    assert pkg.find("Stage").constraints[0].value == 2
    assert (
        pkg.find("Stage").constraints[0].ref_id
        == "Package\\Stage.PrecedenceConstraints[Constraint]"
    )


def test_event_handlers() -> None:
    pkg = build_everything()
    (on_error,) = pkg.event_handlers
    assert on_error.kind == "eventhandler" and on_error.event_name == "OnError"
    assert on_error.ref_id == "Package.EventHandlers[OnError]"
    assert [x.qualified_name for x in on_error.variables] == ["System::Propagate", "User::Message"]
    propagate = on_error.variables[0]
    assert propagate.python_value is True and propagate.properties["IncludeInDebugDump"] == "6789"
    assert on_error.executables[0].ref_id == "Package.EventHandlers[OnError]\\Log error"
    script = pkg.find("Package\\Stage\\Script")
    (pre,) = script.event_handlers
    assert pre.ref_id == "Package\\Stage\\Script.EventHandlers[OnPreExecute]"
    assert [e.ref_id for e in pre.executables] == [
        "Package\\Stage\\Script.EventHandlers[OnPreExecute]\\Note",
        "Package\\Stage\\Script.EventHandlers[OnPreExecute]\\Note 2",
    ]
    assert (
        pre.constraints[0].ref_id
        == "Package\\Stage\\Script.EventHandlers[OnPreExecute].PrecedenceConstraints[Constraint]"
    )
    assert pkg.find("Note 2") is pre.executables[1]


def test_connection_managers() -> None:
    pkg = build_everything()
    src = pkg.connection("Source")
    assert src.object_properties["CodePage"] == "65001"
    assert [c.delimiter for c in src.flat_file_columns][-2:] == ["|", "\n"]
    assert src.flat_file_columns[1].properties["MaximumWidth"] == "30"
    assert src.flat_file_columns[1].data_type.name == "DT_STR"
    out = pkg.connection("Out")
    assert "ColumnNamesInFirstDataRow" not in out.object_properties
    assert out.object_properties["TextQualifier"] == "_x003C_none_x003E_"
    assert [c.name for c in out.flat_file_columns] == ["city", "sum_total", "n"]
    assert out.flat_file_columns[0].delimiter == "\t"
    dw = pkg.connection("DW")
    assert dw.kind == "OLEDB" and dw.property_expressions[0].name == "ServerName"
    assert pkg.connection("Log").object_properties["FileUsageType"] == "1"
    mail = pkg.connection("Mail")
    assert mail.payload is not None and mail.payload.tag == "SmtpConnectionManager"
    assert pkg.connection("Ado").kind == "ADO.NET"


# ------------------------------------------------------------------------------------------------
# Data flow
# ------------------------------------------------------------------------------------------------


def test_data_flow_components() -> None:
    pkg = build_everything()
    flow = pipeline_of(pkg, "Load")
    assert flow.default_buffer_max_rows == 5000
    dft = "Package\\Files\\Load"
    comps = {c.name: c for c in flow.components}
    read = comps["Read"].output("Flat File Source Output")
    lineage = {c.name: c.lineage_id for c in read.columns}
    assert lineage["name"] == f"{dft}\\Read.Outputs[Flat File Source Output].Columns[name]"
    assert read.columns[1].type.code_page == 65001

    conv = comps["Convert"]
    (name_w,) = conv.output("Data Conversion Output").columns
    assert name_w.prop("SourceInputColumnLineageID") == f"#{{{lineage['name']}}}"
    assert (name_w.type.data_type, name_w.type.length) == ("wstr", 30)
    assert [c.lineage_id for c in conv.inputs[0].columns] == [lineage["name"]]

    derive = comps["Derive"]
    new = {c.name: c for c in derive.output("Derived Column Output").columns}
    assert new["total"].prop("Expression") == (
        f"#{{{lineage['amount']}}} * 2 + [LEN](#{{{lineage['city']}}})"
    )
    assert new["loaded"].prop("Expression") == "[GETDATE]()"
    assert new["loaded"].type.data_type == "dbTimeStamp"
    city = next(c for c in derive.inputs[0].columns if c.cached_name == "city")
    assert city.usage_type == "readWrite" and city.error_row_disposition == "RedirectRow"
    assert city.prop("Expression") == f'[UPPER](#{{{lineage["city"]}}}) + "!"'
    assert city.lineage_id == lineage["city"]
    derr = derive.output("Derived Column Error Output")
    assert [(c.name, c.special_flags, c.type.data_type) for c in derr.columns] == [
        ("ErrorCode", 1, "i4"),
        ("ErrorColumn", 2, "i4"),
    ]

    split = comps["Split"]
    named = split.output("Named")
    assert named.prop("Expression") == (
        f'![ISNULL](#{{{name_w.lineage_id}}}) && #{{{name_w.lineage_id}}} != "x"'
    )
    assert named.prop("EvaluationOrder") == "1"
    assert split.output("Big").attrs["errorRowDisposition"] == "RedirectRow"

    copy = comps["Copy"]
    assert [o.name for o in copy.outputs] == ["Multicast Output 1", "Multicast Output 2"]
    assert all(o.synchronous_input == copy.inputs[0].ref_id for o in copy.outputs)

    order = comps["Order"]
    assert order.output("Sort Output").is_sorted
    keys = {c.cached_name: c.prop("NewSortKeyPosition") for c in order.inputs[0].columns}
    assert keys["city"] == "1" and keys["id"] == "-2" and keys["price"] == "0"
    sort_out = {c.name: c for c in order.output("Sort Output").columns}
    assert sort_out["id"].sort_key_position == -2 and sort_out["price"].sort_key_position == 0
    assert sort_out["city"].prop("SortColumnId") == f"#{{{lineage['city']}}}"
    assert sort_out["total"].lineage_id == f"{dft}\\Order.Outputs[Sort Output].Columns[total]"

    totals = comps["Totals"]
    agg = {c.name: c for c in totals.output("Aggregate Output 1").columns}
    assert agg["city"].prop("AggregationType") == "0"
    assert agg["city"].prop("AggregationColumnId") == f"#{{{sort_out['city'].lineage_id}}}"
    assert (
        agg["sum_total"].prop("AggregationType") == "4"
        and agg["sum_total"].type.data_type == "numeric"
    )
    assert agg["n"].prop("AggregationType") == "2" and agg["n"].type.data_type == "ui8"
    assert agg["n"].prop("AggregationColumnId") is None

    find = comps["Find"]
    assert find.prop("NoMatchBehavior") == "1"
    assert find.prop("ParameterMap") == f"#{{{lineage['id']}}};"
    assert '<referenceColumn name="label" dataType="DT_WSTR" length="50"' in find.prop(
        "ReferenceMetadataXml", ""
    )
    (join,) = find.inputs[0].columns
    assert join.prop("JoinToReferenceColumn") == "id"
    (label,) = find.output("Lookup Match Output").columns
    assert label.prop("CopyFromReferenceColumn") == "label"
    assert find.connections[0].manager_ref == "Package.ConnectionManagers[DW]"

    merge = comps["Merge"]
    assert [i.name for i in merge.inputs] == ["Union All Input 1", "Union All Input 2"]
    merged = {c.name: c for c in merge.output("Union All Output 1").columns}
    assert "label" in merged and "total" in merged
    in2 = {c.cached_name: c for c in merge.inputs[1].columns}
    assert in2["label"].prop("OutputColumnLineageID") == f"#{{{merged['label'].lineage_id}}}"
    assert in2["label"].lineage_id == label.lineage_id

    reader = comps["Reader"]
    assert reader.class_id == "Microsoft.ManagedComponentHost"
    assert reader.kind == "Microsoft.DataReaderDestinationAdapter"
    assert reader.prop("ReadTimeout") == "1000" and reader.prop("FailOnTimeout") == "false"
    assert {c.cached_name for c in reader.inputs[0].columns} == set(merged)

    write = comps["Write"]
    assert [c.cached_name for c in write.inputs[0].columns] == ["city", "sum_total", "n"]
    assert comps["Count"].prop("VariableName") == "User::Counted"

    custom = comps["Custom"]
    assert custom.prop("Mode") == "2" and custom.prop("Flag") == "true"
    assert [p.data_type for p in custom.custom_properties] == [
        "System.Int32",
        "System.Boolean",
        "System.Null",
    ]
    assert [c.cached_name for c in custom.inputs[0].columns] == ["id", "city"]
    cerr = custom.output("Custom Error Output")
    assert cerr.is_error_output and cerr.exclusion_group == 1 and len(cerr.columns) == 2
    sink = comps["Sink"]
    code = custom.output("Custom Output").columns[0]
    assert [c.lineage_id for c in sink.inputs[0].columns] == [lineage["id"], code.lineage_id]

    errors = comps["Errors"]
    err_cols = {c.cached_name for c in comps["Bad Rows"].inputs[0].columns}
    assert {"ErrorCode", "ErrorColumn", "id", "city"} <= err_cols
    assert "total" not in err_cols  # new derived columns are not on the error output
    assert errors.inputs[0].columns == ()

    ends = {(p.start_ref, p.end_ref) for p in flow.paths}
    assert (
        f"{dft}\\Derive.Outputs[Derived Column Error Output]",
        f"{dft}\\Errors.Inputs[Errors Input]",
    ) in ends
    assert len({p.ref_id for p in flow.paths}) == len(flow.paths)


def test_oledb_source_and_destination() -> None:
    pkg = build_everything()
    flow = pipeline_of(pkg, "Copy table")
    src = flow.component("Src")
    assert (
        src.prop("AccessMode") == "2"
        and src.prop("SqlCommand") == "SELECT id, name, price FROM dbo.Items"
    )
    assert src.connections[0].name == "OleDbConnection"
    out = src.output("OLE DB Source Output")
    assert [(c.name, c.type.data_type) for c in out.columns] == [
        ("id", "i4"),
        ("name", "wstr"),
        ("price", "cy"),
    ]
    assert [x.name for x in out.external_columns] == ["id", "name", "price"]
    err = src.output("OLE DB Source Error Output")
    assert [c.name for c in err.columns] == ["id", "name", "price", "ErrorCode", "ErrorColumn"]
    assert err.synchronous_input is None and err.is_error_output
    dst = flow.component("Dst")
    assert dst.prop("AccessMode") == "3" and dst.prop("OpenRowset") == "[dbo].[Items2]"
    assert dst.prop("FastLoadOptions") == "TABLOCK,CHECK_CONSTRAINTS"
    (inp,) = dst.inputs
    assert inp.attrs["errorOrTruncationOperation"] == "Insert"
    assert [c.lineage_id for c in inp.columns] == [c.lineage_id for c in out.columns[:2]]
    assert [x.name for x in inp.external_columns] == ["id", "name"]
    assert dst.output("OLE DB Destination Error Output").synchronous_input == inp.ref_id
    reader = flow.component("Src errors")
    assert [c.cached_name for c in reader.inputs[0].columns] == [c.name for c in err.columns]
    with expect_error("reads either table= or sql="):
        b.PackageBuilder("X").data_flow("DF").oledb_source("S", "DW", columns=[])


def test_path_names_are_made_unique(tmp_path: Path) -> None:
    p = b.PackageBuilder("Paths", seed=1)
    p.flat_file_connection("In", "/in.csv", columns=[("a", "DT_I4")])
    df = p.data_flow("DF")
    s1 = df.flat_file_source("S1", "In")
    s2 = df.flat_file_source("S2", "In")
    df.union_all("U", [s1, s2])
    pkg = p.build()
    flow = pipeline_of(pkg, "DF")
    assert [(x.name, x.ref_id) for x in flow.paths] == [
        ("Flat File Source Output", "Package\\DF.Paths[Flat File Source Output]"),
        ("Flat File Source Output", "Package\\DF.Paths[Flat File Source Output1]"),
    ]
    round_trip(pkg, tmp_path)


def test_columns_added_after_downstream_is_created_are_seen() -> None:
    p = b.PackageBuilder("Late", seed=1)
    p.flat_file_connection("In", "/in.csv", columns=[("a", "DT_I4")])
    df = p.data_flow("DF")
    s = df.flat_file_source("S", "In")
    d = df.derived_column("D", s)
    reader = df.datareader_destination("R", d)
    d.derived_column("b", "a + 1", "DT_I4")
    pkg = p.build()
    r = pipeline_of(pkg, "DF").component("R")
    assert [c.cached_name for c in r.inputs[0].columns] == ["a", "b"]
    assert reader.name == "R"


def test_payload_as_string_or_node() -> None:
    p = b.PackageBuilder("Payloads", seed=1)
    text = (
        '<SQLTask:SqlTaskData xmlns:SQLTask="www.microsoft.com/sqlserver/dts/tasks/sqltask" '
        'SQLTask:SqlStatementSource="SELECT 1" />'
    )
    p.task("As text", "Microsoft.ExecuteSQLTask", payload=text)
    node = XmlNode("Anything", children=(XmlNode("Child", text="x"),))
    p.task(
        "As node", "Vendor.Task, Vendor, Version=1.0.0.0", payload=node, description="third party"
    )
    pkg = p.build()
    t = pkg.find("As text")
    assert t.payload is not None and t.payload.tag == f"{{{SQLTASK}}}SqlTaskData"
    assert t.payload.attr("SqlStatementSource") == "SELECT 1"
    v = pkg.find("As node")
    assert v.payload == node and v.creation_name == "Vendor.Task, Vendor, Version=1.0.0.0"
    assert v.description == "third party" and v.kind == "task"


def test_lineage_expression() -> None:
    cols = {"a": "#A", "b c": "#BC", "YEAR": "#Y"}
    assert b.lineage_expression("a + [b c]", cols) == ("#{#A} + #{#BC}", ["a", "b c"])
    assert b.lineage_expression('"a" + a', cols)[0] == '"a" + #{#A}'
    assert b.lineage_expression('"say \\"a\\"" + a', cols)[0] == '"say \\"a\\"" + #{#A}'
    assert b.lineage_expression("@[User::a] + @a + a", cols)[0] == "@[User::a] + @a + #{#A}"
    assert (
        b.lineage_expression("YEAR(GETDATE()) == YEAR", cols)[0] == "[YEAR]([GETDATE]()) == #{#Y}"
    )
    assert b.lineage_expression("(DT_WSTR, 10) a", cols)[0] == "(DT_WSTR, 10) #{#A}"
    assert (
        b.lineage_expression("ISNULL(a) ? NULL(DT_I4) : 1L", cols)[0]
        == "[ISNULL](#{#A}) ? NULL(DT_I4) : 1L"
    )
    assert b.lineage_expression("ab + a2 + [x]", cols) == ("ab + a2 + [x]", [])
    assert b.lineage_expression("#{keep} + a", cols)[0] == "#{keep} + #{#A}"


def test_column_type() -> None:
    assert b.column_type("DT_WSTR", 20).length == 20
    assert b.column_type("DT_WSTR").length == 50
    t = b.column_type("DT_STR(10,1252)")
    assert (t.data_type, t.length, t.code_page) == ("str", 10, 1252)
    n = b.column_type("DT_NUMERIC", precision=12, scale=2)
    assert (n.data_type, n.precision, n.scale) == ("numeric", 12, 2)
    assert b.column_type("DT_DECIMAL", 3) == b.column_type("decimal", scale=3)
    assert b.column_type("DT_CY").precision == 0  # cy carries no precision attribute
    assert b.column_type("DT_DBTIMESTAMP2", 7).scale == 7


# ------------------------------------------------------------------------------------------------
# Errors: inconsistent input raises DTS_E_BUILDERERROR with the object's refId
# ------------------------------------------------------------------------------------------------


def _flow() -> tuple[b.PackageBuilder, b.DataFlowBuilder, b.ComponentBuilder]:
    p = b.PackageBuilder("Err", seed=1)
    p.flat_file_connection("In", "/in.csv", columns=[("a", "DT_I4"), ("s", "DT_WSTR", 5)])
    df = p.data_flow("DF")
    return p, df, df.flat_file_source("S", "In")


@contextmanager
def expect_error(match: str) -> Iterator[pytest.ExceptionInfo[ValidationError]]:
    """A coded builder error whose message matches ``match``."""
    with pytest.raises(ValidationError, match=match) as info:
        yield info
    assert info.value.code == "DTS_E_BUILDERERROR"


def test_unknown_upstream_output() -> None:
    _, df, s = _flow()
    with expect_error("has no output 'Nope'") as info:
        df.derived_column("D", (s, "Nope"))
    assert info.value.code == "DTS_E_BUILDERERROR"
    assert info.value.path == "Package\\DF\\S"
    assert "Flat File Source Output" in (info.value.hint or "")


def test_duplicate_names() -> None:
    p, df, s = _flow()
    with expect_error("already has a component named 'S'"):
        df.derived_column("S", s)
    p.sequence("Seq")
    with expect_error("already has an executable named 'Seq'") as info:
        p.task("Seq", "Microsoft.ExpressionTask")
    assert info.value.path == "Package"
    with expect_error("User::X is declared twice"):
        p.variable("X")
        p.variable("User::X", "Int32")
    with expect_error("connection manager 'In' is declared twice"):
        p.connection("In", "OLEDB")
    with expect_error("parameter \\$Package::P is declared twice"):
        p.parameter("P")
        p.parameter("$Package::P")
    d = df.derived_column("D", s)
    d.derived_column("a", "s + 1", "DT_I4")
    with expect_error("has the name of an upstream column") as info2:
        p.build()
    assert info2.value.path == "Package\\DF\\D.Outputs[Derived Column Output]"
    with expect_error("already has a column 'a'"):
        d.derived_column("a", "1", "DT_I4")


def test_unknown_objects() -> None:
    p, df, s = _flow()
    with expect_error("no connection manager 'Nope'"):
        df.flat_file_source("S2", "Nope")
    with expect_error("no connection manager 'Nope'"):
        p.execute_sql("Q", "Nope", "SELECT 1")
    df.sort("Sorted", s, keys=["missing"])
    with expect_error("no column 'missing' reaches") as info:
        p.build()
    assert info.value.path == "Package\\DF\\Sorted.Inputs[Sort Input]"


def test_unknown_type_and_values() -> None:
    p, df, s = _flow()
    with expect_error("unknown variable data type"):
        p.variable("V", "Nonsense")
    with expect_error("unknown execution result"):
        p.task("T", "Microsoft.ExpressionTask", force_execution_result="Maybe")
    d = df.derived_column("D", s)
    with expect_error("unknown row disposition"):
        d.derived_column("x", "1", "DT_I4", error_disposition="Explode")
    with expect_error("unknown SSIS data type 'DT_NOPE'") as info:
        d.derived_column("y", "1", "DT_NOPE")
    assert info.value.path == "Package\\DF\\D.Outputs[Derived Column Output]"
    with expect_error("DT_I4 takes 0 argument"):
        d.derived_column("z", "1", "DT_I4", 4)


def test_output_feeds_one_input() -> None:
    _, df, s = _flow()
    df.derived_column("D1", s)
    with expect_error("already connected") as info:
        df.derived_column("D2", s)
    assert "Multicast" in (info.value.hint or "")


def test_constraint_outside_container() -> None:
    p = b.PackageBuilder("C", seed=1)
    seq = p.sequence("Seq")
    inner = seq.task("Inner", "Microsoft.ExpressionTask")
    outer = p.task("Outer", "Microsoft.ExpressionTask")
    with expect_error("is not an executable of Package") as info:
        p.constraint(outer, inner)
    assert info.value.path == "Package"
    with expect_error("needs expression="):
        p.constraint(outer, seq, eval_op="Expression")


def test_undeclared_row_count_variable() -> None:
    p, df, s = _flow()
    df.row_count("RC", s, "User::Missing")
    with expect_error("User::Missing is not declared") as info:
        p.build()
    assert info.value.path == "Package\\DF\\RC"


def test_upstream_from_another_data_flow() -> None:
    p, _df, s = _flow()
    other = p.data_flow("Other")
    with expect_error("is in another data flow"):
        other.derived_column("D", s)


def test_flat_file_destination_column_mismatch() -> None:
    p, df, s = _flow()
    p.flat_file_connection("Narrow", "/out.csv", columns=[("a", "DT_I4")])
    df.flat_file_destination("W", s, "Narrow")
    with expect_error("column 's' has no column of that name"):
        p.build()


def test_flat_file_source_needs_columns() -> None:
    p = b.PackageBuilder("F", seed=1)
    p.flat_file_connection("NoCols", "/x.csv")
    df = p.data_flow("DF")
    with expect_error("is not a flat-file connection with columns"):
        df.flat_file_source("S", "NoCols")


def test_executable_model_types() -> None:
    pkg = build_everything()
    assert all(isinstance(e, Executable) for e in pkg.walk())
    assert isinstance(pkg.find("Load").pipeline, Pipeline)


def test_module_docstring_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The usage example of the module docstring (copied to the README) works as written."""
    doc = b.__doc__ or ""
    start = doc.index("    from dataflow.package import builder as b")
    end = doc.index("\n\n", doc.index("pkg.save("))
    code = "\n".join(line[4:] for line in doc[start:end].splitlines())
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(compile(code, "builder-docstring", "exec"), scope)
    pkg = scope["pkg"]
    assert isinstance(pkg, Package)
    assert load_package(tmp_path / "sales.dtsx") == pkg
    assert [c.name for c in pipeline_of(pkg, "Data Flow Task").components] == [
        "Flat File Source",
        "Derived Column",
        "Split",
        "Out",
        "Count",
    ]


def test_constraint_given_to_an_outer_container_lands_in_the_right_one() -> None:
    p = b.PackageBuilder("Nested", seed=1)
    seq = p.sequence("Seq")
    first = seq.task("First", "Microsoft.ExpressionTask")
    second = seq.task("Second", "Microsoft.ExpressionTask")
    p.constraint(first, second, on="Failure")
    pkg = p.build()
    assert pkg.constraints == ()
    (pc,) = pkg.find("Seq").constraints
    assert (pc.ref_id, pc.value) == ("Package\\Seq.PrecedenceConstraints[Constraint]", 1)


def test_class_id_aliases_pick_the_helpers(tmp_path: Path) -> None:
    p = b.PackageBuilder("Aliases", seed=1)
    p.flat_file_connection("In", "/in.csv", columns=[("a", "DT_I4")])
    df = p.data_flow("DF")
    s = df.source("S", "{D23FD76B-F51D-420F-BBCB-19CBF6AC1AB4}", connection="In")  # 2012 GUID
    d = df.transform("D", "DTSTransform.DerivedColumn.3", upstream=s)
    assert isinstance(d, b.DerivedColumnBuilder)
    d.derived_column("b", "a * 2", "DT_I4")
    m = df.transform("M", "Microsoft.Multicast", upstream=d)
    r1 = df.destination("R1", "Microsoft.DataReaderDestination", upstream=m)
    r2 = df.destination(
        "R2",
        "Microsoft.ManagedComponentHost",
        upstream=m,
        user_component_type_name="Microsoft.DataReaderDestinationAdapter",
        columns=["b"],
    )
    assert isinstance(r1, b.DataReaderDestinationBuilder) and isinstance(
        r2, b.DataReaderDestinationBuilder
    )
    pkg = p.build()
    flow = pipeline_of(pkg, "DF")
    assert [c.class_id for c in flow.components] == [
        "Microsoft.FlatFileSource",
        "Microsoft.DerivedColumn",
        "Microsoft.Multicast",
        "Microsoft.ManagedComponentHost",
        "Microsoft.ManagedComponentHost",
    ]
    assert {c.kind for c in flow.components[3:]} == {"Microsoft.DataReaderDestinationAdapter"}
    assert [c.cached_name for c in flow.component("R2").inputs[0].columns] == ["b"]
    round_trip(pkg, tmp_path)


def test_unicode_names_and_special_characters(tmp_path: Path) -> None:
    p = b.PackageBuilder('Edge <&> "q"', seed=1, description="line1\r\nline2\ttab")
    p.variable("User::Spaces", "String", "   ")
    p.variable("User::Text", "String", "héllo ✓ 中文\n")
    p.variable("User::Big", "UInt64", 2**63)
    p.connection("DW", "OLEDB", "Data Source=.;")
    p.execute_sql("Q", "DW", "SELECT 1;\r\nSELECT '<&>'\n\tGO")
    p.flat_file_connection("In (x)", "/in.csv", columns=[("a.b c", "DT_I4"), ("é", "DT_WSTR", 4)])
    df = p.data_flow("DF")
    s = df.flat_file_source("S.1", "In (x)")
    d = df.derived_column("D", s)
    d.derived_column("x", '[a.b c] + LEN(é) + LEN("[a.b c]")', "DT_I4")
    pkg = p.build()
    src = "Package\\DF\\S.1.Outputs[Flat File Source Output]"
    x = pipeline_of(pkg, "DF").component("D").output("Derived Column Output").columns[0]
    assert x.prop("Expression") == (
        f'#{{{src}.Columns[a.b c]}} + [LEN](#{{{src}.Columns[é]}}) + [LEN]("[a.b c]")'
    )
    loaded = round_trip(pkg, tmp_path)
    payload = loaded.find("Q").payload
    assert payload is not None
    assert payload.attr("SqlStatementSource") == "SELECT 1;\r\nSELECT '<&>'\n\tGO"
    assert [v.value for v in loaded.variables] == ["   ", "héllo ✓ 中文\n", "9223372036854775808"]


def test_protection_level() -> None:
    assert b.PackageBuilder("A", seed=1).build().protection_level == 0
    level = b.PackageBuilder("B", seed=1, protection_level="EncryptSensitiveWithPassword").build()
    assert level.properties["ProtectionLevel"] == "2"
    assert (
        "ProtectionLevel"
        not in b.PackageBuilder("C", seed=1, protection_level=None).build().properties
    )
    with expect_error("unknown protection level"):
        b.PackageBuilder("D", protection_level="Secret")


def test_build_again_after_changes() -> None:
    p = b.PackageBuilder("Again", seed=1)
    p.flat_file_connection("In", "/in.csv", columns=[("a", "DT_I4")])
    p.flat_file_connection("Out", "/out.csv")
    df = p.data_flow("DF")
    d = df.derived_column("D", df.flat_file_source("S", "In"))
    df.flat_file_destination("W", d, "Out")
    first = p.build()
    assert [c.name for c in first.connection("Out").flat_file_columns] == ["a"]
    d.derived_column("b", "a + 1", "DT_I8")
    second = p.build()
    assert [c.name for c in second.connection("Out").flat_file_columns] == ["a", "b"]
    w = pipeline_of(second, "DF").component("W")
    assert [c.cached_name for c in w.inputs[0].columns] == ["a", "b"]
    # The column keeps its DTSID; it is no longer the last one, so its delimiter is the comma.
    a1, a2 = (
        first.connection("Out").flat_file_columns[0],
        second.connection("Out").flat_file_columns[0],
    )
    assert a1.dtsid == a2.dtsid and (a1.delimiter, a2.delimiter) == ("\r\n", ",")
    assert p.build() == second


# ------------------------------------------------------------------------------------------------
# Built packages have the shape SSDT packages load into
# ------------------------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "dtsx-corpus"
BOM_NAME = "\u00ef\u00bb\u00bfSalesID"  # a UTF-8 BOM read as cp1254 in the header, kept by SSDT


def ssdt_corpus_package(relative: str) -> Package:
    if not CORPUS.is_dir():
        pytest.skip("../shared/dtsx-corpus not present (it sits beside the checkout in CI only)")
    return load_package(CORPUS / relative)


def shape(pkg: Package) -> Package:
    """The package without what differs by construction: GUIDs, creation date and creator, and
    the order in which SSDT happens to list components, paths and columns."""

    def by_name(items: Any, key: str = "name") -> Any:
        return tuple(sorted(items, key=lambda x: getattr(x, key)))

    def component(c: Any) -> Any:
        return dataclasses.replace(
            c,
            inputs=tuple(
                dataclasses.replace(
                    i,
                    columns=by_name(i.columns, "cached_name"),
                    external_columns=by_name(i.external_columns),
                )
                for i in c.inputs
            ),
            outputs=tuple(
                dataclasses.replace(
                    o, columns=by_name(o.columns), external_columns=by_name(o.external_columns)
                )
                for o in c.outputs
            ),
        )

    def exe(e: Any) -> Any:
        changes: dict[str, Any] = {
            "dtsid": "",
            "executables": tuple(exe(x) for x in e.executables),
            "constraints": tuple(dataclasses.replace(c, dtsid="") for c in e.constraints),
        }
        if e.pipeline is not None:
            changes["pipeline"] = dataclasses.replace(
                e.pipeline,
                components=by_name(component(c) for c in e.pipeline.components),
                paths=by_name(e.pipeline.paths),
            )
        if e.payload is not None and e.payload.attr("Connection"):
            # The Execute SQL task names its connection manager by DTSID.
            cm = next(c for c in pkg.connection_managers if c.dtsid == e.payload.attr("Connection"))
            attrs = {
                k: (cm.name if k.endswith("}Connection") else v) for k, v in e.payload.attrs.items()
            }
            changes["payload"] = dataclasses.replace(e.payload, attrs=FrozenMap(attrs))
        return dataclasses.replace(e, **changes)

    out = exe(pkg)
    return dataclasses.replace(
        out,
        properties=out.properties.without(
            "CreationDate",
            "CreatorComputerName",
            "CreatorName",
            "LastModifiedProductVersion",
            "VersionBuild",
            "VersionGUID",
        ),
        connection_managers=tuple(
            dataclasses.replace(
                cm,
                dtsid="",
                flat_file_columns=tuple(
                    dataclasses.replace(c, dtsid="") for c in cm.flat_file_columns
                ),
            )
            for cm in pkg.connection_managers
        ),
    )


@pytest.mark.corpus
def test_rebuilds_an_ssdt_conditional_split_package() -> None:
    ssdt = ssdt_corpus_package(
        "tinitiate__ms-ssis/code__Conditional_Split__Conditional_Split__Package.dtsx"
    )
    names = ["CustomerID", "FirstName", "LastName", "Gender", "Email", "Street", "City"]
    names += ["StateID", "StateName", "ZipCode"]
    p = b.PackageBuilder("Package", seed=1, protection_level=None)
    p.flat_file_connection(
        "Customers",
        ssdt.connection("Customers").connection_string,
        columns=[(n, "DT_STR", 50) for n in names],
    )
    p.flat_file_connection("Female", ssdt.connection("Female").connection_string, header=False)
    p.flat_file_connection("Male", ssdt.connection("Male").connection_string, header=False)
    df = p.data_flow("Data Flow Task")
    s = df.source("Flat File Source", "Microsoft.FlatFileSource", connection="Customers")
    cs = df.transform("Conditional Split", "Microsoft.ConditionalSplit", upstream=s)
    cs.case("Male", 'Gender == "Male"')
    cs.case("Female", 'Gender == "Female"')
    df.destination(
        "Male", "Microsoft.FlatFileDestination", upstream=(cs, "Male"), connection="Male"
    )
    df.destination(
        "Female", "Microsoft.FlatFileDestination", upstream=(cs, "Female"), connection="Female"
    )
    built = p.build()
    assert difference(shape(built), shape(ssdt)) is None


@pytest.mark.corpus
def test_rebuilds_an_ssdt_oledb_package() -> None:
    ssdt = ssdt_corpus_package("AtifKisla__ssis-conditional-split-demo/Package.dtsx")
    p = b.PackageBuilder("Package", seed=1, protection_level=None, locale_id=1055)
    path = ssdt.connection("FF_Sales1").connection_string
    names = [BOM_NAME, "CustomerID", "Amount", "SalesDate"]
    opts: dict[str, Any] = {"delimiter": ";", "locale_id": 1055}
    p.flat_file_connection(
        "FF_Sales1", path, [(n, "DT_STR", 50) for n in names], code_page=1254, **opts
    )
    clean: list[b.ColumnDef] = [(n.replace(BOM_NAME, "SalesID"), "DT_STR", 50) for n in names]
    p.flat_file_connection("Flat File Connection Manager", path, clean, code_page=65001, **opts)
    p.flat_file_connection("Flat File Connection Manager 1", path, clean, code_page=65001, **opts)
    retry = {"ConnectRetryCount": "1", "ConnectRetryInterval": "5"}
    db1, db2 = (
        p.connection(n, "OLEDB", ssdt.connection(n).connection_string, object_properties=retry)
        for n in (
            "LAPTOP-CPG9G0OG\\SQLEXPRESS.ETL_Demo_2",
            "LAPTOP-CPG9G0OG\\SQLEXPRESS.ETL_Demo_2 1",
        )
    )
    truncate = "TRUNCATE TABLE dbo.SalesHigh;\nTRUNCATE TABLE dbo.SalesMedium;\nTRUNCATE TABLE dbo.SalesLow;\n"
    sql = p.execute_sql("Execute SQL Task", db1.name, truncate).property("ThreadHint", "0")
    df = p.data_flow("Sales Segmentation")
    conv = df.data_conversion(
        "Data Conversion", df.flat_file_source("Flat File Source", "FF_Sales1")
    )
    conv.convert("Amount", "DT_DECIMAL", scale=2, name="Amount_numeric")
    cs = df.conditional_split("Conditional Split", conv)
    cs.case("HighSales", "Amount_numeric > 1000")
    cs.case("MediumSales", "Amount_numeric >= 100 && Amount_numeric <= 1000")
    cs.case("LowSales", "Amount_numeric < 100")
    table: list[b.ColumnDef] = [
        ("SaleId", "DT_I4"),
        ("CustomerId", "DT_I4"),
        ("Amount", "DT_NUMERIC", 18, 2),
        ("SaleDate", "DT_DBDATE"),
    ]
    mapping = {
        BOM_NAME: "SaleId",
        "SalesDate": "SaleDate",
        "CustomerID": "CustomerId",
        "Amount_numeric": "Amount",
    }
    for dest, case, db, fast in (
        ("SalesHigh_Dest", "HighSales", db1, False),
        ("SalesLow_Dest", "LowSales", db1, True),
        ("SalesMedium_Dest", "MediumSales", db2, True),
    ):
        df.oledb_destination(
            dest,
            (cs, case),
            db.name,
            f"[dbo].[{dest.removesuffix('_Dest')}]",
            columns=list(mapping),
            table_columns=table,
            mapping=mapping,
            fast_load=fast,
            default_code_page=1254,
        )
    p.constraint(sql, df)
    built = p.build()
    assert difference(shape(built), shape(ssdt)) is None
