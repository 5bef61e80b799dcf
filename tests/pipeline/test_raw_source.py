"""Raw File Source: conformance suite, round trip through a Raw File Destination, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from connectors import arrowipc
from dataflow.core.datatypes import spec_from_field
from dataflow.core.errors import ExecutionError
from dataflow.package.model import (
    Component,
    CustomProperty,
    ExternalColumn,
    FrozenMap,
    Output,
    OutputColumn,
)
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_raw_destination import typed_table, write
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
RSRC = f"{TASK}\\Raw File Source"
OUT = f"{RSRC}.Outputs[Raw File Source Output]"


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


def make_source(
    columns: dict[str, OutputColumn], path: Path | str, *, renames: dict[str, str] | None = None
) -> Component:
    """A Raw File Source declaring ``columns`` (the types of a table source's columns);
    ``renames``: output column name -> external (file) column name."""
    renames = renames or {}
    cols = []
    externals = []
    for name, c in columns.items():
        ref = f"{OUT}.Columns[{name}]"
        attrs = {}
        if name in renames:
            ext = ExternalColumn(f"{OUT}.ExternalColumns[{renames[name]}]", renames[name], c.type)
            externals.append(ext)
            attrs["externalMetadataColumnId"] = ext.ref_id
        cols.append(OutputColumn(ref, name, ref, c.type, FrozenMap(attrs)))
    return Component(
        RSRC,
        "Raw File Source",
        "Microsoft.RawSource",
        custom_properties=(
            CustomProperty("AccessMode", "0"),
            CustomProperty("FileName", str(path)),
            CustomProperty("FileNameVariable", ""),
        ),
        outputs=(Output(OUT, "Raw File Source Output", tuple(cols), tuple(externals)),),
    )


def file_of(src: SourceInfo, path: Path) -> Component:
    """Conformance factory: write the harness's table to a raw file, read it back."""
    table = conformance._TABLES[src.component.prop("TableKey", "")]
    with arrowipc.RawFileWriter(path, table.schema) as w:
        for b in table.to_batches(max_chunksize=50_000):
            w.write(b)
    return make_source(src.columns, path)


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path) -> None:
    res = run_case(
        case, lambda src: file_of(src, tmp_path / "in.raw"), sample(), conserves_rows=True
    )
    if case == "sample":
        assert res is not None
        out = res.outputs["Raw File Source Output"]
        assert out.column(f"{OUT}.Columns[name]").to_pylist() == ["a", None, "c"]


def test_round_trip_keeps_values_and_ssis_types(tmp_path: Path) -> None:
    table = typed_table()
    write(table, tmp_path / "t.raw")
    src = table_source(table)  # only to declare the same columns on the Raw File Source
    res = run_flow(conformance.assemble(src, make_source(src.columns, tmp_path / "t.raw")))
    out = res.outputs["Raw File Source Output"]
    for f in table.schema:
        got = out.schema.field(f"{OUT}.Columns[{f.name}]")
        assert spec_from_field(got) == spec_from_field(f), f.name
        assert out.column(got.name).to_pylist() == table.column(f.name).to_pylist(), f.name


def test_batches_follow_the_buffer_size_hint(tmp_path: Path) -> None:
    table = pa.table({"n": pa.array(range(10_000), pa.int64())})
    with arrowipc.RawFileWriter(tmp_path / "t.raw", table.schema) as w:
        w.write(table.to_batches()[0])  # one 10,000-row batch in the file
    src = table_source(table)
    res = run_flow(
        conformance.assemble(src, make_source(src.columns, tmp_path / "t.raw")), batch_rows=3_000
    )
    assert res.stats.outputs[OUT].batches == 4
    assert res.outputs["Raw File Source Output"].column(f"{OUT}.Columns[n]").to_pylist() == list(
        range(10_000)
    )


def test_external_column_name_maps_to_the_file_column(tmp_path: Path) -> None:
    write(sample(), tmp_path / "t.raw")
    src = table_source(pa.table({"key": pa.array([0], pa.int32())}))
    comp = make_source(src.columns, tmp_path / "t.raw", renames={"key": "id"})
    res = run_flow(conformance.assemble(src, comp))
    assert res.outputs["Raw File Source Output"].column(f"{OUT}.Columns[key]").to_pylist() == [
        1,
        2,
        3,
    ]


def test_missing_file_and_missing_column_are_coded_errors(tmp_path: Path) -> None:
    src = table_source(sample())
    with pytest.raises(ExecutionError) as exc:
        run_flow(conformance.assemble(src, make_source(src.columns, tmp_path / "nope.raw")))
    assert exc.value.code == "DTS_E_PRIMEOUTPUTFAILED"
    assert "does not exist" in exc.value.message
    write(sample().select(["id"]), tmp_path / "t.raw")
    with pytest.raises(ExecutionError) as exc:
        run_flow(conformance.assemble(src, make_source(src.columns, tmp_path / "t.raw")))
    assert exc.value.code == "DTS_E_PRIMEOUTPUTFAILED"
    assert "'name'" in exc.value.message


def test_a_file_that_is_not_arrow_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ssis.raw").write_bytes(b"\x00\x01SSIS raw buffer dump")
    src = table_source(sample())
    with pytest.raises(ExecutionError) as exc:
        run_flow(conformance.assemble(src, make_source(src.columns, tmp_path / "ssis.raw")))
    assert "not an Arrow IPC stream file" in exc.value.message
