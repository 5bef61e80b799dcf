"""Multicast: conformance suite plus its semantics (every row on every output)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from dataflow.package.model import Component, FrozenMap, Input, InputColumn, Output
from tests.pipeline.conformance import CASES, SourceInfo, assemble, run_case, run_flow, table_source

TASK = "Package\\Data Flow Task"


def sample() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": pa.array(["a", None, "c"], pa.large_string()),
        }
    )


def make(src: SourceInfo, outputs: int = 2) -> Component:
    ref = f"{TASK}\\Multicast"
    inp = f"{ref}.Inputs[Multicast Input 1]"
    return Component(
        ref,
        "Multicast",
        "Microsoft.Multicast",
        inputs=(
            Input(
                inp,
                "Multicast Input 1",
                tuple(InputColumn(f"{inp}.Columns[{n}]", src.lineage(n), n) for n in src.columns),
            ),
        ),
        outputs=tuple(
            Output(
                f"{ref}.Outputs[Multicast Output {i}]",
                f"Multicast Output {i}",
                attrs=FrozenMap({"synchronousInputId": inp}),
            )
            for i in range(1, outputs + 1)
        ),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    run_case(case, make, sample(), conserves_rows=False)


def test_every_row_reaches_every_output() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, make(src, outputs=3)))
    assert res.stats.rows[("Multicast", "Multicast Output 1")] == 3
    assert res.stats.rows[("Multicast", "Multicast Output 3")] == 3
    for i in (1, 2, 3):
        t = res.outputs[f"Multicast Output {i}"]
        assert t.column(src.lineage("name")).to_pylist() == ["a", None, "c"]
