"""Flat File Destination: conformance suite, text forms, header, overwrite / append, round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

import dataflow.pipeline.components.flatfile_destination
import dataflow.pipeline.components.flatfile_source  # noqa: F401 - registers the components
from dataflow.core.datatypes import make_spec, spec_from_field
from dataflow.core.errors import DataflowError
from dataflow.package import builder as b
from dataflow.package.model import (
    Component,
    ComponentConnection,
    ConnectionManager,
    CustomProperty,
    ExternalColumn,
    FrozenMap,
    Input,
    InputColumn,
    Package,
)
from dataflow.pipeline.components.flatfile_destination import to_text
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_flatfile_source import (
    flat_cm,
    run,
    sample,
    save_and_load,
)

TASK = "Package\\Data Flow Task"
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


def destination_model(
    src: SourceInfo, cm: ConnectionManager, *, overwrite: bool = True, header: str = ""
) -> Component:
    ref = f"{TASK}\\Flat File Destination"
    inp = f"{ref}.Inputs[Flat File Destination Input]"
    cols = tuple(
        InputColumn(
            f"{inp}.Columns[{n}]",
            src.lineage(n),
            n,
            attrs=FrozenMap({"externalMetadataColumnId": f"{inp}.ExternalColumns[{n}]"}),
        )
        for n in src.columns
    )
    ext = tuple(
        ExternalColumn(f"{inp}.ExternalColumns[{n}]", n, c.type) for n, c in src.columns.items()
    )
    return Component(
        ref,
        "Flat File Destination",
        "Microsoft.FlatFileDestination",
        custom_properties=(
            CustomProperty("Overwrite", str(overwrite)),
            CustomProperty("Header", header),
        ),
        connections=(
            ComponentConnection(
                f"{ref}.Connections[FlatFileConnection]", "FlatFileConnection", cm.ref_id
            ),
        ),
        inputs=(Input(inp, "Flat File Destination Input", cols, ext),),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path, with_connections: None) -> None:
    path = tmp_path / "out.csv"

    def make(src: SourceInfo) -> Component:
        table = conformance._TABLES[src.component.prop("TableKey", "")]
        cm = flat_cm(f"Out{len(CONNECTIONS)}", str(path), table.schema)
        CONNECTIONS.append(cm)
        return destination_model(src, cm)

    run_case(case, make, sample(), conserves_rows=False)
    if case == "sample":
        assert path.read_bytes() == (
            b'"1","alpha","1.50","2020-01-02","True","2020-01-02 03:04:05"\r\n'
            b'"2","qu""ote, comma",,"1999-12-31","False",\r\n'
            b'"3",,"-3.25",,,"2021-06-07 08:09:10.123"\r\n'
        )
    if case == "empty":
        assert path.read_bytes() == b""
    if case == "large":
        assert path.read_bytes().count(b"\r\n") == 300_000


def test_text_forms_of_every_type() -> None:
    def text(values: list[object], t: pa.DataType, spec: str, **kw: int) -> list[str | None]:
        return to_text(pa.array(values, t), make_spec(spec, **kw)).to_pylist()

    ts = dt.datetime(2024, 2, 29, 13, 5, 9, 120000)
    assert text([ts, dt.datetime(2024, 1, 1)], pa.timestamp("us"), "DT_DBTIMESTAMP") == [
        "2024-02-29 13:05:09.120",
        "2024-01-01 00:00:00",
    ]
    assert text([ts], pa.timestamp("us"), "DT_DBTIMESTAMP2", scale=7) == [
        "2024-02-29 13:05:09.1200000"
    ]
    assert text([dt.date(2024, 2, 29), None], pa.date32(), "DT_DBDATE") == ["2024-02-29", None]
    assert text([dt.time(1, 2, 3, 500000)], pa.time64("ns"), "DT_DBTIME") == ["01:02:03"]
    assert text([dt.time(1, 2, 3, 500000)], pa.time64("ns"), "DT_DBTIME2", scale=2) == [
        "01:02:03.50"
    ]
    assert text([True, False, None], pa.bool_(), "DT_BOOL") == ["True", "False", None]
    big = decimal.Decimal("12345678901234.50")
    assert text(
        [big, decimal.Decimal("-0.05")], pa.decimal128(18, 2), "DT_NUMERIC", precision=18, scale=2
    ) == [
        "12345678901234.50",
        "-0.05",
    ]
    assert text([1.5, -2.0], pa.float64(), "DT_R8") == ["1.5", "-2.0"]
    assert text([b"\x01\xab"], pa.large_binary(), "DT_BYTES", length=2) == ["01AB"]
    assert text([-5, 7], pa.int64(), "DT_I8") == ["-5", "7"]
    offset = pa.array(
        [{"utc": dt.datetime(2024, 1, 1, 12, 0), "offset_min": -330}],
        pa.struct([("utc", pa.timestamp("us", tz="UTC")), ("offset_min", pa.int16())]),
    )
    assert to_text(offset, make_spec("DT_DBTIMESTAMPOFFSET", scale=0)).to_pylist() == [
        "2024-01-01 06:30:00 -05:30"
    ]


def _dest_package(
    tmp_path: Path,
    out: Path,
    *,
    overwrite: bool = True,
    header_text: str | None = None,
    **cm: object,
) -> Package:
    """Flat File Source (of a fixed input) -> Flat File Destination, as a real .dtsx."""
    src = tmp_path / "in.csv"
    if not src.exists():
        src.write_bytes(b"id,name,day\r\n1,a,2020-01-01\r\n2,b,2020-01-02\r\n")
    p = b.PackageBuilder("Dest", seed=2)
    p.flat_file_connection(
        "In", str(src), columns=[("id", "DT_I4"), ("name", "DT_WSTR", 10), ("day", "DT_DBDATE")]
    )
    p.flat_file_connection("Out", str(out), **cm)  # type: ignore[arg-type]
    df = p.data_flow("Data Flow Task")
    s = df.source("Flat File Source", "Microsoft.FlatFileSource", connection="In")
    df.destination(
        "Flat File Destination",
        "Microsoft.FlatFileDestination",
        s,
        connection="Out",
        overwrite=overwrite,
        header=header_text,
    )
    return save_and_load(p, tmp_path)


def test_header_text_and_column_names(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    run(_dest_package(tmp_path, out, header_text="Daily export"))
    assert (
        out.read_bytes() == b"Daily export\r\nid,name,day\r\n1,a,2020-01-01\r\n2,b,2020-01-02\r\n"
    )


def test_overwrite_true_replaces_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_bytes(b"old content\r\n")
    pkg = _dest_package(tmp_path, out, header=False)
    run(pkg)
    run(pkg)
    assert out.read_bytes() == b"1,a,2020-01-01\r\n2,b,2020-01-02\r\n"


def test_overwrite_false_appends(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    pkg = _dest_package(tmp_path, out, overwrite=False)
    run(pkg)
    run(pkg)
    # the column names are written once, when the file starts empty
    assert (
        out.read_bytes()
        == b"id,name,day\r\n1,a,2020-01-01\r\n2,b,2020-01-02\r\n1,a,2020-01-01\r\n2,b,2020-01-02\r\n"
    )


def test_qualifier_delimiter_and_code_page(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes('id,name,day\r\n1,Zoë "Z",2020-01-01\r\n'.encode("cp1252"))
    out = tmp_path / "out.txt"
    run(
        _dest_package(
            tmp_path, out, delimiter="\t", row_delimiter="\n", text_qualifier='"', unicode=True
        )
    )
    assert (
        out.read_bytes()
        == b"\xff\xfe" + '"id"\t"name"\t"day"\n"1"\t"Zoë ""Z"""\t"2020-01-01"\n'.encode("utf-16-le")
    )


def test_round_trip_file_source_destination_same_bytes(tmp_path: Path) -> None:
    # the file as a Flat File Destination writes it: "name" is the only text-qualified column,
    # and every non-NULL value of it is qualified (the column name too)
    content = (
        b'id,"name",amount,day,at,flag\r\n'
        b'1,"alpha",12.50,2020-01-02,2020-01-02 03:04:05,True\r\n'
        b'2,"comma, inside",-0.05,1999-12-31,2021-06-07 08:09:10.123,False\r\n'
        b"3,,0.00,2000-02-29,2000-01-01 00:00:00,True\r\n"
    )
    src = tmp_path / "in.csv"
    src.write_bytes(content)
    out = tmp_path / "out.csv"
    cols = [
        ("id", "DT_I4"),
        ("name", "DT_WSTR", 20),
        ("amount", "DT_NUMERIC", 10, 2),
        ("day", "DT_DBDATE"),
        ("at", "DT_DBTIMESTAMP"),
        ("flag", "DT_BOOL"),
    ]
    p = b.PackageBuilder("RoundTrip", seed=3)
    p.flat_file_connection("In", str(src), columns=cols, text_qualifier='"')
    p.flat_file_connection("Out", str(out), columns=cols, text_qualifier='"')
    df = p.data_flow("Data Flow Task")
    s = df.source(
        "Flat File Source", "Microsoft.FlatFileSource", connection="In", retain_nulls=True
    )
    df.destination("Flat File Destination", "Microsoft.FlatFileDestination", s, connection="Out")
    pkg = save_and_load(p, tmp_path)
    pkg_unqualified = pkg.with_changes(
        connection_managers=tuple(
            dataclasses.replace(
                cm,
                flat_file_columns=tuple(
                    dataclasses.replace(c, properties=c.properties.set("TextQualified", "False"))
                    if c.name != "name"
                    else c
                    for c in cm.flat_file_columns
                ),
            )
            for cm in pkg.connection_managers
        )
    )
    stats = run(pkg_unqualified)
    assert stats.rows[("Flat File Source", "Flat File Source Output")] == 3
    assert out.read_bytes() == content


def test_streaming_large_input_is_written_in_order(tmp_path: Path) -> None:
    rows = 200_000
    table = pa.table({"n": pa.array(range(rows), pa.int64())})
    src = table_source(table, batch_rows=7_000)
    cm = flat_cm("Big", str(tmp_path / "big.csv"), table.schema, TextQualifier="_x003C_none_x003E_")
    pkg = conformance.assemble(src, destination_model(src, cm)).with_changes(
        connection_managers=(cm,)
    )
    res = run_flow(pkg)
    assert res.stats.components["Flat File Destination"].rows_in == rows
    data = (tmp_path / "big.csv").read_bytes().split(b"\r\n")
    assert (
        data[:3] == [b"0", b"1", b"2"]
        and data[rows - 1] == b"%d" % (rows - 1)
        and data[rows] == b""
    )


def test_unmapped_file_column_is_written_empty_and_unknown_mapping_fails(tmp_path: Path) -> None:
    table = pa.table({"a": pa.array(["x"], pa.large_string())})
    wide = pa.schema([pa.field("a", pa.large_string()), pa.field("b", pa.large_string())])
    src = table_source(table)
    cm = flat_cm("Wide", str(tmp_path / "w.csv"), wide, TextQualifier="_x003C_none_x003E_")
    pkg = conformance.assemble(src, destination_model(src, cm)).with_changes(
        connection_managers=(cm,)
    )
    run_flow(pkg)
    assert (tmp_path / "w.csv").read_bytes() == b"x,\r\n"
    narrow = flat_cm(
        "Narrow", str(tmp_path / "n.csv"), pa.schema([pa.field("z", pa.large_string())])
    )
    pkg = conformance.assemble(src, destination_model(src, narrow)).with_changes(
        connection_managers=(narrow,)
    )
    with pytest.raises(DataflowError) as exc:
        run_flow(pkg)
    assert exc.value.code == "DTS_E_VALIDATIONFAILED"


def test_unencodable_character_fails_with_a_code(tmp_path: Path) -> None:
    table = pa.table({"a": pa.array(["中文"], pa.large_string())})
    src = table_source(table)
    cm = flat_cm("Ansi", str(tmp_path / "a.csv"), table.schema, CodePage="1252")
    pkg = conformance.assemble(src, destination_model(src, cm)).with_changes(
        connection_managers=(cm,)
    )
    with pytest.raises(DataflowError) as exc:
        run_flow(pkg)
    assert exc.value.code == "DTS_E_PROCESSINPUTFAILED"


def test_unqualified_file_of_every_type_has_the_text_forms(tmp_path: Path) -> None:
    """Unqualified delimited files are written by polars' CSV writer: same text as to_text."""
    ts = dt.datetime(2024, 2, 29, 13, 5, 9, 120000)
    table = pa.table(
        {
            "i": pa.array([1, None, -3], pa.int32()),
            "s": pa.array(["a", None, ""], pa.large_string()),
            "r8": pa.array([1.5, None, 1e20], pa.float64()),
            "r4": pa.array([0.1, -2.0, None], pa.float32()),
            "d": pa.array([dt.date(2024, 2, 29), None, dt.date(1999, 1, 1)], pa.date32()),
            "ts": pa.array([ts, dt.datetime(2024, 1, 1), None], pa.timestamp("us")),
            "t": pa.array([dt.time(1, 2, 3, 500000), None, dt.time(0)], pa.time64("us")),
            "b": pa.array([True, None, False], pa.bool_()),
            "n": pa.array(
                [decimal.Decimal("12.50"), None, decimal.Decimal("-0.05")], pa.decimal128(18, 2)
            ),
            "x": pa.array([b"\x01\xab", None, b""], pa.large_binary()),
        }
    )
    src = table_source(table)
    cm = flat_cm("All", str(tmp_path / "all.csv"), table.schema, TextQualifier="_x003C_none_x003E_")
    pkg = conformance.assemble(src, destination_model(src, cm)).with_changes(
        connection_managers=(cm,)
    )
    run_flow(pkg)
    texts = [
        to_text(table.column(f.name).combine_chunks(), spec_from_field(f)) for f in table.schema
    ]
    expected = "".join(
        ",".join(t[r].as_py() or "" for t in texts) + "\r\n" for r in range(table.num_rows)
    )
    assert (tmp_path / "all.csv").read_bytes() == expected.encode()
