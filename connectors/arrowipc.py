"""Arrow IPC stream files: the runtime's *raw file* format (Raw File Source / Destination).

SSIS's own ``.raw`` format is an undocumented binary buffer dump; it cannot be read here. Our raw
files are Arrow IPC **stream** files instead (``pyarrow.ipc`` stream format): a schema message,
then record-batch messages, then an end-of-stream marker. Any Arrow implementation reads them
(``pyarrow.ipc.open_stream``, ``polars.read_ipc_stream``, DuckDB's arrow extension).

Reading and writing stream batch by batch, so memory stays bounded. Appending (the Raw File
Destination's *Append* and *Truncate and append* options) writes further record-batch messages
after the existing ones: the end-of-stream marker is removed, new messages are added, the marker
is written again. The appended batches must have the file's schema (names and types).

This module imports nothing from ``dataflow``; it raises :class:`ArrowIpcError` (and subclasses),
which the components map to error codes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
from pyarrow import ipc

WriteMode = Literal["create", "create_once", "append", "truncate_append"]

# The stream format's end-of-stream marker: continuation token 0xFFFFFFFF, then length 0.
_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"


class ArrowIpcError(Exception):
    """A raw (Arrow IPC stream) file could not be read or written."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(message)


class RawFileNotFound(ArrowIpcError):
    """The file does not exist."""


class RawFileExists(ArrowIpcError):
    """The file exists and the write mode does not allow replacing it (Create once)."""


class RawSchemaMismatch(ArrowIpcError):
    """Appended batches do not have the existing file's columns and types."""


def read_schema(path: str | os.PathLike[str]) -> pa.Schema:
    """The schema of a raw file (field metadata included)."""
    with _open_reader(path) as reader:
        schema: pa.Schema = reader.schema
        return schema


def iter_batches(
    path: str | os.PathLike[str], *, max_rows: int | None = None
) -> Iterator[pa.RecordBatch]:
    """The record batches of a raw file, in order; batches longer than ``max_rows`` are sliced."""
    with _open_reader(path) as reader:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError) as exc:
                raise ArrowIpcError(f"{path}: corrupt raw file: {exc}", path) from exc
            if max_rows and batch.num_rows > max_rows:
                for start in range(0, batch.num_rows, max_rows):
                    yield batch.slice(start, max_rows)
            else:
                yield batch


def read_table(path: str | os.PathLike[str]) -> pa.Table:
    """A whole raw file (tests and small files)."""
    with _open_reader(path) as reader:
        try:
            table: pa.Table = reader.read_all()
            return table
        except (pa.ArrowInvalid, OSError) as exc:
            raise ArrowIpcError(f"{path}: corrupt raw file: {exc}", path) from exc


class _Reader:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.file: Any = None
        self.reader: Any = None

    def __enter__(self) -> Any:
        p = Path(self.path)
        if not p.is_file():
            raise RawFileNotFound(f"raw file {str(p)!r} does not exist", p)
        try:
            self.file = pa.OSFile(str(p), "rb")  # not a memory map: batches may outlive the file
            self.reader = ipc.open_stream(self.file)
        except (pa.ArrowInvalid, OSError) as exc:
            self.__exit__()
            raise ArrowIpcError(
                f"{str(p)!r} is not an Arrow IPC stream file (raw files of SSIS itself cannot "
                f"be read): {exc}",
                p,
            ) from exc
        return self.reader

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _open_reader(path: str | os.PathLike[str]) -> _Reader:
    return _Reader(path)


class RawFileWriter:
    """Writes record batches to a raw file, one message per batch.

    ``mode``: ``create`` (Create always: replace any file), ``create_once`` (fail when the file
    exists), ``append`` (add to an existing file; a missing file is created), ``truncate_append``
    (empty an existing file, keep its schema, then write; the file must exist).
    """

    def __init__(self, path: str | os.PathLike[str], schema: pa.Schema, mode: WriteMode = "create"):
        self.path = Path(path)
        self.schema = schema
        self.mode = mode
        self.rows = 0
        self._file: IO[bytes] | None = None
        self._stream: Any = None
        self._open()

    def _open(self) -> None:
        p = self.path
        exists = p.is_file()
        try:
            if self.mode == "create_once" and exists:
                raise RawFileExists(
                    f"raw file {str(p)!r} already exists (write option Create once)", p
                )
            if self.mode in ("append", "truncate_append") and exists and p.stat().st_size > 0:
                existing = read_schema(p)
                _check_schema(existing, self.schema, p)
                self.schema = existing  # appended batches are cast to the file's exact types
                if self.mode == "truncate_append":
                    self._new_stream()
                    return
                f = open(p, "r+b")  # noqa: SIM115 - closed in close()
                f.seek(0, os.SEEK_END)
                if f.tell() >= len(_EOS):
                    f.seek(-len(_EOS), os.SEEK_END)
                    if f.read(len(_EOS)) == _EOS:
                        f.seek(-len(_EOS), os.SEEK_END)
                        f.truncate()
                f.seek(0, os.SEEK_END)
                self._file = f
                return
            if self.mode == "truncate_append" and not exists:
                raise RawFileNotFound(
                    f"raw file {str(p)!r} does not exist (write option Truncate and append)", p
                )
            self._new_stream()
        except ArrowIpcError:
            raise
        except OSError as exc:
            raise ArrowIpcError(f"cannot open raw file {str(p)!r} for writing: {exc}", p) from exc

    def _new_stream(self) -> None:
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._stream = ipc.new_stream(self._file, self.schema)

    def write(self, batch: pa.RecordBatch) -> None:
        """Write one batch (renamed and cast to the file's schema when needed)."""
        if batch.num_rows == 0:
            return
        if batch.schema != self.schema:
            batch = _conform(batch, self.schema, self.path)
        try:
            if self._stream is not None:
                self._stream.write_batch(batch)
            else:
                assert self._file is not None
                self._file.write(batch.serialize().to_pybytes())
        except OSError as exc:
            raise ArrowIpcError(
                f"writing raw file {str(self.path)!r} failed: {exc}", self.path
            ) from exc
        self.rows += batch.num_rows

    def close(self) -> None:
        """Finish the stream (end-of-stream marker) and close the file; safe to call twice."""
        try:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
            elif self._file is not None and not self._file.closed:
                self._file.write(_EOS)
        finally:
            if self._file is not None and not self._file.closed:
                self._file.close()

    def __enter__(self) -> RawFileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_schema(existing: pa.Schema, new: pa.Schema, path: Path) -> None:
    names_old, names_new = existing.names, new.names
    if names_old != names_new:
        raise RawSchemaMismatch(
            f"raw file {str(path)!r} has columns {names_old}, the data has {names_new}", path
        )
    for a, b in zip(existing, new, strict=True):
        if a.type != b.type:
            raise RawSchemaMismatch(
                f"raw file {str(path)!r}: column {a.name!r} is {a.type} in the file, {b.type} in the data",
                path,
            )


def _conform(batch: pa.RecordBatch, schema: pa.Schema, path: Path) -> pa.RecordBatch:
    if batch.num_columns != len(schema):
        raise RawSchemaMismatch(
            f"raw file {str(path)!r} has {len(schema)} columns, the data has {batch.num_columns}",
            path,
        )
    try:
        arrays = [
            col if col.type == f.type else col.cast(f.type)
            for col, f in zip(batch.columns, schema, strict=True)
        ]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise RawSchemaMismatch(f"raw file {str(path)!r}: {exc}", path) from exc
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


__all__ = [
    "ArrowIpcError",
    "RawFileExists",
    "RawFileNotFound",
    "RawFileWriter",
    "RawSchemaMismatch",
    "iter_batches",
    "read_schema",
    "read_table",
]
