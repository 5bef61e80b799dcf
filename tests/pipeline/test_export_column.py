"""Export Column: conformance suite, files written per option, error routing, import round trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from dataflow.core.datatypes import arrow_field, make_spec
from dataflow.core.errors import CODES, ExecutionError
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
from dataflow.pipeline.components.export_column import WRITE_FAILED
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_import_column import CONTENT
from tests.pipeline.test_import_column import make as make_import
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
EC = f"{TASK}\\Export Column"
OUT = f"{EC}.Outputs[Export Column Output]"
ERR = f"{EC}.Outputs[Export Column Error Output]"


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from harness(monkeypatch)  # two conformance-harness workarounds, see there


def table(paths: list[str | None], data: list[object], data_type: str = "DT_IMAGE") -> pa.Table:
    spec = make_spec(data_type)
    fields = [
        arrow_field("id", make_spec("DT_I4")),
        arrow_field("path", make_spec("DT_WSTR", 260)),
        arrow_field("data", spec),
    ]
    return pa.table(
        [
            pa.array(range(1, len(paths) + 1), pa.int32()),
            pa.array(paths, pa.large_string()),
            pa.array(data, fields[2].type),
        ],
        schema=pa.schema(fields),
    )


def make(
    src: SourceInfo,
    *,
    append: bool = False,
    truncate: bool = False,
    bom: bool = False,
    disposition: str = "RedirectRow",
) -> Component:
    inp = f"{EC}.Inputs[Export Column Input]"
    data_col = InputColumn(
        f"{inp}.Columns[data]",
        src.lineage("data"),
        "data",
        attrs=FrozenMap({"errorRowDisposition": disposition}),
        custom_properties=(CustomProperty("FileDataColumnID", "0"),),
    )
    path_col = InputColumn(
        f"{inp}.Columns[path]",
        src.lineage("path"),
        "path",
        custom_properties=(
            CustomProperty("AllowAppend", str(append).lower()),
            CustomProperty("ForceTruncate", str(truncate).lower()),
            CustomProperty(
                "FileDataColumnID",
                f"#{{{src.lineage('data')}}}",
                attrs=FrozenMap({"containsID": "true"}),
            ),
            CustomProperty("WriteBOM", str(bom).lower()),
        ),
    )
    id_col = InputColumn(f"{inp}.Columns[id]", src.lineage("id"), "id")
    err_cols = tuple(
        OutputColumn(
            f"{ERR}.Columns[{n}]",
            n,
            f"{ERR}.Columns[{n}]",
            ColumnType("i4"),
            FrozenMap({"specialFlags": f}),
        )
        for n, f in (("ErrorCode", "1"), ("ErrorColumn", "2"))
    )
    sync = {"synchronousInputId": inp, "exclusionGroup": "1"}
    return Component(
        EC,
        "Export Column",
        "{A9823821-0085-4483-952F-36277F63FFC5}",  # the 2012 GUID maps to Microsoft.Extractor
        attrs=FrozenMap({"usesDispositions": "true"}),
        inputs=(Input(inp, "Export Column Input", (id_col, data_col, path_col)),),
        outputs=(
            Output(OUT, "Export Column Output", attrs=FrozenMap(sync)),
            Output(
                ERR,
                "Export Column Error Output",
                err_cols,
                attrs=FrozenMap({**sync, "isErrorOut": "true"}),
            ),
        ),
    )


def run(t: pa.Table, **kw: object) -> conformance.FlowResult:
    src = table_source(t)
    return run_flow(conformance.assemble(src, make(src, **kw)))  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.bin"), str(tmp_path / "b.bin")
    t = table([a, b, a], [b"1", b"22", None])
    res = run_case(case, lambda src: make(src, append=True), t, conserves_rows=True)
    if case == "sample":
        assert res is not None
        assert Path(a).read_bytes() == b"1" and Path(b).read_bytes() == b"22"
    if case == "nulls":  # NULL paths: nowhere to write, so every row is redirected
        assert (
            res is not None and res.stats.rows[("Export Column", "Export Column Error Output")] == 3
        )


def test_each_row_its_own_file_and_rows_pass_through(tmp_path: Path) -> None:
    paths = [str(tmp_path / f"f{i}.bin") for i in range(3)]
    res = run(table(paths, [b"\x00\x01", b"", b"xyz"]))
    assert [Path(p).read_bytes() for p in paths] == [b"\x00\x01", b"", b"xyz"]
    assert res.stats.rows[("Export Column", "Export Column Output")] == 3
    assert res.outputs["Export Column Output"].num_columns == 3


def test_allow_append_keeps_row_order_within_a_file(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "b.txt")
    Path(a).write_bytes(b"old|")
    run(table([a, b, a, b, a], [b"1", b"2", b"3", b"4", b"5"]), append=True)
    assert Path(a).read_bytes() == b"old|135"
    assert Path(b).read_bytes() == b"24"


def test_force_truncate_leaves_the_last_row(tmp_path: Path) -> None:
    a = str(tmp_path / "a.txt")
    Path(a).write_bytes(b"old")
    res = run(table([a, a], [b"first", b"second"]), truncate=True)
    assert Path(a).read_bytes() == b"second"
    assert res.stats.rows[("Export Column", "Export Column Error Output")] == 0


def test_existing_file_without_append_or_truncate_is_redirected(tmp_path: Path) -> None:
    a, new = str(tmp_path / "a.txt"), str(tmp_path / "new.txt")
    Path(a).write_bytes(b"keep")
    src = table_source(table([a, new, new, None], [b"x", b"y", b"z", b"w"]))
    res = run_flow(conformance.assemble(src, make(src)))
    assert Path(a).read_bytes() == b"keep"
    assert Path(new).read_bytes() == b"y"  # the first row wrote it; the second finds it there
    assert res.outputs["Export Column Output"].column(src.lineage("id")).to_pylist() == [2]
    bad = res.outputs["Export Column Error Output"]
    assert bad.num_rows == 3
    assert set(bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist()) == {CODES[WRITE_FAILED].decimal}
    (column_id,) = set(bad.column(f"{ERR}.Columns[ErrorColumn]").to_pylist())
    assert res.stats.lineage_names[column_id] == "data"


def test_fail_component_on_write_error(tmp_path: Path) -> None:
    target = str(tmp_path / "no-such-dir" / "a.bin")
    with pytest.raises(ExecutionError) as exc:
        run(table([target], [b"x"]), disposition="FailComponent")
    assert exc.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONERROR"
    assert "no-such-dir" in exc.value.message


def test_text_encodings_and_bom(tmp_path: Path) -> None:
    u, t = str(tmp_path / "u.txt"), str(tmp_path / "t.txt")
    run(table([u, u], ["héllo ", "✓"], "DT_NTEXT"), append=True, bom=True)
    assert Path(u).read_bytes() == b"\xff\xfe" + "héllo ✓".encode("utf-16-le")
    run(table([t], ["café"], "DT_TEXT"))
    assert Path(t).read_bytes() == "café".encode("cp1252")


def test_character_outside_the_code_page_is_a_row_error(tmp_path: Path) -> None:
    res = run(table([str(tmp_path / "t.txt")], ["✓"], "DT_TEXT"))
    assert res.outputs["Export Column Error Output"].num_rows == 1


def test_append_and_truncate_together_fail_validation(tmp_path: Path) -> None:
    with pytest.raises(FlowValidationError) as exc:
        run(table([str(tmp_path / "a")], [b"x"]), append=True, truncate=True)
    assert "AllowAppend and ForceTruncate" in exc.value.problems[0].message


def test_export_then_import_round_trip(tmp_path: Path) -> None:
    blobs = [bytes(range(256)), b"", b"\x00" * 10_000]
    paths = [str(tmp_path / f"blob{i}.bin") for i in range(3)]
    run(table(paths, blobs))
    src = table_source(
        pa.table(
            {"id": pa.array([1, 2, 3], pa.int32()), "path": pa.array(paths, pa.large_string())}
        )
    )
    res = run_flow(conformance.assemble(src, make_import(src)))
    assert res.outputs["Import Column Output"].column(CONTENT).to_pylist() == blobs
