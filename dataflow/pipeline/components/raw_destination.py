"""Raw File Destination: writes the input rows to a raw file, batch by batch.

Our raw format is an **Arrow IPC stream file** (:mod:`connectors.arrowipc`), not SSIS's own
undocumented ``.raw`` binary format. The file's columns are the input columns, named by their
column names, each carrying its SSIS type in the field metadata (``ssis.type``, ``ssis.length``,
...), so a Raw File Source reading the file gets the same types back.

Custom properties (as SSIS writes them): ``AccessMode`` (0 file name, 1 file name from variable),
``FileName``, ``FileNameVariable``, ``WriteOption``: 0 Create always (replace the file), 1 Create
once (fail when the file exists), 2 Append (add rows to the file; a missing file is created),
3 Truncate and append (empty an existing file, keeping its columns, then write).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from connectors import arrowipc
from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Component, Input, to_int
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent
from dataflow.pipeline.components.raw_source import file_name, validate_file_properties
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register

WRITE_OPTIONS: dict[int, arrowipc.WriteMode] = {
    0: "create",
    1: "create_once",
    2: "append",
    3: "truncate_append",
}


@register("Microsoft.RawDestination")
class RawFileDestination(PipelineComponent):
    role = "destination"

    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.writer: arrowipc.RawFileWriter | None = None
        self.columns: list[ColumnInfo] = []

    def validate(self) -> list[DataflowError]:
        problems = validate_file_properties(self.model)
        option = to_int(self.model.prop("WriteOption", "0"), -1)
        if option not in WRITE_OPTIONS:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"WriteOption {self.model.prop('WriteOption')!r} is not 0 (Create always), "
                    "1 (Create once), 2 (Append) or 3 (Truncate and append)",
                    path=self.model.ref_id,
                )
            )
        return problems

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        inp = self.only_input()
        self.columns = destination_columns(self, inp)
        path = file_name(self)
        mode = WRITE_OPTIONS[to_int(self.model.prop("WriteOption", "0"))]
        try:
            self.writer = arrowipc.RawFileWriter(path, file_schema(self.columns), mode)
        except arrowipc.ArrowIpcError as exc:
            raise ExecutionError(
                "DTS_E_PROCESSINPUTFAILED",
                f"Raw File Destination {self.model.name!r}: {exc}",
                path=self.model.ref_id,
                hint="check FileName and WriteOption (Create once fails on an existing file; "
                "Append and Truncate and append need the file's columns)",
            ) from exc

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        assert self.writer is not None
        try:
            self.writer.write(file_batch(batch, self.columns))
        except arrowipc.ArrowIpcError as exc:
            raise ExecutionError(
                "DTS_E_PROCESSINPUTFAILED",
                f"Raw File Destination {self.model.name!r}: {exc}",
                path=self.model.ref_id,
            ) from exc
        return []

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.close()
            except (arrowipc.ArrowIpcError, OSError) as exc:
                raise ExecutionError(
                    "DTS_E_PROCESSINPUTFAILED",
                    f"Raw File Destination {self.model.name!r}: closing the file failed: {exc}",
                    path=self.model.ref_id,
                ) from exc


# ------------------------------------------------------------------------------------------------
# Shared by the destinations that write whole rows (Raw File, Parquet, Recordset)
# ------------------------------------------------------------------------------------------------


def destination_columns(comp: PipelineComponent, inp: Input) -> list[ColumnInfo]:
    """The columns a destination writes: its selected input columns in their order, named as
    the input column names them; every upstream column when none is selected."""
    upstream = comp.layout.input_columns(inp.ref_id)
    if not inp.columns:
        return upstream
    cols: list[ColumnInfo] = []
    for ic in inp.columns:
        info = comp.input_column_info(inp, ic)
        cols.append(ColumnInfo(info.lineage_id, ic.name or info.name, info.spec, info.numeric_id))
    return cols


def file_schema(columns: Sequence[ColumnInfo]) -> pa.Schema:
    """Fields named by column name, with the SSIS type in the metadata."""
    return pa.schema([c.field.with_name(c.name) for c in columns])


def file_batch(batch: pa.RecordBatch, columns: Sequence[ColumnInfo]) -> pa.RecordBatch:
    """The destination's columns of ``batch`` (fields named by lineage id), named by column name."""
    return pa.RecordBatch.from_arrays(
        [batch.column(c.lineage_id) for c in columns], schema=file_schema(columns)
    )
