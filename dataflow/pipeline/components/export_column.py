"""Export Column (class id ``Microsoft.Extractor``): writes a column's content to files.

Of the input columns, the *file path* column carries ``FileDataColumnID`` = ``#{lineage id}`` of
the *extract* column (the data: DT_IMAGE, DT_TEXT or DT_NTEXT; DT_BYTES / DT_STR / DT_WSTR
accepted too). Component properties ``ExtractColumn`` / ``FilePathColumn`` (column names) are
accepted as well. Options, on the path column (else the extract column, else the component):
``AllowAppend`` (add to an existing file), ``ForceTruncate`` (replace an existing file; not both),
``WriteBOM`` (start a new DT_NTEXT file with the UTF-16LE byte-order mark). With neither option an
existing file is an error. DT_NTEXT is written as UTF-16LE, DT_TEXT in its code page, binary as is.
Rows pass through to "Export Column Output".

Files are written once per distinct path in a batch (rows sorted by path, stable, so rows of one
file keep their order): with AllowAppend the file receives every row's data in order; with
ForceTruncate the last row's data is what remains (each row replaces the file, as in SSIS); with
neither only the first row of a new file can be written and the others fail. The bytes of a file
are sliced straight out of the Arrow buffers, never gathered row by row. A NULL path, an existing
file, a write error or a character the code page cannot hold is a row error on the extract column
(fail, ignore, or redirect to "Export Column Error Output" with ``ErrorCode`` / ``ErrorColumn``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Component, Input, InputColumn, to_bool
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent
from dataflow.pipeline.components.import_column import codec_of
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, error_batch, route

# Until a file-write code exists in dataflow.core.errors (proposed: DTS_E_FILEWRITEFAILED,
# 0xC00F0302), a file that cannot be written is reported with the column-status code.
WRITE_FAILED = "DTS_E_FILEWRITEFAILED"
_DATA_TYPES = frozenset({"DT_IMAGE", "DT_BYTES", "DT_TEXT", "DT_NTEXT", "DT_STR", "DT_WSTR"})
_BOM_UTF16LE = b"\xff\xfe"


@dataclass(frozen=True)
class _Export:
    data_col: InputColumn
    data: ColumnInfo
    path_col: InputColumn
    allow_append: bool
    force_truncate: bool
    write_bom: bool


def _flag(name: str, *holders: InputColumn | Component) -> bool:
    for h in holders:
        value = h.prop(name)
        if value is not None and value.strip():
            return to_bool(value)
    return False


def _ref(value: str | None) -> str:
    text = (value or "").strip()
    return text[2:-1] if text.startswith("#{") and text.endswith("}") else text


def _buffer_bytes(arr: pa.Array[Any]) -> bytes:
    """The concatenated values of a (large) binary / string array, sliced out of its data buffer
    (no per-value Python)."""
    if len(arr) == 0:
        return b""
    binary = pa.types.is_large_binary(arr.type) or pa.types.is_binary(arr.type)
    arr = pc.fill_null(arr, cast(Any, b"" if binary else ""))
    large = pa.types.is_large_binary(arr.type) or pa.types.is_large_string(arr.type)
    bufs = arr.buffers()
    offsets = pa.Array.from_buffers(
        pa.int64() if large else pa.int32(), len(arr) + 1, [None, bufs[1]], offset=arr.offset
    )
    first, last = int(offsets[0].as_py()), int(offsets[len(arr)].as_py())
    if bufs[2] is None or last == first:
        return b""
    data: bytes = bufs[2].slice(first, last - first).to_pybytes()
    return data


@register("Microsoft.Extractor")
class ExportColumn(PipelineComponent):
    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.exports: list[_Export] = []

    def _exports(self) -> tuple[list[_Export], list[DataflowError]]:
        problems: list[DataflowError] = []
        exports: list[_Export] = []
        if not self.model.inputs:
            return [], [
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    "Export Column has no input",
                    path=self.model.ref_id,
                )
            ]
        inp = self.model.inputs[0]
        by_number = {n: ref for ref, n in self.layout.numeric.items()}
        pairs: list[tuple[InputColumn, InputColumn]] = []
        for ic in inp.columns:
            raw = ic.prop("FileDataColumnID")
            if raw is None or raw.strip() in ("", "0", "#0"):
                continue
            ref = _ref(raw)
            if ref.lstrip("#").isdigit():
                ref = by_number.get(int(ref.lstrip("#")), ref)
            data = next((c for c in inp.columns if ref in (c.lineage_id, c.ref_id)), None)
            if data is None:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"path column {ic.name!r} names {raw!r} as its extract column, which is "
                        f"not an input column of {self.model.name!r}",
                        path=ic.ref_id,
                        hint="select the extract column as an input column too",
                    )
                )
                continue
            pairs.append((data, ic))
        extract, file_path = self.model.prop("ExtractColumn"), self.model.prop("FilePathColumn")
        if not pairs and extract and file_path:
            named = {c.name: c for c in inp.columns}
            if extract in named and file_path in named:
                pairs.append((named[extract], named[file_path]))
            else:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"ExtractColumn {extract!r} / FilePathColumn {file_path!r} are not both "
                        f"input columns of {self.model.name!r}",
                        path=self.model.ref_id,
                    )
                )
        for data_col, path_col in pairs:
            try:
                info = self.input_column_info(inp, data_col)
            except ValidationError as exc:
                problems.append(exc)
                continue
            if info.spec.name not in _DATA_TYPES:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"extract column {data_col.name!r} is {info.spec.name}; Export Column "
                        "writes DT_IMAGE, DT_TEXT or DT_NTEXT",
                        path=data_col.ref_id,
                    )
                )
                continue
            holders = (path_col, data_col, self.model)
            e = _Export(
                data_col,
                info,
                path_col,
                _flag("AllowAppend", *holders),
                _flag("ForceTruncate", *holders),
                _flag("WriteBOM", *holders),
            )
            if e.allow_append and e.force_truncate:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"{data_col.name!r}: AllowAppend and ForceTruncate cannot both be True",
                        path=path_col.ref_id,
                        hint="choose to append to existing files or to replace them",
                    )
                )
                continue
            exports.append(e)
        if not pairs and not problems:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"Export Column {self.model.name!r} has no path column with a FileDataColumnID",
                    path=self.model.ref_id,
                    hint="pick the extract column and the column holding the file paths",
                )
            )
        return exports, problems

    def validate(self) -> list[DataflowError]:
        return self._exports()[1]

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.exports = self._exports()[0]

    def _encode(self, e: _Export, values: pa.Array[Any]) -> bytes:
        raw = _buffer_bytes(values)
        kind = e.data.spec.name
        if kind in ("DT_IMAGE", "DT_BYTES"):
            return raw
        text = raw.decode("utf-8")  # Arrow strings are UTF-8
        if kind in ("DT_NTEXT", "DT_WSTR"):
            return text.encode("utf-16-le")
        return text.encode(codec_of(e.data.spec.codepage))

    def _write(self, e: _Export, batch: pa.RecordBatch) -> tuple[pa.Int64Array | None, str]:
        """Write the files of one batch; the row numbers that failed, and the first reason."""
        paths = batch.column(e.path_col.lineage_id)
        data = batch.column(e.data_col.lineage_id)
        failed: list[pa.Array[Any]] = []
        reasons: list[str] = []
        nulls = pc.is_null(paths)
        if pc.any(nulls).as_py():
            failed.append(pc.indices_nonzero(nulls))
            reasons.append("NULL file path: nowhere to write")
        valid = pc.indices_nonzero(pc.invert(nulls))
        if len(valid):
            encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(paths.take(valid)))
            order = pc.sort_indices(encoded.indices)  # stable: a file's rows keep their order
            codes = encoded.indices.take(order)
            rows_by_file = valid.take(order)
            m = len(codes)
            change = pc.not_equal(codes.slice(1), codes.slice(0, m - 1))
            starts: list[int] = [
                0,
                *cast(list[int], pc.add(pc.indices_nonzero(change), 1).to_pylist()),
            ]
            ends = [*starts[1:], m]
            # One write per distinct file (I/O), never per row.
            for s, t in zip(starts, ends, strict=True):
                self.context.check_cancel(self.model.ref_id)
                rows = rows_by_file.slice(s, t - s)
                path = Path(str(encoded.dictionary[codes[s].as_py()].as_py()))
                bad, reason = self._write_file(e, path, rows, data)
                if bad is not None and len(bad):
                    failed.append(bad)
                    reasons.append(reason)
        if not failed:
            return None, ""
        rows_failed = pa.concat_arrays([f.cast(pa.int64()) for f in failed])
        return cast(pa.Int64Array, rows_failed), reasons[0]

    def _write_file(
        self, e: _Export, path: Path, rows: pa.Array[Any], data: pa.Array[Any]
    ) -> tuple[pa.Array[Any] | None, str]:
        """Write the rows ``rows`` (row numbers, in order) of one file; the rows that failed."""
        exists = path.exists()
        if e.allow_append:
            write, mode = rows, "ab"
        elif e.force_truncate:
            write, mode = rows.slice(len(rows) - 1), "wb"  # each row replaces the file: last wins
        elif exists:
            return rows, f"{path}: the file exists (AllowAppend and ForceTruncate are False)"
        else:
            write, mode = rows.slice(0, 1), "wb"
        try:
            payload = self._encode(e, data.take(write))
            fresh = mode == "wb" or not exists or path.stat().st_size == 0
            if e.write_bom and fresh and e.data.spec.name in ("DT_NTEXT", "DT_WSTR"):
                payload = _BOM_UTF16LE + payload
            with open(path, mode) as f:
                f.write(payload)
        except (OSError, UnicodeError) as exc:
            return rows, f"{path}: {exc}"
        if mode == "wb" and not e.force_truncate and len(rows) > 1:
            later = rows.slice(1)  # the first row created the file; the others find it there
            return later, f"{path}: already written by an earlier row (AllowAppend is False)"
        return None, ""

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        failures: list[ColumnFailure] = []
        numbers = pl.int_range(0, batch.num_rows, eager=True, dtype=pl.Int64).to_arrow()
        for e in self.exports:
            failed, reason = self._write(e, batch)
            if failed is not None:
                disposition = e.data_col.error_row_disposition
                if disposition == "NotUsed":
                    disposition = e.path_col.error_row_disposition
                failures.append(
                    ColumnFailure(
                        e.data_col.name,
                        self.layout.numeric.get(e.data_col.lineage_id, 0),
                        pc.is_in(numbers, value_set=failed),
                        WRITE_FAILED,
                        disposition,
                        detail=f"cannot write {reason}",
                    )
                )
        out = self.output()
        routed = route(self.model.ref_id, batch.num_rows, failures)
        if routed.redirect is None:
            return [(out, batch)]
        err = self.error_output()
        if err is None:
            raise ExecutionError(
                "DTS_E_INDUCEDTRANSFORMFAILUREONERROR",
                f"rows of {self.model.name!r} are to be redirected but it has no error output",
                path=self.model.ref_id,
            )
        assert routed.keep is not None
        return [
            (out, batch.filter(routed.keep)),
            (err, error_batch(batch, routed, err, self.layout.numeric)),
        ]
