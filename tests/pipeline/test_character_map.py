"""Character Map: conformance suite plus its semantics (flags, in place / new column, truncation)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from dataflow.core.datatypes import arrow_field, make_spec
from dataflow.core.errors import CODES, ExecutionError, ValidationError
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
from dataflow.pipeline.components import character_map  # registers the component
from dataflow.pipeline.components.character_map import (
    BYTE_REVERSAL,
    FULL_WIDTH,
    HALF_WIDTH,
    HIRAGANA,
    LOWERCASE,
    UPPERCASE,
    apply_flags,
    byte_reverse,
)
from dataflow.pipeline.exprsupport import TRUNCATION_CODE
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, assemble, run_case, run_flow, table_source

TASK = "Package\\Data Flow Task"
REF = f"{TASK}\\Character Map"
INP = f"{REF}.Inputs[Character Map Input]"
OUT = f"{REF}.Outputs[Character Map Output]"
ERR = f"{REF}.Outputs[Character Map Error Output]"
_ = character_map


def sample() -> pa.Table:
    schema = pa.schema(
        [
            arrow_field("id", make_spec("DT_I4")),
            arrow_field("title", make_spec("DT_WSTR", length=12)),
        ]
    )
    return pa.table(
        [
            pa.array([1, 2, 3, 4], pa.int32()),
            pa.array(["Mr Smith", None, "dr. who", "ｶﾞｷ abc"], pa.large_string()),
        ],
        schema=schema,
    )


def tiled(table: pa.Table, copies: int = 250) -> pa.Table:
    """One chunk: the harness emits one batch per chunk of its large and cancel inputs."""
    return pa.concat_tables([table] * copies).combine_chunks()


def mapped(
    name: str, source: str, flags: int, length: int = 12, truncation: str = "FailComponent"
) -> OutputColumn:
    ref = f"{OUT}.Columns[{name}]"
    return OutputColumn(
        ref,
        name,
        ref,
        ColumnType("wstr", length),
        FrozenMap(
            {
                "errorOrTruncationOperation": "Map Column",
                "errorRowDisposition": "FailComponent",
                "truncationRowDisposition": truncation,
            }
        ),
        (
            CustomProperty(
                "InputColumnLineageId",
                "#{" + source + "}",
                FrozenMap({"containsID": "true", "dataType": "System.Int32"}),
            ),
            CustomProperty(
                "MapFlags",
                str(flags),
                FrozenMap({"dataType": "System.UInt32", "typeConverter": "LCMappingType"}),
            ),
        ),
    )


def make_map(
    src: SourceInfo,
    new: list[OutputColumn] | None = None,
    in_place: int | None = None,
    truncation: str = "FailComponent",
) -> Component:
    title = src.columns["title"]
    cols: list[InputColumn] = []
    if in_place is not None:
        cols.append(
            InputColumn(
                f"{INP}.Columns[title]",
                title.lineage_id,
                "title",
                title.type,
                FrozenMap(
                    {
                        "usageType": "readWrite",
                        "errorOrTruncationOperation": "Map Column",
                        "errorRowDisposition": "FailComponent",
                        "truncationRowDisposition": truncation,
                    }
                ),
                (
                    CustomProperty(
                        "MapFlags", str(in_place), FrozenMap({"dataType": "System.UInt32"})
                    ),
                ),
            )
        )
    elif new:
        cols.append(InputColumn(f"{INP}.Columns[title]", title.lineage_id, "title", title.type))
    return Component(
        REF,
        "Character Map",
        "Microsoft.CharacterMap",
        attrs=FrozenMap({"usesDispositions": "true"}),
        inputs=(Input(INP, "Character Map Input", tuple(cols)),),
        outputs=(
            Output(
                OUT,
                "Character Map Output",
                tuple(new or ()),
                attrs=FrozenMap({"synchronousInputId": INP, "exclusionGroup": "1"}),
            ),
            Output(
                ERR,
                "Character Map Error Output",
                (
                    OutputColumn(
                        f"{ERR}.Columns[ErrorCode]",
                        "ErrorCode",
                        f"{ERR}.Columns[ErrorCode]",
                        ColumnType("i4"),
                        FrozenMap({"specialFlags": "1"}),
                    ),
                    OutputColumn(
                        f"{ERR}.Columns[ErrorColumn]",
                        "ErrorColumn",
                        f"{ERR}.Columns[ErrorColumn]",
                        ColumnType("i4"),
                        FrozenMap({"specialFlags": "2"}),
                    ),
                ),
                attrs=FrozenMap(
                    {"synchronousInputId": INP, "exclusionGroup": "1", "isErrorOut": "true"}
                ),
            ),
        ),
    )


def standard(src: SourceInfo) -> Component:
    lineage = src.lineage("title")
    return make_map(
        src,
        [
            mapped("upper", lineage, UPPERCASE),
            mapped("wide", lineage, FULL_WIDTH),
            mapped("swapped", lineage, BYTE_REVERSAL),
        ],
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    # conformance._SCHEMA_SEEN keeps the batches of earlier run_flow() calls of other tests, which
    # run_case would then check against this flow's graph: start from a clean slate.
    conformance._SCHEMA_SEEN.clear()
    run_case(case, standard, tiled(sample()), conserves_rows=True)


def test_new_columns() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, standard(src)))
    out = res.outputs["Character Map Output"]
    assert out.column(f"{OUT}.Columns[upper]").to_pylist() == [
        "MR SMITH",
        None,
        "DR. WHO",
        "ｶﾞｷ ABC",
    ]
    assert out.column(f"{OUT}.Columns[wide]").to_pylist() == [
        "Ｍｒ\u3000Ｓｍｉｔｈ",
        None,
        "ｄｒ．\u3000ｗｈｏ",
        "ガキ\u3000ａｂｃ",
    ]
    swapped = out.column(f"{OUT}.Columns[swapped]").to_pylist()
    assert (
        swapped[0] == "\u4d00\u7200\u2000\u5300\u6d00\u6900\u7400\u6800"
    )  # 'M' 0x004D -> 0x4D00...
    assert swapped[1] is None
    assert out.column(src.lineage("title")).to_pylist() == ["Mr Smith", None, "dr. who", "ｶﾞｷ abc"]


def test_in_place_lowercase() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, make_map(src, in_place=LOWERCASE)))
    out = res.outputs["Character Map Output"]
    assert out.column(src.lineage("title")).to_pylist() == ["mr smith", None, "dr. who", "ｶﾞｷ abc"]
    assert out.num_columns == 2  # replaced in place, no new column


def test_half_width_and_round_trips() -> None:
    values = pl.Series("v", ["ＡＢＣ　１２３", "ガギ゛ｱ", None, "plain"])
    assert apply_flags(values, HALF_WIDTH).to_list() == ["ABC 123", "ｶﾞｷﾞﾞｱ", None, "plain"]
    again = apply_flags(apply_flags(values, HALF_WIDTH), FULL_WIDTH).to_list()
    assert again == ["ＡＢＣ　１２３", "ガギ゛ア", None, "ｐｌａｉｎ"]
    arr = pa.array(["a😀", "", None, "é"], pa.large_string())
    assert byte_reverse(byte_reverse(arr)).to_pylist() == ["a😀", "", None, "é"]


def test_full_width_truncation_redirected() -> None:
    src = table_source(sample())
    comp = make_map(
        src,
        [mapped("wide", src.lineage("title"), FULL_WIDTH | UPPERCASE, 7, truncation="RedirectRow")],
    )
    with pytest.raises(ValidationError):  # Uppercase and Full width are mutually exclusive
        run_flow(assemble(src, comp))
    comp = make_map(
        src, [mapped("wide", src.lineage("title"), UPPERCASE, 7, truncation="RedirectRow")]
    )
    res = run_flow(assemble(src, comp))
    bad = res.outputs["Character Map Error Output"]
    assert bad.column(src.lineage("id")).to_pylist() == [1]  # "MR SMITH" is 8 characters
    assert bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist() == [CODES[TRUNCATION_CODE].decimal]
    column_id = bad.column(f"{ERR}.Columns[ErrorColumn]").to_pylist()[0]
    assert res.stats.lineage_names[column_id] == "wide"
    assert res.outputs["Character Map Output"].column(f"{OUT}.Columns[wide]").to_pylist() == [
        None,
        "DR. WHO",
        "ｶﾞｷ ABC",
    ]


def test_truncation_fails_by_default() -> None:
    src = table_source(sample())
    comp = make_map(src, [mapped("short", src.lineage("title"), LOWERCASE, 3)])
    with pytest.raises(ExecutionError) as info:
        run_flow(assemble(src, comp))
    assert info.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONTRUNCATION"


def test_unsupported_flag_is_reported_by_name() -> None:
    src = table_source(sample())
    comp = make_map(src, in_place=HIRAGANA)
    with pytest.raises(ValidationError) as info:
        run_flow(assemble(src, comp))
    problems = info.value.problems  # type: ignore[attr-defined]
    assert [p.code for p in problems] == ["DTS_E_INDIVIDUALVALIDATIONFAILED"]
    assert "'Hiragana'" in problems[0].message and "0x100000" in problems[0].message


def test_real_format_package_round_trip(tmp_path: Path) -> None:
    src = table_source(sample())
    path = tmp_path / "charmap.dtsx"
    save_package(assemble(src, make_map(src, in_place=UPPERCASE)), path)
    res = run_flow(load_package(path))
    assert res.outputs["Character Map Output"].column(src.lineage("title")).to_pylist() == [
        "MR SMITH",
        None,
        "DR. WHO",
        "ｶﾞｷ ABC",
    ]
