"""Union All: the rows of every input, one after another, on one output.

Each input column names the output column it feeds with its ``OutputColumnLineageID`` property
(``#{output column refId}``); an output column no column of an input feeds is NULL for that
input's rows, and values are cast to the output column's type. The output is asynchronous (its
own columns) but nothing is buffered: every input batch is turned into an output batch at once,
so Union All streams, and rows keep their order within each input.
"""

from __future__ import annotations

import pyarrow as pa

from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Component, Input
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent, make_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register


def _target(value: str | None, numeric: dict[str, int]) -> str | None:
    """``#{refId}`` -> refId; a bare ``#17`` (unresolved numeric id) -> the refId with that id."""
    text = (value or "").strip()
    if text.startswith("#{") and text.endswith("}"):
        return text[2:-1]
    digits = text.lstrip("#")
    if digits.isdigit():
        by_number = {n: ref for ref, n in numeric.items()}
        return by_number.get(int(digits))
    return None


@register("Microsoft.UnionAll")
class UnionAll(PipelineComponent):
    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        # input refId -> for each output column, the upstream lineage id feeding it (or None)
        self.sources: dict[str, list[str | None]] = {}
        self.columns: list[ColumnInfo] = []

    def _mapping(self) -> tuple[dict[str, list[str | None]], list[DataflowError]]:
        out = self.output()
        index = {c.lineage_id: k for k, c in enumerate(out.columns)}
        problems: list[DataflowError] = []
        mapping: dict[str, list[str | None]] = {}
        for inp in self.model.inputs:
            feeds: list[str | None] = [None] * len(out.columns)
            for ic in inp.columns:
                target = _target(ic.prop("OutputColumnLineageID"), self.layout.numeric)
                if target is None or target not in index:
                    problems.append(
                        ValidationError(
                            "DTS_E_VALIDATIONFAILED",
                            f"input column {ic.name!r} of {inp.name!r} maps to "
                            f"{ic.prop('OutputColumnLineageID')!r}, which is not a column of "
                            f"{out.name!r}",
                            path=ic.ref_id,
                            hint="open the Union All editor and map the column again",
                        )
                    )
                    continue
                k = index[target]
                if feeds[k] is not None:
                    problems.append(
                        ValidationError(
                            "DTS_E_VALIDATIONFAILED",
                            f"two columns of {inp.name!r} feed output column {out.columns[k].name!r}",
                            path=ic.ref_id,
                        )
                    )
                feeds[k] = ic.lineage_id
            mapping[inp.ref_id] = feeds
        return mapping, problems

    def validate(self) -> list[DataflowError]:
        return self._mapping()[1]

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.sources = self._mapping()[0]
        self.columns = self.added_columns(self.output())

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        n = batch.num_rows
        arrays = [
            pa.nulls(n, info.field.type) if src is None else batch.column(src)
            for info, src in zip(self.columns, self.sources[input.ref_id], strict=True)
        ]
        try:
            out = make_batch(self.columns, arrays)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise ExecutionError(
                "DTS_E_DATACONVERSIONFAILED",
                f"Union All {self.model.name!r}: a column of {input.name!r} does not convert to "
                f"its output column's type: {exc}",
                path=self.model.ref_id,
                hint="convert the column upstream (Data Conversion) to the output column's type",
            ) from exc
        return [(self.output(), out)]
