"""Import Column: conformance suite, file contents into columns, error routing for bad files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

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
from dataflow.pipeline.components.import_column import READ_FAILED
from dataflow.pipeline.graph import FlowValidationError
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, run_case, run_flow, table_source
from tests.pipeline.test_union_all import harness

TASK = conformance.TASK
IC = f"{TASK}\\Import Column"
OUT = f"{IC}.Outputs[Import Column Output]"
ERR = f"{IC}.Outputs[Import Column Error Output]"
CONTENT = f"{OUT}.Columns[content]"
IMAGE = ColumnType("image")


@pytest.fixture(autouse=True)
def _harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from harness(monkeypatch)  # two conformance-harness workarounds, see there


def files(tmp_path: Path) -> list[str]:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"\x00alpha\xff")
    b.write_bytes(b"")
    return [str(a), str(b)]


def paths_table(paths: list[str | None]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(1, len(paths) + 1), pa.int32()),
            "path": pa.array(paths, pa.large_string()),
        }
    )


def make(
    src: SourceInfo,
    content_type: ColumnType = IMAGE,
    disposition: str = "RedirectRow",
    expect_bom: bool = False,
) -> Component:
    inp = f"{IC}.Inputs[Import Column Input]"
    path_col = InputColumn(
        f"{inp}.Columns[path]",
        src.lineage("path"),
        "path",
        attrs=FrozenMap(
            {"errorRowDisposition": disposition, "truncationRowDisposition": "NotUsed"}
        ),
        custom_properties=(
            CustomProperty("ExpectBOM", "true" if expect_bom else "false"),
            CustomProperty(
                "FileDataColumnID", f"#{{{CONTENT}}}", attrs=FrozenMap({"containsID": "true"})
            ),
        ),
    )
    content = OutputColumn(
        CONTENT,
        "content",
        CONTENT,
        content_type,
        custom_properties=(CustomProperty("FileDataColumnID", "0"),),
    )
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
        IC,
        "Import Column",
        "Microsoft.Inserter",
        attrs=FrozenMap({"usesDispositions": "true"}),
        inputs=(Input(inp, "Import Column Input", (path_col,)),),
        outputs=(
            Output(OUT, "Import Column Output", (content,), attrs=FrozenMap(sync)),
            Output(
                ERR,
                "Import Column Error Output",
                err_cols,
                attrs=FrozenMap({**sync, "isErrorOut": "true"}),
            ),
        ),
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str, tmp_path: Path) -> None:
    a, b = files(tmp_path)
    res = run_case(case, make, paths_table([a, b, a]), conserves_rows=True)
    if case == "sample":
        assert res is not None
        assert res.outputs["Import Column Output"].column(CONTENT).to_pylist() == [
            b"\x00alpha\xff",
            b"",
            b"\x00alpha\xff",
        ]
    if case == "nulls":
        assert res is not None
        assert res.outputs["Import Column Output"].column(CONTENT).null_count == 3


def test_text_columns_are_decoded(tmp_path: Path) -> None:
    (tmp_path / "u16.txt").write_bytes(b"\xff\xfe" + "héllo ✓".encode("utf-16-le"))
    (tmp_path / "ansi.txt").write_bytes("café".encode("cp1252"))
    src = table_source(paths_table([str(tmp_path / "u16.txt")]))
    res = run_flow(conformance.assemble(src, make(src, ColumnType("nText"), expect_bom=True)))
    assert res.outputs["Import Column Output"].column(CONTENT).to_pylist() == ["héllo ✓"]
    res = run_flow(conformance.assemble(src, make(src, ColumnType("nText"), expect_bom=False)))
    assert res.outputs["Import Column Output"].column(CONTENT).to_pylist() == ["\ufeffhéllo ✓"]
    src = table_source(paths_table([str(tmp_path / "ansi.txt")]))
    res = run_flow(conformance.assemble(src, make(src, ColumnType("text", code_page=1252))))
    assert res.outputs["Import Column Output"].column(CONTENT).to_pylist() == ["café"]


def test_missing_file_is_redirected_with_error_code_and_column(tmp_path: Path) -> None:
    a, _ = files(tmp_path)
    src = table_source(paths_table([a, str(tmp_path / "missing.bin"), None, a]))
    res = run_flow(conformance.assemble(src, make(src)))
    good = res.outputs["Import Column Output"]
    assert good.column(src.lineage("id")).to_pylist() == [1, 3, 4]
    assert good.column(CONTENT).to_pylist() == [b"\x00alpha\xff", None, b"\x00alpha\xff"]
    bad = res.outputs["Import Column Error Output"]
    assert bad.column(src.lineage("id")).to_pylist() == [2]
    assert bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist() == [CODES[READ_FAILED].decimal]
    (column_id,) = bad.column(f"{ERR}.Columns[ErrorColumn]").to_pylist()
    assert res.stats.lineage_names[column_id] == "path"
    assert res.stats.rows[("Import Column", "Import Column Output")] == 3
    assert res.stats.rows[("Import Column", "Import Column Error Output")] == 1


def test_ignore_failure_keeps_the_row_with_null_content(tmp_path: Path) -> None:
    src = table_source(paths_table([str(tmp_path / "missing.bin")]))
    res = run_flow(conformance.assemble(src, make(src, disposition="IgnoreFailure")))
    assert res.outputs["Import Column Output"].column(CONTENT).to_pylist() == [None]


def test_fail_component_names_the_file(tmp_path: Path) -> None:
    src = table_source(paths_table([str(tmp_path / "missing.bin")]))
    with pytest.raises(ExecutionError) as exc:
        run_flow(conformance.assemble(src, make(src, disposition="FailComponent")))
    assert exc.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONERROR"
    assert "missing.bin" in exc.value.message


def test_undecodable_text_is_a_row_error(tmp_path: Path) -> None:
    (tmp_path / "odd.txt").write_bytes(b"\xff\xfe\x41")  # odd byte count: not UTF-16
    src = table_source(paths_table([str(tmp_path / "odd.txt")]))
    res = run_flow(conformance.assemble(src, make(src, ColumnType("nText"))))
    assert res.outputs["Import Column Error Output"].num_rows == 1


def test_wrong_output_type_fails_validation(tmp_path: Path) -> None:
    src = table_source(paths_table([None]))
    with pytest.raises(FlowValidationError) as exc:
        run_flow(conformance.assemble(src, make(src, ColumnType("i4"))))
    assert "DT_I4" in exc.value.problems[0].message
