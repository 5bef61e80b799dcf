"""Raw File Destination: conformance suite, write options, and SSIS types kept in the file."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from connectors import arrowipc
from dataflow.core.datatypes import arrow_field, make_spec, parse_type_spec, spec_from_field
from dataflow.package.model import Component, CustomProperty, Input, InputColumn
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_row_count import with_variable
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
RD = f"{TASK}\\Raw File Destination"


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from harness(monkeypatch)  # two conformance-harness workarounds, see there


def sample() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": pa.array(["a", None, "c"], pa.large_string()),
        }
    )


def typed_table() -> pa.Table:
    """One column per common SSIS type, field metadata carrying the exact SSIS type."""
    specs = {
        "i4": "DT_I4",
        "i8": "DT_I8",
        "money": "DT_CY",
        "price": "DT_NUMERIC(10,2)",
        "label": "DT_STR(20,1252)",
        "wlabel": "DT_WSTR(30)",
        "flag": "DT_BOOL",
        "day": "DT_DBDATE",
        "stamp": "DT_DBTIMESTAMP",
        "ratio": "DT_R8",
        "blob": "DT_IMAGE",
        "guid": "DT_GUID",
        "clock": "DT_DBTIME2(7)",
    }
    values = {
        "i4": [1, None, -3],
        "i8": [2**40, 0, None],
        "money": [decimal.Decimal("1.2345"), None, decimal.Decimal("-9.5000")],
        "price": [decimal.Decimal("12.50"), decimal.Decimal("0.01"), None],
        "label": ["abc", None, "é"],
        "wlabel": ["x", "yy", None],
        "flag": [True, False, None],
        "day": [dt.date(2024, 2, 29), None, dt.date(9999, 12, 31)],
        "stamp": [dt.datetime(2024, 1, 2, 3, 4, 5, 678000), None, dt.datetime(1900, 1, 1)],
        "ratio": [0.5, None, -1e300],
        "blob": [b"\x00\x01", None, b""],
        "guid": ["{6F9619FF-8B86-D011-B42D-00C04FC964FF}", None, None],
        "clock": [dt.time(23, 59, 59, 999999), None, dt.time(0, 0)],
    }
    fields = [arrow_field(n, parse_type_spec(s)) for n, s in specs.items()]
    return pa.table([pa.array(values[f.name], f.type) for f in fields], schema=pa.schema(fields))


def make_destination(
    src: SourceInfo,
    path: Path | str,
    write_option: int = 0,
    columns: list[str] | None = None,
    access_mode: int = 0,
) -> Component:
    inp = f"{RD}.Inputs[Raw File Destination Input]"
    names = list(src.columns) if columns is None else columns
    props = [
        CustomProperty("AccessMode", str(access_mode)),
        CustomProperty("FileName", str(path) if access_mode == 0 else ""),
        CustomProperty("FileNameVariable", str(path) if access_mode == 1 else ""),
        CustomProperty("WriteOption", str(write_option)),
    ]
    return Component(
        RD,
        "Raw File Destination",
        "Microsoft.RawDestination",
        custom_properties=tuple(props),
        inputs=(
            Input(
                inp,
                "Raw File Destination Input",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in names),
            ),
        ),
    )


def write(table: pa.Table, path: Path, **kw: object) -> conformance.FlowResult:
    src = table_source(table, batch_rows=kw.pop("batch_rows", 1_000))  # type: ignore[arg-type]
    return run_flow(conformance.assemble(src, make_destination(src, path, **kw)))  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path) -> None:
    target = tmp_path / "out.raw"
    run_case(case, lambda src: make_destination(src, target), sample(), conserves_rows=False)
    if case != "cancel":
        got = arrowipc.read_table(target)
        assert got.column_names == ["id", "name"]
        rows = {"sample": 3, "empty": 0, "nulls": 3, "large": 300_000}[case]
        assert got.num_rows == rows
    if case == "sample":
        assert got.to_pydict() == {"id": [1, 2, 3], "name": ["a", None, "c"]}


def test_file_keeps_values_and_ssis_types(tmp_path: Path) -> None:
    table = typed_table()
    write(table, tmp_path / "t.raw")
    got = arrowipc.read_table(tmp_path / "t.raw")
    assert got.column_names == table.column_names
    for f in table.schema:
        assert spec_from_field(got.schema.field(f.name)) == spec_from_field(f), f.name
        assert got.column(f.name).to_pylist() == table.column(f.name).to_pylist(), f.name
    assert spec_from_field(got.schema.field("price")) == make_spec(
        "DT_NUMERIC", precision=10, scale=2
    )
    assert spec_from_field(got.schema.field("label")) == make_spec("DT_STR", 20, codepage=1252)


def test_selected_columns_only_in_input_order(tmp_path: Path) -> None:
    write(sample(), tmp_path / "t.raw", columns=["name"])
    assert arrowipc.read_table(tmp_path / "t.raw").to_pydict() == {"name": ["a", None, "c"]}


def test_create_always_replaces_and_create_once_refuses(tmp_path: Path) -> None:
    target = tmp_path / "t.raw"
    write(sample(), target)
    write(sample().slice(0, 1), target, write_option=0)
    assert arrowipc.read_table(target).num_rows == 1
    src = table_source(sample())
    res = run_flow(
        conformance.assemble(src, make_destination(src, target, write_option=1)),
        raise_on_error=False,
    )
    assert res.stats.error is not None and res.stats.error.code == "DTS_E_PROCESSINPUTFAILED"
    assert "Create once" in res.stats.error.message
    assert arrowipc.read_table(target).num_rows == 1  # untouched


def test_append_adds_rows_and_truncate_and_append_replaces_them(tmp_path: Path) -> None:
    target = tmp_path / "t.raw"
    write(sample(), target)
    write(sample(), target, write_option=2, batch_rows=2)
    got = arrowipc.read_table(target)
    assert got.column("id").to_pylist() == [1, 2, 3, 1, 2, 3]
    write(sample().slice(2), target, write_option=3)
    assert arrowipc.read_table(target).column("id").to_pylist() == [3]


def test_append_with_other_columns_fails(tmp_path: Path) -> None:
    target = tmp_path / "t.raw"
    write(sample(), target)
    src = table_source(sample())
    with pytest.raises(Exception) as exc:
        run_flow(conformance.assemble(src, make_destination(src, target, 2, columns=["name"])))
    assert getattr(exc.value, "code", None) == "DTS_E_PROCESSINPUTFAILED"
    assert "columns" in str(exc.value)


def test_file_name_from_variable(tmp_path: Path) -> None:
    target = tmp_path / "from-var.raw"
    src = table_source(sample())
    pkg = conformance.assemble(src, make_destination(src, "User::Target", access_mode=1))
    run_flow(with_variable(pkg, "Target", 8, str(target)))
    assert arrowipc.read_table(target).num_rows == 3


def test_missing_file_name_and_bad_write_option_fail_validation(tmp_path: Path) -> None:
    src = table_source(sample())
    with pytest.raises(FlowValidationError) as exc:
        run_flow(conformance.assemble(src, make_destination(src, "", write_option=7)))
    messages = [p.message for p in exc.value.problems]
    assert any("no FileName" in m for m in messages)
    assert any("WriteOption" in m for m in messages)
