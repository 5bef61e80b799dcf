"""Audit (class id ``Microsoft.Lineage``): adds columns holding facts about the run.

Each output column's ``LineageItemSelected`` property picks the fact (SSIS's audit types):

=====  ======================  ===============================
value  audit type              system variable read
=====  ======================  ===============================
0      ExecutionInstanceGUID   ``System::ExecutionInstanceGUID``
1      PackageID               ``System::PackageID``
2      PackageName             ``System::PackageName``
3      VersionID               ``System::VersionGUID``
4      ExecutionStartTime      ``System::StartTime``
5      MachineName             ``System::MachineName``
6      UserName                ``System::UserName``
7      TaskName                ``System::TaskName``
8      TaskId                  ``System::TaskID``
=====  ======================  ===============================

The values are read once when the flow starts; every batch gets constant columns
(``pyarrow.repeat``, built once per batch size and shared, as Arrow arrays are immutable), cast
to each output column's declared type. The output is synchronous.
"""

from __future__ import annotations

from typing import Any, Final, cast

import pyarrow as pa

from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Component, Input, to_int
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent, sync_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register

AUDIT_ITEMS: Final[dict[int, tuple[str, str]]] = {
    0: ("ExecutionInstanceGUID", "System::ExecutionInstanceGUID"),
    1: ("PackageID", "System::PackageID"),
    2: ("PackageName", "System::PackageName"),
    3: ("VersionID", "System::VersionGUID"),
    4: ("ExecutionStartTime", "System::StartTime"),
    5: ("MachineName", "System::MachineName"),
    6: ("UserName", "System::UserName"),
    7: ("TaskName", "System::TaskName"),
    8: ("TaskId", "System::TaskID"),
}


@register("Microsoft.Lineage")
class Audit(PipelineComponent):
    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.columns: list[ColumnInfo] = []
        self.values: list[pa.Scalar[Any]] = []
        self._by_size: dict[int, list[pa.Array[Any]]] = {}  # constant columns per batch size

    def validate(self) -> list[DataflowError]:
        problems: list[DataflowError] = []
        for out in self.model.outputs:
            for col in out.columns:
                item = to_int(col.prop("LineageItemSelected"), -1)
                if item not in AUDIT_ITEMS:
                    problems.append(
                        ValidationError(
                            "DTS_E_INDIVIDUALVALIDATIONFAILED",
                            f"Audit column {col.name!r} has LineageItemSelected "
                            f"{col.prop('LineageItemSelected')!r}; expected 0..8",
                            path=col.ref_id,
                            hint="pick an audit type in the Audit editor",
                        )
                    )
        return problems

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        out = self.output()
        self.columns = self.added_columns(out)
        self.values = []
        self._by_size = {}
        for col, info in zip(out.columns, self.columns, strict=True):
            _, variable = AUDIT_ITEMS[to_int(col.prop("LineageItemSelected"))]
            value: Any = ctx.variables.get(variable) if variable in ctx.variables else None
            self.values.append(pa.scalar(value).cast(info.field.type))

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        n = batch.num_rows
        arrays = self._by_size.get(n)
        if arrays is None:
            # Batches mostly share one size; the arrays are immutable, so build them once.
            arrays = [pa.repeat(cast(Any, v), n) for v in self.values]
            if len(self._by_size) < 4:
                self._by_size[n] = arrays
        return [(self.output(), sync_batch(batch, self.columns, arrays))]
