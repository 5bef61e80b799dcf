"""Parquet Destination: conformance suite, SSIS types in the file, compression, row groups."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors import parquet
from dataflow.core.datatypes import spec_from_field
from dataflow.package.model import Component, CustomProperty, Input, InputColumn
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_raw_destination import typed_table
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
PD = f"{TASK}\\Parquet Destination"


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


def make_destination(src: SourceInfo, path: Path | str, **props: str) -> Component:
    inp = f"{PD}.Inputs[Parquet Destination Input]"
    values = {"AccessMode": "0", "FileName": str(path), "WriteOption": "0", **props}
    return Component(
        PD,
        "Parquet Destination",
        "Dataflow.ParquetDestination",
        custom_properties=tuple(CustomProperty(k, v) for k, v in values.items()),
        inputs=(
            Input(
                inp,
                "Parquet Destination Input",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in src.columns),
            ),
        ),
    )


def write(
    table: pa.Table, path: Path, batch_rows: int = 1_000, **props: str
) -> conformance.FlowResult:
    src = table_source(table, batch_rows=batch_rows)
    return run_flow(conformance.assemble(src, make_destination(src, path, **props)))


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    run_case(case, lambda src: make_destination(src, target), sample(), conserves_rows=False)
    if case != "cancel":
        got = pq.read_table(target)
        assert got.column_names == ["id", "name"]
        assert got.num_rows == {"sample": 3, "empty": 0, "nulls": 3, "large": 300_000}[case]
    if case == "sample":
        assert got.to_pydict() == {"id": [1, 2, 3], "name": ["a", None, "c"]}


def test_file_keeps_values_and_ssis_types(tmp_path: Path) -> None:
    table = typed_table()
    write(table, tmp_path / "t.parquet")
    got = pq.read_table(tmp_path / "t.parquet")
    for f in table.schema:
        assert spec_from_field(got.schema.field(f.name)) == spec_from_field(f), f.name
        assert got.column(f.name).to_pylist() == table.column(f.name).to_pylist(), f.name


def test_compression_and_row_group_size(tmp_path: Path) -> None:
    table = pa.table({"n": pa.array(range(10_000), pa.int64())})
    write(table, tmp_path / "z.parquet", Compression="zstd", RowGroupSize="4000")
    meta = pq.ParquetFile(tmp_path / "z.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4000, 4000, 2000]
    assert meta.row_group(0).column(0).compression == "ZSTD"
    write(table, tmp_path / "n.parquet", Compression="none")
    assert (
        pq.ParquetFile(tmp_path / "n.parquet").metadata.row_group(0).column(0).compression
        == "UNCOMPRESSED"
    )
    assert parquet.read_table(tmp_path / "n.parquet").column("n").to_pylist() == list(range(10_000))


def test_create_once_refuses_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "t.parquet"
    write(sample(), target)
    src = table_source(sample().slice(0, 1))
    res = run_flow(
        conformance.assemble(src, make_destination(src, target, WriteOption="1")),
        raise_on_error=False,
    )
    assert res.stats.error is not None and res.stats.error.code == "DTS_E_PROCESSINPUTFAILED"
    assert pq.read_table(target).num_rows == 3


def test_append_options_and_unknown_compression_fail_validation(tmp_path: Path) -> None:
    src = table_source(sample())
    comp = make_destination(src, tmp_path / "t.parquet", WriteOption="2", Compression="zip")
    with pytest.raises(FlowValidationError) as exc:
        run_flow(conformance.assemble(src, comp))
    messages = " ".join(p.message for p in exc.value.problems)
    assert "WriteOption" in messages and "Compression" in messages
