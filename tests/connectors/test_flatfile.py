"""The flat-file connector on its own: delimited, fixed width, ragged right, code pages, writing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from connectors.flatfile import (
    Column,
    FlatFileError,
    FlatFileFormat,
    FlatFileReader,
    FlatFileWriter,
    codec_for,
    read_table,
    row_text,
)

ABC = (Column("a", ","), Column("b", ","), Column("c", "\r\n"))


def _file(tmp_path: Path, data: bytes, name: str = "f.txt") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _rows(path: Path, fmt: FlatFileFormat, **kw: object) -> list[dict[str, str]]:
    return read_table(path, fmt, **kw).to_pylist()  # type: ignore[arg-type]


def test_delimited_with_column_names_and_qualifiers(tmp_path: Path) -> None:
    p = _file(tmp_path, b'a,b,c\r\n1,"x,""y""",3\r\n4,,"6"\r\n')
    fmt = FlatFileFormat(ABC, text_qualifier='"', column_names_in_first_row=True)
    reader = FlatFileReader(p, fmt)
    got = [b.to_pylist() for _, b in reader]
    assert got == [[{"a": "1", "b": 'x,"y"', "c": "3"}, {"a": "4", "b": "", "c": "6"}]]
    assert reader.names == ["a", "b", "c"]


def test_row_delimiter_inside_a_qualified_value(tmp_path: Path) -> None:
    p = _file(tmp_path, b'1,"two\r\nlines",3\r\n4,5,6\r\n')
    assert _rows(p, FlatFileFormat(ABC, text_qualifier='"')) == [
        {"a": "1", "b": "two\r\nlines", "c": "3"},
        {"a": "4", "b": "5", "c": "6"},
    ]


def test_lf_and_crlf_row_delimiters(tmp_path: Path) -> None:
    lf = (Column("a", ","), Column("b", "\n"))
    assert _rows(_file(tmp_path, b"1,2\n3,4\n"), FlatFileFormat(lf)) == [
        {"a": "1", "b": "2"},
        {"a": "3", "b": "4"},
    ]
    # a lone LF in a CRLF file is data, not a row end (SSIS splits on the row delimiter only)
    crlf = (Column("a", ","), Column("b", "\r\n"))
    assert _rows(_file(tmp_path, b"1,x\ny\r\n3,4", "g.txt"), FlatFileFormat(crlf)) == [
        {"a": "1", "b": "x\ny"},
        {"a": "3", "b": "4"},
    ]


def test_lone_lf_that_looks_like_a_row_end_is_data(tmp_path: Path) -> None:
    # pyarrow alone would read two well-formed rows here; SSIS reads one (CRLF ends rows)
    crlf = (Column("a", ","), Column("b", "\r\n"))
    assert _rows(_file(tmp_path, b"1,x\n2,y\r\n"), FlatFileFormat(crlf)) == [
        {"a": "1", "b": "x\n2,y"}
    ]


def test_short_and_long_rows_follow_ssis(tmp_path: Path) -> None:
    p = _file(tmp_path, b"1,2,3\r\n4\r\n5,6,7,8\r\n\r\n")
    assert _rows(p, FlatFileFormat(ABC)) == [
        {"a": "1", "b": "2", "c": "3"},
        {"a": "4", "b": "", "c": ""},  # short row: missing fields are empty
        {"a": "5", "b": "6", "c": "7,8"},  # the last column runs to the row delimiter
        {"a": "", "b": "", "c": ""},
    ]


def test_per_column_and_multi_character_delimiters(tmp_path: Path) -> None:
    cols = (Column("a", "||"), Column("b", ";"), Column("c", "\r\n"))
    p = _file(tmp_path, b"1||2;3\r\n||x;\r\na|b||c;d;e\r\n")
    assert _rows(p, FlatFileFormat(cols)) == [
        {"a": "1", "b": "2", "c": "3"},
        {"a": "", "b": "x", "c": ""},
        {"a": "a|b", "b": "c", "c": "d;e"},
    ]


def test_header_rows_to_skip_names_and_data_rows_to_skip(tmp_path: Path) -> None:
    p = _file(tmp_path, b"report 2024\r\n===\r\nx,y,z\r\nskip,me,0\r\n1,2,3\r\n")
    fmt = FlatFileFormat(
        ABC, header_rows_to_skip=2, column_names_in_first_row=True, data_rows_to_skip=1
    )
    reader = FlatFileReader(p, fmt)
    batches = list(reader)
    assert [(n, b.to_pylist()) for n, b in batches] == [(1, [{"a": "1", "b": "2", "c": "3"}])]
    assert reader.names == ["x", "y", "z"]


def test_single_embedded_qualifier_fails(tmp_path: Path) -> None:
    p = _file(tmp_path, b'1,"ab"c"d",3\r\n')
    with pytest.raises(FlatFileError) as exc:
        _rows(p, FlatFileFormat(ABC, text_qualifier='"'))
    assert exc.value.kind == "qualifier"
    assert exc.value.row == 1 and exc.value.column == "b"


def test_unclosed_qualifier_fails(tmp_path: Path) -> None:
    p = _file(tmp_path, b'1,"ab,3\r\n')
    with pytest.raises(FlatFileError) as exc:
        _rows(p, FlatFileFormat(ABC, text_qualifier='"'))
    assert exc.value.kind == "qualifier"


@pytest.mark.parametrize(
    ("encoding", "code_page", "unicode", "bom"),
    [
        ("utf-8", 65001, False, b"\xef\xbb\xbf"),
        ("cp1252", 1252, False, b""),
        ("utf-16-le", 1252, True, b"\xff\xfe"),
    ],
)
def test_code_pages(
    tmp_path: Path, encoding: str, code_page: int, unicode: bool, bom: bytes
) -> None:
    text = "name,price,note\r\nCafé,€5,naïve\r\nJosé,12,Æ\r\n"
    p = _file(tmp_path, bom + text.encode(encoding))
    fmt = FlatFileFormat(
        (Column("name", ","), Column("price", ","), Column("note", "\r\n")),
        encoding=codec_for(code_page, unicode),
        column_names_in_first_row=True,
    )
    assert _rows(p, fmt) == [
        {"name": "Café", "price": "€5", "note": "naïve"},
        {"name": "José", "price": "12", "note": "Æ"},
    ]


def test_code_page_lookup() -> None:
    assert codec_for(1252) == "cp1252"
    assert codec_for(65001) == "utf-8"
    assert codec_for(1252, unicode=True) == "utf-16-le"
    with pytest.raises(FlatFileError) as exc:
        codec_for(99999)
    assert exc.value.kind == "config"


def test_invalid_utf8_is_an_encoding_error(tmp_path: Path) -> None:
    p = _file(tmp_path, b"1,\xff\xfe,3\r\n")
    with pytest.raises(FlatFileError) as exc:
        _rows(p, FlatFileFormat(ABC))
    assert exc.value.kind == "encoding"


def test_fixed_width(tmp_path: Path) -> None:
    cols = (Column("id", width=3, fixed=True), Column("name", width=5, fixed=True))
    p = _file(tmp_path, "001Ann  002Zoë  003Bob  ".encode())
    fmt = FlatFileFormat(cols, format="FixedWidth")
    assert _rows(p, fmt) == [
        {"id": "001", "name": "Ann  "},
        {"id": "002", "name": "Zoë  "},  # widths count characters, not bytes
        {"id": "003", "name": "Bob  "},
    ]


def test_fixed_width_across_blocks(tmp_path: Path) -> None:
    cols = (Column("id", width=4, fixed=True), Column("v", width=2, fixed=True))
    data = "".join(f"{i:04d}{i % 100:02d}" for i in range(5000))
    p = _file(tmp_path, data.encode())
    t = read_table(p, FlatFileFormat(cols, format="FixedWidth"), block_bytes=1024, batch_rows=700)
    assert t.num_rows == 5000
    assert t.column("id").to_pylist()[4321] == "4321"
    assert t.column("v").to_pylist()[4321] == "21"


def test_ragged_right(tmp_path: Path) -> None:
    cols = (Column("code", width=2, fixed=True), Column("rest", "\r\n"))
    p = _file(tmp_path, b"ABfirst line\r\nCDsecond\r\nE\r\n")
    assert _rows(p, FlatFileFormat(cols, format="RaggedRight")) == [
        {"code": "AB", "rest": "first line"},
        {"code": "CD", "rest": "second"},
        {"code": "E", "rest": ""},
    ]


def test_many_blocks_keep_every_row_in_order(tmp_path: Path) -> None:
    lines = "".join(f'{i},"v{i},x",{i * 2}\r\n' for i in range(20_000))
    p = _file(tmp_path, lines.encode())
    t = read_table(p, FlatFileFormat(ABC, text_qualifier='"'), block_bytes=4096, batch_rows=1000)
    assert t.num_rows == 20_000
    assert t.column("a").to_pylist() == [str(i) for i in range(20_000)]
    assert t.column("b")[12345].as_py() == "v12345,x"


def test_typed_fast_path_falls_back_to_text_on_bad_values(tmp_path: Path) -> None:
    p = _file(tmp_path, b"1,2,3\r\nx,5,6\r\n")
    good = _file(tmp_path, b"1,2,3\r\n,5,6\r\n", "good.txt")
    fmt = FlatFileFormat(ABC)
    typed = [b for _, b in FlatFileReader(good, fmt, column_types={0: pa.int32()})]
    assert typed[0].column(0).type == pa.int32()
    assert typed[0].column(0).to_pylist() == [1, None]  # empty field: NULL
    text = [b for _, b in FlatFileReader(p, fmt, column_types={0: pa.int32()})]
    assert text[0].column(0).type == pa.large_string()
    assert text[0].column(0).to_pylist() == ["1", "x"]


def test_missing_file_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(FlatFileError) as exc:
        _rows(tmp_path / "nope.txt", FlatFileFormat(ABC))
    assert exc.value.kind == "io"


def test_impossible_formats_are_config_errors() -> None:
    with pytest.raises(FlatFileError) as exc:
        FlatFileFormat((Column("a", ""), Column("b", "\n"))).check()
    assert exc.value.kind == "config"
    with pytest.raises(FlatFileError):
        FlatFileFormat((Column("a", width=0, fixed=True),), format="FixedWidth").check()
    with pytest.raises(FlatFileError):
        FlatFileFormat(ABC, format="Mixed").check()


def test_writer_delimited_qualified_with_header(tmp_path: Path) -> None:
    p = tmp_path / "out.csv"
    fmt = FlatFileFormat(ABC, text_qualifier='"', column_names_in_first_row=True)
    with FlatFileWriter(p, fmt, header="Exported") as w:
        w.write([pa.array(["1", None]), pa.array(['a"b', ""]), pa.array(["x", "y"])])
    assert p.read_bytes() == b'Exported\r\n"a","b","c"\r\n"1","a""b","x"\r\n,"","y"\r\n'
    # and it reads back
    assert _rows(
        p,
        FlatFileFormat(
            ABC, text_qualifier='"', header_rows_to_skip=1, column_names_in_first_row=True
        ),
    ) == [
        {"a": "1", "b": 'a"b', "c": "x"},
        {"a": "", "b": "", "c": "y"},
    ]


def test_writer_append_skips_the_header_of_a_non_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "out.csv"
    fmt = FlatFileFormat((Column("a", ","), Column("b", "\n")), column_names_in_first_row=True)
    with FlatFileWriter(p, fmt) as w:
        w.write([pa.array(["1"]), pa.array(["2"])])
    with FlatFileWriter(p, fmt, append=True) as w:
        w.write([pa.array(["3"]), pa.array(["4"])])
    assert p.read_bytes() == b"a,b\n1,2\n3,4\n"
    with FlatFileWriter(p, fmt) as w:  # overwrite
        w.write([pa.array(["5"]), pa.array(["6"])])
    assert p.read_bytes() == b"a,b\n5,6\n"


def test_writer_fixed_width_and_code_page(tmp_path: Path) -> None:
    p = tmp_path / "out.txt"
    cols = (Column("id", width=3, fixed=True), Column("name", width=4, fixed=True))
    with FlatFileWriter(p, FlatFileFormat(cols, format="FixedWidth", encoding="cp1252")) as w:
        w.write([pa.array(["1", "22"]), pa.array(["Zoë", "toolong"])])
    assert p.read_bytes() == "1  Zoë 22 tool".encode("cp1252")


def test_writer_utf16_writes_a_bom(tmp_path: Path) -> None:
    p = tmp_path / "out.txt"
    fmt = FlatFileFormat((Column("a", "\r\n"),), encoding="utf-16-le")
    with FlatFileWriter(p, fmt) as w:
        w.write([pa.array(["hé"])])
    assert p.read_bytes() == b"\xff\xfe" + "hé\r\n".encode("utf-16-le")
    assert _rows(p, fmt) == [{"a": "hé"}]


def test_writer_unencodable_character(tmp_path: Path) -> None:
    fmt = FlatFileFormat((Column("a", "\n"),), encoding="cp1252")
    with FlatFileWriter(tmp_path / "x.txt", fmt) as w, pytest.raises(FlatFileError) as exc:
        w.write([pa.array(["中"])])
    assert exc.value.kind == "encoding"


def test_row_text_rebuilds_rows() -> None:
    got = row_text(
        [pa.array(["1", "2"]), pa.array(["a", None]), pa.array(["x", "y"])], FlatFileFormat(ABC)
    )
    assert got.to_pylist() == ["1,a,x", "2,,y"]
