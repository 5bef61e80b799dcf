"""Parquet Source (our addition; class id ``Dataflow.ParquetSource``): reads Parquet files.

Modelled on the Raw File Source: ``AccessMode`` (0 file name, 1 file name from variable),
``FileName``, ``FileNameVariable``. The name can be one file, a folder (every ``*.parquet`` in it,
in name order) or a glob pattern (``/data/sales-*.parquet``). Files are read one row group at a
time (:mod:`connectors.parquet`), only the declared columns, in batches of the data flow's
DefaultBufferMaxRows; output columns match file columns by name and are cast to the declared types.
"""

from __future__ import annotations

from collections.abc import Iterator

from connectors import parquet
from dataflow.core.errors import DataflowError, ExecutionError
from dataflow.pipeline.component import Emit, PipelineComponent
from dataflow.pipeline.components.raw_source import (
    batch_rows,
    check_columns,
    conform,
    external_name,
    file_name,
    validate_file_properties,
)
from dataflow.pipeline.registry import register


@register("Dataflow.ParquetSource")
class ParquetSource(PipelineComponent):
    role = "source"

    def validate(self) -> list[DataflowError]:
        return validate_file_properties(self.model)

    def produce(self) -> Iterator[Emit]:
        location = file_name(self)
        out = self.output()
        cols = self.added_columns(out)
        names = [external_name(out, c) for c in cols]
        try:
            for path in parquet.resolve_files(location):
                check_columns(self, names, parquet.read_schema(path).names, str(path))
                for batch in parquet.iter_batches(
                    path, columns=list(dict.fromkeys(names)), batch_rows=batch_rows(self)
                ):
                    self.context.check_cancel(self.model.ref_id)
                    arrays = [batch.column(n) for n in names]
                    yield out, conform(self, cols, arrays, str(path))
        except parquet.ParquetError as exc:
            raise ExecutionError(
                "DTS_E_PRIMEOUTPUTFAILED",
                f"Parquet Source {self.model.name!r}: {exc}",
                path=self.model.ref_id,
                hint="FileName may name a file, a folder of .parquet files or a glob pattern",
            ) from exc
