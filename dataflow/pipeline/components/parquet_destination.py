"""Parquet Destination (our addition; class id ``Dataflow.ParquetDestination``): writes Parquet.

Modelled on the Raw File Destination: ``AccessMode`` (0 file name, 1 file name from variable),
``FileName``, ``FileNameVariable``, ``WriteOption`` (0 Create always, 1 Create once; Parquet files
cannot be appended to, so 2 and 3 are refused at validation), plus ``Compression`` (snappy, the
default, zstd, gzip, lz4, brotli or none) and ``RowGroupSize`` (rows per row group, default
1,048,576). Batches stream into a ``pyarrow.parquet.ParquetWriter``; only one row group is held in
memory. Columns are the selected input columns (every upstream column when none is selected),
named by column name, with their SSIS types in the field metadata so a Parquet Source gets them
back. After a failure the rows written so far are kept in a valid file, as SSIS destinations keep
what they wrote.
"""

from __future__ import annotations

import pyarrow as pa

from connectors import parquet
from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Component, Input, to_int
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent
from dataflow.pipeline.components.raw_destination import (
    destination_columns,
    file_batch,
    file_schema,
)
from dataflow.pipeline.components.raw_source import file_name, validate_file_properties
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register

WRITE_OPTIONS: dict[int, parquet.WriteMode] = {0: "create", 1: "create_once"}


@register("Dataflow.ParquetDestination")
class ParquetDestination(PipelineComponent):
    role = "destination"

    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.writer: parquet.ParquetFileWriter | None = None
        self.columns: list[ColumnInfo] = []

    def validate(self) -> list[DataflowError]:
        problems = validate_file_properties(self.model)
        option = to_int(self.model.prop("WriteOption", "0"), -1)
        if option not in WRITE_OPTIONS:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"WriteOption {self.model.prop('WriteOption')!r} is not supported for Parquet: "
                    "use 0 (Create always) or 1 (Create once)",
                    path=self.model.ref_id,
                    hint="Parquet files cannot be appended to; write one file per run into a "
                    "folder and read the folder with a Parquet Source",
                )
            )
        codec = (self.model.prop("Compression") or "snappy").strip().lower()
        if codec not in parquet.COMPRESSIONS:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"Compression {codec!r} is not one of {', '.join(parquet.COMPRESSIONS)}",
                    path=self.model.ref_id,
                )
            )
        if to_int(self.model.prop("RowGroupSize", str(parquet.DEFAULT_ROW_GROUP_ROWS)), 0) <= 0:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"RowGroupSize {self.model.prop('RowGroupSize')!r} is not a positive row count",
                    path=self.model.ref_id,
                )
            )
        return problems

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.columns = destination_columns(self, self.only_input())
        try:
            self.writer = parquet.ParquetFileWriter(
                file_name(self),
                file_schema(self.columns),
                compression=(self.model.prop("Compression") or "snappy"),
                row_group_rows=to_int(
                    self.model.prop("RowGroupSize"), parquet.DEFAULT_ROW_GROUP_ROWS
                ),
                mode=WRITE_OPTIONS[to_int(self.model.prop("WriteOption", "0"))],
            )
        except parquet.ParquetError as exc:
            raise self._error(exc) from exc

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        assert self.writer is not None
        try:
            self.writer.write(file_batch(batch, self.columns))
        except parquet.ParquetError as exc:
            raise self._error(exc) from exc
        return []

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.close()
            except parquet.ParquetError as exc:
                raise self._error(exc) from exc

    def _error(self, exc: parquet.ParquetError) -> ExecutionError:
        return ExecutionError(
            "DTS_E_PROCESSINPUTFAILED",
            f"Parquet Destination {self.model.name!r}: {exc}",
            path=self.model.ref_id,
            hint="check FileName and WriteOption (Create once fails on an existing file)",
        )
