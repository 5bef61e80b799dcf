"""connectors.arrowipc: raw files as Arrow IPC streams, write modes, append, errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from connectors import arrowipc

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int32(), metadata={b"ssis.type": b"DT_I4"}),
        pa.field(
            "name", pa.large_string(), metadata={b"ssis.type": b"DT_WSTR", b"ssis.length": b"20"}
        ),
    ]
)


def batch(ids: list[int]) -> pa.RecordBatch:
    return pa.record_batch(
        [pa.array(ids, pa.int32()), pa.array([f"n{i}" for i in ids], pa.large_string())],
        schema=SCHEMA,
    )


def write(path: Path, *batches: pa.RecordBatch, mode: arrowipc.WriteMode = "create") -> None:
    with arrowipc.RawFileWriter(path, SCHEMA, mode) as w:
        for b in batches:
            w.write(b)


def test_written_file_is_a_plain_arrow_stream_with_metadata(tmp_path: Path) -> None:
    path = tmp_path / "t.raw"
    write(path, batch([1, 2]), batch([3]))
    with ipc.open_stream(path) as reader:  # any Arrow reader can read our raw files
        table = reader.read_all()
    assert table.column("id").to_pylist() == [1, 2, 3]
    assert table.schema.field("name").metadata == {b"ssis.type": b"DT_WSTR", b"ssis.length": b"20"}
    assert arrowipc.read_schema(path) == SCHEMA


def test_iter_batches_streams_and_slices(tmp_path: Path) -> None:
    path = tmp_path / "t.raw"
    write(path, batch(list(range(10))), batch([10, 11]))
    sizes = [b.num_rows for b in arrowipc.iter_batches(path, max_rows=4)]
    assert sizes == [4, 4, 2, 2]


def test_create_once_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "t.raw"
    write(path, batch([1]), mode="create_once")
    with pytest.raises(arrowipc.RawFileExists):
        write(path, batch([2]), mode="create_once")
    assert arrowipc.read_table(path).column("id").to_pylist() == [1]


def test_append_adds_messages_after_the_existing_ones(tmp_path: Path) -> None:
    path = tmp_path / "t.raw"
    write(path, batch([1]))
    write(path, batch([2, 3]), batch([4]), mode="append")
    write(path, mode="append")  # appending nothing keeps a valid file
    assert arrowipc.read_table(path).column("id").to_pylist() == [1, 2, 3, 4]
    write(tmp_path / "new.raw", batch([9]), mode="append")  # a missing file is created
    assert arrowipc.read_table(tmp_path / "new.raw").num_rows == 1


def test_append_casts_to_the_files_types_and_checks_names(tmp_path: Path) -> None:
    path = tmp_path / "t.raw"
    write(path, batch([1]))
    wide = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.large_string())])
    with pytest.raises(arrowipc.RawSchemaMismatch):  # int64 vs int32 in the file
        arrowipc.RawFileWriter(path, wide, "append")
    other = pa.schema([pa.field("key", pa.int32()), pa.field("name", pa.large_string())])
    with pytest.raises(arrowipc.RawSchemaMismatch, match="columns"):
        arrowipc.RawFileWriter(path, other, "append")


def test_truncate_and_append_needs_the_file_and_empties_it(tmp_path: Path) -> None:
    with pytest.raises(arrowipc.RawFileNotFound):
        write(tmp_path / "none.raw", batch([1]), mode="truncate_append")
    path = tmp_path / "t.raw"
    write(path, batch([1, 2, 3]))
    write(path, batch([7]), mode="truncate_append")
    assert arrowipc.read_table(path).column("id").to_pylist() == [7]


def test_empty_file_has_the_schema_and_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.raw"
    write(path)
    assert arrowipc.read_table(path).num_rows == 0
    assert list(arrowipc.iter_batches(path)) == []


def test_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(arrowipc.RawFileNotFound) as exc:
        arrowipc.read_schema(tmp_path / "nope.raw")
    assert exc.value.path == str(tmp_path / "nope.raw")
    (tmp_path / "x.raw").write_bytes(b"SSIS raw")
    with pytest.raises(arrowipc.ArrowIpcError, match="not an Arrow IPC stream"):
        list(arrowipc.iter_batches(tmp_path / "x.raw"))


def test_batch_with_other_field_names_is_renamed_to_the_file_schema(tmp_path: Path) -> None:
    path = tmp_path / "t.raw"
    lineage = pa.record_batch(
        [pa.array([5], pa.int32()), pa.array(["x"], pa.large_string())],
        names=["Pkg\\C.Columns[id]", "n"],
    )
    with arrowipc.RawFileWriter(path, SCHEMA) as w:
        w.write(lineage)
    assert arrowipc.read_table(path).to_pydict() == {"id": [5], "name": ["x"]}
