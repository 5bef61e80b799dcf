"""Copy Column: conformance suite plus its semantics (zero-copy duplicates under new lineage)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from dataflow.core.datatypes import arrow_field, make_spec
from dataflow.core.errors import ValidationError
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
from dataflow.package.reader import load_package
from dataflow.package.writer import save_package
from dataflow.pipeline.components import copy_column  # registers the component
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, assemble, run_case, run_flow, table_source

TASK = "Package\\Data Flow Task"
REF = f"{TASK}\\Copy Column"
INP = f"{REF}.Inputs[Copy Column Input]"
OUT = f"{REF}.Outputs[Copy Column Output]"
_ = copy_column


def sample() -> pa.Table:
    schema = pa.schema(
        [
            arrow_field("id", make_spec("DT_I4")),
            arrow_field("address", make_spec("DT_WSTR", length=30)),
        ]
    )
    return pa.table(
        [
            pa.array([1, 2, 3], pa.int32()),
            pa.array(["1 Main St", None, "9 Elm Rd"], pa.large_string()),
        ],
        schema=schema,
    )


def tiled(table: pa.Table, copies: int = 300) -> pa.Table:
    """One chunk: the harness emits one batch per chunk of its large and cancel inputs."""
    return pa.concat_tables([table] * copies).combine_chunks()


def make_copy(
    src: SourceInfo,
    copies: dict[str, str] | None = None,
    *,
    types: dict[str, ColumnType] | None = None,
) -> Component:
    copies = copies or {"address copy": "address", "id copy": "id"}
    types = types or {}
    used = sorted(set(copies.values()))
    cols = tuple(
        InputColumn(f"{INP}.Columns[{n}]", src.lineage(n), n, src.columns[n].type) for n in used
    )
    outs = tuple(
        OutputColumn(
            f"{OUT}.Columns[{name}]",
            name,
            f"{OUT}.Columns[{name}]",
            types.get(name, src.columns[source].type),
            custom_properties=(
                CustomProperty(
                    "copyColumnId",
                    "#{" + src.lineage(source) + "}",
                    FrozenMap({"containsID": "true", "dataType": "System.Int32"}),
                ),
            ),
        )
        for name, source in copies.items()
    )
    return Component(
        REF,
        "Copy Column",
        "Microsoft.CopyMap",
        inputs=(Input(INP, "Copy Column Input", cols),),
        outputs=(
            Output(OUT, "Copy Column Output", outs, attrs=FrozenMap({"synchronousInputId": INP})),
        ),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    # conformance._SCHEMA_SEEN keeps the batches of earlier run_flow() calls of other tests, which
    # run_case would then check against this flow's graph: start from a clean slate.
    conformance._SCHEMA_SEEN.clear()
    run_case(case, make_copy, tiled(sample()), conserves_rows=True)


def test_copies_share_buffers_under_new_lineage() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, make_copy(src)))
    out = res.outputs["Copy Column Output"]
    assert out.column_names == [
        src.lineage("id"),
        src.lineage("address"),
        f"{OUT}.Columns[address copy]",
        f"{OUT}.Columns[id copy]",
    ]
    assert out.column(f"{OUT}.Columns[address copy]").to_pylist() == ["1 Main St", None, "9 Elm Rd"]
    assert out.column(f"{OUT}.Columns[id copy]").to_pylist() == [1, 2, 3]
    field = out.schema.field(f"{OUT}.Columns[address copy]")
    assert field.metadata[b"ssis.name"] == b"address copy"
    assert field.metadata[b"ssis.length"] == b"30"
    original = out.column(src.lineage("address")).chunk(0)
    copy = out.column(f"{OUT}.Columns[address copy]").chunk(0)
    assert original.buffers()[2].address == copy.buffers()[2].address  # zero-copy


def test_same_column_copied_twice() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, make_copy(src, {"a1": "address", "a2": "address"})))
    out = res.outputs["Copy Column Output"]
    assert (
        out.column(f"{OUT}.Columns[a1]").to_pylist() == out.column(f"{OUT}.Columns[a2]").to_pylist()
    )


def test_type_mismatch_fails_validation() -> None:
    src = table_source(sample())
    comp = make_copy(src, {"bad": "id"}, types={"bad": ColumnType("wstr", 10)})
    with pytest.raises(ValidationError) as info:
        run_flow(assemble(src, comp))
    assert [p.code for p in info.value.problems] == ["DTS_E_VALIDATIONFAILED"]  # type: ignore[attr-defined]


def test_real_format_package_round_trip(tmp_path: Path) -> None:
    src = table_source(sample())
    path = tmp_path / "copy.dtsx"
    save_package(assemble(src, make_copy(src)), path)
    res = run_flow(load_package(path))
    out = res.outputs["Copy Column Output"]
    assert out.column(f"{OUT}.Columns[address copy]").to_pylist() == ["1 Main St", None, "9 Elm Rd"]
    assert res.stats.rows[("Copy Column", "Copy Column Output")] == 3
