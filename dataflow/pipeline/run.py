"""``run_data_flow``: run one Data Flow task of a package on its own (API.md, Data flow)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from dataflow.package.model import Package
from dataflow.pipeline.context import (
    EventSink,
    RunContext,
    build_variables,
    resolve_connections,
    used_connections,
)
from dataflow.pipeline.engine import DataFlowStats, execute
from dataflow.pipeline.graph import build_graph


def run_data_flow(
    pkg: Package,
    task: str,
    *,
    parameters: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    connections: Mapping[str, str] | None = None,
    on_event: EventSink | None = None,
    cancel: threading.Event | None = None,
    batch_rows: int | None = None,
    raise_on_error: bool = True,
) -> DataFlowStats:
    """Run the Data Flow task ``task`` (name or refId) of ``pkg``.

    The property expressions of the connection managers are evaluated first with the given
    parameters and variables; ``connections`` overrides connection strings by manager name.
    Variables written by the flow (Row Count, Recordset Destination) are in ``stats.variables``.
    Raises the component's coded error when the flow fails (``raise_on_error=False`` returns the
    statistics with ``stats.error`` set instead).
    """
    exe = pkg.find(task)
    store = build_variables(pkg, exe, parameters, variables)
    ctx = RunContext(
        package=pkg,
        task=exe,
        variables=store,
        connections=resolve_connections(pkg, store, connections, only=used_connections(exe)),
        cancel=cancel or threading.Event(),
        on_event=on_event,
        batch_rows=batch_rows,
    )
    graph = build_graph(exe, batch_rows=batch_rows)
    stats = execute(graph, ctx)
    stats.variables = store.values()
    if stats.error is not None and raise_on_error:
        raise stats.error
    return stats
