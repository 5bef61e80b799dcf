"""The public API (docs/API.md) used the way the runtime uses it."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from dataflow.core.datatypes import arrow_field, make_spec
from dataflow.core.errors import CODES
from dataflow.expressions import (
    CHOICES,
    FUNCTIONS,
    Assigned,
    ExpressionError,
    ast,
    check,
    check_tree,
    compile,
    evaluate,
    evaluate_batch,
    parse,
    polars_backend,
    scalar,
)


def test_api_examples() -> None:
    assert evaluate('SUBSTRING("elephant", 4, 2)') == "ph"
    assert evaluate("@[User::N] * 2", variables={"User::N": 21}) == 42
    assert evaluate("UPPER(TRIM(region))", row={"region": " east "}) == "EAST"
    batch = pa.record_batch({"quantity": pa.array([2, 3], pa.int32()), "unit_price": [1.5, 2.0]})
    assert evaluate_batch("quantity * unit_price", batch).to_pylist() == [3.0, 6.0]
    compiled = compile("quantity * unit_price", batch.schema)
    values, errors = compiled.evaluate(batch)
    assert values.to_pylist() == [3.0, 6.0]
    assert not errors and errors.mask is None and errors.codes is None and errors.count == 0


@pytest.mark.parametrize("kind", ["record_batch", "table", "polars"])
def test_batch_kinds(kind: str) -> None:
    data = {"s": [" a ", None, "b"]}
    batch: object = {
        "record_batch": pa.record_batch(data),
        "table": pa.table(data),
        "polars": pl.DataFrame(data),
    }[kind]
    out = evaluate_batch("UPPER(TRIM(s))", batch)  # type: ignore[arg-type]
    assert out.to_pylist() == ["A", None, "B"]
    assert out.type == pa.large_string()


def test_row_errors_mask_and_codes() -> None:
    table = pa.table(
        {"a": pa.array([10, 7, 9, None], pa.int32()), "b": pa.array([2, 0, 3, 0], pa.int32())}
    )
    compiled = compile("a / b", table.schema)
    values, errors = compiled.evaluate(table)
    assert values.to_pylist() == [5, None, 3, None]
    assert errors
    assert errors.mask is not None and errors.mask.to_pylist() == [False, True, False, False]
    assert errors.codes is not None and errors.codes.type == pa.int32()
    assert errors.codes.to_pylist() == [None, CODES["DTS_E_EXPREVALDIVBYZERO"].decimal, None, None]
    assert errors.first() == (1, "DTS_E_EXPREVALDIVBYZERO")
    assert errors.count == 1
    with pytest.raises(ExpressionError) as info:
        evaluate_batch("a / b", table)
    assert info.value.code == "DTS_E_EXPREVALDIVBYZERO"
    assert "row 1" in str(info.value)
    assert (info.value.line, info.value.column) == (1, 3)  # the operator, found by re-running row 1


def test_first_error_code_per_row() -> None:
    table = pa.table(
        {
            "s": ["abc", "abc", "abc"],
            "p": pa.array([0, 1, 1], pa.int32()),
            "n": pa.array([1, -1, 1], pa.int32()),
        }
    )
    _, errors = compile("SUBSTRING(s, p, n)", table.schema).evaluate(table)
    assert errors.code_names() == [
        "DTS_E_EXPREVALFNSUBSTRINGINVALIDSTARTINDEX",
        "DTS_E_EXPREVALFNSUBSTRINGINVALIDLENGTH",
        None,
    ]


def test_errors_only_in_selected_branch() -> None:
    table = pa.table({"a": pa.array([4, 5, 6], pa.int32()), "b": pa.array([0, 0, 2], pa.int32())})
    values, errors = compile("b == 0 ? -1 : a / b", table.schema).evaluate(table)
    assert values.to_pylist() == [-1, -1, 3]
    assert not errors
    values, errors = compile("a > 4 ? a / b : 0", table.schema).evaluate(table)
    assert values.to_pylist() == [0, None, 3]
    assert errors.mask is not None and errors.mask.to_pylist() == [False, True, False]


def test_result_arrow_types_follow_datatypes() -> None:
    table = pa.table(
        {
            "d": pa.array([dt.datetime(2020, 1, 2, 3, 4, 5)], pa.timestamp("us")),
            "n": pa.array([Decimal("1.25")], pa.decimal128(10, 2)),
        }
    )
    cases = {
        'DATEADD("dd", 1, d)': pa.timestamp("us"),
        "(DT_DBDATE)d": pa.date32(),
        "(DT_DBTIME)d": pa.time64("ns"),
        "n * 2": pa.decimal128(21, 2),
        "(DT_NUMERIC,5,1)n": pa.decimal128(5, 1),
        "(DT_CY)n": pa.decimal128(19, 4),
        "YEAR(d)": pa.int32(),
        'CODEPOINT("a")': pa.uint16(),
        '(DT_GUID)"8b0c5b4e-1e39-4c62-9a4b-2c5d8b0e9c10"': pa.large_string(),
        "(DT_R4)n": pa.float32(),
        "ISNULL(n)": pa.bool_(),
    }
    for text, arrow_type in cases.items():
        compiled = compile(text, table.schema)
        assert compiled.arrow_type == arrow_type, text
        values, _ = compiled.evaluate(table)
        assert values.type == arrow_type, text


def test_types_argument_and_inference() -> None:
    assert check("@[User::N]", variables={"User::N": "DT_R4"}) == make_spec("DT_R4")
    assert str(check("a", columns={"a": "DT_STR(50,1252)"})) == "DT_WSTR(50)"
    assert str(check("(DT_STR,50,1252)a", columns={"a": "DT_WSTR(50)"})) == "DT_STR(50,1252)"
    assert evaluate("@[User::N] / 2", variables={"User::N": 5}, types={"User::N": "DT_R4"}) == 2.5
    assert evaluate("@N + 1", variables={"N": 2**40}) == 2**40 + 1  # DT_I8 inferred
    assert evaluate("a * 2", row={"a": Decimal("1.5")}) == Decimal("3.0")
    assert evaluate(
        "(DT_NUMERIC,10,2)a", row={"a": "1.234"}, types={"a": "DT_NUMERIC(10,3)"}
    ) == Decimal("1.23")
    value = evaluate('(DT_GUID)"8b0c5b4e-1e39-4c62-9a4b-2c5d8b0e9c10"')
    assert value == uuid.UUID("8b0c5b4e-1e39-4c62-9a4b-2c5d8b0e9c10")
    assert evaluate("g == g", row={"g": uuid.uuid4()}) is True
    assert evaluate('DATEADD("dd", 1, d)', row={"d": dt.date(2020, 2, 28)}) == dt.datetime(
        2020, 2, 29
    )
    assert evaluate('DATEPART("hh", t)', row={"t": dt.time(13, 5)}) == 13
    assert evaluate("LEN(b)", row={"b": b"\x01\x02\x03"}) == 3


def test_batch_column_types_from_metadata() -> None:
    field = arrow_field("s", make_spec("DT_STR", length=3, codepage=1252))
    table = pa.Table.from_arrays([pa.array(["abc"], pa.large_string())], schema=pa.schema([field]))
    compiled = compile('s + "x"', table.schema)
    assert str(compiled.type) == "DT_WSTR(4)"
    table2 = pa.table({"n": pa.array([1.5], pa.float64())})
    assert compile("n", table2, types={"n": "DT_R4"}).evaluate(table2)[0].type == pa.float32()


def test_type_errors_name_operator_types_and_position() -> None:
    with pytest.raises(ExpressionError) as info:
        check('a +\n  "x" + 1', columns={"a": "DT_WSTR(5)"})
    err = info.value
    assert err.code == "DTS_E_EXPREVALBINARYTYPEMISMATCH"
    assert "'+'" in str(err) and "DT_WSTR(6)" in str(err) and "DT_I4" in str(err)
    assert (err.line, err.column) == (2, 7)
    with pytest.raises(ExpressionError) as info:
        check("SUBSTRING(a, 1.5, 2)", columns={"a": "DT_WSTR(5)"})
    assert info.value.code == "DTS_E_EXPREVALPARAMTYPEMISMATCH"
    assert "SUBSTRING" in str(info.value) and "DT_NUMERIC" in str(info.value)
    assert (info.value.line, info.value.column) == (1, 14)


def test_runtime_error_position() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("1 +\n SUBSTRING(s, 0, 1)", row={"s": "abc"}) if False else evaluate(
            "LEN(s) +\n LEN(SUBSTRING(s, 0, 1))", row={"s": "abc"}
        )
    assert info.value.code == "DTS_E_EXPREVALFNSUBSTRINGINVALIDSTARTINDEX"
    assert (info.value.line, info.value.column) == (2, 6)


def test_lineage() -> None:
    table = pa.table({"Name": ["ab"], "Qty": pa.array([3], pa.int32())})
    lineage = {"17": "Name", "Package\\DFT\\Src.Outputs[Out].Columns[Qty]": "Qty"}
    text = "LEN(#17) + #{Package\\DFT\\Src.Outputs[Out].Columns[Qty]}"
    assert compile(text, table.schema, lineage=lineage).evaluate(table)[0].to_pylist() == [5]
    assert evaluate(text, row={"Name": "ab", "Qty": 3}, lineage=lineage) == 5
    assert check("#{X.Columns[Qty]} + 1", columns={"Qty": "DT_I4"}) == make_spec("DT_I4")
    with pytest.raises(ExpressionError) as info:
        check("#99", columns={"Qty": "DT_I4"})
    assert info.value.code == "DTS_E_EXPREVALINPUTCOLUMNNAMENOTFOUND"


def test_assignment_evaluates_to_target_and_value() -> None:
    result = evaluate("@[User::Counter] = @[User::Counter] + 1", variables={"User::Counter": 4})
    assert result == Assigned("User::Counter", 5)
    assert evaluate("@Counter = 0", variables={"User::Counter": 4}) == ("User::Counter", 0)
    assert check("@[User::X] = 1.5", variables={"User::X": "DT_I4"}) == make_spec("DT_I4")


def test_typed_tree_has_implicit_conversions() -> None:
    tree = check_tree("a + 1.5", columns={"a": "DT_I4"})
    assert isinstance(tree, ast.Binary)
    assert isinstance(tree.left, ast.Cast) and tree.left.implicit
    assert tree.left.spec.name == "DT_NUMERIC"
    assert parse("a + 1.5").sql() == "a + 1.5"


def test_findstring_ascii_and_unicode_batches() -> None:
    text = 'SUBSTRING(s, FINDSTRING(s, "-", 1) + 1, 10)'
    ascii_table = pa.table({"s": ["ab-cd", "x-y", None, "none"]})
    mixed = pa.table({"s": ["ab-cd", "éé-xyz", None, "none"]})
    assert evaluate_batch(text, ascii_table).to_pylist() == ["cd", "y", None, "none"]
    assert evaluate_batch(text, mixed).to_pylist() == ["cd", "xyz", None, "none"]


def test_variables_are_batch_constants() -> None:
    table = pa.table({"s": ["a", "b"]})
    compiled = compile("s + @[User::Suffix]", table.schema, variables={"User::Suffix": "!"})
    assert compiled.evaluate(table)[0].to_pylist() == ["a!", "b!"]


def test_missing_column_in_batch() -> None:
    compiled = compile("a + 1", {"a": "DT_I4"})
    with pytest.raises(ExpressionError) as info:
        compiled.evaluate(pa.table({"b": [1]}))
    assert info.value.code == "DTS_E_EXPREVALINPUTCOLUMNNAMENOTFOUND"


def test_offset_columns() -> None:
    """DT_DBTIMESTAMPOFFSET columns use the struct layout of dataflow.core.datatypes."""
    tz = dt.timezone(dt.timedelta(hours=-3, minutes=-30))
    local = dt.datetime(1999, 10, 11, 20, 34, 52, 123000, tzinfo=tz)
    field = arrow_field("o", make_spec("DT_DBTIMESTAMPOFFSET", scale=3))
    struct = {"utc": local.astimezone(dt.UTC), "offset_min": -210}
    table = pa.Table.from_arrays([pa.array([struct, None], field.type)], schema=pa.schema([field]))
    text = '(DT_WSTR,40)o + "|" + (DT_WSTR,30)(DT_DBTIMESTAMP)o'
    assert evaluate_batch(text, table).to_pylist() == [
        "1999-10-11 20:34:52.123 -03:30|1999-10-12 00:04:52.123",
        None,
    ]
    assert evaluate(text, row={"o": local}, types={"o": "DT_DBTIMESTAMPOFFSET(3)"}) == (
        "1999-10-11 20:34:52.123 -03:30|1999-10-12 00:04:52.123"
    )
    out = evaluate_batch('DATEADD("hh", 1, o)', table)
    assert out.to_pylist()[0] == dt.datetime(1999, 10, 12, 1, 4, 52, 123000)


def test_one_table_per_stage() -> None:
    """functions.FUNCTIONS, scalar.SCALAR_FUNCTIONS and polars_backend.POLARS_FUNCTIONS agree."""
    assert set(FUNCTIONS) == set(scalar.SCALAR_FUNCTIONS) == set(polars_backend.POLARS_FUNCTIONS)


def test_no_python_per_row_in_polars_backend() -> None:
    source = inspect.getsource(polars_backend)
    for forbidden in ("map_elements", "map_batches", "apply(", "iter_rows", "to_list("):
        assert forbidden not in source


def test_every_choice_is_pinned_by_a_golden_case() -> None:
    golden = "\n".join(
        p.read_text(encoding="utf-8") for p in (Path(__file__).parent / "golden").glob("*.txt")
    )
    unpinned = [key for key in CHOICES if f"choice:{key}" not in golden]
    assert not unpinned, f"choices without a golden case: {unpinned}"


def test_pending_codes_resolve() -> None:
    from dataflow.expressions.codes import PENDING, code

    for name, (hresult, stand_in) in PENDING.items():
        assert hresult & 0xC0040000 == 0xC0040000
        assert code(name) in CODES
        assert code(name) in (name, stand_in)


def test_fit_to_column_reports_truncation() -> None:
    from dataflow.expressions import fit_to_column

    values = evaluate_batch("UPPER(s)", pa.table({"s": ["abc", "abcdef", None]}))
    cut, mask = fit_to_column(values, "DT_WSTR(4)")
    assert cut.to_pylist() == ["ABC", "ABCD", None]
    assert mask is not None and mask.to_pylist() == [False, True, False]
    same, none = fit_to_column(values, "DT_WSTR(10)")
    assert none is None and same.to_pylist() == ["ABC", "ABCDEF", None]
    data, bmask = fit_to_column(pa.array([b"\x01\x02\x03"], pa.large_binary()), "DT_BYTES(2)")
    assert data.to_pylist() == [b"\x01\x02"] and bmask is not None


def test_result_type_for_derived_column() -> None:
    from dataflow.expressions.codes import code

    table = pa.table({"s": ["12", "x", None], "n": pa.array([1, 2, 3], pa.int32())})
    compiled = compile("s", table.schema, result_type="DT_I4")
    values, errors = compiled.evaluate(table)
    assert values.type == pa.int32() and values.to_pylist() == [12, None, None]
    assert errors.code_names() == [None, "DTS_E_EXPREVALCASTFAILED", None]
    compiled = compile("n * 1.5", table.schema, result_type="DT_NUMERIC(10,2)")
    assert compiled.evaluate(table)[0].to_pylist() == [
        Decimal("1.50"),
        Decimal("3.00"),
        Decimal("4.50"),
    ]
    with pytest.raises(ExpressionError) as info:
        compile("n", table.schema, result_type="DT_GUID")
    assert info.value.code == code("DTS_E_EXPREVALCANNOTCONVERTRESULT")


_MIXED_ROWS = {
    "s": ["a,b;c", "x😀y中z", "", None, "a b", ",,p,,q,,", "a]b\\c-d^e", "abc", "", "é\né", "k"],
    "d": [",;", "😀中", ",", ",", None, ",", "]\\-^", "", "", "\n", "k"],
    "n": [2, 3, 1, 1, 1, 2, 3, 1, 1, 2, None],
}


def _per_row(text: str, table: pa.Table) -> list[object]:
    types = {"s": "DT_WSTR(50)", "d": "DT_WSTR(50)", "n": "DT_I4"}
    return [evaluate(text, row=row, types=types) for row in table.to_pylist()]


@pytest.mark.parametrize(
    "text",
    ["TOKEN(s, d, n)", "TOKEN(s, d, 1)", "TOKEN(s, d, 9)", "TOKENCOUNT(s, d)",
     "(DT_BYTES,100)s", "(DT_IMAGE)s", "(DT_BYTES,3)s", "(DT_BYTES,50)(DT_STR,20,1252)s"],
)  # fmt: skip
def test_vectorised_forms_on_mixed_rows(text: str) -> None:
    """Column delimiters differing per row, and strings -> bytes, agree with the scalar back end."""
    table = pa.table(
        {
            "s": pa.array(_MIXED_ROWS["s"], pa.large_string()),
            "d": pa.array(_MIXED_ROWS["d"], pa.large_string()),
            "n": pa.array(_MIXED_ROWS["n"], pa.int32()),
        }
    )
    assert evaluate_batch(text, table).to_pylist() == _per_row(text, table)
    sliced = table.slice(3, 6)  # a batch not starting at offset 0
    assert evaluate_batch(text, sliced).to_pylist() == _per_row(text, sliced)


def test_bytes_to_r4_fails_per_row() -> None:
    """(DT_R4) of DT_BYTES fails for every non-NULL row, like the scalar back end."""
    table = pa.table({"b": pa.array([b"\x00\x00\x80?", None, b""], pa.large_binary())})
    values, errors = compile("(DT_R4)b", table).evaluate(table)
    assert values.to_pylist() == [None, None, None]
    assert errors.code_names() == ["DTS_E_EXPREVALCASTFAILED", None, "DTS_E_EXPREVALCASTFAILED"]
