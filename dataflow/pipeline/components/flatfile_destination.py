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


def to_text(arr: pa.Array, spec: TypeSpec) -> pa.Array:
    """A column of SSIS type ``spec`` in SSIS's text form (NULL stays NULL)."""
    t = arr.type
    name = spec.name
    if pa.types.is_large_string(t) or pa.types.is_string(t) or pa.types.is_string_view(t):
        return arr.cast(pa.large_string())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.large_string())
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "True", "False").cast(pa.large_string())
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t):
        return arr.cast(pa.large_string())
    s = pl.from_arrow(pa.table({"v": arr})).get_column("v")  # type: ignore[union-attr]
    col = pl.col("v")
    if pa.types.is_floating(t):
        expr = col.cast(pl.String)
    elif pa.types.is_timestamp(t):
        text = col.dt.strftime("%Y-%m-%d %H:%M:%S")
        if name == "DT_DBTIMESTAMP2":
            expr = text + _fraction(col, spec.scale) if spec.scale else text
        else:  # DT_DBTIMESTAMP, DT_DATE, DT_FILETIME: milliseconds, only when there are some
            expr = pl.when(col.dt.microsecond() != 0).then(text + _fraction(col, 3)).otherwise(text)
    elif pa.types.is_time(t):
        text = col.dt.strftime("%H:%M:%S")
        expr = text + _fraction(col, spec.scale) if name == "DT_DBTIME2" and spec.scale else text
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
        expr = col.bin.encode("hex").str.to_uppercase()
    elif pa.types.is_struct(t) and name == "DT_DBTIMESTAMPOFFSET":
        utc, offset = col.struct.field("utc"), col.struct.field("offset_min")
        local = utc.dt.replace_time_zone(None) + pl.duration(minutes=offset)
        sign = pl.when(offset < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
        hh = (offset.abs() // 60).cast(pl.String).str.zfill(2)
        mm = (offset.abs() % 60).cast(pl.String).str.zfill(2)
        frac = _fraction(local, spec.scale) if spec.scale else pl.lit("")
        expr = local.dt.strftime("%Y-%m-%d %H:%M:%S") + frac + pl.lit(" ") + sign + hh + ":" + mm
    else:
        return arr.cast(pa.large_string())
    out = s.to_frame().select(expr.alias("v")).get_column("v").to_arrow()
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

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        writer = getattr(self, "writer", None)
        if writer is not None:
            writer.close()
            self.writer = None
