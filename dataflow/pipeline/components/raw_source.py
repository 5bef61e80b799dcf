"""Raw File Source: reads a raw file written by a Raw File Destination, batch by batch.

Our raw format is an **Arrow IPC stream file** (see :mod:`connectors.arrowipc`); the binary
``.raw`` format of SSIS itself is undocumented and cannot be read here. A raw file written by our
Raw File Destination keeps every column's SSIS type in its field metadata, so a round trip keeps
types exactly.

Custom properties (as SSIS writes them): ``AccessMode`` (0 file name, 1 file name from variable),
``FileName``, ``FileNameVariable``. Output columns are matched to the file's columns by name (the
column's external metadata column name when it has one) and cast to the declared types.

The helpers at the bottom (file name from ``AccessMode``, columns by name) are shared with the Raw
File Destination and the Parquet Source / Destination, which are modelled the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from connectors import arrowipc
from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Component, Output, to_int
from dataflow.pipeline.component import ColumnInfo, Emit, PipelineComponent, make_batch
from dataflow.pipeline.registry import register

DEFAULT_BATCH_ROWS = 65_536


@register("Microsoft.RawSource")
class RawFileSource(PipelineComponent):
    role = "source"

    def validate(self) -> list[DataflowError]:
        problems = validate_file_properties(self.model)
        if len([o for o in self.model.outputs if not o.is_error_output]) != 1:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    "a Raw File Source has exactly one output",
                    path=self.model.ref_id,
                )
            )
        return problems

    def produce(self) -> Iterator[Emit]:
        path = file_name(self)
        out = self.output()
        cols = self.added_columns(out)
        names = [external_name(out, c) for c in cols]
        try:
            file_names = arrowipc.read_schema(path).names
            check_columns(self, names, file_names, path)
            for batch in arrowipc.iter_batches(path, max_rows=batch_rows(self)):
                self.context.check_cancel(self.model.ref_id)
                yield out, conform(self, cols, [batch.column(n) for n in names], path)
        except arrowipc.ArrowIpcError as exc:
            raise ExecutionError(
                "DTS_E_PRIMEOUTPUTFAILED",
                f"Raw File Source {self.model.name!r}: {exc}",
                path=self.model.ref_id,
                hint="check the FileName property (or the variable FileNameVariable names)",
            ) from exc


# ------------------------------------------------------------------------------------------------
# Shared by the file sources and destinations (Raw File, Parquet)
# ------------------------------------------------------------------------------------------------


def validate_file_properties(model: Component) -> list[DataflowError]:
    """``AccessMode`` 0 needs ``FileName``, 1 needs ``FileNameVariable``."""
    mode = to_int(model.prop("AccessMode", "0"), -1)
    if mode not in (0, 1):
        return [
            ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"AccessMode {model.prop('AccessMode')!r} is not 0 (file name) or 1 (file name from variable)",
                path=model.ref_id,
            )
        ]
    key = "FileName" if mode == 0 else "FileNameVariable"
    if not (model.prop(key) or "").strip():
        return [
            ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"component {model.name!r} has AccessMode {mode} but no {key}",
                path=model.ref_id,
                hint=f"set the {key} property",
            )
        ]
    return []


def file_name(comp: PipelineComponent) -> str:
    """The file the component reads or writes, per ``AccessMode`` (run time: reads variables)."""
    model = comp.model
    if to_int(model.prop("AccessMode", "0")) == 1:
        var = (model.prop("FileNameVariable") or "").strip()
        value = comp.context.variables.get(var)
        if value is None or not str(value).strip():
            raise ExecutionError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"variable {var} (FileNameVariable of {model.name!r}) holds no file name",
                path=model.ref_id,
                hint="give the variable a file name before the data flow runs",
            )
        return str(value)
    return (model.prop("FileName") or "").strip()


def batch_rows(comp: PipelineComponent) -> int:
    """The engine's batch-size hint (DefaultBufferMaxRows), set on the component before start."""
    hint = getattr(comp, "batch_rows", None)
    return hint if isinstance(hint, int) and hint > 0 else DEFAULT_BATCH_ROWS


def external_name(output: Output, col: ColumnInfo) -> str:
    """The file column an output column reads: its external metadata column's name, else its own."""
    for oc in output.columns:
        if oc.lineage_id == col.lineage_id:
            ext = oc.attrs.get("externalMetadataColumnId")
            for ec in output.external_columns:
                if ext and ec.ref_id == ext:
                    return ec.name
            return oc.name
    return col.name


def check_columns(
    comp: PipelineComponent, wanted: Sequence[str], available: Sequence[str], path: str
) -> None:
    missing = [n for n in wanted if n not in available]
    if missing:
        raise ExecutionError(
            "DTS_E_PRIMEOUTPUTFAILED",
            f"{path!r} has no column(s) {missing} that {comp.model.name!r} declares; "
            f"the file has {list(available)}",
            path=comp.model.ref_id,
            hint="refresh the component's columns from the file, or point it at the right file",
        )


def conform(
    comp: PipelineComponent,
    cols: Sequence[ColumnInfo],
    arrays: Iterable[pa.Array[Any] | pa.ChunkedArray[Any]],
    path: str,
) -> pa.RecordBatch:
    """A batch of the output's layout from file columns (cast to the declared types)."""
    try:
        return make_batch(cols, list(arrays))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise ExecutionError(
            "DTS_E_DATACONVERSIONFAILED",
            f"{path!r}: a column does not convert to the type {comp.model.name!r} declares: {exc}",
            path=comp.model.ref_id,
            hint="declare the output columns with the types the file holds",
        ) from exc
