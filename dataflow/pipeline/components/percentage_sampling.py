"""Percentage Sampling (class id ``Microsoft.PctSampling``): each row is selected with a
probability of ``SamplingValue`` percent.

Custom properties: ``SamplingValue`` (percent, 0..100, default 10), ``SamplingSeed`` (the seed of
the random number generator; 0 or absent means "no seed": the sample differs from run to run, as
SSIS then seeds with the tick count). Two outputs: the output whose ``Selected`` property is True
(default name "Sampling Selected Output") and the other ("Sampling Unselected Output").

Every row gets a pseudo-random 64-bit key, the seeded hash of its position in the input
(``polars.Series.hash`` over the row numbers of a batch: vectorised, and independent of how rows
are cut into batches), and is selected when its key falls in the first ``SamplingValue`` percent
of the key range. A seed gives the same sample on every run of a given runtime version (the hash
may change with a polars upgrade). Like SSIS, the sample size is only close to the percentage.

The helpers at the bottom (which output is selected, the seed, rows to an output) are shared with
Row Sampling.
"""

from __future__ import annotations

import secrets
from typing import cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Component, Input, Output, to_bool, to_int
from dataflow.pipeline.component import ColumnInfo, Emit, Layout, PipelineComponent, make_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register


@register("Microsoft.PctSampling")
class PercentageSampling(PipelineComponent):
    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.seed = 0
        self.fraction = 0.0
        self.seen = 0

    def validate(self) -> list[DataflowError]:
        problems = validate_sampling(self)
        value = to_int(self.model.prop("SamplingValue", "10"), -1)
        if not 0 <= value <= 100:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"SamplingValue {self.model.prop('SamplingValue')!r} is not a percentage (0..100)",
                    path=self.model.ref_id,
                )
            )
        return problems

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.seed = sampling_seed(self.model)
        self.fraction = to_int(self.model.prop("SamplingValue", "10")) / 100.0
        self.seen = 0

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        selected_out, unselected_out = sampling_outputs(self)
        n = batch.num_rows
        keys = row_keys(self.seed, self.seen, n)
        self.seen += n
        if self.fraction >= 1.0:
            mask = pa.repeat(pa.scalar(True), n)
        else:
            cut = pa.scalar(int(max(self.fraction, 0.0) * 2.0**64), pa.uint64())
            mask = pc.less(keys, cut)
        emits: list[Emit] = []
        for out, m in ((selected_out, mask), (unselected_out, pc.invert(mask))):
            rows = batch.filter(m)
            if rows.num_rows:
                emits.append((out, to_output(self, input, out, rows)))
        return emits


# ------------------------------------------------------------------------------------------------
# Shared with Row Sampling
# ------------------------------------------------------------------------------------------------


def sampling_seed(model: Component) -> int:
    """``SamplingSeed`` as a non-negative hash seed; absent or 0 (SSIS: "no seed, use the tick
    count") gives a fresh random seed every run."""
    seed = to_int(model.prop("SamplingSeed"), 0)
    return seed % (1 << 63) if seed else secrets.randbits(63)


def row_keys(seed: int, start: int, n: int) -> pa.UInt64Array:
    """Pseudo-random uint64 keys of rows ``start .. start+n-1`` of the input (seeded hash of the
    row number, so a row's key does not depend on batch boundaries)."""
    numbers = pl.int_range(start, start + n, eager=True, dtype=pl.UInt64)
    return cast(pa.UInt64Array, numbers.hash(seed=seed).to_arrow())


def sampling_outputs(comp: PipelineComponent) -> tuple[Output, Output]:
    """(selected, unselected): by the outputs' ``Selected`` property, else by name, else order."""
    outs = [o for o in comp.model.outputs if not o.is_error_output]
    flagged = [o for o in outs if o.prop("Selected") is not None]
    if len(flagged) == 2:
        sel = [o for o in flagged if to_bool(o.prop("Selected"))]
        unsel = [o for o in flagged if not to_bool(o.prop("Selected"))]
        if len(sel) == 1 and len(unsel) == 1:
            return sel[0], unsel[0]
    named = [o for o in outs if "unselected" in o.name.lower()]
    if len(outs) == 2 and len(named) == 1:
        other = outs[0] if outs[1] is named[0] else outs[1]
        return other, named[0]
    if len(outs) != 2:
        raise ValidationError(
            "DTS_E_INDIVIDUALVALIDATIONFAILED",
            f"{comp.model.name!r} needs two outputs (selected and unselected), found {len(outs)}",
            path=comp.model.ref_id,
        )
    return outs[0], outs[1]


def validate_sampling(comp: PipelineComponent) -> list[DataflowError]:
    problems: list[DataflowError] = []
    try:
        sampling_outputs(comp)
    except ValidationError as exc:
        problems.append(exc)
    for out in comp.model.outputs:
        if out.synchronous_input or out.is_error_output:
            continue
        for col in out.columns:
            if source_lineage(comp, col.prop("InputColumnLineageID"), col.name) is None:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"output column {col.name!r} of {out.name!r} maps to no input column "
                        f"({col.prop('InputColumnLineageID')!r})",
                        path=col.ref_id,
                        hint="map the column to an input column (InputColumnLineageID)",
                    )
                )
    return problems


def source_lineage(comp: PipelineComponent, value: str | None, name: str) -> str | None:
    """The upstream lineage id an asynchronous output column copies: ``InputColumnLineageID``
    (``#{refId}``), else the input column of the same name."""
    inp = comp.model.inputs[0] if comp.model.inputs else None
    if inp is None:
        return None
    upstream = {c.lineage_id: c for c in comp.layout.input_columns(inp.ref_id)}
    text = (value or "").strip()
    if text.startswith("#{") and text.endswith("}") and text[2:-1] in upstream:
        return text[2:-1]
    if text.lstrip("#").isdigit():
        by_number = {n: ref for ref, n in comp.layout.numeric.items()}
        ref = by_number.get(int(text.lstrip("#")))
        if ref in upstream:
            return ref
    for ic in inp.columns:
        if ic.name == name and ic.lineage_id in upstream:
            return ic.lineage_id
    for c in upstream.values():
        if c.name == name:
            return c.lineage_id
    return None


def to_output(
    comp: PipelineComponent, input: Input, out: Output, rows: pa.RecordBatch
) -> pa.RecordBatch:
    """Rows (in the input's layout) as a batch of ``out``: as they are on a synchronous output,
    the mapped columns on an asynchronous one."""
    if out.synchronous_input:
        return rows
    cols: list[ColumnInfo] = comp.added_columns(out)
    sources = [source_lineage(comp, oc.prop("InputColumnLineageID"), oc.name) for oc in out.columns]
    return make_batch(cols, [rows.column(s) for s in sources if s is not None])
