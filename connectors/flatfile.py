"""Flat files as Arrow batches: the file formats of SSIS's Flat File connection manager.

This module knows text files, not SSIS pipelines: it reads a delimited, fixed-width or
ragged-right file into record batches of ``large_string`` columns (one per flat-file column, in
file order) and writes such columns back. Typing the text (DT_I4, DT_DBDATE...) is the data-flow
component's job. Like every connector it imports nothing from ``dataflow``; it raises
:class:`FlatFileError` with a ``kind`` the components map to DTS error codes.

How a file is read, always a whole block at a time (no Python per row):

1. Bytes are read in large blocks and, when the file is not UTF-8, transcoded with an incremental
   decoder (code pages such as 1252, UTF-16 for ``Unicode=True``); a byte-order mark is dropped.
2. Header rows (``HeaderRowsToSkip``, split by ``HeaderRowDelimiter``), the column-names row and
   ``DataRowsToSkip`` rows are consumed from the front.
3. The rest is cut into chunks of whole records. A cut never falls inside a text-qualified value:
   a row delimiter only ends a record when an even number of qualifiers precedes it.
4. Each chunk is parsed:

   * **Delimited, fast path** -- one single-character column delimiter, a CR/LF row delimiter and a
     single-character qualifier: ``pyarrow.csv`` (multi-threaded) parses the chunk, typing the
     columns the caller asks for (``column_types``; a value that does not parse makes the chunk
     come back as text). A quick check on the chunk's bytes first (stray CR or LF, qualifiers not
     at field edges) and any parse error (short or long rows) send the chunk to the general path
     instead, so both paths give the same rows. (polars' CSV reader is as fast here -- measured
     on 16 MiB chunks -- but pads short rows silently, which would hide them from the general
     path.)
   * **Delimited, general path** -- per-column delimiters, multi-character delimiters (``||``),
     short rows (AlwaysCheckForRowDelimiters: missing trailing fields are empty), long rows (the
     last column runs to the row delimiter, as in SSIS): the chunk is split into lines with
     ``pyarrow.compute.split_pattern``, lines whose qualifiers do not balance are joined to the
     next ones (a row delimiter inside a qualified value), and one RE2 pattern built from the
     columns extracts every field of every line (``extract_regex``).
   * **Ragged right** -- lines as above, fixed-width columns cut with ``utf8_slice_codeunits``, the
     last column runs to the row delimiter.
   * **Fixed width** -- records of the summed column widths (in characters), cut the same way.

Text qualifiers follow SSIS: a doubled qualifier inside a qualified value is one literal
qualifier; a single qualifier inside a qualified value fails the read (kind ``"qualifier"``).
Widths count characters (UTF-16 code units in SSIS; the same for text outside the astral planes).
Not reproduced: the pre-2012 parser (AlwaysCheckForRowDelimiters=False, where a short row swallows
the next line); a qualifier inside an unqualified value of a qualified column is read as
unbalanced quoting.

Writing (:class:`FlatFileWriter`) is one vectorised join per batch (``binary_join_element_wise``
over fields and delimiters, or polars' CSV writer for plain unqualified delimited files, which
also takes whole polars frames: :meth:`FlatFileWriter.write_frame`), written with a single
``write`` call and transcoded only when the text is not ASCII.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

KINDS: Final = frozenset({"io", "encoding", "qualifier", "format", "config"})
FORMATS: Final = frozenset({"Delimited", "FixedWidth", "RaggedRight"})
_BLOCK: Final = 16 << 20  # bytes read at a time: big enough for pyarrow's threads, bounded memory
_FAST_ROW_DELIMITERS: Final = frozenset({"\n", "\r\n", "\r"})
_UNIT_SEPARATOR: Final = "\x1f"  # pyarrow needs a column delimiter even for one-column files


def _parse_block(nbytes: int) -> int:
    """pyarrow.csv's block size for a chunk: one block per core, at least 4 MiB. Each block
    becomes one chunk of the parsed columns, so large blocks give large batches downstream
    (every component pays a fixed cost per batch)."""
    cores = os.cpu_count() or 1
    return max(4 << 20, -(-nbytes // cores))


def _text(value: str) -> pa.Scalar[Any]:
    """A ``large_string`` scalar (compute kernels want every argument of one string type)."""
    return pa.scalar(value, pa.large_string())


class FlatFileError(Exception):
    """A flat file could not be read or written.

    ``kind``: ``io`` (open/read/write failed), ``encoding`` (bytes not valid in the code page),
    ``qualifier`` (a single qualifier inside a qualified value, or one never closed), ``format``
    (records that do not fit the columns), ``config`` (an impossible format description).
    ``row`` is the 1-based data row (after header rows) when known; ``column`` the column name.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        path: str | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown FlatFileError kind {kind!r}")
        self.kind = kind
        self.message = message
        self.row = row
        self.column = column
        self.path = path
        where = "".join(
            [
                f" (data row {row})" if row is not None else "",
                f" (column {column!r})" if column else "",
                f" in {path}" if path else "",
            ]
        )
        super().__init__(f"{message}{where}")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the file: delimited (ended by ``delimiter``) or fixed (``width`` chars)."""

    name: str
    delimiter: str = ","
    width: int = 0
    fixed: bool = False
    qualified: bool = True


@dataclass(frozen=True, slots=True)
class FlatFileFormat:
    """What a Flat File connection manager says about its file, as plain settings.

    ``encoding`` is a Python codec name (see :func:`codec_for`). For Delimited files the last
    column's delimiter is the row delimiter; ``row_delimiter`` is used when that is empty and by
    RaggedRight files whose last column has no delimiter of its own.
    """

    columns: tuple[Column, ...]
    format: str = "Delimited"
    encoding: str = "utf-8"
    text_qualifier: str = ""  # "" = <none>
    header_rows_to_skip: int = 0
    header_row_delimiter: str = "\r\n"
    column_names_in_first_row: bool = False
    data_rows_to_skip: int = 0
    row_delimiter: str = "\r\n"

    @property
    def record_delimiter(self) -> str:
        """What ends a record ("" for FixedWidth files, whose records have a fixed length)."""
        if self.format == "FixedWidth":
            return ""
        last = self.columns[-1] if self.columns else None
        if last is not None and not last.fixed and last.delimiter:
            return last.delimiter
        return self.row_delimiter or "\r\n"

    @property
    def record_width(self) -> int:
        return sum(c.width for c in self.columns)

    def check(self) -> None:
        """Raise ``FlatFileError("config")`` for a description no file can match."""
        if self.format not in FORMATS:
            raise FlatFileError(
                "config",
                f"format {self.format!r} is not Delimited, FixedWidth or RaggedRight",
            )
        if not self.columns:
            raise FlatFileError("config", "the flat-file connection has no columns")
        if len(self.text_qualifier) > 1:
            raise FlatFileError(
                "config", f"text qualifier {self.text_qualifier!r} is longer than one character"
            )
        if self.format == "Delimited":
            for c in self.columns[:-1]:
                if c.fixed or not c.delimiter:
                    raise FlatFileError(
                        "config",
                        "a delimited file needs a delimiter on every column",
                        column=c.name,
                    )
        else:
            body = self.columns if self.format == "FixedWidth" else self.columns[:-1]
            for c in body:
                if c.width <= 0:
                    raise FlatFileError(
                        "config", f"{self.format} columns need a width > 0", column=c.name
                    )
            if self.format == "RaggedRight" and not self.record_delimiter:
                raise FlatFileError("config", "a ragged-right file needs a row delimiter")


def codec_for(code_page: int, unicode: bool = False) -> str:
    """The Python codec of an SSIS code page (``Unicode=True`` means UTF-16 LE)."""
    if unicode or code_page == 1200:
        return "utf-16-le"
    special = {
        65001: "utf-8",
        1201: "utf-16-be",
        20127: "ascii",
        28591: "latin-1",
        12000: "utf-32-le",
    }
    name = special.get(code_page, f"cp{code_page}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FlatFileError("config", f"code page {code_page} is not supported") from None


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------

_BOMS: Final = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}


def _ascii_superset(encoding: str) -> bool:
    """True when ASCII text has the same bytes in ``encoding`` (1252, 850, 932, UTF-8...)."""
    sample = "".join(chr(i) for i in range(128))
    try:
        return sample.encode(encoding) == sample.encode("ascii")
    except UnicodeError:
        return False


def _utf8_tail_cut(block: bytes) -> int:
    """Length of ``block`` without a trailing, incomplete UTF-8 character."""
    n = len(block)
    for back in range(1, min(4, n) + 1):
        b = block[n - back]
        if b & 0xC0 != 0x80:  # a lead byte (or ASCII): is its sequence complete?
            need = 1 if b < 0x80 else 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4
            return n if back >= need else n - back
    return n


def _as_string_array(data: bytes | bytearray) -> pa.Array:
    """One ``large_string`` value holding ``data`` (checked to be UTF-8)."""
    arr = pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(pa.array([0, len(data)], pa.int64()).buffers()[1]), pa.py_buffer(data)
    )
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        raise FlatFileError("encoding", "the file is not valid in its code page") from None
    return arr


def _lines(data: bytes | bytearray, delimiter: str) -> pa.Array:
    """The records of ``data`` split by ``delimiter`` (a final delimiter ends, not starts, one)."""
    lines = pc.list_flatten(pc.split_pattern(_as_string_array(data), delimiter))
    if data.endswith(delimiter.encode()):
        lines = lines.slice(0, len(lines) - 1)
    return lines


class _Buffer:
    """UTF-8 bytes of the file, read on demand, with the consumed prefix dropped."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks = blocks
        self.data = b""
        self.eof = False

    def more(self) -> bool:
        try:
            self.data += next(self.blocks)
            return True
        except StopIteration:
            self.eof = True
            return False


class FlatFileReader:
    """Iterate over a flat file as ``(first_row, batch)``: batches of ``large_string`` columns
    named like the file's columns, ``first_row`` the 1-based data-row number of the batch's first
    row. ``names`` holds the column-names row once iteration has started (when the file has one).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: FlatFileFormat,
        *,
        batch_rows: int = 65_536,
        block_bytes: int = _BLOCK,
        column_types: Mapping[int, pa.DataType] | None = None,
    ) -> None:
        fmt.check()
        # Columns the fast path may type while parsing (by column index); a chunk with a value
        # that does not parse comes back as strings instead, for the caller to handle row by row.
        self.column_types = dict(column_types or {})
        self.path = os.fspath(path)
        self.fmt = fmt
        self.batch_rows = max(1, batch_rows)
        self.block_bytes = max(1024, block_bytes)
        self.names: list[str] | None = None
        self._ids = [f"c{i}" for i in range(len(fmt.columns))]
        self._names = [c.name for c in fmt.columns]
        self._rd = fmt.record_delimiter
        self._q = fmt.text_qualifier
        self._pattern = self._row_pattern() if fmt.format == "Delimited" else ""
        self._fast = self._fast_possible()

    # --- bytes -----------------------------------------------------------------------------
    def _open(self) -> BinaryIO:
        try:
            return open(self.path, "rb")
        except OSError as exc:
            raise FlatFileError(
                "io", f"cannot open the file: {exc.strerror}", path=self.path
            ) from None

    def _utf8_blocks(self) -> Iterator[bytes]:
        enc = codecs.lookup(self.fmt.encoding).name
        decoder = None if enc == "utf-8" else codecs.getincrementaldecoder(enc)("strict")
        ascii_superset = _ascii_superset(enc)
        carry = b""
        with self._open() as f:
            first = True
            while True:
                try:
                    block = f.read(self.block_bytes)
                except OSError as exc:
                    raise FlatFileError(
                        "io", f"read failed: {exc.strerror}", path=self.path
                    ) from None
                if first:
                    first = False
                    bom = _BOMS.get(enc)
                    if bom and block.startswith(bom):
                        block = block[len(bom) :]
                if decoder is None:
                    if not block:
                        if carry:
                            yield carry
                        return
                    if carry:
                        block = carry + block
                    cut = _utf8_tail_cut(block)  # keep characters whole across blocks
                    if cut == len(block):  # the usual case: no copies
                        carry = b""
                        yield block
                        continue
                    carry = block[cut:]
                    if cut:
                        yield block[:cut]
                    continue
                if block and ascii_superset and block.isascii() and not decoder.getstate()[0]:
                    yield block  # ASCII text is the same in UTF-8: no transcoding needed
                    continue
                try:
                    text = decoder.decode(block, final=not block)
                except UnicodeDecodeError as exc:
                    raise FlatFileError(
                        "encoding", f"bytes not valid in {enc}: {exc.reason}", path=self.path
                    ) from None
                if text:
                    yield text.encode("utf-8")
                if not block:
                    return

    # --- records -----------------------------------------------------------------------------
    def _record_end(self, data: bytes, start: int, delimiter: bytes, quoted: bool) -> int:
        """Index just past the first record of ``data[start:]`` (-1: no complete record yet)."""
        q = self._q.encode()
        pos = data.find(delimiter, start)
        while quoted and q and pos >= 0 and data.count(q, start, pos) % 2:
            pos = data.find(delimiter, pos + 1)
        return -1 if pos < 0 else pos + len(delimiter)

    def _take_record(self, buf: _Buffer, delimiter: str, quoted: bool) -> bytes | None:
        """Remove and return the next record (without its delimiter); None at end of file."""
        d = delimiter.encode()
        while True:
            end = self._record_end(buf.data, 0, d, quoted)
            if end >= 0:
                rec, buf.data = buf.data[: end - len(d)], buf.data[end:]
                return rec
            if not buf.more():
                rec, buf.data = buf.data, b""
                return rec or None

    def _take_fixed(self, buf: _Buffer, chars: int) -> bytes | None:
        while len(buf.data) < 4 * chars and buf.more():
            pass
        if not buf.data:
            return None
        text = buf.data[: 4 * chars].decode("utf-8", "ignore")[:chars].encode()
        buf.data = buf.data[len(text) :]
        return text

    def _skip_header(self, buf: _Buffer) -> None:
        fmt = self.fmt
        for _ in range(fmt.header_rows_to_skip):
            if self._take_record(buf, fmt.header_row_delimiter or "\r\n", False) is None:
                return
        rows: list[bytes | None] = []
        wanted = int(fmt.column_names_in_first_row) + fmt.data_rows_to_skip
        for _ in range(wanted):
            if fmt.format == "FixedWidth":
                rows.append(self._take_fixed(buf, fmt.record_width))
            else:
                rows.append(self._take_record(buf, self._rd, True))
        if fmt.column_names_in_first_row and rows and rows[0] is not None:
            cols = self._parse(rows[0] + self._rd.encode(), 1)
            self.names = [str(c[0]) if len(c) else "" for c in (col.to_pylist() for col in cols)]

    def _chunks(self) -> Iterator[bytes | bytearray]:
        """Chunks of whole records (the last one may lack its final delimiter)."""
        buf = _Buffer(self._utf8_blocks())
        self._skip_header(buf)
        if self.fmt.format == "FixedWidth":
            yield from self._fixed_chunks(buf)
            return
        d = self._rd.encode()
        q = self._q.encode()
        # Blocks are appended to a bytearray and a chunk is that bytearray cut short at its last
        # whole record (the rest starts the next one): one copy of the bytes, not two. A chunk
        # is never changed once yielded.
        data = bytearray(buf.data)
        buf.data = b""
        eof = buf.eof
        while True:
            if len(data) < self.block_bytes and not eof:
                block = next(buf.blocks, None)
                if block is not None:
                    data += block
                    continue
                eof = True
            pos = data.rfind(d)
            while q and pos >= 0 and data.count(q, 0, pos) % 2:
                pos = data.rfind(d, 0, pos)
            if pos >= 0:
                cut = pos + len(d)
                rest = data[cut:]
                del data[cut:]
                yield data
                data = rest
            if not eof:
                block = next(buf.blocks, None)
                if block is not None:
                    data += block
                    continue
                eof = True
            if data:
                yield data
            return

    def _fixed_chunks(self, buf: _Buffer) -> Iterator[bytes]:
        width = self.fmt.record_width
        while True:
            if len(buf.data) < self.block_bytes and buf.more():
                continue
            text = buf.data.decode("utf-8")
            whole = len(text) - len(text) % width
            if whole:
                yield text[:whole].encode()
                buf.data = text[whole:].encode()
            if buf.eof or not buf.more():
                rest = buf.data.decode("utf-8")
                if rest.strip("\r\n"):
                    yield rest.encode()  # a short last record: its missing columns are empty
                buf.data = b""
                return

    # --- parsing -----------------------------------------------------------------------------
    def _fast_possible(self) -> bool:
        fmt = self.fmt
        if fmt.format != "Delimited" or self._rd not in _FAST_ROW_DELIMITERS:
            return False
        delims = {c.delimiter for c in fmt.columns[:-1]}
        if len(delims) > 1 or any(len(d) != 1 or d in "\r\n" for d in delims):
            return False
        if self._q and not all(c.qualified for c in fmt.columns):
            return False
        return not (self._q and self._q in delims)

    def _delimiter(self) -> str:
        return self.fmt.columns[0].delimiter if len(self.fmt.columns) > 1 else _UNIT_SEPARATOR

    def _fast_ok(self, chunk: bytes | bytearray) -> bool:
        """True when pyarrow.csv reads ``chunk`` exactly as SSIS would (for CRLF files without
        qualifiers, :meth:`_rows_match` completes the check after parsing)."""
        q = self._q.encode()
        quoted = bool(q) and q in chunk
        if self._rd == "\r\n" and quoted:
            cr, lf = chunk.count(b"\r"), chunk.count(b"\n")
            if not (cr == lf == chunk.count(b"\r\n")):
                return False
        if (self._rd == "\n" and b"\r" in chunk) or (self._rd == "\r" and b"\n" in chunk):
            return False
        d = self._delimiter()
        if len(self.fmt.columns) == 1 and d.encode() in chunk:
            return False
        if not quoted:
            return True
        # Qualifiers must sit at field edges: an opening one after a delimiter, a row start or a
        # closing one ("" inside a value); a closing one before a delimiter, a row end or an
        # opening one. Otherwise the general path decides (and fails on a stray qualifier).
        n = len(chunk)
        b = pa.UInt8Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(chunk)])
        pos = pc.indices_nonzero(pc.equal(b, q[0]))
        if len(pos) % 2:
            return False
        edges = pa.array([ord(d), q[0], 13, 10], pa.uint8())
        closing = pc.add(pos[1::2], 1)
        closing = closing.filter(pc.less(closing, n))
        opening = pc.subtract(pos[0::2], 1)
        opening = opening.filter(pc.greater_equal(opening, 0))
        after = pc.is_in(b.take(closing), value_set=edges)
        before = pc.is_in(b.take(opening), value_set=edges)
        return bool(pc.all(after).as_py() is not False and pc.all(before).as_py() is not False)

    def _parse_fast(self, chunk: bytes | bytearray) -> list[Any] | None:
        if self.column_types:
            try:
                return self._read_csv(chunk, typed=True)
            except pa.ArrowInvalid as exc:
                if "conversion error" not in str(exc).lower():
                    self._check_utf8(exc)
                    return None
        try:
            return self._read_csv(chunk, typed=False)
        except pa.ArrowInvalid as exc:
            self._check_utf8(exc)
            return None  # short or long rows: the general path reads them the SSIS way

    def _check_utf8(self, exc: pa.ArrowInvalid) -> None:
        if "utf8" in str(exc).lower():
            raise FlatFileError("encoding", "the file is not valid in its code page") from None

    def _read_csv(self, chunk: bytes | bytearray, *, typed: bool) -> list[Any]:
        # A chunk without any qualifier parses faster without quoting (same fields).
        q = self._q if self._q and self._q.encode() in chunk else False
        types = dict.fromkeys(self._ids, pa.large_string())
        if typed:
            types.update({self._ids[i]: t for i, t in self.column_types.items()})
        table = pacsv.read_csv(
            pa.BufferReader(chunk),
            read_options=pacsv.ReadOptions(
                column_names=self._ids, block_size=_parse_block(len(chunk))
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self._delimiter(),
                quote_char=q,
                double_quote=True,
                escape_char=False,
                newlines_in_values=bool(q),
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],  # only empty fields are NULL in typed columns
                true_values=["1", "-1", "true", "True", "TRUE"],
                false_values=["0", "false", "False", "FALSE"],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        return list(table.columns)  # chunked by parse block; batches are cut without copying

    def _row_pattern(self) -> str:
        q = re.escape(self._q) if self._q else ""
        cols = self.fmt.columns
        parts: list[str] = []
        for i, c in enumerate(cols):
            last = i == len(cols) - 1
            if last:
                unq = ".*"  # SSIS: the last column runs to the row delimiter
            elif len(c.delimiter) == 1:
                unq = f"[^{re.escape(c.delimiter)}]*"
            else:
                unq = ".*?"  # the first occurrence of a multi-character delimiter ends the field
            field = f"(?P<u{i}>{unq})"
            if q and c.qualified:
                field = f"(?:{q}(?P<q{i}>(?:[^{q}]|{q}{q})*){q}|{field})"
            parts.append(field)
        # Trailing fields are optional: a short row leaves them empty (AlwaysCheckForRowDelimiters).
        pattern = parts[-1]
        for i in range(len(cols) - 2, -1, -1):
            pattern = f"{parts[i]}(?:{re.escape(cols[i].delimiter)}{pattern})?"
        return f"(?s)^{pattern}$"

    def _merge_qualified_lines(self, lines: pa.Array) -> pa.Array:
        """Join lines whose qualifiers do not balance (a row delimiter inside a qualified value)."""
        odd = pc.bit_wise_and(pc.count_substring(lines, self._q), 1)
        if not pc.any(pc.equal(odd, 1)).as_py():
            return lines
        df = pl.DataFrame({"l": pl.from_arrow(lines), "odd": pl.from_arrow(odd)})
        if int(df.get_column("odd").sum()) % 2:
            raise FlatFileError("qualifier", "a text qualifier is never closed", path=self.path)
        closes = (pl.col("odd").cum_sum() % 2) == 0
        rid = closes.cast(pl.Int64).shift(1, fill_value=0).cum_sum()
        merged = (
            df.with_columns(rid=rid)
            .group_by("rid", maintain_order=True)
            .agg(pl.col("l").str.join(self._rd))
            .get_column("l")
        )
        return merged.to_arrow().cast(pa.large_string())

    def _parse_general(self, chunk: bytes | bytearray, first_row: int) -> list[pa.Array]:
        lines = _lines(chunk, self._rd)
        if self._q and self._q.encode() in chunk:
            lines = self._merge_qualified_lines(lines)
        fields = pc.extract_regex(lines, self._pattern)
        if fields.null_count:
            bad = pc.index(pc.is_null(fields), True).as_py()
            raise FlatFileError(
                "format", "the record does not fit the columns", row=first_row + bad, path=self.path
            )
        out: list[pa.Array] = []
        q = self._q
        for i, c in enumerate(self.fmt.columns):
            unq = fields.field(f"u{i}")
            if q and c.qualified:
                stray = pc.starts_with(unq, q)
                if pc.any(stray).as_py():
                    bad = pc.index(stray, True).as_py()
                    raise FlatFileError(
                        "qualifier",
                        f"a text qualifier {q!r} inside a qualified value is not doubled",
                        row=first_row + bad,
                        column=c.name,
                        path=self.path,
                    )
                qual = pc.replace_substring(fields.field(f"q{i}"), q + q, q)
                unq = pc.binary_join_element_wise(qual, unq, _text(""))
            out.append(unq.cast(pa.large_string()))
        return out

    def _parse_ragged(self, chunk: bytes | bytearray) -> list[pa.Array]:
        return self._cut_columns(_lines(chunk, self._rd))

    def _parse_fixed(self, chunk: bytes | bytearray) -> list[pa.Array]:
        width = self.fmt.record_width
        text = _as_string_array(chunk)
        nbytes = len(chunk)
        if chunk.isascii():
            count = -(-nbytes // width)
            starts = pc.cumulative_sum(pa.repeat(pa.scalar(width, pa.int64()), count))
            offsets = pa.concat_arrays([pa.array([0], pa.int64()), starts])
            offsets = pc.min_element_wise(offsets, nbytes)
        else:
            # byte offsets of every width-th character (character starts are non-continuation bytes)
            b = pa.UInt8Array.from_buffers(pa.uint8(), nbytes, [None, pa.py_buffer(chunk)])
            char_starts = pc.indices_nonzero(pc.not_equal(pc.bit_wise_and(b, 0xC0), 0x80))
            nchars = len(char_starts)
            picks = pc.subtract(
                pc.cumulative_sum(pa.repeat(pa.scalar(width, pa.int64()), -(-nchars // width))),
                width,
            )
            offsets = pa.concat_arrays(
                [char_starts.take(picks).cast(pa.int64()), pa.array([nbytes], pa.int64())]
            )
        # concat_arrays / min_element_wise return fresh arrays: their buffers start at offset 0
        records = pa.LargeStringArray.from_buffers(
            len(offsets) - 1, offsets.buffers()[1], text.buffers()[2]
        )
        return self._cut_columns(records)

    def _cut_columns(self, records: pa.Array) -> list[pa.Array]:
        out: list[pa.Array] = []
        start = 0
        for c in self.fmt.columns:
            if c.fixed or self.fmt.format == "FixedWidth":
                out.append(pc.utf8_slice_codeunits(records, start, start + c.width))
                start += c.width
            else:  # the delimited last column of a ragged-right file: the rest of the line
                out.append(pc.utf8_slice_codeunits(records, start, 1 << 62))
        return [a.cast(pa.large_string()) for a in out]

    def _parse(self, chunk: bytes | bytearray, first_row: int) -> list[Any]:
        if self.fmt.format == "FixedWidth":
            return self._parse_fixed(chunk)
        if self.fmt.format == "RaggedRight":
            return self._parse_ragged(chunk)
        if self._fast and self._fast_ok(chunk):
            cols = self._parse_fast(chunk)
            if cols is not None and self._rows_match(chunk, cols):
                return cols
        return self._parse_general(chunk, first_row)

    def _rows_match(self, chunk: bytes | bytearray, cols: list[Any]) -> bool:
        """For CRLF files without qualifiers: pyarrow also ends rows at a lone CR or LF, which
        SSIS keeps as data; then it finds more rows than the chunk has CRLFs."""
        q = self._q.encode()
        if self._rd != "\r\n" or (q and q in chunk):
            return True
        rows = len(cols[0]) if cols else 0
        return rows == chunk.count(b"\r\n") + (not chunk.endswith(b"\r\n"))

    def __iter__(self) -> Iterator[tuple[int, pa.RecordBatch]]:
        row = 1
        for chunk in self._chunks():
            table = pa.Table.from_arrays(self._parse(chunk, row), names=self._names)
            for batch in table.to_batches(max_chunksize=self.batch_rows):
                yield row, batch
                row += batch.num_rows


def read_table(path: str | os.PathLike[str], fmt: FlatFileFormat, **kwargs: Any) -> pa.Table:
    """The whole file as one table of strings (tests and small files)."""
    reader = FlatFileReader(path, fmt, **kwargs)
    batches = [b for _, b in reader]
    schema = pa.schema([pa.field(c.name, pa.large_string()) for c in fmt.columns])
    return pa.Table.from_batches(batches, schema=schema)


def row_text(columns: Sequence[pa.Array], fmt: FlatFileFormat) -> pa.Array:
    """The text of rows rebuilt from their fields (the error output's raw-row column): fields
    joined with their delimiters, fixed-width fields padded to their widths."""
    parts: list[Any] = []
    for i, (c, col) in enumerate(zip(fmt.columns, columns, strict=True)):
        last = i == len(fmt.columns) - 1
        arr = col.cast(pa.large_string())
        if fmt.format == "FixedWidth" or c.fixed:
            parts.append(pc.utf8_rpad(arr, c.width, " "))
        else:
            parts.append(arr)
            if not last:
                parts.append(_text(c.delimiter))
    if not parts:
        return pa.array([], pa.large_string())
    return pc.binary_join_element_wise(
        *parts, _text(""), null_handling="replace", null_replacement=""
    ).cast(pa.large_string())


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------


class FlatFileWriter:
    """Write string columns to a flat file in ``fmt``'s format, batch by batch.

    ``append=True`` adds to an existing file (header and column names are then written only when
    the file is new or empty); otherwise the file is truncated. NULL values are written as empty
    fields; every non-NULL value of a text-qualified column is qualified (embedded qualifiers
    doubled). Fixed-width values are cut or padded with spaces to their width.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: FlatFileFormat,
        *,
        append: bool = False,
        header: str = "",
    ) -> None:
        fmt.check()
        self.path = os.fspath(path)
        self.fmt = fmt
        self.encoding = codecs.lookup(fmt.encoding).name
        self._ascii_superset = _ascii_superset(self.encoding)
        self.rows = 0
        existing = append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        try:
            self._file: BinaryIO | None = open(self.path, "ab" if append else "wb")  # noqa: SIM115 - kept open until close()
        except OSError as exc:
            raise FlatFileError(
                "io", f"cannot open the file: {exc.strerror}", path=self.path
            ) from None
        if existing:
            return
        if self.encoding in ("utf-16-le", "utf-16-be"):
            self._write_bytes(_BOMS[self.encoding])
        if header:
            self._write_text(header + (fmt.header_row_delimiter or "\r\n"))
        if fmt.column_names_in_first_row:
            names = [pa.array([c.name], pa.large_string()) for c in fmt.columns]
            self.write(names, count=False)

    def _write_bytes(self, data: bytes | memoryview) -> None:
        if self._file is None:
            raise FlatFileError("io", "the file is closed", path=self.path)
        try:
            self._file.write(data)
        except OSError as exc:
            raise FlatFileError("io", f"write failed: {exc.strerror}", path=self.path) from None

    def _write_text(self, text: str) -> None:
        try:
            self._write_bytes(text.encode(self.encoding))
        except UnicodeEncodeError as exc:
            raise FlatFileError(
                "encoding", f"a character has no encoding in {self.encoding}: {exc.reason}"
            ) from None

    def _field(self, c: Column, arr: pa.Array, last: bool) -> list[Any]:
        q = self.fmt.text_qualifier
        arr = arr.cast(pa.large_string())
        if self.fmt.format == "FixedWidth" or c.fixed:
            cut = pc.utf8_slice_codeunits(pc.fill_null(arr, ""), 0, c.width)
            return [pc.utf8_rpad(cut, c.width, " ")]
        if q and c.qualified:
            quoted = pc.replace_substring(arr, q, q + q)
            arr = pc.binary_join_element_wise(_text(q), quoted, _text(q), _text(""))
        return [arr, _text(c.delimiter if not last else self.fmt.record_delimiter)]

    @property
    def polars_format(self) -> bool:
        """True when polars' CSV writer can write this file (uniform single-character delimiter,
        no qualifier): then :meth:`write_frame` takes whole polars frames."""
        fmt = self.fmt
        if fmt.format != "Delimited" or fmt.text_qualifier:
            return False
        delims = {c.delimiter for c in fmt.columns[:-1]}
        return not (len(delims) > 1 or any(len(d) != 1 for d in delims))

    def _polars_writable(self, columns: Sequence[pa.Array]) -> bool:
        """True when polars' CSV writer gives exactly our text (uniform single-character
        delimiter, no qualifier, and values polars formats like SSIS: text, integers, decimals,
        dates)."""
        if not self.polars_format:
            return False
        return all(
            pa.types.is_large_string(a.type)
            or pa.types.is_string(a.type)
            or pa.types.is_integer(a.type)
            or pa.types.is_decimal(a.type)
            or pa.types.is_date32(a.type)
            for a in columns
        )

    def _encoded(self, data: bytes | memoryview) -> None:
        if self.encoding == "utf-8":
            self._write_bytes(data)
            return
        raw = data if isinstance(data, bytes) else bytes(data)
        if self._ascii_superset and raw.isascii():
            self._write_bytes(raw)  # ASCII needs no transcoding
        else:
            self._write_text(raw.decode("utf-8"))

    def write(self, columns: Sequence[pa.Array], *, count: bool = True) -> None:
        """Append rows: one array per file column, in file order. Strings are written as they
        are; integers, decimals (with their scale) and dates (``yyyy-mm-dd``) are formatted here.
        """
        if len(columns) != len(self.fmt.columns):
            raise FlatFileError(
                "config", f"{len(columns)} columns given for {len(self.fmt.columns)} in the file"
            )
        n = len(columns[0]) if columns else 0
        if n == 0:
            return
        if self._polars_writable(columns):
            # polars formats and joins the fields on all cores
            names = [f"c{i}" for i in range(len(columns))]
            frame = pl.from_arrow(pa.RecordBatch.from_arrays(list(columns), names=names))
            assert isinstance(frame, pl.DataFrame)
            self.write_frame(frame, count=count)
            return
        parts: list[Any] = []
        last_i = len(columns) - 1
        for i, (c, arr) in enumerate(zip(self.fmt.columns, columns, strict=True)):
            parts += self._field(c, arr, i == last_i)
        if self.fmt.format == "RaggedRight" and self.fmt.columns[-1].fixed:
            parts.append(_text(self.fmt.record_delimiter))
        lines = pc.binary_join_element_wise(
            *parts, _text(""), null_handling="replace", null_replacement=""
        ).cast(pa.large_string())
        # The joined lines sit back to back in one buffer: write it in one go.
        offsets = pa.Array.from_buffers(
            pa.int64(), n + 1, [None, lines.buffers()[1]], offset=lines.offset
        )
        lo, hi = offsets[0].as_py(), offsets[n].as_py()
        data = lines.buffers()[2]
        self._encoded(memoryview(data)[lo:hi] if data is not None else b"")
        if count:
            self.rows += n

    def write_frame(self, frame: pl.DataFrame, *, count: bool = True) -> None:
        """Append the rows of a polars frame (one column per file column, in file order) with
        polars' CSV writer; only when :attr:`polars_format`. Text columns are written as they
        are, integers, decimals and dates as polars formats them (``yyyy-mm-dd``), NULL empty.
        """
        if frame.width != len(self.fmt.columns):
            raise FlatFileError(
                "config", f"{frame.width} columns given for {len(self.fmt.columns)} in the file"
            )
        n = frame.height
        if n == 0:
            return
        options: dict[str, Any] = {
            "include_header": False,
            "separator": self.fmt.columns[0].delimiter if frame.width > 1 else ",",
            "line_terminator": self.fmt.record_delimiter,
            "quote_style": "never",
            "null_value": "",
        }
        if self.encoding == "utf-8" and self._file is not None:
            try:
                frame.write_csv(self._file, **options)  # straight into the file
            except OSError as exc:
                raise FlatFileError("io", f"write failed: {exc.strerror}", path=self.path) from None
        else:
            buffer = io.BytesIO()
            frame.write_csv(buffer, **options)
            self._encoded(buffer.getvalue())
        if count:
            self.rows += n

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None

    def __enter__(self) -> FlatFileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "Column",
    "FlatFileError",
    "FlatFileFormat",
    "FlatFileReader",
    "FlatFileWriter",
    "codec_for",
    "read_table",
    "row_text",
]
