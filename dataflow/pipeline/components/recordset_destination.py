"""Recordset Destination: keeps the rows in an Object variable (``VariableName``).

SSIS stores an ADO recordset in the variable; here **an ADO recordset is a ``pyarrow.Table``**:
its columns are the selected input columns (every upstream column when none is selected), named
by column name, with the SSIS types in the field metadata. The Foreach ADO enumerator iterates the
table's rows, and a Script Task sees the same table. Holding every row is this component's job,
so memory grows with the input; batches are only concatenated (no copy) when the flow ends, and
the table is stored in the variable then (PostExecute), as SSIS does.
"""

from __future__ import annotations

import pyarrow as pa

from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Component, Input
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent
from dataflow.pipeline.components.raw_destination import (
    destination_columns,
    file_batch,
    file_schema,
)
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register

OBJECT_TYPE = "DT_EMPTY"  # what an Object (VT_UNKNOWN) variable's SSIS type is in the store


@register("Microsoft.RecordsetDestination")
class RecordsetDestination(PipelineComponent):
    role = "destination"

    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.columns: list[ColumnInfo] = []
        self.batches: list[pa.RecordBatch] = []
        self.variable = ""

    def validate(self) -> list[DataflowError]:
        return self.require_variable_property(
            "Recordset Destination", "name an Object variable, e.g. User::Rows"
        )

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.variable = self.resolve_variable_property(ctx, "declare the variable with type Object")
        vtype = ctx.variables.types().get(self.variable)
        if vtype != OBJECT_TYPE:
            raise ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"variable {self.variable} is {vtype}; a Recordset Destination needs an Object variable",
                path=self.model.ref_id,
                hint="change the variable's type to Object",
            )
        self.columns = destination_columns(self, self.only_input())
        self.batches = []

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        self.batches.append(file_batch(batch, self.columns))
        return []

    def finish(self) -> None:
        table = pa.Table.from_batches(self.batches, schema=file_schema(self.columns))
        self.batches = []
        self.context.variables.set(self.variable, table)

    def close(self) -> None:
        self.batches = []
