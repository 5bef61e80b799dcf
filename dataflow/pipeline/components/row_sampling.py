"""Row Sampling: exactly ``SamplingValue`` rows of the whole input go to the selected output.

Custom properties: ``SamplingValue`` (rows, default 10), ``SamplingSeed`` (0 or absent: a fresh
seed every run, as SSIS then seeds with the tick count). Outputs: the one whose ``Selected``
property is True ("Sampling Selected Output") and the other ("Sampling Unselected Output"); their
columns copy input columns (``InputColumnLineageID``).

Selection is a vectorised reservoir. Every row gets a pseudo-random key, the seeded hash of its
row number (see Percentage Sampling: independent of batch boundaries), and the sample is the
``SamplingValue`` rows with the smallest (key, row number). Only candidates are held (at most
twice ``SamplingValue`` rows, with their keys): once the reservoir has been trimmed to the sample
size, a row whose key is above the largest kept can never be selected and goes to the unselected
output at once; rows trimmed out of the reservoir go there too. Memory is therefore bounded by
the sample size, not the input. The selected rows are emitted when the input ends (Row Sampling is blocking in
SSIS too), in input order. Everything is ``pyarrow.compute`` over whole batches.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Component, Input, Output, to_int
from dataflow.pipeline.component import Emit, Layout, PipelineComponent
from dataflow.pipeline.components.percentage_sampling import (
    row_keys,
    sampling_outputs,
    sampling_seed,
    to_output,
    validate_sampling,
)
from dataflow.pipeline.components.raw_source import batch_rows
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.registry import register

_KEY, _POS = "__sampling_key", "__sampling_row"  # helper columns of the reservoir table
_ORDER: list[tuple[str, Literal["ascending", "descending"]]] = [
    (_KEY, "ascending"),
    (_POS, "ascending"),
]


@register("Microsoft.RowSampling")
class RowSampling(PipelineComponent):
    def __init__(self, model: Component, layout: Layout) -> None:
        super().__init__(model, layout)
        self.seed = 0
        self.size = 0
        self.seen = 0
        self.held: pa.Table | None = None  # candidate rows: input columns + key + row number
        self.bound: tuple[int, int] | None = None  # largest (key, row) kept at the last trim

    def validate(self) -> list[DataflowError]:
        problems = validate_sampling(self)
        if to_int(self.model.prop("SamplingValue", "10"), -1) < 0:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"SamplingValue {self.model.prop('SamplingValue')!r} is not a row count",
                    path=self.model.ref_id,
                )
            )
        return problems

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        self.seed = sampling_seed(self.model)
        self.size = to_int(self.model.prop("SamplingValue", "10"))
        self.seen = 0
        self.held = None
        self.bound = None

    def _emit(self, input: Input, out: Output, rows: pa.Table) -> list[Emit]:
        rows = rows.drop_columns([c for c in (_KEY, _POS) if c in rows.column_names])
        batches = rows.combine_chunks().to_batches(max_chunksize=batch_rows(self))
        return [(out, to_output(self, input, out, b)) for b in batches if b.num_rows]

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        _, unselected = sampling_outputs(self)
        n = batch.num_rows
        keys = row_keys(self.seed, self.seen, n)
        rows = _row_numbers(self.seen, n)
        self.seen += n
        table = pa.Table.from_batches([batch]).append_column(_KEY, keys).append_column(_POS, rows)
        if self.size == 0:
            return self._emit(input, unselected, table)
        emits: list[Emit] = []
        if self.bound is not None:
            # Later rows have larger row numbers, so only a key below the bound can get in.
            enters = pc.less(table[_KEY], pa.scalar(self.bound[0], pa.uint64()))
            rejected = table.filter(pc.invert(enters))
            if rejected.num_rows:
                emits += self._emit(input, unselected, rejected)
                table = table.filter(enters)
            if table.num_rows == 0:
                return emits
        pool = table if self.held is None else pa.concat_tables([self.held, table])
        # Trim to the sample size only when the reservoir has doubled: one O(sample) trim per
        # ~sample-size rows that get in, instead of one per batch. The stale bound only lets
        # rows in that a later trim sends on; it never keeps a row out that belongs in.
        limit = self.size if self.bound is None else 2 * self.size
        if pool.num_rows <= limit:
            self.held = _compact(pool)
            return emits
        self.held, evicted = self._trim(pool)
        return emits + self._emit(input, unselected, evicted)

    def _trim(self, pool: pa.Table) -> tuple[pa.Table, pa.Table]:
        """(the ``size`` rows of ``pool`` with the smallest (key, row), the others); sets the
        bound to the largest (key, row) kept."""
        top = pool.take(pc.select_k_unstable(cast(Any, pool), k=self.size, sort_keys=_ORDER))
        key, row = _largest(top)
        k, r = pool[_KEY], pool[_POS]
        keep = pc.or_(
            pc.less(k, pa.scalar(key, pa.uint64())),
            pc.and_(pc.equal(k, pa.scalar(key, pa.uint64())), pc.less_equal(r, pa.scalar(row))),
        )
        self.bound = (key, row)
        return _compact(pool.filter(keep)), pool.filter(pc.invert(keep))

    def end_input(self, input: Input) -> list[Emit]:
        selected, unselected = sampling_outputs(self)
        held, self.held = self.held, None
        if held is None or held.num_rows == 0:
            return []
        emits: list[Emit] = []
        if held.num_rows > self.size:
            held, evicted = self._trim(held)
            emits += self._emit(input, unselected, evicted)
        return emits + self._emit(input, selected, held.sort_by(_POS))


def _row_numbers(start: int, n: int) -> pa.Int64Array:
    """Row numbers ``start .. start+n-1`` of the input."""
    numbers = pl.int_range(start, start + n, eager=True, dtype=pl.Int64)
    return cast(pa.Int64Array, numbers.to_arrow())


def _compact(table: pa.Table) -> pa.Table:
    """The reservoir in few chunks: filtering keeps one (often tiny) chunk per batch seen, and
    thousands of chunks would make every later batch slower."""
    return table.combine_chunks() if table.column(0).num_chunks > 16 else table


def _largest(table: pa.Table) -> tuple[int, int]:
    """The largest (key, row number) of ``table`` (not empty)."""
    key = pc.max(table[_KEY]).as_py()
    row = pc.max(table.filter(pc.equal(table[_KEY], pa.scalar(key, pa.uint64())))[_POS]).as_py()
    return int(key), int(row)
