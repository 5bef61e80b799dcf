"""Import Column (class id ``Microsoft.Inserter``): reads files named in a column into a column.

An input column holding file paths carries ``FileDataColumnID`` = ``#{output column refId}``: the
output column (DT_IMAGE, DT_TEXT or DT_NTEXT; DT_BYTES / DT_STR / DT_WSTR accepted too) that
receives each file's content. ``ExpectBOM`` (on the path column) strips a leading UTF-16 byte-order
mark from DT_NTEXT content. DT_TEXT is decoded with the column's code page, DT_NTEXT as UTF-16LE.
A NULL path gives a NULL value.

Reading a file is I/O that has to happen once per file, but not once per row: each batch reads
every *distinct* path once, and the output column is built in one go (``index_in`` + ``take``).
A file that cannot be read or decoded is a row error on the path column, routed by that column's
``errorRowDisposition`` (fail, ignore: NULL value, redirect to "Import Column Error Output" with
``ErrorCode`` / ``ErrorColumn``).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Component, Input, InputColumn, OutputColumn, to_bool
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent, sync_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, error_batch, route

# Until a file-read code exists in dataflow.core.errors (proposed: DTS_E_FILEREADFAILED,
# 0xC00F0301), a file that cannot be read is reported with the column-status code.
READ_FAILED = "DTS_E_FILEREADFAILED"
_BLOB_TYPES = frozenset({"DT_IMAGE", "DT_BYTES", "DT_TEXT", "DT_NTEXT", "DT_STR", "DT_WSTR"})
_BOM_UTF16LE = b"\xff\xfe"


def codec_of(codepage: int) -> str:
    """The Python codec of a Windows code page (1252 -> cp1252, 65001 -> utf-8)."""
    return {65001: "utf-8", 1200: "utf-16-le", 1201: "utf-16-be", 20127: "ascii"}.get(
        codepage, f"cp{codepage}"
    )


@dataclass(frozen=True)
class _Link:
    path_col: InputColumn
    target: OutputColumn
    info: ColumnInfo
    expect_bom: bool


def _ref(value: str | None) -> str:
    text = (value or "").strip()
    return text[2:-1] if text.startswith("#{") and text.endswith("}") else text


@register("Microsoft.Inserter")
class ImportColumn(PipelineComponent):
    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.links: list[_Link] = []

    def _links(self) -> tuple[list[_Link], list[DataflowError]]:
        problems: list[DataflowError] = []
        links: list[_Link] = []
        out = self.output()
        targets = {c.lineage_id: c for c in out.columns}
        by_number = {n: ref for ref, n in self.layout.numeric.items()}
        for inp in self.model.inputs:
            for ic in inp.columns:
                raw = ic.prop("FileDataColumnID")
                if raw is None or raw.strip() in ("", "0", "#0"):
                    continue
                ref = _ref(raw)
                if ref.lstrip("#").isdigit():
                    ref = by_number.get(int(ref.lstrip("#")), ref)
                target = targets.get(ref)
                if target is None:
                    problems.append(
                        ValidationError(
                            "DTS_E_VALIDATIONFAILED",
                            f"path column {ic.name!r} names {raw!r} as its data column, which is "
                            f"not a column of {out.name!r}",
                            path=ic.ref_id,
                            hint="set FileDataColumnID to the output column receiving the file",
                        )
                    )
                    continue
                info = self.column_info(target)
                if info.spec.name not in _BLOB_TYPES:
                    problems.append(
                        ValidationError(
                            "DTS_E_VALIDATIONFAILED",
                            f"output column {target.name!r} is {info.spec.name}; Import Column "
                            "writes DT_IMAGE, DT_TEXT or DT_NTEXT",
                            path=target.ref_id,
                        )
                    )
                    continue
                if info.spec.name in ("DT_TEXT", "DT_STR"):
                    try:
                        codecs.lookup(codec_of(info.spec.codepage))
                    except LookupError:
                        problems.append(
                            ValidationError(
                                "DTS_E_VALIDATIONFAILED",
                                f"code page {info.spec.codepage} of {target.name!r} is not known here",
                                path=target.ref_id,
                            )
                        )
                        continue
                links.append(_Link(ic, target, info, to_bool(ic.prop("ExpectBOM"))))
        if not links and not problems:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"Import Column {self.model.name!r} has no input column with a FileDataColumnID",
                    path=self.model.ref_id,
                    hint="pick the column holding file paths and the output column for the content",
                )
            )
        return links, problems

    def validate(self) -> list[DataflowError]:
        return self._links()[1]

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.links = self._links()[0]

    def _read(self, link: _Link, path: str) -> bytes | str:
        data = Path(path).read_bytes()
        kind = link.info.spec.name
        if kind in ("DT_IMAGE", "DT_BYTES"):
            return data
        if kind in ("DT_NTEXT", "DT_WSTR"):
            if link.expect_bom and data.startswith(_BOM_UTF16LE):
                data = data[len(_BOM_UTF16LE) :]
            return data.decode("utf-16-le")
        return data.decode(codec_of(link.info.spec.codepage))

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        arrays: list[pa.Array[Any]] = []
        failures: list[ColumnFailure] = []
        for link in self.links:
            self.context.check_cancel(self.model.ref_id)
            paths = batch.column(link.path_col.lineage_id)
            distinct = pc.drop_null(pc.unique(paths))
            contents: list[bytes | str | None] = []
            failed: list[str] = []
            details: list[str] = []
            # One read per distinct file (I/O), never per row.
            for p in cast(list[str], distinct.to_pylist()):
                try:
                    contents.append(self._read(link, p))
                except (OSError, UnicodeDecodeError) as exc:
                    contents.append(None)
                    failed.append(p)
                    details.append(f"{p}: {exc}")
            values = pa.array(contents, link.info.field.type).take(
                pc.index_in(paths, value_set=distinct)
            )
            arrays.append(values)
            if failed:
                hit = pc.is_in(cast(Any, paths), value_set=pa.array(failed, paths.type))
                mask = cast(pa.BooleanArray, pc.fill_null(hit, False))
                disposition = link.path_col.error_row_disposition
                if disposition == "NotUsed":
                    disposition = link.target.error_row_disposition
                failures.append(
                    ColumnFailure(
                        link.path_col.name,
                        self.layout.numeric.get(link.path_col.lineage_id, 0),
                        mask,
                        READ_FAILED,
                        disposition,
                        detail=f"cannot read {details[0]}",
                    )
                )
        out = self.output()
        good = sync_batch(batch, [link.info for link in self.links], arrays)
        routed = route(self.model.ref_id, batch.num_rows, failures)
        if routed.redirect is None:
            return [(out, good)]
        err = self.error_output()
        if err is None:
            raise ExecutionError(
                "DTS_E_INDUCEDTRANSFORMFAILUREONERROR",
                f"rows of {self.model.name!r} are to be redirected but it has no error output",
                path=self.model.ref_id,
            )
        assert routed.keep is not None
        return [
            (out, good.filter(routed.keep)),
            (err, error_batch(batch, routed, err, self.layout.numeric)),
        ]
