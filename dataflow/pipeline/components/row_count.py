"""Row Count: counts the rows of its input and stores the count in ``VariableName`` at the end.

In SSIS 2008+ the Row Count has one input and one synchronous output (rows pass through
untouched, zero-copy); a model without the output just counts. The variable is written once, when
the data flow has finished with the component (PostExecute), as SSIS does; during the run it
keeps its old value.
"""

from __future__ import annotations

import pyarrow as pa

from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Component, Input
from dataflow.pipeline.component import Emit, Layout, PipelineComponent
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register

_NUMERIC = frozenset({"DT_I1", "DT_I2", "DT_I4", "DT_I8", "DT_UI1", "DT_UI2", "DT_UI4", "DT_UI8"})


@register("Microsoft.RowCount")
class RowCount(PipelineComponent):
    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.count = 0
        self.variable = ""

    def validate(self) -> list[DataflowError]:
        return self.require_variable_property(
            "Row Count", "name an integer variable, e.g. User::RowCount"
        )

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.variable = self.resolve_variable_property(ctx, "declare the variable (Int32 or Int64)")
        vtype = ctx.variables.types().get(self.variable)
        if vtype not in _NUMERIC:
            raise ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"variable {self.variable} is {vtype}; Row Count needs an integer variable",
                path=self.model.ref_id,
                hint="change the variable's type to Int32 or Int64",
            )
        self.count = 0

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        self.count += batch.num_rows
        return [(out, batch) for out in self.model.outputs if not out.is_error_output]

    def finish(self) -> None:
        self.context.variables.set(self.variable, self.count)
