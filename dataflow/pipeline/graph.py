"""From a Data Flow task's model to a validated graph of component instances.

Validation happens here, before anything runs, and reports every problem at once: components
with no implementation, unattached inputs, input columns whose lineage does not resolve upstream,
type mismatches between an input column and the upstream column, cycles, and each component's own
design-time checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dataflow.core.errors import DataflowError, ValidationError
from dataflow.package.model import Component, Executable, Pipeline
from dataflow.pipeline import registry
from dataflow.pipeline.component import ColumnInfo, Layout, PipelineComponent

DEFAULT_BATCH_ROWS = 65_536  # when the package does not set DefaultBufferMaxRows


class FlowValidationError(ValidationError):
    """Validation found problems; ``problems`` lists each with its own code and refId."""

    def __init__(self, task_ref: str, problems: list[DataflowError]):
        self.problems = problems
        lines = "; ".join(str(p) for p in problems[:10])
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(
            "DTS_E_VALIDATIONFAILED",
            f"{len(problems)} problem(s) in the data flow: {lines}{more}",
            path=task_ref,
            hint="fix the listed components, or run `dataflow validate` for the full report",
        )


@dataclass
class FlowGraph:
    """A validated data flow, ready to run."""

    task: Executable
    pipeline: Pipeline
    layout: Layout
    components: dict[str, PipelineComponent]  # by component refId, in topological order
    downstream: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # output ref -> (comp ref, input ref)
    path_of_output: dict[str, str] = field(default_factory=dict)  # output ref -> path refId
    batch_rows: int = DEFAULT_BATCH_ROWS

    def component(self, name_or_ref: str) -> PipelineComponent:
        for ref, comp in self.components.items():
            if name_or_ref in (ref, comp.model.name):
                return comp
        raise KeyError(name_or_ref)


def _toposort(pipeline: Pipeline, task_ref: str) -> list[Component]:
    owner_of_input = {i.ref_id: c.ref_id for c in pipeline.components for i in c.inputs}
    owner_of_output = {o.ref_id: c.ref_id for c in pipeline.components for o in c.outputs}
    deps: dict[str, set[str]] = {c.ref_id: set() for c in pipeline.components}
    for p in pipeline.paths:
        src, dst = owner_of_output.get(p.start_ref), owner_of_input.get(p.end_ref)
        if src and dst:
            deps[dst].add(src)
    order: list[Component] = []
    done: set[str] = set()
    by_ref = {c.ref_id: c for c in pipeline.components}
    while len(done) < len(by_ref):
        ready = [r for r in by_ref if r not in done and deps[r] <= done]
        if not ready:
            cycle = sorted(set(by_ref) - done)
            raise ValidationError(
                "DTS_E_VALIDATIONFAILED",
                f"the data flow has a cycle through {cycle}",
                path=task_ref,
                hint="a data flow is a directed acyclic graph; remove the path that closes the loop",
            )
        for r in ready:  # keep the package's order among independent components
            order.append(by_ref[r])
            done.add(r)
    return order


def _numeric_ids(pipeline: Pipeline) -> dict[str, int]:
    ids: dict[str, int] = {}
    used = {
        c.numeric_lineage_id
        for comp in pipeline.components
        for o in comp.outputs
        for c in o.columns
        if c.numeric_lineage_id is not None
    }
    next_id = max(used, default=0) + 1
    for comp in pipeline.components:
        for o in comp.outputs:
            for c in o.columns:
                if c.numeric_lineage_id is not None:
                    ids[c.lineage_id] = c.numeric_lineage_id
                else:
                    ids[c.lineage_id] = next_id
                    next_id += 1
    return ids


def build_graph(task: Executable, *, batch_rows: int | None = None) -> FlowGraph:
    """Instantiate and validate the components of a Data Flow task (raises
    :class:`FlowValidationError` listing every problem)."""
    if task.pipeline is None:
        raise ValidationError(
            "DTS_E_TASKVALIDATIONFAILED",
            f"{task.name!r} is not a Data Flow task",
            path=task.ref_id,
        )
    pipeline = task.pipeline
    problems: list[DataflowError] = []
    layout = Layout(numeric=_numeric_ids(pipeline))
    input_owner = {i.ref_id: c for c in pipeline.components for i in c.inputs}
    output_owner = {o.ref_id: c for c in pipeline.components for o in c.outputs}
    graph = FlowGraph(task, pipeline, layout, {})
    for p in pipeline.paths:
        if p.start_ref not in output_owner or p.end_ref not in input_owner:
            problems.append(
                ValidationError(
                    "DTS_E_VALIDATIONFAILED",
                    f"path {p.name!r} joins {p.start_ref!r} to {p.end_ref!r}, which do not both exist",
                    path=p.ref_id,
                )
            )
            continue
        layout.upstream[p.end_ref] = p.start_ref
        graph.downstream[p.start_ref] = (input_owner[p.end_ref].ref_id, p.end_ref)
        graph.path_of_output[p.start_ref] = p.ref_id
    order = _toposort(pipeline, task.ref_id)
    broken: set[str] = set()  # outputs whose columns are unknown (their component cannot run)
    for model in order:
        if any(layout.upstream.get(i.ref_id) in broken for i in model.inputs):
            # Downstream of a component that cannot run: its own problems would only echo that one.
            broken.update(o.ref_id for o in model.outputs)
            continue
        cls = registry.implementation(model.kind)
        if cls is None:
            status, reason = registry.support(model.kind)
            cls = registry.implementation(model.kind)  # support() loads the built-in modules
            if cls is None:
                problems.append(
                    ValidationError(
                        "DTS_E_ERRORCOMPONENT",
                        f"component {model.name!r} ({model.kind}) cannot run: {reason or status}",
                        path=model.ref_id,
                        hint="see `dataflow validate` for what this runtime supports",
                    )
                )
                broken.update(o.ref_id for o in model.outputs)
                continue
        comp: PipelineComponent = cls(model, layout)
        graph.components[model.ref_id] = comp
        problems += _check_inputs(model, layout)
        try:
            _lay_out_outputs(comp, layout)
        except DataflowError as exc:
            problems.append(exc)
            broken.update(o.ref_id for o in model.outputs)
            continue
        try:
            problems += comp.validate()
        except DataflowError as exc:
            problems.append(exc)
    if problems:
        raise FlowValidationError(task.ref_id, problems)
    max_rows = _positive(pipeline.attrs.get("defaultBufferMaxRows"))
    graph.batch_rows = batch_rows or max_rows or DEFAULT_BATCH_ROWS
    size = _positive(pipeline.attrs.get("defaultBufferSize"))
    for comp in graph.components.values():
        comp.batch_rows = graph.batch_rows
        if size and not batch_rows and not comp.model.inputs:
            # DefaultBufferSize caps a source's rows per batch by its estimated row width.
            width = sum(_width(c) for o in comp.model.outputs for c in layout.outputs[o.ref_id])
            comp.batch_rows = max(1, min(graph.batch_rows, size // max(width, 1)))
    return graph


def _positive(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() and int(text) > 0 else None


def _width(col: ColumnInfo) -> int:
    """Estimated bytes of one value in an SSIS buffer (strings at their declared length)."""
    spec = col.spec
    if spec.type.kind == "string":
        return (spec.length or 50) * (2 if spec.name in ("DT_WSTR", "DT_NTEXT") else 1)
    if spec.type.kind == "binary":
        return spec.length or 100
    return 16 if spec.name in ("DT_NUMERIC", "DT_DECIMAL", "DT_GUID", "DT_DBTIMESTAMPOFFSET") else 8


def _check_inputs(model: Component, layout: Layout) -> list[DataflowError]:
    problems: list[DataflowError] = []
    for inp in model.inputs:
        if inp.ref_id not in layout.upstream:
            problems.append(
                ValidationError(
                    "DTS_E_VALIDATIONFAILED",
                    f"input {inp.name!r} of {model.name!r} is not attached to any output",
                    path=inp.ref_id,
                    hint="connect a path to this input or remove the component",
                )
            )
            continue
        available = {c.lineage_id: c for c in layout.input_columns(inp.ref_id)}
        for col in inp.columns:
            info = available.get(col.lineage_id)
            if info is None:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"input column {col.name!r} of {model.name!r} refers to a column that is not "
                        f"available upstream ({col.lineage_id})",
                        path=col.ref_id,
                        hint="open the component's column mappings and map the column again",
                    )
                )
                continue
            cached = col.cached_type
            if (
                cached.data_type
                and cached.data_type.lower() != (info.spec.type.token or "").lower()
            ):
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"input column {col.name!r} of {model.name!r} expects {cached.data_type} but the "
                        f"upstream column is {info.spec}",
                        path=col.ref_id,
                        hint="refresh the component's metadata, or convert the column upstream",
                    )
                )
    return problems


def _lay_out_outputs(comp: PipelineComponent, layout: Layout) -> None:
    for out in comp.model.outputs:
        added = comp.added_columns(out)
        sync = out.synchronous_input
        if sync:
            base = layout.input_columns(sync)
            seen = {c.lineage_id for c in added}
            layout.outputs[out.ref_id] = [c for c in base if c.lineage_id not in seen] + added
        else:
            layout.outputs[out.ref_id] = list(added)


def columns_by_name(columns: Iterable[ColumnInfo]) -> dict[str, ColumnInfo]:
    return {c.name: c for c in columns}
