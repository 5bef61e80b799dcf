"""Parquet files for the Parquet Source / Destination (our addition to the SSIS toolbox).

Reading streams batch by batch with ``pyarrow.parquet.ParquetFile.iter_batches`` (one row group
at a time in memory); a source can name one file, a folder (every ``*.parquet`` in it, sorted) or a
glob pattern (``/data/sales-*.parquet``), read one file after another. Writing streams with
``pyarrow.parquet.ParquetWriter``: batches are buffered only up to one row group.

pyarrow stores the Arrow schema, field metadata included, in the Parquet footer, so the SSIS
types that travel in field metadata (``ssis.type``, ``ssis.length``...) survive a round trip.

This module imports nothing from ``dataflow``; it raises :class:`ParquetError` (and subclasses),
which the components map to error codes.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import pyarrow as pa
import pyarrow.parquet as pq

WriteMode = Literal["create", "create_once"]
COMPRESSIONS = ("snappy", "zstd", "gzip", "lz4", "brotli", "none")
DEFAULT_ROW_GROUP_ROWS = 1_048_576


class ParquetError(Exception):
    """A Parquet file could not be read or written."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(message)


class ParquetFileNotFound(ParquetError):
    """No file matches the name, folder or pattern."""


class ParquetFileExists(ParquetError):
    """The file exists and the write mode does not allow replacing it."""


_GLOB_CHARS = frozenset("*?[")


def resolve_files(location: str | os.PathLike[str]) -> list[Path]:
    """The files a source reads: one file, every ``*.parquet`` of a folder, or a glob's matches
    (sorted, so the order is stable). Raises :class:`ParquetFileNotFound` when there are none."""
    text = str(location)
    p = Path(text)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.parquet") if f.is_file())
    elif any(c in text for c in _GLOB_CHARS):
        files = sorted(Path(f) for f in glob.glob(text) if Path(f).is_file())
    else:
        files = [p] if p.is_file() else []
    if not files:
        raise ParquetFileNotFound(f"no Parquet file at {text!r}", text)
    return files


def read_schema(location: str | os.PathLike[str]) -> pa.Schema:
    """The Arrow schema of the first file the location names."""
    first = resolve_files(location)[0]
    try:
        return pq.read_schema(first)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ParquetError(f"{str(first)!r} is not a readable Parquet file: {exc}", first) from exc


def iter_batches(
    location: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    batch_rows: int = 65_536,
) -> Iterator[pa.RecordBatch]:
    """Record batches of every file the location names, file after file, ``columns`` only."""
    for path in resolve_files(location):
        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ParquetError(
                f"{str(path)!r} is not a readable Parquet file: {exc}", path
            ) from exc
        try:
            if columns is not None:
                missing = [c for c in columns if c not in pf.schema_arrow.names]
                if missing:
                    raise ParquetError(
                        f"{str(path)!r} has no column(s) {missing}; it has {pf.schema_arrow.names}",
                        path,
                    )
            try:
                yield from pf.iter_batches(
                    batch_size=batch_rows, columns=list(columns) if columns is not None else None
                )
            except (pa.ArrowInvalid, OSError) as exc:
                raise ParquetError(f"reading {str(path)!r} failed: {exc}", path) from exc
        finally:
            pf.close()


def read_table(location: str | os.PathLike[str]) -> pa.Table:
    """Everything the location names as one table (tests and small files)."""
    batches = list(iter_batches(location))
    if not batches:
        return read_schema(location).empty_table()
    return pa.Table.from_batches(batches)


class ParquetFileWriter:
    """Streams record batches into one Parquet file.

    ``compression``: snappy (default), zstd, gzip, lz4, brotli or none; ``row_group_rows``: rows
    per row group (batches are gathered until a row group is full, then written).
    ``mode``: ``create`` replaces an existing file, ``create_once`` fails when it exists.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        schema: pa.Schema,
        *,
        compression: str = "snappy",
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
        mode: WriteMode = "create",
    ) -> None:
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        self.row_group_rows = max(1, row_group_rows)
        codec = compression.strip().lower() or "snappy"
        if codec not in COMPRESSIONS:
            raise ParquetError(
                f"unknown Parquet compression {compression!r}; use one of {', '.join(COMPRESSIONS)}",
                self.path,
            )
        if mode == "create_once" and self.path.exists():
            raise ParquetFileExists(f"Parquet file {str(self.path)!r} already exists", self.path)
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        try:
            self._writer: Any = pq.ParquetWriter(
                str(self.path),
                schema,
                compression=cast(Any, codec),  # checked against COMPRESSIONS above
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise ParquetError(
                f"cannot create Parquet file {str(self.path)!r}: {exc}", self.path
            ) from exc

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if batch.schema != self.schema:
            try:
                batch = pa.RecordBatch.from_arrays(
                    [
                        c if c.type == f.type else c.cast(f.type)
                        for c, f in zip(batch.columns, self.schema, strict=True)
                    ],
                    schema=self.schema,
                )
            except (ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ParquetError(
                    f"batch does not fit {str(self.path)!r}: {exc}", self.path
                ) from exc
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._pending_rows >= self.row_group_rows:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        if not self._pending:
            return
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        cut = table.num_rows if final else table.num_rows - table.num_rows % self.row_group_rows
        try:
            if cut:
                self._writer.write_table(table.slice(0, cut), row_group_size=self.row_group_rows)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ParquetError(f"writing {str(self.path)!r} failed: {exc}", self.path) from exc
        rest = table.slice(cut)
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def close(self) -> None:
        """Write the last row group and the footer; safe to call twice."""
        if self._writer is None:
            return
        try:
            self._flush(final=True)
        finally:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            except (pa.ArrowInvalid, OSError) as exc:
                raise ParquetError(f"closing {str(self.path)!r} failed: {exc}", self.path) from exc

    def __enter__(self) -> ParquetFileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "COMPRESSIONS",
    "ParquetError",
    "ParquetFileExists",
    "ParquetFileNotFound",
    "ParquetFileWriter",
    "iter_batches",
    "read_schema",
    "read_table",
    "resolve_files",
]
