"""The SSIS data-type table: every type reachable by name, token and code, and its Arrow type."""

from __future__ import annotations

import pyarrow as pa
import pytest

from dataflow.core.datatypes import (
    SSIS_TYPES,
    VARIANT_TYPES,
    arrow_field,
    make_spec,
    parse_type_spec,
    spec_from_arrow,
    spec_from_field,
    ssis_type,
    variant_from_typecode,
    variant_type,
)
from dataflow.core.errors import ValidationError


@pytest.mark.parametrize("name", sorted(SSIS_TYPES))
def test_every_type_by_name_token_and_code(name: str) -> None:
    t = SSIS_TYPES[name]
    assert ssis_type(name) is t
    assert ssis_type(t.code) is t
    assert ssis_type(str(t.code | 0x4000)) is t  # BYREF variants
    if t.token:
        assert ssis_type(t.token) is t
        assert ssis_type(t.token.upper()) is t
    assert isinstance(make_spec(name).to_arrow(), pa.DataType)


@pytest.mark.parametrize(
    ("text", "arrow"),
    [
        ("DT_I4", pa.int32()),
        ("DT_UI8", pa.uint64()),
        ("DT_STR(50,1252)", pa.large_string()),
        ("DT_WSTR(20)", pa.large_string()),
        ("DT_NUMERIC(10,2)", pa.decimal128(10, 2)),
        ("DT_DECIMAL(4)", pa.decimal128(29, 4)),
        ("DT_CY", pa.decimal128(19, 4)),
        ("DT_DBTIMESTAMP", pa.timestamp("us")),
        ("DT_DBTIMESTAMP2(7)", pa.timestamp("us")),
        ("DT_DBDATE", pa.date32()),
        ("DT_DBTIME2(3)", pa.time64("ns")),
        ("DT_GUID", pa.large_string()),
        ("DT_BOOL", pa.bool_()),
        ("DT_BYTES(16)", pa.large_binary()),
        ("wstr", pa.large_string()),
    ],
)
def test_type_specs_map_to_arrow(text: str, arrow: pa.DataType) -> None:
    assert parse_type_spec(text).to_arrow() == arrow


def test_spec_defaults_and_text_form() -> None:
    assert str(parse_type_spec("DT_STR(50)")) == "DT_STR(50,1252)"
    assert str(parse_type_spec("DT_NUMERIC")) == "DT_NUMERIC(18,0)"
    assert str(parse_type_spec("i4")) == "DT_I4"


def test_field_metadata_round_trips_the_ssis_type() -> None:
    spec = parse_type_spec("DT_STR(30,1251)")
    field = arrow_field("name", spec)
    assert field.metadata[b"ssis.type"] == b"DT_STR"
    assert spec_from_field(field) == spec
    assert spec_from_field(pa.field("x", pa.int64())).name == "DT_I8"
    assert spec_from_arrow(pa.decimal128(12, 3)) == make_spec("DT_NUMERIC", precision=12, scale=3)


def test_bad_types_are_coded_errors() -> None:
    with pytest.raises(ValidationError) as exc:
        ssis_type("DT_NOPE")
    assert exc.value.code == "DTS_E_INVALIDATTRIBUTEVALUE"
    with pytest.raises(ValidationError):
        parse_type_spec("DT_I4(3)")
    with pytest.raises(ValidationError):
        spec_from_arrow(pa.list_(pa.int8()))


def test_variable_type_codes() -> None:
    assert variant_type(3).name == "Int32"
    assert variant_type("String").code == 8
    assert VARIANT_TYPES[11].dt == "DT_BOOL"
    # Project.params DataType is a System.TypeCode, not a VARIANT code.
    assert variant_from_typecode(9).vt == "VT_I4"
    assert variant_from_typecode(18).vt == "VT_BSTR"
    assert variant_from_typecode(3).vt == "VT_BOOL"
