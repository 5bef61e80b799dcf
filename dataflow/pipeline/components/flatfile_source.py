"""Flat File Source: reads a file of a Flat File connection manager into typed Arrow batches.

The file format itself (delimiters, qualifiers, fixed width, code pages) is
:mod:`connectors.flatfile`; this module adds the SSIS part:

* the connection manager's settings (``_xHHHH_``-escaped in the package) become a plain
  :class:`~connectors.flatfile.FlatFileFormat` (:func:`flat_file_format`, shared with the
  Flat File Destination);
* output columns map to flat-file columns through their external metadata columns
  (``externalMetadataColumnId`` -> ExternalColumn name = flat-file column name), so the output
  column's type may differ from the file's;
* every column's text is converted to its output column's SSIS type with polars expressions, a
  whole batch at a time; values that do not convert or do not fit become
  :class:`~dataflow.pipeline.rowerrors.ColumnFailure` masks, routed per the column's
  ``errorRowDisposition`` / ``truncationRowDisposition``;
* redirected rows go to the asynchronous "Flat File Source Error Output" with the row's text
  (rebuilt from its fields), ``ErrorCode`` and ``ErrorColumn``.

``RetainNulls`` (SSIS docs, Flat File source): True keeps empty fields as NULL; False (the default)
gives empty fields the column type's default value -- "" for strings, 0 for numbers, False for
booleans, empty bytes. Date, time and GUID columns have no such default: an empty field is then a
conversion error, as in SSIS (whose usual advice is to tick "Retain null values").
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from connectors.flatfile import (
    Column,
    FlatFileError,
    FlatFileFormat,
    FlatFileReader,
    codec_for,
    row_text,
)
from dataflow.core.datatypes import TypeSpec
from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import ConnectionManager, Output, OutputColumn, to_bool, to_int
from dataflow.package.values import unescape_xml_name
from dataflow.pipeline.component import ColumnInfo, Emit, PipelineComponent, make_batch
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, route

CONVERSION_CODE: Final = "DTS_E_FLATFILESOURCEADAPTERSTATIC_CANTCONVERTVALUE"
TRUNCATION_CODE: Final = "DTS_E_INDUCEDTRANSFORMFAILUREONTRUNCATION"

_INTS: Final[dict[str, Any]] = {
    "DT_I1": pl.Int8,
    "DT_I2": pl.Int16,
    "DT_I4": pl.Int32,
    "DT_I8": pl.Int64,
    "DT_UI1": pl.UInt8,
    "DT_UI2": pl.UInt16,
    "DT_UI4": pl.UInt32,
    "DT_UI8": pl.UInt64,
}
_FLOATS: Final[dict[str, Any]] = {"DT_R4": pl.Float32, "DT_R8": pl.Float64}
_STRINGS: Final = frozenset({"DT_STR", "DT_WSTR", "DT_TEXT", "DT_NTEXT"})
_TIMESTAMPS: Final = frozenset({"DT_DBTIMESTAMP", "DT_DBTIMESTAMP2", "DT_DATE", "DT_FILETIME"})
_TIMES: Final = frozenset({"DT_DBTIME", "DT_DBTIME2"})
_DECIMALS: Final = frozenset({"DT_NUMERIC", "DT_DECIMAL", "DT_CY"})
_BINARY: Final = frozenset({"DT_BYTES", "DT_IMAGE"})
SUPPORTED: Final = (
    _STRINGS
    | _TIMESTAMPS
    | _TIMES
    | _DECIMALS
    | _BINARY
    | set(_INTS)
    | set(_FLOATS)
    | {"DT_BOOL", "DT_DBDATE", "DT_GUID"}
)

# Text forms accepted for dates and times: ISO (SSIS's canonical forms, datatypes.md §3) and the
# en-US forms of LocaleID 1033, tried in order.
_DATE_FORMATS: Final = ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d")
_TIMESTAMP_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)
_TIME_FORMATS: Final = ("%H:%M:%S%.f", "%H:%M")
_GUID: Final = (
    r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$"
)


# ------------------------------------------------------------------------------------------------
# The connection manager as plain settings (shared with the Flat File Destination)
# ------------------------------------------------------------------------------------------------


def flat_file_format(cm: ConnectionManager) -> FlatFileFormat:
    """The connector's format description of a FLATFILE connection manager."""

    def prop(name: str, default: str = "") -> str:
        return unescape_xml_name(cm.object_properties.get(name, default))

    form = prop("Format", "Delimited") or "Delimited"
    if form == "Mixed":  # what the designer calls it when fixed and delimited columns are mixed
        form = "RaggedRight"
    qualifier = prop("TextQualifier")
    if qualifier == "<none>":
        qualifier = ""
    columns = tuple(
        Column(
            name=c.name,
            delimiter=c.delimiter,
            width=c.width,
            fixed=c.column_type != "Delimited",
            qualified=c.text_qualified,
        )
        for c in cm.flat_file_columns
    )
    return FlatFileFormat(
        columns=columns,
        format=form,
        encoding=codec_for(to_int(prop("CodePage"), 1252), to_bool(prop("Unicode"))),
        text_qualifier=qualifier,
        header_rows_to_skip=to_int(prop("HeaderRowsToSkip")),
        header_row_delimiter=prop("HeaderRowDelimiter", "_x000D__x000A_") or "\r\n",
        column_names_in_first_row=to_bool(prop("ColumnNamesInFirstDataRow")),
        data_rows_to_skip=to_int(prop("DataRowsToSkip")),
        row_delimiter=prop("RowDelimiter") or "\r\n",
    )


def file_error(exc: FlatFileError, component: str, *, writing: bool = False) -> DataflowError:
    """A connector error as the coded error SSIS raises in its place."""
    if exc.kind == "config":
        return ValidationError(
            "DTS_E_FLATFILEFORMATNOTSUPPORTED",
            f"the flat-file connection cannot describe a file: {exc}",
            path=component,
            hint="check the connection manager's Format, columns and delimiters",
        )
    if exc.kind == "io":
        return ExecutionError(
            "DTS_E_CANNOTACQUIRECONNECTIONFROMCONNECTIONMANAGER",
            str(exc),
            path=component,
            hint="check the file path (pass connections={name: path} to override it)",
        )
    return ExecutionError(
        "DTS_E_PROCESSINPUTFAILED" if writing else "DTS_E_ERRORWHILEREADINGDATAROWS",
        f"{'writing' if writing else 'reading'} the flat file failed ({exc.kind}): {exc}",
        path=component,
        hint="a text qualifier inside a qualified value must be doubled"
        if exc.kind == "qualifier"
        else "check the file's code page, delimiters and column count",
    )


def connection_manager(comp: PipelineComponent) -> ConnectionManager:
    """The FLATFILE connection manager of a component (its first connection)."""
    model = comp.model
    if not model.connections or not model.connections[0].manager_ref:
        raise ValidationError(
            "DTS_E_CONNECTIONNOTFOUND",
            f"{model.name!r} has no flat-file connection manager",
            path=model.ref_id,
            hint="set the component's FlatFileConnection",
        )
    cm = comp.context.connection(model.connections[0].manager_ref)
    if cm.kind != "FLATFILE":
        raise ValidationError(
            "DTS_E_UNSUPPORTEDCONNECTIONTYPE",
            f"connection manager {cm.name!r} is {cm.kind}, not FLATFILE",
            path=model.ref_id,
        )
    return cm


# ------------------------------------------------------------------------------------------------
# Text -> SSIS types (polars expressions over a whole batch)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one output column is filled: from file column ``field`` (or the file name)."""

    info: ColumnInfo
    column: OutputColumn
    field: int  # index of the flat-file column; -1: the FileNameColumnName column


def _coalesce_parse(text: pl.Expr, dtype: Any, formats: tuple[str, ...]) -> pl.Expr:
    parsed = [text.str.strptime(dtype, f, strict=False) for f in formats]
    return parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)


def _parse(text: pl.Expr, spec: TypeSpec, *, full: bool) -> pl.Expr:
    """``text`` as a value of ``spec``; NULL where it does not convert.

    ``full=False`` is the quick attempt (text as is, the canonical format only); the caller makes
    the ``full`` one (surrounding spaces trimmed, every accepted format) only for columns where
    the quick one left failures, so that clean data pays for one parse.
    """
    name = spec.name
    if full:
        text = text.str.strip_chars()
    if name in _INTS:
        return text.cast(_INTS[name], strict=False)
    if name in _FLOATS:
        return text.cast(_FLOATS[name], strict=False)
    if name in _DECIMALS:
        return text.cast(pl.Decimal(spec.precision or 18, spec.scale), strict=False)
    if name == "DT_BOOL":
        low = text.str.to_lowercase()
        return (
            pl.when(low.is_in(["true", "1", "-1"]))
            .then(pl.lit(True))
            .when(low.is_in(["false", "0"]))
            .then(pl.lit(False))
            .otherwise(pl.lit(None, pl.Boolean))
        )
    if name == "DT_DBDATE":
        return _coalesce_parse(text, pl.Date, _DATE_FORMATS if full else _DATE_FORMATS[:1])
    if name in _TIMESTAMPS:
        formats = _TIMESTAMP_FORMATS if full else _TIMESTAMP_FORMATS[:1]
        return _coalesce_parse(text, pl.Datetime("us"), formats)
    if name in _TIMES:
        return _coalesce_parse(text, pl.Time, _TIME_FORMATS if full else _TIME_FORMATS[:1])
    if name == "DT_GUID":
        bare = text.str.strip_chars("{}").str.to_uppercase()
        return pl.when(text.str.contains(_GUID)).then(pl.lit("{") + bare + pl.lit("}"))
    raise AssertionError(f"no parser for {name}")  # validate() rejects other types


def _default(spec: TypeSpec) -> Any:
    """The value an empty field takes with RetainNulls=False (None: no default, an error)."""
    name = spec.name
    if name in _INTS or name in _DECIMALS:
        return 0
    if name in _FLOATS:
        return 0.0
    if name == "DT_BOOL":
        return False
    return None


def fast_types(plans: list[_Plan]) -> dict[int, pa.DataType]:
    """File columns the reader may type while parsing (pyarrow.csv parses these types the way
    the polars path does; anything it rejects comes back as text)."""
    wanted: dict[int, set[pa.DataType]] = {}
    for plan in plans:
        name = plan.info.spec.name
        if plan.field >= 0 and (
            name in _INTS
            or name in _FLOATS
            or name in _DECIMALS
            or name in ("DT_DBDATE", "DT_BOOL", "DT_DBTIMESTAMP", "DT_DATE")
        ):
            wanted.setdefault(plan.field, set()).add(plan.info.spec.to_arrow())
    used = {p.field for p in plans if p.field >= 0}
    typed = {f: next(iter(ts)) for f, ts in wanted.items() if len(ts) == 1}
    # a file column read by two output columns of different kinds stays text
    return {f: t for f, t in typed.items() if sum(p.field == f for p in plans) == 1 and f in used}


def _may_exceed(col: pa.Array, spec: TypeSpec) -> bool:
    """False when no value of the text column ``col`` can be longer than ``spec.length``
    characters: no value has more bytes than that (a quick look at the offsets only)."""
    if not len(col):
        return False
    longest = pc.max(pc.binary_length(col)).as_py()
    return longest is not None and longest > spec.length


def convert_batch(
    raw: pa.RecordBatch, plans: list[_Plan], retain_nulls: bool, file_name: str
) -> tuple[list[pa.Array], list[ColumnFailure]]:
    """Typed output arrays for a batch from the reader, plus the rows that failed (per column:
    conversion errors, then truncations).

    Columns the reader already typed need only their empty fields handled; text columns are
    parsed with polars, a whole batch at a time.
    """
    n = raw.num_rows
    values: dict[int, pa.Array] = {}
    errors: dict[int, pa.Array] = {}
    truncations: dict[int, pa.Array] = {}
    pending: list[int] = []  # text columns parsed with polars below
    for k, plan in enumerate(plans):
        spec = plan.info.spec
        if plan.field < 0:
            values[k] = pa.repeat(pa.scalar(file_name, pa.large_string()), n)
            continue
        col = raw.column(plan.field)
        is_text = pa.types.is_large_string(col.type)
        if spec.name in _STRINGS or spec.name in _BINARY:
            value = col.cast(pa.large_binary()) if spec.name in _BINARY else col
            if retain_nulls:
                value = pc.if_else(pc.equal(col, ""), None, value)
            values[k] = value
            if spec.name in ("DT_STR", "DT_WSTR") and spec.length > 0 and _may_exceed(col, spec):
                truncations[k] = pc.greater(pc.utf8_length(col), spec.length)
        elif not is_text:  # typed by the reader: empty fields arrived as NULL
            default = None if retain_nulls else _default(spec)
            if default is not None and col.null_count:
                if pa.types.is_decimal(col.type):
                    default = decimal.Decimal(default)
                col = pc.fill_null(col, pa.scalar(default, col.type))
            elif not retain_nulls and col.null_count:
                errors[k] = pc.is_null(col)  # no default for this type: an error, as in SSIS
            values[k] = col
        else:
            pending.append(k)
    if pending:
        _parse_text(
            raw,
            plans=plans,
            pending=pending,
            retain_nulls=retain_nulls,
            values=values,
            errors=errors,
        )
    arrays: list[pa.Array] = []
    failures: list[ColumnFailure] = []
    for k, plan in enumerate(plans):
        col_model = plan.column
        value = values[k]
        if k in errors:
            failures.append(
                ColumnFailure(
                    plan.info.name,
                    plan.info.numeric_id,
                    errors[k],
                    CONVERSION_CODE,
                    col_model.error_row_disposition,
                    detail=f"the text does not convert to {plan.info.spec}",
                )
            )
        if k in truncations:
            mask = truncations[k]
            if col_model.truncation_row_disposition == "IgnoreFailure" and pc.any(mask).as_py():
                # SSIS keeps the truncated value when truncation is ignored.
                value = pc.utf8_slice_codeunits(value, 0, plan.info.spec.length)
            failures.append(
                ColumnFailure(
                    plan.info.name,
                    plan.info.numeric_id,
                    mask,
                    TRUNCATION_CODE,
                    col_model.truncation_row_disposition,
                    truncation=True,
                    detail=f"the text is longer than {plan.info.spec}",
                )
            )
        arrays.append(value)
    return arrays, failures


def _parse_text(
    raw: pa.RecordBatch,
    *,
    plans: list[_Plan],
    pending: list[int],
    retain_nulls: bool,
    values: dict[int, pa.Array],
    errors: dict[int, pa.Array],
) -> None:
    """Parse the text columns ``pending`` with polars into ``values`` / ``errors``."""
    df = pl.from_arrow(
        pa.RecordBatch.from_arrays(
            [raw.column(plans[k].field) for k in pending], names=[f"c{k}" for k in pending]
        )
    )
    assert isinstance(df, pl.DataFrame)

    def exprs(k: int, full: bool) -> list[pl.Expr]:
        spec = plans[k].info.spec
        text = pl.col(f"c{k}")
        empty = (text.str.strip_chars() if full else text) == ""
        parsed = _parse(text, spec, full=full)
        default = None if retain_nulls else _default(spec)
        filler = pl.lit(None) if default is None else pl.lit(default)
        value = pl.when(empty).then(filler).otherwise(parsed)
        failed = parsed.is_null() & ~empty
        if not retain_nulls and default is None:
            failed = failed | empty
        return [value.alias(f"v{k}"), failed.alias(f"e{k}")]

    out = df.select([e for k in pending for e in exprs(k, False)])
    retry = [k for k in pending if out.get_column(f"e{k}").any()]
    if retry:
        again = df.select([e for k in retry for e in exprs(k, True)])
        out = out.with_columns(again)
    for k in pending:
        values[k] = _arrow(out.get_column(f"v{k}"))
        mask = _arrow(out.get_column(f"e{k}"))
        if k in retry:
            errors[k] = mask


def _arrow(series: pl.Series) -> pa.Array:
    arr = series.to_arrow()
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


@register("Microsoft.FlatFileSource")
class FlatFileSource(PipelineComponent):
    """The Flat File Source (one output plus the asynchronous error output)."""

    role = "source"

    def validate(self) -> list[DataflowError]:
        problems: list[DataflowError] = []
        main = self._main_output()
        if main is None:
            return [
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    "the Flat File Source has no output",
                    path=self.model.ref_id,
                )
            ]
        file_col = self.model.prop("FileNameColumnName", "")
        for col in main.columns:
            spec = col.type.spec
            if spec.name not in SUPPORTED and col.name != file_col:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"output column {col.name!r} has type {spec}, which the Flat File Source "
                        "cannot parse from text",
                        path=col.ref_id,
                        hint="read the column as DT_WSTR and convert it downstream",
                    )
                )
            redirects = "RedirectRow" in (
                col.error_row_disposition,
                col.truncation_row_disposition,
            )
            if redirects and self.error_output() is None:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"output column {col.name!r} redirects rows, but the component has no "
                        "error output",
                        path=col.ref_id,
                        hint="add the Flat File Source Error Output or change the disposition",
                    )
                )
        return problems

    def _main_output(self) -> Output | None:
        return next((o for o in self.model.outputs if not o.is_error_output), None)

    def _plans(self, main: Output, fmt: FlatFileFormat) -> list[_Plan]:
        by_name = {c.name: i for i, c in enumerate(fmt.columns)}
        external = {e.ref_id: e.name for e in main.external_columns}
        file_col = self.model.prop("FileNameColumnName", "")
        plans: list[_Plan] = []
        for col in main.columns:
            info = self.column_info(col)
            if file_col and col.name == file_col:
                plans.append(_Plan(info, col, -1))
                continue
            ext = col.attrs.get("externalMetadataColumnId", "")
            name = external.get(ext, col.name)
            if name not in by_name:
                raise ValidationError(
                    "DTS_E_VALIDATIONFAILED",
                    f"output column {col.name!r} maps to flat-file column {name!r}, which the "
                    f"connection manager does not have (it has {list(by_name)})",
                    path=col.ref_id,
                    hint="refresh the source's columns from the connection manager",
                )
            plans.append(_Plan(info, col, by_name[name]))
        return plans

    def start(self, ctx: Any) -> None:
        super().start(ctx)
        cm = connection_manager(self)
        try:
            self.fmt = flat_file_format(cm)
            self.fmt.check()
        except FlatFileError as exc:
            raise file_error(exc, self.model.ref_id) from None
        self.path = cm.connection_string
        main = self._main_output()
        assert main is not None  # validate() ran
        self.main = main
        self.plans = self._plans(main, self.fmt)
        self.retain_nulls = to_bool(self.model.prop("RetainNulls"), False)

    def produce(self) -> Iterator[Emit]:
        rows = int(getattr(self, "batch_rows", 0) or 65_536)
        reader = FlatFileReader(
            self.path, self.fmt, batch_rows=rows, column_types=fast_types(self.plans)
        )
        err_out = self.error_output()
        main_cols = self.added_columns(self.main)
        ref = self.model.ref_id
        try:
            for _first, raw in reader:
                self.context.check_cancel(ref)
                arrays, failures = convert_batch(raw, self.plans, self.retain_nulls, self.path)
                routed = route(ref, raw.num_rows, failures)
                good = make_batch(main_cols, arrays)
                if routed.redirect is None:
                    yield self.main, good
                    continue
                assert routed.keep is not None and err_out is not None
                yield self.main, good.filter(routed.keep)
                yield err_out, self._error_rows(raw, routed, err_out)
        except FlatFileError as exc:
            raise file_error(exc, ref) from None

    def _error_rows(self, raw: pa.RecordBatch, routed: Any, err_out: Output) -> pa.RecordBatch:
        mask = routed.redirect
        text = row_text([c.filter(mask).cast(pa.large_string()) for c in raw.columns], self.fmt)
        arrays: list[pa.Array] = []
        for col in err_out.columns:
            if col.special_flags == 1:
                arrays.append(routed.error_code.filter(mask))
            elif col.special_flags == 2:
                arrays.append(routed.error_column.filter(mask))
            else:
                arrays.append(text)
        return make_batch(self.added_columns(err_out), arrays)
