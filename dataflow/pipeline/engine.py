"""The data-flow engine: moves Arrow record batches along paths, one thread per component.

Every component runs on its own thread with one bounded inbox (back-pressure: a producer waits
when its consumer is behind, so memory stays bounded on streaming paths). polars and Arrow release
the GIL, so independent branches use both cores. Every output counts its rows and batches, every
component its time; events report progress while it runs. A failure or a cancellation stops every
thread at its next batch boundary; every queue is drained or abandoned, every thread joined, every
component closed, so nothing hangs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from dataflow.core.errors import Cancelled, DataflowError, ExecutionError
from dataflow.package.model import Input, Output
from dataflow.pipeline.component import Emit, PipelineComponent
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.graph import FlowGraph

INBOX_BATCHES = 4  # bounded queue per component
_POLL = 0.05  # seconds between stop checks while blocked
_EOF = object()


@dataclass
class PathStats:
    """Rows and batches sent on one output (and its path, when it has one)."""

    component: str
    output: str
    path: str | None
    rows: int = 0
    batches: int = 0
    is_error_output: bool = False


@dataclass
class ComponentStats:
    name: str
    ref_id: str
    seconds: float = 0.0  # time spent in the component's own code
    rows_in: int = 0
    rows_out: int = 0


@dataclass
class DataFlowStats:
    """What a data-flow run did: rows on every output, time in every component."""

    task: str
    outputs: dict[str, PathStats] = field(default_factory=dict)  # by output refId
    components: dict[str, ComponentStats] = field(default_factory=dict)  # by component name
    seconds: float = 0.0
    lineage_names: dict[int, str] = field(default_factory=dict)  # ErrorColumn id -> column name
    error: DataflowError | None = None
    cancelled: bool = False
    variables: dict[str, Any] = field(default_factory=dict)  # values after the run

    @property
    def rows(self) -> dict[tuple[str, str], int]:
        """Rows per (component name, output name)."""
        return {(s.component, s.output): s.rows for s in self.outputs.values()}

    @property
    def succeeded(self) -> bool:
        return self.error is None and not self.cancelled

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "seconds": self.seconds,
            "outputs": [vars(s) for s in self.outputs.values()],
            "components": [vars(c) for c in self.components.values()],
            "error": self.error.to_dict() if self.error else None,
            "cancelled": self.cancelled,
        }


class _Stop(Exception):
    """Internal: another thread failed or the run was cancelled; unwind quietly."""


class _Run:
    def __init__(self, graph: FlowGraph, ctx: RunContext):
        self.graph = graph
        self.ctx = ctx
        self.stop = threading.Event()
        self.inbox: dict[str, queue.Queue[tuple[str, Any]]] = {
            ref: queue.Queue(maxsize=INBOX_BATCHES) for ref in graph.components
        }
        self.failure: DataflowError | None = None
        self.cancelled = False
        self.lock = threading.Lock()
        self.stats = DataFlowStats(graph.task.ref_id, lineage_names=graph.layout.names())
        for ref, comp in graph.components.items():
            self.stats.components[comp.model.name] = ComponentStats(comp.model.name, ref)
            for out in comp.model.outputs:
                self.stats.outputs[out.ref_id] = PathStats(
                    comp.model.name,
                    out.name,
                    graph.path_of_output.get(out.ref_id),
                    is_error_output=out.is_error_output,
                )

    # --- plumbing -----------------------------------------------------------------------
    def _halt(self) -> bool:
        if self.ctx.cancel.is_set():
            self.cancelled = True
            self.stop.set()
        return self.stop.is_set()

    def _put(self, comp_ref: str, item: tuple[str, Any]) -> None:
        q = self.inbox[comp_ref]
        while True:
            if self._halt():
                raise _Stop
            try:
                q.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def _get(self, comp_ref: str) -> tuple[str, Any]:
        q = self.inbox[comp_ref]
        while True:
            if self._halt():
                raise _Stop
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                continue

    def _send(self, comp: PipelineComponent, out: Output, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        st = self.stats.outputs[out.ref_id]
        st.rows += n
        st.batches += 1
        self.stats.components[comp.model.name].rows_out += n
        target = self.graph.downstream.get(out.ref_id)
        if target is not None and n:
            self._put(target[0], (target[1], batch))
        self.ctx.emit(
            "OnPipelineRowsSent",
            comp.model.ref_id,
            f"{n} rows sent on {out.name!r}",
            output=out.name,
            rows=n,
            total=st.rows,
        )

    def _emit_all(self, comp: PipelineComponent, emits: Iterable[Emit]) -> None:
        for out, batch in emits:
            self._send(comp, out, batch)

    def _eof(self, comp: PipelineComponent) -> None:
        for out in comp.model.outputs:
            target = self.graph.downstream.get(out.ref_id)
            if target is not None:
                self._put(target[0], (target[1], _EOF))

    def _fail(self, comp: PipelineComponent, exc: BaseException, wrapper: str) -> None:
        if isinstance(exc, DataflowError):
            err = exc
        else:
            err = ExecutionError(
                wrapper,
                f"component {comp.model.name!r} failed: {type(exc).__name__}: {exc}",
                path=comp.model.ref_id,
            )
        with self.lock:
            if self.failure is None:
                self.failure = err
                self.ctx.emit("OnError", comp.model.ref_id, str(err), err.code)
                self.ctx.emit(
                    "OnError",
                    comp.model.ref_id,
                    f"{wrapper}: component {comp.model.name!r} failed",
                    wrapper,
                )
        self.stop.set()

    # --- threads ------------------------------------------------------------------------
    def _timed(self, comp: PipelineComponent, it: Iterator[Emit]) -> Iterator[Emit]:
        cstats = self.stats.components[comp.model.name]
        while True:
            t0 = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                cstats.seconds += time.perf_counter() - t0
                return
            cstats.seconds += time.perf_counter() - t0
            yield item

    def run_source(self, comp: PipelineComponent) -> None:
        try:
            for out, batch in self._timed(comp, comp.produce()):
                self._send(comp, out, batch)
            comp.finish()
            self._eof(comp)
        except (_Stop, Cancelled):
            self.stop.set()
        except BaseException as exc:
            self._fail(comp, exc, "DTS_E_PRIMEOUTPUTFAILED")

    def run_consumer(self, comp: PipelineComponent) -> None:
        cstats = self.stats.components[comp.model.name]
        inputs: dict[str, Input] = {i.ref_id: i for i in comp.model.inputs}
        open_inputs = {ref for ref in inputs if ref in self.graph.layout.upstream}
        try:
            while open_inputs:
                input_ref, item = self._get(comp.model.ref_id)
                inp = inputs[input_ref]
                t0 = time.perf_counter()
                if item is _EOF:
                    open_inputs.discard(input_ref)
                    emits = list(comp.end_input(inp))
                else:
                    cstats.rows_in += item.num_rows
                    emits = list(comp.process(inp, item))
                cstats.seconds += time.perf_counter() - t0
                self._emit_all(comp, emits)
            t0 = time.perf_counter()
            comp.finish()
            cstats.seconds += time.perf_counter() - t0
            self._eof(comp)
        except (_Stop, Cancelled):
            self.stop.set()
        except BaseException as exc:
            self._fail(comp, exc, "DTS_E_PROCESSINPUTFAILED")


def execute(graph: FlowGraph, ctx: RunContext) -> DataFlowStats:
    """Run a validated data flow to the end (or to its first failure / cancellation)."""
    run = _Run(graph, ctx)
    started = time.perf_counter()
    threads: list[threading.Thread] = []
    comps = list(graph.components.values())
    try:
        for comp in comps:  # PreExecute of every component before any row moves
            comp.start(ctx)
        for comp in comps:
            is_source = not comp.model.inputs
            target = run.run_source if is_source else run.run_consumer
            t = threading.Thread(
                target=target, args=(comp,), name=f"dataflow:{comp.model.name}", daemon=True
            )
            threads.append(t)
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(timeout=0.2)
                run._halt()
    except DataflowError as exc:
        run.failure = run.failure or exc
        run.stop.set()
    finally:
        run.stop.set() if (run.failure or run.cancelled) else None
        for t in threads:
            t.join()
        for comp in comps:
            try:
                comp.close()
            except Exception as exc:
                ctx.emit("OnWarning", comp.model.ref_id, f"close failed: {exc}")
    run.stats.seconds = time.perf_counter() - started
    run.stats.error = run.failure
    run.stats.cancelled = run.cancelled and run.failure is None
    return run.stats
