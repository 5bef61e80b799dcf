"""The engine with hand-made components: streaming, counts, error outputs, failure, cancel."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest

from dataflow.core.errors import CODES, ExecutionError
from dataflow.pipeline import run_data_flow
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import enginekit as k

SRC_OUT = f"{k.TASK}\\Src.Outputs[Out]"
N_COL = f"{SRC_OUT}.Columns[n]"


def _flow(rows: int = 10_000, disposition: str = "RedirectRow", **src: object) -> k.Package:
    return k.package(
        k.source("Src", rows, **src),  # type: ignore[arg-type]
        k.checker("Check", N_COL, disposition),
        k.sink("GoodSink"),
        k.sink("BadSink"),
        paths=[
            k.path(SRC_OUT, f"{k.TASK}\\Check.Inputs[In]", "p1"),
            k.path(f"{k.TASK}\\Check.Outputs[Good]", f"{k.TASK}\\GoodSink.Inputs[In]", "p2"),
            k.path(f"{k.TASK}\\Check.Outputs[Errors]", f"{k.TASK}\\BadSink.Inputs[In]", "p3"),
        ],
    )


def test_rows_flow_and_are_counted_with_conservation() -> None:
    stats = run_data_flow(_flow(10_000), "DFT")
    assert stats.rows[("Src", "Out")] == 10_000
    good, bad = stats.rows[("Check", "Good")], stats.rows[("Check", "Errors")]
    assert bad == 1_000
    assert good + bad == 10_000
    got = pa.Table.from_batches(k.SINKS["GoodSink"]).column(N_COL).to_pylist()
    assert len(got) == 9_000 and all(v % 10 != 3 for v in got)
    errors = pa.Table.from_batches(k.SINKS["BadSink"])
    code_col = f"{k.TASK}\\Check.Outputs[Errors].Columns[ErrorCode]"
    colid_col = f"{k.TASK}\\Check.Outputs[Errors].Columns[ErrorColumn]"
    assert set(errors.column(code_col).to_pylist()) == {CODES["DTS_E_EXPREVALDIVBYZERO"].decimal}
    (colid,) = set(errors.column(colid_col).to_pylist())
    assert stats.lineage_names[colid] == "n"
    assert stats.components["Check"].rows_in == 10_000


def test_fail_component_disposition_fails_the_flow_with_a_coded_error() -> None:
    with pytest.raises(ExecutionError) as exc:
        run_data_flow(_flow(100, "FailComponent"), "DFT")
    assert exc.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONERROR"
    assert exc.value.path == f"{k.TASK}\\Check"
    assert "first at row 3" in exc.value.message


def test_ignore_failure_keeps_rows() -> None:
    stats = run_data_flow(_flow(100, "IgnoreFailure"), "DFT")
    assert stats.rows[("Check", "Good")] == 100
    assert stats.rows[("Check", "Errors")] == 0


def test_source_failure_stops_every_thread() -> None:
    before = threading.active_count()
    events: list[str] = []
    stats = run_data_flow(
        _flow(1_000_000, fail_at=50_000),
        "DFT",
        raise_on_error=False,
        on_event=lambda e: events.append(e.code or ""),
    )
    assert stats.error is not None and stats.error.code == "DTS_E_PRIMEOUTPUTFAILED"
    assert "DTS_E_PRIMEOUTPUTFAILED" in events
    assert threading.active_count() == before


def test_cancel_between_batches_ends_quickly() -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t0 = time.perf_counter()
    stats = run_data_flow(_flow(10_000_000, delay=0.01), "DFT", cancel=cancel, raise_on_error=False)
    assert time.perf_counter() - t0 < 3
    assert stats.cancelled
    assert stats.rows[("Src", "Out")] < 10_000_000


def test_back_pressure_bounds_batches_in_flight() -> None:
    # A slow sink: the source can run ahead by at most the bounded queues, not by the whole input.
    pkg = k.package(
        k.source("Src", 200_000, batch=1_000),
        k.sink("Slow", delay=0.002),
        paths=[k.path(SRC_OUT, f"{k.TASK}\\Slow.Inputs[In]", "p")],
    )
    seen: list[int] = []

    def on_event(e: object) -> None:
        if getattr(e, "name", "") == "OnPipelineRowsSent" and getattr(e, "source", "").endswith(
            "Src"
        ):
            seen.append(len(k.SINKS.get("Slow", [])))

    run_data_flow(pkg, "DFT", on_event=on_event)
    # When the source sent its n-th batch, the sink had consumed at least n - (queue + 2) batches.
    lag = max(i + 1 - consumed for i, consumed in enumerate(seen))
    assert lag <= 8, lag


def test_validation_lists_every_problem_before_running() -> None:
    pkg = k.package(
        k.source("Src", 10),
        k.checker("Check", "Package\\DFT\\Nowhere.Outputs[X].Columns[y]"),
        k.sink("Unattached"),
        paths=[k.path(SRC_OUT, f"{k.TASK}\\Check.Inputs[In]", "p1")],
    )
    with pytest.raises(FlowValidationError) as exc:
        run_data_flow(pkg, "DFT")
    codes = [p.code for p in exc.value.problems]
    paths = [p.path or "" for p in exc.value.problems]
    assert codes == ["DTS_E_VALIDATIONFAILED", "DTS_E_VALIDATIONFAILED"]
    assert any(p.endswith("Check.Inputs[In].Columns[n]") for p in paths)
    assert any(p.endswith("Unattached.Inputs[In]") for p in paths)


def test_batch_size_hint_is_honoured() -> None:
    pkg = k.package(
        k.source("Src", 5_000, batch=10_000_000),
        k.sink("S"),
        paths=[k.path(SRC_OUT, f"{k.TASK}\\S.Inputs[In]", "p")],
        defaultBufferMaxRows="1234",
    )
    stats = run_data_flow(pkg, "DFT")
    assert stats.rows[("Src", "Out")] == 5_000


def test_buffer_size_hint_caps_rows_per_batch() -> None:
    from dataflow.pipeline.graph import build_graph

    pkg = k.package(
        k.source("Src", 10, batch=10),
        k.sink("S"),
        paths=[k.path(SRC_OUT, f"{k.TASK}\\S.Inputs[In]", "p")],
        defaultBufferMaxRows="10000",
        defaultBufferSize="800",  # one i8 column: 8 bytes a row -> 100 rows a batch
    )
    graph = build_graph(pkg.executables[0])
    assert graph.batch_rows == 10_000
    assert graph.component("Src").batch_rows == 100
    assert build_graph(pkg.executables[0], batch_rows=5).component("Src").batch_rows == 5
