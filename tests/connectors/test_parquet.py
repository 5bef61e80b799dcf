"""connectors.parquet: file / folder / glob resolution, streaming reads, writer options."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors import parquet

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int32(), metadata={b"ssis.type": b"DT_I4"}),
        pa.field("price", pa.decimal128(10, 2), metadata={b"ssis.type": b"DT_NUMERIC"}),
    ]
)


def batch(ids: list[int]) -> pa.RecordBatch:
    import decimal

    return pa.record_batch(
        [
            pa.array(ids, pa.int32()),
            pa.array([decimal.Decimal(i) / 4 for i in ids], pa.decimal128(10, 2)),
        ],
        schema=SCHEMA,
    )


def test_writer_keeps_field_metadata_and_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    with parquet.ParquetFileWriter(path, SCHEMA, row_group_rows=3, compression="zstd") as w:
        w.write(batch([1, 2]))
        w.write(batch([3, 4, 5, 6, 7]))
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [3, 3, 1]
    table = parquet.read_table(path)
    assert table.column("id").to_pylist() == [1, 2, 3, 4, 5, 6, 7]
    assert table.schema.field("price").metadata == {b"ssis.type": b"DT_NUMERIC"}
    assert table.schema.field("price").type == pa.decimal128(10, 2)


def test_resolve_files_single_folder_glob(tmp_path: Path) -> None:
    for name in ("b.parquet", "a.parquet", "c.PARQ"):
        pq.write_table(
            batch([1]).to_pandas() if False else pa.Table.from_batches([batch([1])]),
            tmp_path / name,
        )
    assert parquet.resolve_files(tmp_path / "a.parquet") == [tmp_path / "a.parquet"]
    assert parquet.resolve_files(tmp_path) == [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    assert parquet.resolve_files(str(tmp_path / "*.PARQ")) == [tmp_path / "c.PARQ"]
    with pytest.raises(parquet.ParquetFileNotFound):
        parquet.resolve_files(tmp_path / "missing.parquet")
    with pytest.raises(parquet.ParquetFileNotFound):
        parquet.resolve_files(str(tmp_path / "z*.parquet"))


def test_iter_batches_streams_by_batch_size_and_columns(tmp_path: Path) -> None:
    pq.write_table(
        pa.Table.from_batches([batch(list(range(100)))]), tmp_path / "t.parquet", row_group_size=30
    )
    batches = list(parquet.iter_batches(tmp_path / "t.parquet", columns=["id"], batch_rows=25))
    assert all(b.num_rows <= 25 for b in batches)
    assert sum(b.num_rows for b in batches) == 100
    assert batches[0].schema.names == ["id"]
    with pytest.raises(parquet.ParquetError, match="no column"):
        list(parquet.iter_batches(tmp_path / "t.parquet", columns=["nope"]))


def test_create_once_and_unknown_compression(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    with parquet.ParquetFileWriter(path, SCHEMA):
        pass
    assert parquet.read_table(path).num_rows == 0
    with pytest.raises(parquet.ParquetFileExists):
        parquet.ParquetFileWriter(path, SCHEMA, mode="create_once")
    with pytest.raises(parquet.ParquetError, match="compression"):
        parquet.ParquetFileWriter(tmp_path / "u.parquet", SCHEMA, compression="zip")


def test_not_a_parquet_file(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_text("hello")
    with pytest.raises(parquet.ParquetError, match="not a readable Parquet file"):
        list(parquet.iter_batches(tmp_path / "x.parquet"))


def test_write_casts_to_the_file_schema(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    castable = pa.record_batch(
        [pa.array([8], pa.int64()), pa.array([1.5], pa.float64())], names=["a", "b"]
    )
    wrong = pa.record_batch([pa.array(["x"]), pa.array([1.0])], names=["a", "b"])
    with parquet.ParquetFileWriter(path, SCHEMA) as w:
        w.write(castable)  # names and types come from the file schema
        with pytest.raises(parquet.ParquetError, match="does not fit"):
            w.write(wrong)
    table = parquet.read_table(path)
    assert table.column_names == ["id", "price"]
    assert table.column("id").to_pylist() == [8]
    assert str(table.column("price")[0].as_py()) == "1.50"
