"""Multicast: every input row goes to every output (all outputs synchronous, zero-copy)."""

from __future__ import annotations

import pyarrow as pa

from dataflow.package.model import Input
from dataflow.pipeline.component import Emit, PipelineComponent
from dataflow.pipeline.registry import register


@register("Microsoft.Multicast")
class Multicast(PipelineComponent):
    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        # Arrow batches are immutable: every output can share the same buffers.
        return [(out, batch) for out in self.model.outputs]
