"""Flat File Source: conformance suite plus its semantics, on real .dtsx round trips.

Packages are built with the builder API, saved as .dtsx and loaded back before they run; the
rows reach a collecting sink (``Test.FlatFileCollect``) and are checked value by value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import dataflow.pipeline.components.flatfile_destination
import dataflow.pipeline.components.flatfile_source
from connectors.flatfile import FlatFileFormat, FlatFileWriter
from dataflow.core.datatypes import arrow_field, make_spec, spec_from_field
from dataflow.core.errors import CODES, DataflowError
from dataflow.package import builder as b
from dataflow.package.model import (
    ColumnType,
    Component,
    ComponentConnection,
    ConnectionManager,
    CustomProperty,
    ExternalColumn,
    FlatFileColumn,
    FrozenMap,
    Input,
    Output,
    OutputColumn,
    Package,
)
from dataflow.package.reader import load_package
from dataflow.package.values import escape_xml_name
from dataflow.pipeline import run_data_flow
from dataflow.pipeline.component import Emit, PipelineComponent
from dataflow.pipeline.components.flatfile_destination import to_text
from dataflow.pipeline.engine import DataFlowStats
from dataflow.pipeline.registry import register
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case

TASK = "Package\\Data Flow Task"
COLLECTED: dict[str, list[pa.RecordBatch]] = {}


@register("Test.FlatFileCollect")
class FlatFileCollect(PipelineComponent):
    """A sink keeping every batch it receives (by component name)."""

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        COLLECTED[self.model.name] = []

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        COLLECTED[self.model.name].append(batch)
        return []


def by_name(sink: str) -> pa.Table:
    """What ``sink`` received, with columns named by their SSIS names (not lineage ids)."""
    batches = COLLECTED[sink]
    if not batches:
        return pa.table({})
    t = pa.Table.from_batches(batches)
    names = [(f.metadata or {}).get(b"ssis.name", f.name.encode()).decode() for f in t.schema]
    return t.rename_columns(names)


def save_and_load(p: b.PackageBuilder, tmp_path: Path) -> Package:
    """Build, write as .dtsx, read back: the package that runs is a real file's."""
    path = tmp_path / f"{p.name}.dtsx"
    p.save(path)
    return load_package(str(path))


def run(pkg: Package, **kwargs: Any) -> DataFlowStats:
    return run_data_flow(pkg, "Data Flow Task", **kwargs)


COLUMNS: list[Any] = [
    ("id", "DT_I4"),
    ("name", "DT_WSTR", 10),
    ("amount", "DT_NUMERIC", 10, 2),
    ("day", "DT_DBDATE"),
]


def source_package(
    tmp_path: Path,
    data: bytes,
    columns: list[Any] | None = None,
    *,
    name: str = "Source",
    source: dict[str, Any] | None = None,
    edit_cm: Callable[[ConnectionManager], ConnectionManager] | None = None,
    **cm: Any,
) -> Package:
    """Flat File Source (+ error output) -> collecting sinks, saved and loaded back."""
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    p = b.PackageBuilder(name, seed=1)
    p.flat_file_connection("In", str(path), columns=columns or COLUMNS, **cm)
    df = p.data_flow("Data Flow Task")
    s = df.source("Flat File Source", "Microsoft.FlatFileSource", connection="In", **(source or {}))
    df.destination("Rows", "Test.FlatFileCollect", s)
    df.destination("Errors", "Test.FlatFileCollect", (s, "Flat File Source Error Output"))
    pkg = save_and_load(p, tmp_path)
    if edit_cm is not None:
        pkg = pkg.with_changes(
            connection_managers=tuple(edit_cm(c) for c in pkg.connection_managers)
        )
    return pkg


# ------------------------------------------------------------------------------------------------
# Conformance
# ------------------------------------------------------------------------------------------------


def sample() -> pa.Table:
    specs = {
        "id": make_spec("DT_I4"),
        "name": make_spec("DT_WSTR", length=20),
        "amount": make_spec("DT_NUMERIC", precision=10, scale=2),
        "day": make_spec("DT_DBDATE"),
        "flag": make_spec("DT_BOOL"),
        "at": make_spec("DT_DBTIMESTAMP"),
    }
    schema = pa.schema([arrow_field(n, s) for n, s in specs.items()])
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": pa.array(["alpha", 'qu"ote, comma', None], pa.large_string()),
            "amount": pa.array(
                [decimal.Decimal("1.50"), None, decimal.Decimal("-3.25")], pa.decimal128(10, 2)
            ),
            "day": pa.array([dt.date(2020, 1, 2), dt.date(1999, 12, 31), None], pa.date32()),
            "flag": pa.array([True, False, None]),
            "at": pa.array(
                [dt.datetime(2020, 1, 2, 3, 4, 5), None, dt.datetime(2021, 6, 7, 8, 9, 10, 123000)],
                pa.timestamp("us"),
            ),
        },
        schema=schema,
    )


def _type(f: pa.Field) -> ColumnType:
    spec = spec_from_field(f)
    return ColumnType(
        spec.type.token or "wstr", spec.length, spec.precision, spec.scale, spec.codepage
    )


def flat_cm(name: str, path: str, table_schema: pa.Schema, **props: str) -> ConnectionManager:
    """A delimited, comma-separated, quoted UTF-8 connection manager for ``table_schema``."""
    cols = []
    for i, f in enumerate(table_schema):
        spec = spec_from_field(f)
        last = i == len(table_schema) - 1
        cols.append(
            FlatFileColumn(
                f.name,
                properties=FrozenMap(
                    {
                        "ColumnType": "Delimited",
                        "ColumnDelimiter": escape_xml_name("\r\n" if last else ","),
                        "DataType": str(spec.type.code),
                        "MaximumWidth": str(spec.length),
                        "DataPrecision": str(spec.precision),
                        "DataScale": str(spec.scale),
                        "TextQualified": "True",
                    }
                ),
            )
        )
    base = {"Format": "Delimited", "CodePage": "65001", "TextQualifier": "_x0022_"}
    return ConnectionManager(
        f"Package.ConnectionManagers[{name}]",
        name,
        "FLATFILE",
        connection_string=path,
        object_properties=FrozenMap({**base, **props}),
        flat_file_columns=tuple(cols),
    )


def source_model(
    name: str,
    cm: ConnectionManager,
    schema: pa.Schema,
    *,
    retain_nulls: bool = True,
    disposition: str = "FailComponent",
) -> Component:
    ref = f"{TASK}\\{name}"
    out = f"{ref}.Outputs[Flat File Source Output]"
    err = f"{ref}.Outputs[Flat File Source Error Output]"
    dispo = {"errorRowDisposition": disposition, "truncationRowDisposition": disposition}
    cols = tuple(
        OutputColumn(
            f"{out}.Columns[{f.name}]",
            f.name,
            f"{out}.Columns[{f.name}]",
            _type(f),
            FrozenMap({**dispo, "externalMetadataColumnId": f"{out}.ExternalColumns[{f.name}]"}),
        )
        for f in schema
    )
    ext = tuple(
        ExternalColumn(f"{out}.ExternalColumns[{f.name}]", f.name, _type(f)) for f in schema
    )

    def ecol(n: str, token: str, flags: str | None = None) -> OutputColumn:
        return OutputColumn(
            f"{err}.Columns[{n}]",
            n,
            f"{err}.Columns[{n}]",
            ColumnType(token),
            FrozenMap({"specialFlags": flags} if flags else {}),
        )

    return Component(
        ref,
        name,
        "Microsoft.FlatFileSource",
        custom_properties=(CustomProperty("RetainNulls", str(retain_nulls)),),
        connections=(
            ComponentConnection(
                f"{ref}.Connections[FlatFileConnection]", "FlatFileConnection", cm.ref_id
            ),
        ),
        outputs=(
            Output(out, "Flat File Source Output", cols, ext),
            Output(
                err,
                "Flat File Source Error Output",
                (
                    ecol("Flat File Source Error Output Column", "nText"),
                    ecol("ErrorCode", "i4", "1"),
                    ecol("ErrorColumn", "i4", "2"),
                ),
                attrs=FrozenMap({"isErrorOut": "true"}),
            ),
        ),
    )


def write_table(path: Path, table: pa.Table, fmt: FlatFileFormat) -> None:
    """``table`` as the text a Flat File Destination would write (the source must read it back)."""
    with FlatFileWriter(path, fmt) as w:
        for batch in table.combine_chunks().to_batches(max_chunksize=100_000):
            w.write(
                [to_text(batch.column(i), spec_from_field(f)) for i, f in enumerate(table.schema)]
            )


CONNECTIONS: list[ConnectionManager] = []


@pytest.fixture
def with_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """conformance.assemble builds packages without connection managers: add ours."""
    original = conformance.assemble

    def assemble(src: SourceInfo, comp: Component) -> Package:
        return original(src, comp).with_changes(connection_managers=tuple(CONNECTIONS))

    monkeypatch.setattr(conformance, "assemble", assemble)
    yield
    CONNECTIONS.clear()


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path, with_connections: None) -> None:
    def make(src: SourceInfo) -> Component:
        table = conformance._TABLES[src.component.prop("TableKey", "")]
        path = tmp_path / f"conf_{case}_{len(CONNECTIONS)}.csv"
        cm = flat_cm(f"Conf{len(CONNECTIONS)}", str(path), table.schema)
        fmt = dataflow.pipeline.components.flatfile_source.flat_file_format(cm)
        write_table(path, table, fmt)
        CONNECTIONS.append(cm)
        return source_model("Flat File Source", cm, table.schema)

    res = run_case(case, make, sample(), conserves_rows=True)
    if case == "sample" and res is not None:
        got = res.outputs["Flat File Source Output"]
        expected = sample()
        for f in expected.schema:
            lineage = f"{TASK}\\Flat File Source.Outputs[Flat File Source Output].Columns[{f.name}]"
            assert got.column(lineage).to_pylist() == expected.column(f.name).to_pylist(), f.name


# ------------------------------------------------------------------------------------------------
# Semantics
# ------------------------------------------------------------------------------------------------

DATA = b"id,name,amount,day\r\n1,alpha,12.50,2020-01-02\r\n2,beta,-0.5,2021-12-31\r\n"


def test_delimited_with_header_row_types_every_column(tmp_path: Path) -> None:
    stats = run(source_package(tmp_path, DATA))
    t = by_name("Rows")
    assert t.to_pylist() == [
        {"id": 1, "name": "alpha", "amount": decimal.Decimal("12.50"), "day": dt.date(2020, 1, 2)},
        {"id": 2, "name": "beta", "amount": decimal.Decimal("-0.50"), "day": dt.date(2021, 12, 31)},
    ]
    assert t.schema.field("id").type == pa.int32()
    assert t.schema.field("amount").type == pa.decimal128(10, 2)
    assert stats.rows[("Flat File Source", "Flat File Source Output")] == 2
    assert stats.rows[("Flat File Source", "Flat File Source Error Output")] == 0


def test_custom_delimiter_and_lf_rows(tmp_path: Path) -> None:
    data = b"id|name|amount|day\n7|x y|1|2020-02-29\n"
    run(source_package(tmp_path, data, delimiter="|", row_delimiter="\n"))
    assert by_name("Rows").to_pylist() == [
        {"id": 7, "name": "x y", "amount": decimal.Decimal("1.00"), "day": dt.date(2020, 2, 29)}
    ]


def test_per_column_delimiters(tmp_path: Path) -> None:
    def edit(cm: ConnectionManager) -> ConnectionManager:
        delims = [";", "||", "\t", "\r\n"]
        cols = tuple(
            dataclasses.replace(
                c, properties=c.properties.set("ColumnDelimiter", escape_xml_name(d))
            )
            for c, d in zip(cm.flat_file_columns, delims, strict=True)
        )
        return dataclasses.replace(cm, flat_file_columns=cols)

    data = b"id;name||amount\tday\r\n3;a|b||4.25\t2022-03-04\r\n"
    run(source_package(tmp_path, data, edit_cm=edit))
    assert by_name("Rows").to_pylist() == [
        {"id": 3, "name": "a|b", "amount": decimal.Decimal("4.25"), "day": dt.date(2022, 3, 4)}
    ]


def test_qualifiers_with_embedded_doubled_qualifiers(tmp_path: Path) -> None:
    data = b'id,name,amount,day\r\n1,"say ""hi""",1,2020-01-01\r\n2,"a,b",2,2020-01-02\r\n'
    run(source_package(tmp_path, data, text_qualifier='"'))
    assert by_name("Rows").column("name").to_pylist() == ['say "hi"', "a,b"]


def test_single_embedded_qualifier_fails_the_source(tmp_path: Path) -> None:
    data = b'id,name,amount,day\r\n1,"say "hi" now",1,2020-01-01\r\n'
    with pytest.raises(DataflowError) as exc:
        run(source_package(tmp_path, data, text_qualifier='"'))
    assert exc.value.code == "DTS_E_ERRORWHILEREADINGDATAROWS"
    assert "qualifier" in exc.value.message


def test_header_rows_to_skip_and_data_rows_to_skip(tmp_path: Path) -> None:
    data = b"Sales export\r\ngenerated today\r\nid,name,amount,day\r\n0,skipped,0,2000-01-01\r\n5,kept,5,2005-05-05\r\n"
    run(source_package(tmp_path, data, header_rows_to_skip=2, data_rows_to_skip=1))
    assert by_name("Rows").column("name").to_pylist() == ["kept"]


@pytest.mark.parametrize(
    ("code_page", "unicode", "encode"),
    [(65001, False, "utf-8"), (1252, False, "cp1252"), (1252, True, "utf-16-le")],
)
def test_code_pages(tmp_path: Path, code_page: int, unicode: bool, encode: str) -> None:
    text = "id,name,amount,day\r\n1,Zoë €,1,2020-01-01\r\n2,Æsir,2,2020-01-02\r\n"
    data = (b"\xff\xfe" if unicode else b"") + text.encode(encode)
    run(source_package(tmp_path, data, code_page=code_page, unicode=unicode))
    assert by_name("Rows").column("name").to_pylist() == ["Zoë €", "Æsir"]


def _fixed_cm(
    fmt: str, widths: list[int], last_delimited: bool = False
) -> Callable[[ConnectionManager], ConnectionManager]:
    def edit(cm: ConnectionManager) -> ConnectionManager:
        cols = []
        for i, (c, w) in enumerate(zip(cm.flat_file_columns, widths, strict=True)):
            props = (
                c.properties.without("ColumnDelimiter")
                .set("ColumnWidth", str(w))
                .set("ColumnType", "FixedWidth")
            )
            if last_delimited and i == len(widths) - 1:
                props = props.set("ColumnType", "Delimited").set(
                    "ColumnDelimiter", escape_xml_name("\r\n")
                )
            cols.append(dataclasses.replace(c, properties=props))
        op = cm.object_properties.set("Format", fmt).set("ColumnNamesInFirstDataRow", "False")
        return dataclasses.replace(cm, flat_file_columns=tuple(cols), object_properties=op)

    return edit


def test_fixed_width(tmp_path: Path) -> None:
    data = b"  1alpha       1.502020-01-02" + b" 22beta       -2.002021-12-31"
    run(source_package(tmp_path, data, edit_cm=_fixed_cm("FixedWidth", [3, 8, 8, 10])))
    assert by_name("Rows").to_pylist() == [
        {
            "id": 1,
            "name": "alpha   ",
            "amount": decimal.Decimal("1.50"),
            "day": dt.date(2020, 1, 2),
        },
        {
            "id": 22,
            "name": "beta    ",
            "amount": decimal.Decimal("-2.00"),
            "day": dt.date(2021, 12, 31),
        },
    ]


def test_ragged_right(tmp_path: Path) -> None:
    data = b"  1alpha      1.5 2020-01-02\r\n 22b          7   2021-1-5\r\n"
    cols = [
        ("id", "DT_I4"),
        ("name", "DT_WSTR", 10),
        ("amount", "DT_NUMERIC", 10, 2),
        ("day", "DT_WSTR", 20),
    ]
    run(
        source_package(
            tmp_path,
            data,
            cols,
            edit_cm=_fixed_cm("RaggedRight", [3, 8, 6, 0], last_delimited=True),
        )
    )
    assert by_name("Rows").to_pylist() == [
        {"id": 1, "name": "alpha   ", "amount": decimal.Decimal("1.50"), "day": " 2020-01-02"},
        {"id": 22, "name": "b       ", "amount": decimal.Decimal("7.00"), "day": " 2021-1-5"},
    ]


BAD = b"id,name,amount,day\r\n1,a,1,2020-01-01\r\nX,b,2,2020-01-02\r\n3,c,oops,2020-01-03\r\n4,d,4,2020-01-04\r\n"


def test_conversion_errors_are_redirected_with_code_and_column(tmp_path: Path) -> None:
    stats = run(source_package(tmp_path, BAD, source={"error_disposition": "RedirectRow"}))
    assert by_name("Rows").column("id").to_pylist() == [1, 4]
    errors = by_name("Errors")
    assert errors.column("Flat File Source Error Output Column").to_pylist() == [
        "X,b,2,2020-01-02",
        "3,c,oops,2020-01-03",
    ]
    code = CODES["DTS_E_FLATFILESOURCEADAPTERSTATIC_CANTCONVERTVALUE"].decimal
    assert errors.column("ErrorCode").to_pylist() == [code, code]
    cols = errors.column("ErrorColumn").to_pylist()
    assert [stats.lineage_names[c] for c in cols] == ["id", "amount"]
    # conservation: every row of the file is on one of the two outputs
    out = stats.rows[("Flat File Source", "Flat File Source Output")]
    err = stats.rows[("Flat File Source", "Flat File Source Error Output")]
    assert (out, err) == (2, 2)


def test_conversion_error_fails_with_a_coded_error(tmp_path: Path) -> None:
    with pytest.raises(DataflowError) as exc:
        run(source_package(tmp_path, BAD))
    assert exc.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONERROR"
    assert "'id'" in exc.value.message and "first at row 1" in exc.value.message
    assert exc.value.path == f"{TASK}\\Flat File Source"


def test_conversion_error_ignored_gives_null(tmp_path: Path) -> None:
    run(source_package(tmp_path, BAD, source={"error_disposition": "IgnoreFailure"}))
    t = by_name("Rows")
    assert t.column("id").to_pylist() == [1, None, 3, 4]
    assert t.column("amount").to_pylist()[2] is None


LONG = b"id,name,amount,day\r\n1,short,1,2020-01-01\r\n2,much too long,2,2020-01-02\r\n"


def test_truncation_redirect_fail_and_ignore(tmp_path: Path) -> None:
    stats = run(source_package(tmp_path, LONG, source={"truncation_disposition": "RedirectRow"}))
    assert by_name("Rows").column("name").to_pylist() == ["short"]
    errors = by_name("Errors")
    assert errors.column("ErrorCode").to_pylist() == [
        CODES["DTS_E_INDUCEDTRANSFORMFAILUREONTRUNCATION"].decimal
    ]
    assert stats.lineage_names[errors.column("ErrorColumn")[0].as_py()] == "name"

    with pytest.raises(DataflowError) as exc:
        run(source_package(tmp_path, LONG))
    assert exc.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONTRUNCATION"

    run(source_package(tmp_path, LONG, source={"truncation_disposition": "IgnoreFailure"}))
    assert by_name("Rows").column("name").to_pylist() == ["short", "much too l"]


EMPTY = b"id,name,amount,day\r\n,,,\r\n"


def test_retain_nulls_true_keeps_empty_fields_null(tmp_path: Path) -> None:
    run(source_package(tmp_path, EMPTY, source={"retain_nulls": True}))
    assert by_name("Rows").to_pylist() == [{"id": None, "name": None, "amount": None, "day": None}]


def test_retain_nulls_false_gives_defaults_and_fails_dates(tmp_path: Path) -> None:
    cols = [
        ("id", "DT_I4"),
        ("name", "DT_WSTR", 10),
        ("amount", "DT_NUMERIC", 10, 2),
        ("flag", "DT_BOOL"),
    ]
    run(source_package(tmp_path, b",,,\r\n", cols, header=False))
    assert by_name("Rows").to_pylist() == [
        {"id": 0, "name": "", "amount": decimal.Decimal("0.00"), "flag": False}
    ]
    # a date has no default value: with RetainNulls False an empty date is a conversion error
    stats = run(source_package(tmp_path, EMPTY, source={"error_disposition": "RedirectRow"}))
    assert stats.rows[("Flat File Source", "Flat File Source Error Output")] == 1
    assert stats.lineage_names[by_name("Errors").column("ErrorColumn")[0].as_py()] == "day"


def test_other_types_and_formats(tmp_path: Path) -> None:
    cols = [
        ("b", "DT_BOOL"),
        ("ts", "DT_DBTIMESTAMP"),
        ("g", "DT_GUID"),
        ("r", "DT_R8"),
        ("t", "DT_DBTIME"),
    ]
    data = b"-1,2020-01-02 03:04:05.123,4b0f5b1c-1111-2222-3333-444455556666,1.5,10:11:12\r\nfalse,01/02/2020,{4B0F5B1C-1111-2222-3333-444455556666},-2,23:59:59\r\n"
    run(source_package(tmp_path, data, cols, header=False))
    t = by_name("Rows")
    assert t.column("b").to_pylist() == [True, False]
    assert t.column("ts").to_pylist() == [
        dt.datetime(2020, 1, 2, 3, 4, 5, 123000),
        dt.datetime(2020, 1, 2),
    ]
    assert t.column("g").to_pylist() == ["{4B0F5B1C-1111-2222-3333-444455556666}"] * 2
    assert t.column("r").to_pylist() == [1.5, -2.0]
    assert t.column("t").to_pylist() == [dt.time(10, 11, 12), dt.time(23, 59, 59)]


def test_large_file_streams_in_batches(tmp_path: Path) -> None:
    rows = 150_000
    data = b"id,name,amount,day\r\n" + b"".join(
        b"%d,n%d,%d.25,2020-01-01\r\n" % (i, i % 97, i) for i in range(rows)
    )
    stats = run(source_package(tmp_path, data), batch_rows=10_000)
    out = next(s for s in stats.outputs.values() if s.output == "Flat File Source Output")
    assert out.rows == rows and out.batches >= rows // 10_000
    ids = by_name("Rows").column("id").to_pylist()
    assert ids == list(range(rows))


def test_connection_override_and_missing_file(tmp_path: Path) -> None:
    pkg = source_package(tmp_path, DATA)
    other = tmp_path / "other.txt"
    other.write_bytes(b"id,name,amount,day\r\n9,other,9,2009-09-09\r\n")
    run(pkg, connections={"In": str(other)})
    assert by_name("Rows").column("name").to_pylist() == ["other"]
    with pytest.raises(DataflowError) as exc:
        run(pkg, connections={"In": str(tmp_path / "missing.txt")})
    assert exc.value.code == "DTS_E_CANNOTACQUIRECONNECTIONFROMCONNECTIONMANAGER"


def test_file_name_column(tmp_path: Path) -> None:
    pkg = source_package(tmp_path, DATA)
    dft = pkg.find("Data Flow Task")
    assert dft.pipeline is not None
    src = dft.pipeline.component("Flat File Source")
    out = src.outputs[0]
    ref = f"{out.ref_id}.Columns[FileName]"
    extra = OutputColumn(ref, "FileName", ref, ColumnType("wstr", 260))
    props = tuple(
        p if p.name != "FileNameColumnName" else dataclasses.replace(p, value="FileName")
        for p in src.custom_properties
    )
    new_src = dataclasses.replace(
        src,
        custom_properties=props,
        outputs=(dataclasses.replace(out, columns=(*out.columns, extra)), *src.outputs[1:]),
    )
    pipeline = dataclasses.replace(
        dft.pipeline, components=tuple(new_src if c is src else c for c in dft.pipeline.components)
    )
    new_dft = dataclasses.replace(dft, pipeline=pipeline)
    pkg = pkg.with_changes(executables=tuple(new_dft if e is dft else e for e in pkg.executables))
    run(pkg)
    assert by_name("Rows").column("FileName").to_pylist() == [str(tmp_path / "in.txt")] * 2
