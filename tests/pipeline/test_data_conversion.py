"""Data Conversion: conformance suite plus conversions, round trips, errors and truncation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

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
from dataflow.pipeline.components import data_conversion  # registers the component
from dataflow.pipeline.exprsupport import TRUNCATION_CODE
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, assemble, run_case, run_flow, table_source
from tests.pipeline.test_derived_column import corpus_failures

TASK = "Package\\Data Flow Task"
REF = f"{TASK}\\Data Conversion"
INP = f"{REF}.Inputs[Data Conversion Input]"
OUT = f"{REF}.Outputs[Data Conversion Output]"
ERR = f"{REF}.Outputs[Data Conversion Error Output]"
_ = data_conversion


def sample() -> pa.Table:
    schema = pa.schema(
        [
            arrow_field("id", make_spec("DT_I4")),
            arrow_field("num", make_spec("DT_WSTR", length=20)),
            arrow_field("day", make_spec("DT_WSTR", length=20)),
            arrow_field("price", make_spec("DT_NUMERIC", precision=10, scale=3)),
        ]
    )
    return pa.table(
        [
            pa.array([1, 2, 3, 4], pa.int32()),
            pa.array(["12", "x", None, "70000"], pa.large_string()),
            pa.array(["2024-02-29", "2024-13-01", "1999-01-05", None], pa.large_string()),
            pa.array(
                [Decimal("1.250"), Decimal("-2.500"), None, Decimal("1234567.125")],
                pa.decimal128(10, 3),
            ),
        ],
        schema=schema,
    )


def tiled(table: pa.Table, copies: int = 250) -> pa.Table:
    """One chunk: the harness emits one batch per chunk of its large and cancel inputs."""
    return pa.concat_tables([table] * copies).combine_chunks()


def conv(
    name: str,
    source: str,
    token: str,
    length: int = 0,
    precision: int = 0,
    scale: int = 0,
    code_page: int = 0,
    *,
    error: str = "FailComponent",
    truncation: str = "FailComponent",
) -> OutputColumn:
    ref = f"{OUT}.Columns[{name}]"
    return OutputColumn(
        ref,
        name,
        ref,
        ColumnType(token, length, precision, scale, code_page),
        FrozenMap(
            {
                "errorOrTruncationOperation": "Conversion",
                "errorRowDisposition": error,
                "truncationRowDisposition": truncation,
            }
        ),
        (
            CustomProperty(
                "SourceInputColumnLineageID",
                "#{" + source + "}",
                FrozenMap({"containsID": "true", "dataType": "System.Int32"}),
            ),
            CustomProperty("FastParse", "false", FrozenMap({"dataType": "System.Boolean"})),
        ),
    )


def make_conversion(src: SourceInfo, columns: list[OutputColumn]) -> Component:
    inputs = tuple(
        InputColumn(f"{INP}.Columns[{n}]", c.lineage_id, n, c.type) for n, c in src.columns.items()
    )
    return Component(
        REF,
        "Data Conversion",
        "Microsoft.DataConvert",
        attrs=FrozenMap({"usesDispositions": "true"}),
        inputs=(Input(INP, "Data Conversion Input", inputs),),
        outputs=(
            Output(
                OUT,
                "Data Conversion Output",
                tuple(columns),
                attrs=FrozenMap({"synchronousInputId": INP, "exclusionGroup": "1"}),
            ),
            Output(
                ERR,
                "Data Conversion Error Output",
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
    return make_conversion(
        src,
        [
            conv("num_i4", src.lineage("num"), "i4", error="RedirectRow"),
            conv("day_date", src.lineage("day"), "dbDate", error="IgnoreFailure"),
            conv("id_str", src.lineage("id"), "str", 10, code_page=1252),
            conv("price_r8", src.lineage("price"), "r8"),
        ],
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    # conformance._SCHEMA_SEEN keeps the batches of earlier run_flow() calls of other tests, which
    # run_case would then check against this flow's graph: start from a clean slate.
    conformance._SCHEMA_SEEN.clear()
    run_case(case, standard, tiled(sample()), conserves_rows=True)


def test_conversions_errors_and_ignores() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, standard(src)))
    good = res.outputs["Data Conversion Output"]
    assert good.column(src.lineage("id")).to_pylist() == [1, 3, 4]
    assert good.column(f"{OUT}.Columns[num_i4]").to_pylist() == [12, None, 70000]
    assert good.schema.field(f"{OUT}.Columns[num_i4]").type == pa.int32()
    # 2024-13-01 is not a date: ignored -> NULL, row stays (but row 2 left for num "x")
    assert good.column(f"{OUT}.Columns[day_date]").to_pylist() == [
        dt.date(2024, 2, 29),
        dt.date(1999, 1, 5),
        None,
    ]
    assert good.column(f"{OUT}.Columns[id_str]").to_pylist() == ["1", "3", "4"]
    assert good.column(f"{OUT}.Columns[price_r8]").to_pylist() == [1.25, None, 1234567.125]
    bad = res.outputs["Data Conversion Error Output"]
    assert bad.column(src.lineage("num")).to_pylist() == ["x"]
    assert bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist() == [
        CODES["DTS_E_EXPREVALCASTFAILED"].decimal
    ]
    column_id = bad.column(f"{ERR}.Columns[ErrorColumn]").to_pylist()[0]
    assert res.stats.lineage_names[column_id] == "num_i4"
    assert good.num_rows + bad.num_rows == 4


def test_overflow_is_an_error() -> None:
    src = table_source(sample())
    comp = make_conversion(src, [conv("small", src.lineage("num"), "i2", error="RedirectRow")])
    res = run_flow(assemble(src, comp))
    bad = res.outputs["Data Conversion Error Output"]
    assert bad.column(src.lineage("id")).to_pylist() == [
        2,
        4,
    ]  # "x" cannot cast; 70000 overflows DT_I2
    assert bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist() == [
        CODES["DTS_E_EXPREVALCASTFAILED"].decimal,
        CODES["DTS_E_EXPREVALDATACONVERSIONOVERFLOW"].decimal,
    ]
    assert res.outputs["Data Conversion Output"].column(f"{OUT}.Columns[small]").to_pylist() == [
        12,
        None,
    ]


def test_error_fails_component() -> None:
    src = table_source(sample())
    comp = make_conversion(src, [conv("n", src.lineage("num"), "i4")])
    with pytest.raises(ExecutionError) as info:
        run_flow(assemble(src, comp))
    assert info.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONERROR"


def test_string_truncation_dispositions() -> None:
    src = table_source(sample())
    comp = make_conversion(
        src,
        [
            conv("day3", src.lineage("day"), "wstr", 4, truncation="IgnoreFailure"),
            conv("num2", src.lineage("num"), "str", 2, code_page=1252, truncation="RedirectRow"),
        ],
    )
    res = run_flow(assemble(src, comp))
    good = res.outputs["Data Conversion Output"]
    assert good.column(f"{OUT}.Columns[day3]").to_pylist() == ["2024", "2024", "1999"]
    assert good.column(f"{OUT}.Columns[num2]").to_pylist() == ["12", "x", None]
    bad = res.outputs["Data Conversion Error Output"]
    assert bad.column(src.lineage("num")).to_pylist() == ["70000"]
    assert bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist() == [CODES[TRUNCATION_CODE].decimal]


def test_round_trip_number_text_number() -> None:
    """A numeric column converted to text and back gives the same values."""
    table = pa.table(
        [pa.array([Decimal("0.001"), Decimal("-99.5"), None], pa.decimal128(10, 3))],
        schema=pa.schema([arrow_field("v", make_spec("DT_NUMERIC", precision=10, scale=3))]),
    )
    src = table_source(table)
    comp = make_conversion(
        src, [conv("txt", src.lineage("v"), "wstr", 30), conv("i8", src.lineage("v"), "i8")]
    )
    res = run_flow(assemble(src, comp))
    out = res.outputs["Data Conversion Output"]
    texts = out.column(f"{OUT}.Columns[txt]").to_pylist()
    assert [None if t is None else Decimal(t) for t in texts] == [
        Decimal("0.001"),
        Decimal("-99.5"),
        None,
    ]
    assert out.column(f"{OUT}.Columns[i8]").to_pylist()[2] is None


def test_unknown_source_column_fails_validation() -> None:
    src = table_source(sample())
    comp = make_conversion(src, [conv("x", "Package\\Nope.Outputs[O].Columns[c]", "i4")])
    with pytest.raises(ValidationError) as info:
        run_flow(assemble(src, comp))
    assert [p.code for p in info.value.problems] == ["DTS_E_VALIDATIONFAILED"]  # type: ignore[attr-defined]


def test_illegal_cast_fails_validation() -> None:
    src = table_source(sample())
    comp = make_conversion(src, [conv("g", src.lineage("price"), "guid")])
    with pytest.raises(ValidationError) as info:
        run_flow(assemble(src, comp))
    assert [p.code for p in info.value.problems] == ["DTS_E_EXPREVALINVALIDCAST"]  # type: ignore[attr-defined]


def test_real_format_package_round_trip(tmp_path: Path) -> None:
    src = table_source(sample())
    path = tmp_path / "convert.dtsx"
    save_package(assemble(src, standard(src)), path)
    res = run_flow(load_package(path))
    good = res.outputs["Data Conversion Output"]
    assert good.column(f"{OUT}.Columns[num_i4]").to_pylist() == [12, None, 70000]
    assert good.column(f"{OUT}.Columns[id_str]").to_pylist() == ["1", "3", "4"]
    assert res.stats.rows[("Data Conversion", "Data Conversion Error Output")] == 1


@pytest.mark.corpus
def test_corpus_data_conversions_validate_and_compile() -> None:
    # all 31 Data Conversions of the corpus validate and compile
    assert corpus_failures("Microsoft.DataConvert") == {}


def test_utf8_string_lengths_count_bytes() -> None:
    """DT_STR with code page 65001 holds ``length`` bytes: values are cut on a character
    boundary, never inside a multi-byte character."""
    table = pa.table(
        [pa.array(["héllo", "ab€cd", "abc", None, "😀😀"], pa.large_string())],
        schema=pa.schema([arrow_field("s", make_spec("DT_WSTR", length=10))]),
    )
    src = table_source(table)
    comp = make_conversion(
        src, [conv("u", src.lineage("s"), "str", 5, code_page=65001, truncation="IgnoreFailure")]
    )
    res = run_flow(assemble(src, comp))
    out = res.outputs["Data Conversion Output"].column(f"{OUT}.Columns[u]").to_pylist()
    assert out == ["héll", "ab€", "abc", None, "😀"]


def test_round_trip_date_text_date() -> None:
    """Dates become SSIS's canonical text (datatypes.md §3) and parse back to the same value."""
    table = pa.table(
        [pa.array([dt.datetime(2024, 2, 29, 13, 45, 7), None], pa.timestamp("us"))],
        schema=pa.schema([arrow_field("ts", make_spec("DT_DBTIMESTAMP"))]),
    )
    src = table_source(table)
    first = make_conversion(
        src, [conv("txt", src.lineage("ts"), "wstr", 30), conv("day", src.lineage("ts"), "dbDate")]
    )
    res = run_flow(assemble(src, first))
    out = res.outputs["Data Conversion Output"]
    texts = out.column(f"{OUT}.Columns[txt]").to_pylist()
    assert texts[0] is not None and texts[0].startswith("2024-02-29 13:45:07")
    assert texts[1] is None
    assert out.column(f"{OUT}.Columns[day]").to_pylist() == [dt.date(2024, 2, 29), None]
    back = pa.table(
        [pa.array(texts, pa.large_string())],
        schema=pa.schema([arrow_field("t", make_spec("DT_WSTR", length=30))]),
    )
    src2 = table_source(back)
    res2 = run_flow(
        assemble(src2, make_conversion(src2, [conv("again", src2.lineage("t"), "dbTimeStamp")]))
    )
    again = res2.outputs["Data Conversion Output"].column(f"{OUT}.Columns[again]").to_pylist()
    assert again == [dt.datetime(2024, 2, 29, 13, 45, 7), None]
