"""The base class of every data-flow component: a design-time part and a run-time lifecycle.

A component module defines one subclass, registered by its SSIS class id::

    @register("Microsoft.Multicast")
    class Multicast(PipelineComponent):
        def process(self, input, batch):
            return [(out, batch) for out in self.model.outputs]

Batches are ``pyarrow.RecordBatch`` objects whose **field names are lineage ids** (the refIds of
output columns), as SSIS identifies buffer columns by lineage id; each field's metadata carries the
column's SSIS type and its name (``ssis.name``). A synchronous output's batch holds the columns of
the input batch plus the output's own columns; an asynchronous output's batch holds its output
columns. :class:`Layout` gives each output's columns; helpers below build batches from names.

Lifecycle (Apache Beam / Hop style): ``validate`` (design time, no I/O) -> ``start`` ->
``produce`` (sources) or ``process`` per batch and ``end_input`` per input -> ``finish`` ->
``close`` (always). Everything works on whole batches; no per-row Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from dataflow.core.datatypes import TypeSpec, arrow_field
from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Component, Input, InputColumn, Output, OutputColumn
from dataflow.pipeline.context import RunContext

Emit = tuple[Output, pa.RecordBatch]


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column available on an output: lineage id, name, SSIS type and its Arrow field."""

    lineage_id: str
    name: str
    spec: TypeSpec
    numeric_id: int  # the integer lineage id (ErrorColumn values, SSIS 2016+ lookup)
    _field: Any = field(default=None, init=False, compare=False, repr=False)

    @property
    def field(self) -> pa.Field[Any]:
        """The Arrow field of this column (built once: batches read it for every column)."""
        if self._field is None:
            f = arrow_field(self.lineage_id, self.spec)
            f = f.with_metadata({**(f.metadata or {}), b"ssis.name": self.name.encode()})
            object.__setattr__(self, "_field", f)
        return self._field


@dataclass
class Layout:
    """Columns available on every output of the data flow (computed by the graph builder)."""

    outputs: dict[str, list[ColumnInfo]] = field(default_factory=dict)  # output refId -> columns
    upstream: dict[str, str] = field(default_factory=dict)  # input refId -> output refId
    numeric: dict[str, int] = field(default_factory=dict)  # lineage refId -> integer id

    def schema(self, output_ref: str) -> pa.Schema:
        return pa.schema([c.field for c in self.outputs[output_ref]])

    def input_columns(self, input_ref: str) -> list[ColumnInfo]:
        """Columns arriving on an input (those of the upstream output)."""
        up = self.upstream.get(input_ref)
        return list(self.outputs.get(up, [])) if up else []

    def names(self) -> dict[int, str]:
        """Integer lineage id -> column name (SSIS 2016+ ``GetIdentificationStringByID``)."""
        by_ref = {c.lineage_id: c.name for cols in self.outputs.values() for c in cols}
        return {n: by_ref.get(ref, ref) for ref, n in self.numeric.items()}


class PipelineComponent:
    """Base of all data-flow components."""

    #: ``source``, ``transform`` or ``destination`` (informational; the graph decides roles)
    role: ClassVar[str] = "transform"
    #: rows per batch for sources (DefaultBufferMaxRows hint), set by the engine before start()
    batch_rows: int = 65_536

    def __init__(self, model: Component, layout: Layout) -> None:
        self.model = model
        self.layout = layout
        self.ctx: RunContext | None = None

    # --- design time ----------------------------------------------------------------------
    def validate(self) -> list[DataflowError]:
        """Problems found without touching data or external systems (empty list: valid)."""
        return []

    def added_columns(self, output: Output) -> list[ColumnInfo]:
        """The columns ``output`` adds to the buffer (default: its declared output columns)."""
        return [self.column_info(c) for c in output.columns]

    # --- run time -----------------------------------------------------------------------
    def start(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def produce(self) -> Iterator[Emit]:
        """Sources: yield batches on their outputs."""
        raise NotImplementedError(f"{type(self).__name__} is not a source")

    def process(self, input: Input, batch: pa.RecordBatch) -> Iterable[Emit]:
        """Transforms and destinations: one input batch in, batches on outputs out."""
        raise NotImplementedError(f"{type(self).__name__} takes no input")

    def end_input(self, input: Input) -> Iterable[Emit]:
        """Called once when ``input`` has received its last batch (blocking components emit here)."""
        return ()

    def finish(self) -> None:
        """Called after every input ended and every output was emitted (PostExecute)."""

    def close(self) -> None:
        """Always called, also after a failure or cancellation: release files and connections."""

    # --- helpers --------------------------------------------------------------------------
    @property
    def context(self) -> RunContext:
        if self.ctx is None:
            raise RuntimeError("component used before start()")
        return self.ctx

    def column_info(self, col: OutputColumn) -> ColumnInfo:
        return ColumnInfo(
            col.lineage_id, col.name, col.type.spec, self.layout.numeric.get(col.lineage_id, 0)
        )

    def output(self, *, error: bool = False, name: str | None = None) -> Output:
        """The first (non-)error output, or the output called ``name``."""
        for o in self.model.outputs:
            if name is not None and o.name == name:
                return o
            if name is None and o.is_error_output == error:
                return o
        raise ValidationError(
            "DTS_E_INDIVIDUALVALIDATIONFAILED",
            f"component has no {'error ' if error else ''}output{' ' + repr(name) if name else ''}",
            path=self.model.ref_id,
        )

    def require_variable_property(self, label: str, hint: str) -> list[DataflowError]:
        """Design-time check shared by components writing a variable (``VariableName``)."""
        if (self.model.prop("VariableName") or "").strip():
            return []
        return [
            ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"{label} {self.model.name!r} has no VariableName",
                path=self.model.ref_id,
                hint=hint,
            )
        ]

    def resolve_variable_property(self, ctx: RunContext, hint: str) -> str:
        """The qualified name of the variable ``VariableName`` names (coded error if unknown)."""
        name = (self.model.prop("VariableName") or "").strip()
        try:
            return ctx.variables.resolve(name)
        except ValidationError as exc:
            raise ValidationError(
                exc.code,
                f"{exc.message} (VariableName of {self.model.name!r})",
                path=self.model.ref_id,
                hint=hint,
            ) from None

    def check_error_output(
        self, redirects: bool, subject: str, expected: str
    ) -> list[DataflowError]:
        """A redirecting disposition needs an error output (``expected`` names SSIS's one)."""
        if not redirects or self.error_output() is not None:
            return []
        return [
            ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"{subject} redirects rows but the component has no error output",
                path=self.model.ref_id,
                hint=f"add the '{expected}', or change the disposition",
            )
        ]

    def error_output(self) -> Output | None:
        return next((o for o in self.model.outputs if o.is_error_output), None)

    def only_input(self) -> Input:
        if len(self.model.inputs) != 1:
            raise ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"expected one input, found {len(self.model.inputs)}",
                path=self.model.ref_id,
            )
        return self.model.inputs[0]

    def input_column_info(self, input: Input, col: InputColumn) -> ColumnInfo:
        for c in self.layout.input_columns(input.ref_id):
            if c.lineage_id == col.lineage_id:
                return c
        raise ValidationError(
            "DTS_E_VALIDATIONFAILED",
            f"input column {col.name!r} refers to lineage {col.lineage_id!r}, "
            "which is not available upstream",
            path=col.ref_id,
            hint="re-map the column in the designer, or rebuild the path",
        )


def sync_batch(
    batch: pa.RecordBatch, added: Sequence[ColumnInfo], arrays: Sequence[pa.Array | pa.ChunkedArray]
) -> pa.RecordBatch:
    """The input batch with ``added`` columns appended (or replaced when already present)."""
    cols = list(batch.columns)
    fields = list(batch.schema)
    index = {f.name: i for i, f in enumerate(fields)}
    for info, arr in zip(added, arrays, strict=True):
        f = info.field
        a = _as_array(arr, f.type)
        if info.lineage_id in index:
            cols[index[info.lineage_id]] = a
            fields[index[info.lineage_id]] = f
        else:
            cols.append(a)
            fields.append(f)
            index[info.lineage_id] = len(fields) - 1
    return pa.RecordBatch.from_arrays(cols, schema=pa.schema(fields))


def _as_array(arr: pa.Array | pa.ChunkedArray, t: pa.DataType) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != t:
        arr = arr.cast(t)
    return arr


def make_batch(
    columns: Sequence[ColumnInfo], arrays: Sequence[pa.Array | pa.ChunkedArray]
) -> pa.RecordBatch:
    """An asynchronous output's batch from its columns and arrays."""
    fields = [c.field for c in columns]
    return pa.RecordBatch.from_arrays(
        [_as_array(a, f.type) for a, f in zip(arrays, fields, strict=True)],
        schema=pa.schema(fields),
    )


def empty_batch(columns: Sequence[ColumnInfo]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=pa.schema([c.field for c in columns]))


def select_columns(batch: pa.RecordBatch, lineage_ids: Sequence[str]) -> pa.RecordBatch:
    """Only the columns ``lineage_ids`` of ``batch``, in that order."""
    return batch.select(list(lineage_ids))
