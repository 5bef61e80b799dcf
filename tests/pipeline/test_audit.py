"""Audit (Microsoft.Lineage): conformance suite and the system values it adds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
from collections.abc import Iterator

import pyarrow as pa
import pytest

from dataflow.package.model import (
    ColumnType,
    Component,
    CustomProperty,
    FrozenMap,
    Input,
    InputColumn,
    Output,
    OutputColumn,
)
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
AUDIT = f"{TASK}\\Audit"
OUT = f"{AUDIT}.Outputs[Audit Output 1]"

# (column name, LineageItemSelected, type) as the Audit editor creates them
ITEMS = [
    ("ExecutionInstanceGUID", 0, ColumnType("wstr", 38)),
    ("PackageID", 1, ColumnType("wstr", 38)),
    ("PackageName", 2, ColumnType("wstr", 255)),
    ("VersionID", 3, ColumnType("wstr", 38)),
    ("ExecutionStartTime", 4, ColumnType("date")),
    ("MachineName", 5, ColumnType("wstr", 255)),
    ("UserName", 6, ColumnType("wstr", 255)),
    ("TaskName", 7, ColumnType("wstr", 255)),
    ("TaskId", 8, ColumnType("wstr", 38)),
]


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from harness(monkeypatch)  # two conformance-harness workarounds, see there


def sample() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": pa.array(["a", None, "c"], pa.large_string()),
        }
    )


def col(name: str) -> str:
    return f"{OUT}.Columns[{name}]"


def make(src: SourceInfo, items: list[tuple[str, int, ColumnType]] = ITEMS) -> Component:
    inp = f"{AUDIT}.Inputs[Audit Input 1]"
    cols = tuple(
        OutputColumn(
            col(n), n, col(n), t, custom_properties=(CustomProperty("LineageItemSelected", str(k)),)
        )
        for n, k, t in items
    )
    return Component(
        AUDIT,
        "Audit",
        "{4FCE8297-9C65-40A9-9D60-00C5CC6BC283}",  # the 2012 GUID: old ids map to Microsoft.Lineage
        inputs=(
            Input(
                inp,
                "Audit Input 1",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in src.columns),
            ),
        ),
        outputs=(
            Output(OUT, "Audit Output 1", cols, attrs=FrozenMap({"synchronousInputId": inp})),
        ),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    run_case(case, make, sample(), conserves_rows=True)


def test_audit_columns_hold_the_run_values() -> None:
    src = table_source(sample())
    pkg = conformance.assemble(src, make(src))
    pkg = dataclasses.replace(
        pkg,
        dtsid="{11111111-2222-3333-4444-555555555555}",
        properties=FrozenMap({"VersionGUID": "{AAAAAAAA-0000-0000-0000-000000000001}"}),
    )
    before = dt.datetime.now()
    res = run_flow(pkg)
    out = res.outputs["Audit Output 1"]
    assert out.num_rows == 3
    assert out.column(src.lineage("id")).to_pylist() == [1, 2, 3]  # input columns pass through

    def values(name: str) -> set[object]:
        return set(out.column(col(name)).to_pylist())

    assert values("PackageName") == {"Conformance"}
    assert values("PackageID") == {"{11111111-2222-3333-4444-555555555555}"}
    assert values("VersionID") == {"{AAAAAAAA-0000-0000-0000-000000000001}"}
    assert values("TaskName") == {"Data Flow Task"}
    assert values("MachineName") == {socket.gethostname()}
    assert values("ExecutionInstanceGUID") == {res.stats.variables["System::ExecutionInstanceGUID"]}
    (started,) = values("ExecutionStartTime")
    assert isinstance(started, dt.datetime)
    assert abs((started - before).total_seconds()) < 60
    assert out.schema.field(col("ExecutionStartTime")).type == pa.timestamp("us")
    assert out.schema.field(col("ExecutionStartTime")).metadata[b"ssis.type"] == b"DT_DATE"


def test_one_execution_guid_across_batches() -> None:
    src = table_source(pa.table({"id": pa.array(range(5_000), pa.int32())}), batch_rows=1_000)
    res = run_flow(conformance.assemble(src, make(src, ITEMS[:1])))
    guids = set(res.outputs["Audit Output 1"].column(col("ExecutionInstanceGUID")).to_pylist())
    assert len(guids) == 1
    (guid,) = guids
    assert isinstance(guid, str) and guid.startswith("{") and len(guid) == 38


def test_unknown_audit_type_fails_validation() -> None:
    src = table_source(sample())
    with pytest.raises(FlowValidationError) as exc:
        run_flow(conformance.assemble(src, make(src, [("X", 9, ColumnType("wstr", 10))])))
    assert exc.value.problems[0].code == "DTS_E_INDIVIDUALVALIDATIONFAILED"
    assert exc.value.problems[0].path == col("X")
