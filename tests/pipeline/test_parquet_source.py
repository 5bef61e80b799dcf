"""Parquet Source: conformance suite, round trip, folders and glob patterns, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataflow.core.datatypes import spec_from_field
from dataflow.core.errors import ExecutionError
from dataflow.package.model import Component, CustomProperty, Output, OutputColumn
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_parquet_destination import write
from tests.pipeline.test_raw_destination import typed_table
from tests.pipeline.test_row_count import with_variable
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
PSRC = f"{TASK}\\Parquet Source"
OUT = f"{PSRC}.Outputs[Parquet Source Output]"


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


def make_source(
    columns: dict[str, OutputColumn], location: Path | str, access_mode: int = 0
) -> Component:
    cols = tuple(
        OutputColumn(f"{OUT}.Columns[{n}]", n, f"{OUT}.Columns[{n}]", c.type)
        for n, c in columns.items()
    )
    key = "FileName" if access_mode == 0 else "FileNameVariable"
    return Component(
        PSRC,
        "Parquet Source",
        "Dataflow.ParquetSource",
        custom_properties=(
            CustomProperty("AccessMode", str(access_mode)),
            CustomProperty(key, str(location)),
        ),
        outputs=(Output(OUT, "Parquet Source Output", cols),),
    )


def file_of(src: SourceInfo, path: Path) -> Component:
    """Conformance factory: write the harness's table to a Parquet file, read it back."""
    pq.write_table(conformance._TABLES[src.component.prop("TableKey", "")], path)
    return make_source(src.columns, path)


def ids(res: conformance.FlowResult, column: str = "id") -> list[object]:
    return res.outputs["Parquet Source Output"].column(f"{OUT}.Columns[{column}]").to_pylist()


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path) -> None:
    res = run_case(
        case, lambda src: file_of(src, tmp_path / "in.parquet"), sample(), conserves_rows=True
    )
    if case == "sample":
        assert res is not None and ids(res, "name") == ["a", None, "c"]


def test_round_trip_keeps_values_and_ssis_types(tmp_path: Path) -> None:
    table = typed_table()
    write(table, tmp_path / "t.parquet")
    src = table_source(table)  # only to declare the same columns on the Parquet Source
    res = run_flow(conformance.assemble(src, make_source(src.columns, tmp_path / "t.parquet")))
    out = res.outputs["Parquet Source Output"]
    for f in table.schema:
        got = out.schema.field(f"{OUT}.Columns[{f.name}]")
        assert spec_from_field(got) == spec_from_field(f), f.name
        assert out.column(got.name).to_pylist() == table.column(f.name).to_pylist(), f.name


def test_folder_and_glob_read_every_file_in_name_order(tmp_path: Path) -> None:
    for k in (2, 0, 1):
        pq.write_table(
            pa.table({"id": pa.array([10 * k, 10 * k + 1], pa.int32())}),
            tmp_path / f"part-{k}.parquet",
        )
    (tmp_path / "notes.txt").write_text("not parquet")
    src = table_source(pa.table({"id": pa.array([0], pa.int32())}))
    assert ids(run_flow(conformance.assemble(src, make_source(src.columns, tmp_path)))) == [
        0,
        1,
        10,
        11,
        20,
        21,
    ]
    res = run_flow(
        conformance.assemble(src, make_source(src.columns, tmp_path / "part-[12].parquet"))
    )
    assert ids(res) == [10, 11, 20, 21]


def test_streams_in_buffer_sized_batches_and_reads_only_declared_columns(tmp_path: Path) -> None:
    table = pa.table({"id": pa.array(range(10_000), pa.int32()), "extra": pa.array(["x"] * 10_000)})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2_500)
    src = table_source(table.select(["id"]))
    res = run_flow(
        conformance.assemble(src, make_source(src.columns, tmp_path / "t.parquet")),
        batch_rows=1_000,
    )
    assert res.stats.outputs[OUT].batches == 10
    assert ids(res) == list(range(10_000))
    assert res.outputs["Parquet Source Output"].num_columns == 1


def test_file_name_from_variable(tmp_path: Path) -> None:
    write(sample(), tmp_path / "v.parquet")
    src = table_source(sample())
    pkg = conformance.assemble(src, make_source(src.columns, "User::Input", access_mode=1))
    assert ids(run_flow(with_variable(pkg, "Input", 8, str(tmp_path / "v.parquet")))) == [1, 2, 3]


def test_nothing_to_read_and_missing_column_are_coded_errors(tmp_path: Path) -> None:
    src = table_source(sample())
    with pytest.raises(ExecutionError) as exc:
        run_flow(conformance.assemble(src, make_source(src.columns, tmp_path / "*.parquet")))
    assert exc.value.code == "DTS_E_PRIMEOUTPUTFAILED" and "no Parquet file" in exc.value.message
    pq.write_table(pa.table({"id": pa.array([1], pa.int32())}), tmp_path / "only-id.parquet")
    with pytest.raises(ExecutionError) as exc:
        run_flow(conformance.assemble(src, make_source(src.columns, tmp_path / "only-id.parquet")))
    assert exc.value.code == "DTS_E_PRIMEOUTPUTFAILED" and "'name'" in exc.value.message
