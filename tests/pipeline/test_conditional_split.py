"""Conditional Split: conformance suite plus its semantics (order, default, NULL and errors)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pytest

from dataflow.core.datatypes import arrow_field, make_spec
from dataflow.core.errors import CODES, ExecutionError, ValidationError
from dataflow.package import builder as b
from dataflow.package.model import (
    ColumnType,
    Component,
    CustomProperty,
    FrozenMap,
    Input,
    InputColumn,
    Output,
    OutputColumn,
    Variable,
)
from dataflow.package.reader import load_package
from dataflow.package.writer import save_package
from dataflow.pipeline import run_data_flow
from dataflow.pipeline.components import conditional_split  # registers the component
from dataflow.pipeline.components.conditional_split import NULL_RESULT_CODE
from tests.pipeline import conformance
from tests.pipeline.conformance import CASES, SourceInfo, assemble, run_case, run_flow, table_source
from tests.pipeline.test_derived_column import corpus_failures

TASK = "Package\\Data Flow Task"
REF = f"{TASK}\\Conditional Split"
INP = f"{REF}.Inputs[Conditional Split Input 1]"
ERR = f"{REF}.Outputs[Conditional Split Error Output]"
DEFAULT = "Conditional Split Default Output"
_ = conditional_split


def sample() -> pa.Table:
    schema = pa.schema(
        [
            arrow_field("id", make_spec("DT_I4")),
            arrow_field("region", make_spec("DT_WSTR", length=10)),
            arrow_field("amount", make_spec("DT_I4")),
        ]
    )
    return pa.table(
        [
            pa.array([1, 2, 3, 4, 5, 6], pa.int32()),
            pa.array(["EAST", "WEST", None, "EAST", "NORTH", "WEST"], pa.large_string()),
            pa.array([100, 5, 50, 0, 70, None], pa.int32()),
        ],
        schema=schema,
    )


def tiled(table: pa.Table, copies: int = 200) -> pa.Table:
    """One chunk: the harness emits one batch per chunk of its large and cancel inputs."""
    return pa.concat_tables([table] * copies).combine_chunks()


def case_output(
    name: str, expression: str, order: int, disposition: str = "FailComponent"
) -> Output:
    return Output(
        f"{REF}.Outputs[{name}]",
        name,
        attrs=FrozenMap(
            {
                "synchronousInputId": INP,
                "exclusionGroup": "1",
                "errorOrTruncationOperation": "Computation",
                "errorRowDisposition": disposition,
                "truncationRowDisposition": "FailComponent",
            }
        ),
        custom_properties=(
            CustomProperty("Expression", expression),
            CustomProperty(
                "FriendlyExpression", expression, FrozenMap({"expressionType": "Notify"})
            ),
            CustomProperty("EvaluationOrder", str(order)),
        ),
    )


def make_split(src: SourceInfo, cases: Sequence[Output]) -> Component:
    default = Output(
        f"{REF}.Outputs[{DEFAULT}]",
        DEFAULT,
        attrs=FrozenMap({"synchronousInputId": INP, "exclusionGroup": "1"}),
        custom_properties=(CustomProperty("IsDefaultOut", "true"),),
    )
    error = Output(
        ERR,
        "Conditional Split Error Output",
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
        attrs=FrozenMap({"synchronousInputId": INP, "exclusionGroup": "1", "isErrorOut": "true"}),
    )
    cols = tuple(
        InputColumn(f"{INP}.Columns[{n}]", c.lineage_id, n, c.type) for n, c in src.columns.items()
    )
    return Component(
        REF,
        "Conditional Split",
        "Microsoft.ConditionalSplit",
        attrs=FrozenMap({"usesDispositions": "true"}),
        inputs=(Input(INP, "Conditional Split Input 1", cols),),
        outputs=(*cases, default, error),
    )


def three_cases(src: SourceInfo, disposition: str = "RedirectRow") -> Component:
    return make_split(
        src,
        [
            case_output("Big", "[amount] >= 60", 1, disposition),
            case_output("East", f'#{{{src.lineage("region")}}} == "EAST"', 0, disposition),
            case_output("West", 'region == "WEST"', 2, disposition),
        ],
    )


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: str) -> None:
    # conformance._SCHEMA_SEEN keeps the batches of earlier run_flow() calls of other tests, which
    # run_case would then check against this flow's graph: start from a clean slate.
    conformance._SCHEMA_SEEN.clear()
    run_case(case, three_cases, tiled(sample()), conserves_rows=True)


def ids(res: object, output: str, src: SourceInfo) -> list[int]:
    table = res.outputs[output]  # type: ignore[attr-defined]
    return table.column(src.lineage("id")).to_pylist() if table.num_columns else []


def test_first_match_wins_in_evaluation_order() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, three_cases(src)))
    # East (order 0) before Big (order 1): row 1 (EAST, 100) goes to East
    assert ids(res, "East", src) == [1, 4]
    assert ids(res, "Big", src) == [5]
    assert ids(res, "West", src) == [2]
    # row 3: region NULL -> East condition NULL -> error, redirected; row 6: amount NULL -> Big
    # is NULL -> redirected before West is tried
    bad = res.outputs["Conditional Split Error Output"]
    assert bad.column(src.lineage("id")).to_pylist() == [3, 6]
    assert (
        bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist() == [CODES[NULL_RESULT_CODE].decimal] * 2
    )
    assert bad.column(f"{ERR}.Columns[ErrorColumn]").to_pylist() == [0, 0]
    # conservation: every row on exactly one output
    total = sum(n for (comp, _), n in res.stats.rows.items() if comp == "Conditional Split")
    assert total == 6
    assert res.stats.rows[("Conditional Split", DEFAULT)] == 0


def test_null_condition_ignored_is_false() -> None:
    src = table_source(sample())
    res = run_flow(assemble(src, three_cases(src, "IgnoreFailure")))
    assert ids(res, "East", src) == [1, 4]
    assert ids(res, "Big", src) == [5]
    assert ids(res, "West", src) == [2, 6]  # row 6: NULL amount is not Big, tries West
    assert ids(res, DEFAULT, src) == [3]  # row 3: NULL region is neither East nor West
    assert res.stats.rows[("Conditional Split", "Conditional Split Error Output")] == 0


def test_null_condition_fails_by_default() -> None:
    src = table_source(sample())
    with pytest.raises(ExecutionError) as info:
        run_flow(assemble(src, three_cases(src, "FailComponent")))
    assert info.value.code == "DTS_E_INDUCEDTRANSFORMFAILUREONERROR"
    assert "East" in info.value.message


def test_default_output_and_variables() -> None:
    src = table_source(sample())
    comp = make_split(
        src, [case_output("Over", "ISNULL(amount) ? FALSE : amount > @[User::Limit]", 0)]
    )
    pkg = assemble(src, comp).with_changes(
        variables=(Variable("User", "Limit", data_type=3, value="60"),)
    )
    res = run_flow(pkg)
    assert ids(res, "Over", src) == [1, 5]
    assert ids(res, DEFAULT, src) == [2, 3, 4, 6]
    res = run_flow(pkg, variables={"Limit": 10})
    assert ids(res, "Over", src) == [1, 3, 5]


def test_evaluation_error_is_redirected_with_its_code() -> None:
    src = table_source(sample())
    comp = make_split(
        src, [case_output("Ratio", "ISNULL(amount) ? FALSE : 100 / amount > 1", 0, "RedirectRow")]
    )
    res = run_flow(assemble(src, comp))
    bad = res.outputs["Conditional Split Error Output"]
    assert bad.column(src.lineage("id")).to_pylist() == [4]
    assert bad.column(f"{ERR}.Columns[ErrorCode]").to_pylist() == [
        CODES["DTS_E_EXPREVALDIVBYZERO"].decimal
    ]
    assert ids(res, "Ratio", src) == [2, 3]  # integer division: 100 / 70 == 1
    assert ids(res, DEFAULT, src) == [1, 5, 6]


def test_non_boolean_condition_fails_validation() -> None:
    src = table_source(sample())
    comp = make_split(src, [case_output("Bad", "[amount] + 1", 0)])
    with pytest.raises(ValidationError) as info:
        run_flow(assemble(src, comp))
    assert [p.code for p in info.value.problems] == ["DTS_E_EXPREVALBINARYTYPEMISMATCH"]  # type: ignore[attr-defined]


def test_real_format_package_round_trip(tmp_path: Path) -> None:
    src = table_source(sample())
    path = tmp_path / "split.dtsx"
    save_package(assemble(src, three_cases(src)), path)
    res = run_flow(load_package(path))
    assert ids(res, "East", src) == [1, 4]
    assert ids(res, "Big", src) == [5]
    assert ids(res, "West", src) == [2]
    assert res.stats.rows[("Conditional Split", "Conditional Split Error Output")] == 2


# Conditional Splits of the corpus (23) that do not validate and compile here, with the reason.
CORPUS_SPLIT_FAILURES: dict[str, str] = {}


@pytest.mark.corpus
def test_corpus_conditional_splits_validate_and_compile() -> None:
    assert corpus_failures("Microsoft.ConditionalSplit") == CORPUS_SPLIT_FAILURES


def test_builder_package_flat_files_end_to_end(tmp_path: Path) -> None:
    """A package built with the builder API, saved as .dtsx and loaded back: Flat File Source ->
    Derived Column -> Conditional Split -> two Flat File Destinations, checked row for row."""
    (tmp_path / "in.csv").write_text(
        "id,region,amount\r\n1,east,100\r\n2,WEST,5\r\n3,,50\r\n4,East,0\r\n5,north,70\r\n",
        encoding="cp1252",
    )
    p = b.PackageBuilder("Split", seed=1)
    p.variable("User::Limit", "Int32", 60)
    columns = [("id", "DT_I4"), ("region", "DT_STR", 10), ("amount", "DT_I4")]
    p.flat_file_connection("In", str(tmp_path / "in.csv"), columns=columns)
    p.flat_file_connection("East", str(tmp_path / "east.csv"))
    p.flat_file_connection("Rest", str(tmp_path / "rest.csv"))
    df = p.data_flow("Data Flow Task")
    s = df.source("Flat File Source", "Microsoft.FlatFileSource", connection="In")
    dc = df.transform("Derived Column", "Microsoft.DerivedColumn", upstream=s)
    dc.derived_column("REGION_UP", "UPPER(region)", "DT_WSTR", length=10)
    dc.derived_column("ratio", "100 / amount", "DT_I4", error_disposition="RedirectRow")
    cs = df.transform("Split", "Microsoft.ConditionalSplit", upstream=dc)
    cs.case("East", 'REGION_UP == "EAST"', error_disposition="RedirectRow")
    cs.case("Big", "amount > @[User::Limit]")
    df.destination(
        "East File", "Microsoft.FlatFileDestination", upstream=(cs, "East"), connection="East"
    )
    df.destination(
        "Rest File", "Microsoft.FlatFileDestination", upstream=(cs, DEFAULT), connection="Rest"
    )
    p.save(tmp_path / "split.dtsx")

    stats = run_data_flow(load_package(tmp_path / "split.dtsx"), "Data Flow Task")
    # row 4 (amount 0) fails 100 / amount and leaves on the Derived Column's error output
    assert stats.rows[("Derived Column", "Derived Column Error Output")] == 1
    assert stats.rows[("Split", "East")] == 1
    assert stats.rows[("Split", "Big")] == 1  # row 5: north, 70 > 60
    assert stats.rows[("Split", DEFAULT)] == 2
    east = (tmp_path / "east.csv").read_text(encoding="cp1252").splitlines()
    rest = (tmp_path / "rest.csv").read_text(encoding="cp1252").splitlines()
    assert east == ["id,region,amount,REGION_UP,ratio", "1,east,100,EAST,1"]
    # RetainNulls is off: the empty region of row 3 is an empty string, not NULL
    assert rest == ["id,region,amount,REGION_UP,ratio", "2,WEST,5,WEST,20", "3,,50,,2"]
