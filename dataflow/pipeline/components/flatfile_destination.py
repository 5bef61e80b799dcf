"""Flat File Destination: writes its input to the file of a Flat File connection manager.

Input columns map to flat-file columns through the input's external metadata columns
(``externalMetadataColumnId`` -> ExternalColumn name = flat-file column name); file columns no
input column maps to are written empty. Each batch is formatted a whole column at a time into
SSIS's canonical text forms (datatypes.md §3) and written straight away, so the destination never
holds more than one batch:

* DT_DBDATE ``yyyy-mm-dd``; DT_DBTIMESTAMP / DT_DATE ``yyyy-mm-dd hh:mm:ss`` plus ``.fff`` when
  the fraction is not zero; DT_DBTIMESTAMP2 / DT_DBTIME2 with ``scale`` fractional digits;
  DT_DBTIME ``hh:mm:ss``; DT_DBTIMESTAMPOFFSET ``yyyy-mm-dd hh:mm:ss[.fffffff] +hh:mm``;
* DT_BOOL ``True`` / ``False`` (what SSIS's cast of a Boolean to text gives);
* decimals in fixed notation with their scale, never with an exponent; binary as hexadecimal;
* NULL as an empty field.

Unqualified delimited files (one single-character delimiter) are written by polars' CSV writer:
the batch becomes one polars frame, the types polars does not format like SSIS are formatted in
one ``select``, and the frame goes straight to the writer. Other files are joined with Arrow.

``Overwrite`` (default True) truncates the file, False appends; ``Header`` is written before the
data (then the column names when the connection manager has ColumnNamesInFirstDataRow), both only
when the file starts empty.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from connectors.flatfile import FlatFileError, FlatFileWriter
from dataflow.core.datatypes import TypeSpec
from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Input, to_bool
from dataflow.pipeline.component import Emit, PipelineComponent
from dataflow.pipeline.components.flatfile_source import (
    connection_manager,
    file_error,
    flat_file_format,
)
from dataflow.pipeline.registry import register


def _fraction(expr: pl.Expr, digits: int) -> pl.Expr:
    """``.fff…`` with ``digits`` digits of the sub-second part (microseconds, zero-padded)."""
    micro = expr.dt.microsecond().cast(pl.String).str.zfill(6) + pl.lit("0")
    return pl.lit(".") + micro.str.slice(0, digits)


def _text_expr(col: pl.Expr, t: pa.DataType, spec: TypeSpec) -> pl.Expr | None:
    """A polars expression giving SSIS's text form of ``col`` (Arrow type ``t``, SSIS type
    ``spec``); None for types Arrow's cast formats (see :func:`to_text`)."""
    name = spec.name
    if pa.types.is_boolean(t):
        # NULL stays NULL (when/then alone would make it "False")
        return pl.when(col).then(pl.lit("True")).when(col.not_()).then(pl.lit("False"))
    if pa.types.is_floating(t):
        return col.cast(pl.String)
    if pa.types.is_timestamp(t):
        text = col.dt.strftime("%Y-%m-%d %H:%M:%S")
        if name == "DT_DBTIMESTAMP2":
            return text + _fraction(col, spec.scale) if spec.scale else text
        # DT_DBTIMESTAMP, DT_DATE, DT_FILETIME: milliseconds, only when there are some
        return pl.when(col.dt.microsecond() != 0).then(text + _fraction(col, 3)).otherwise(text)
    if pa.types.is_time(t):
        text = col.dt.strftime("%H:%M:%S")
        return text + _fraction(col, spec.scale) if name == "DT_DBTIME2" and spec.scale else text
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return col.bin.encode("hex").str.to_uppercase()
    if pa.types.is_struct(t) and name == "DT_DBTIMESTAMPOFFSET":
        utc, offset = col.struct.field("utc"), col.struct.field("offset_min")
        local = utc.dt.replace_time_zone(None) + pl.duration(minutes=offset)
        sign = pl.when(offset < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
        hh = (offset.abs() // 60).cast(pl.String).str.zfill(2)
        mm = (offset.abs() % 60).cast(pl.String).str.zfill(2)
        frac = _fraction(local, spec.scale) if spec.scale else pl.lit("")
        return local.dt.strftime("%Y-%m-%d %H:%M:%S") + frac + pl.lit(" ") + sign + hh + ":" + mm
    return None


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_large_string(t) or pa.types.is_string(t) or pa.types.is_string_view(t))


def _polars_plain(t: pa.DataType) -> bool:
    """Types polars' CSV writer formats exactly as SSIS text (no expression needed); floats
    it writes as their cast to text does (shortest round-trip form)."""
    return (
        _is_text(t)
        or pa.types.is_null(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_date32(t)
    )


def to_text(arr: pa.Array, spec: TypeSpec) -> pa.Array:
    """A column of SSIS type ``spec`` in SSIS's text form (NULL stays NULL)."""
    t = arr.type
    if _is_text(t):
        return arr.cast(pa.large_string())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.large_string())
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "True", "False").cast(pa.large_string())
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t):
        return arr.cast(pa.large_string())
    expr = _text_expr(pl.col("v"), t, spec)
    if expr is None:
        return arr.cast(pa.large_string())
    frame = pl.from_arrow(pa.table({"v": arr}))
    assert isinstance(frame, pl.DataFrame)
    out = frame.select(expr.alias("v")).get_column("v").to_arrow()
    out = out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
    return out.cast(pa.large_string())


@register("Microsoft.FlatFileDestination")
class FlatFileDestination(PipelineComponent):
    """The Flat File Destination (one input, no outputs)."""

    role = "destination"

    def validate(self) -> list[DataflowError]:
        if len(self.model.inputs) != 1:
            return [
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"the Flat File Destination needs one input, it has {len(self.model.inputs)}",
                    path=self.model.ref_id,
                )
            ]
        return []

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        self.writer: FlatFileWriter | None = None
        ref = self.model.ref_id
        cm = connection_manager(self)
        try:
            fmt = flat_file_format(cm)
            fmt.check()
        except FlatFileError as exc:
            raise file_error(exc, ref) from None
        inp = self.only_input()
        external = {e.ref_id: e.name for e in inp.external_columns}
        by_file: dict[str, tuple[str, TypeSpec]] = {}
        for col in inp.columns:
            name = external.get(col.attrs.get("externalMetadataColumnId", ""), col.name)
            by_file[name] = (col.lineage_id, self.input_column_info(inp, col).spec)
        unknown = set(by_file) - {c.name for c in fmt.columns}
        if unknown:
            raise ValidationError(
                "DTS_E_VALIDATIONFAILED",
                f"input columns map to {sorted(unknown)}, which connection manager {cm.name!r} "
                "does not have",
                path=ref,
                hint="map the input columns to the connection manager's columns",
            )
        self.mapping = [by_file.get(c.name) for c in fmt.columns]
        overwrite = to_bool(self.model.prop("Overwrite"), True)
        header = self.model.prop("Header", "") or ""
        try:
            self.writer = FlatFileWriter(
                cm.connection_string, fmt, append=not overwrite, header=header
            )
        except FlatFileError as exc:
            raise file_error(exc, ref, writing=True) from None

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        self.context.check_cancel(self.model.ref_id)
        n = batch.num_rows
        if self.writer is not None and self.writer.polars_format:
            self._write_polars(batch)
            return []
        columns: list[pa.Array] = []
        for m in self.mapping:
            if m is None:
                columns.append(pa.nulls(n, pa.large_string()))
            else:
                arr = batch.column(m[0])
                # the writer formats integers, decimals and dates itself (faster, same text)
                plain = pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type)
                columns.append(arr if plain or pa.types.is_date32(arr.type) else to_text(arr, m[1]))
        if self.writer is None:
            raise ExecutionError(
                "DTS_E_PROCESSINPUTFAILED", "the destination file is closed", path=self.model.ref_id
            )
        try:
            self.writer.write(columns)
        except FlatFileError as exc:
            raise file_error(exc, self.model.ref_id, writing=True) from None
        return []

    def _write_polars(self, batch: pa.RecordBatch) -> None:
        """The batch formatted in one polars ``select`` and written by polars' CSV writer."""
        assert self.writer is not None
        n = batch.num_rows
        arrays: list[pa.Array] = []
        exprs: list[pl.Expr] = []
        formatted = False
        for i, m in enumerate(self.mapping):
            name = f"c{i}"
            col = pl.col(name)
            if m is None:
                arrays.append(pa.nulls(n, pa.large_string()))
                exprs.append(col)
                continue
            arr = batch.column(m[0])
            t = arr.type
            expr = None if _polars_plain(t) else _text_expr(col, t, m[1])
            if expr is None and not _polars_plain(t):
                arr = to_text(arr, m[1])  # a type Arrow's cast formats
            arrays.append(arr)
            formatted = formatted or expr is not None
            exprs.append(col if expr is None else expr.alias(name))
        frame = pl.from_arrow(
            pa.RecordBatch.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
        )
        assert isinstance(frame, pl.DataFrame)
        if formatted:
            frame = frame.select(exprs)
        try:
            self.writer.write_frame(frame)
        except FlatFileError as exc:
            raise file_error(exc, self.model.ref_id, writing=True) from None

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        writer = getattr(self, "writer", None)
        if writer is not None:
            writer.close()
            self.writer = None
