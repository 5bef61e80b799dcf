"""Character Map: string mapping operations (case, width, byte reversal) on whole columns.

A mapping is either in place (an input column with ``usageType="readWrite"`` and the custom
property ``MapFlags``) or a new column (an output column of "Character Map Output" with
``MapFlags`` and ``InputColumnLineageId`` = ``#{refId}`` of its source). ``MapFlags`` is the
Win32 ``LCMapString`` bitmask SSIS stores (LCMAP_* values):

======================  ==========  ===================================================
flag                    value       here
======================  ==========  ===================================================
Lowercase               0x100       polars ``to_lowercase``
Uppercase               0x200       polars ``to_uppercase``
Byte reversal           0x800       each UTF-16 code unit's two bytes swapped
Hiragana                0x100000    not supported (validation error)
Katakana                0x200000    not supported (validation error)
Half width              0x400000    full-width ASCII, ideographic space, katakana -> half
Full width              0x800000    ASCII, space, half-width katakana -> full width
Linguistic casing       0x1000000   not supported (validation error)
Simplified Chinese      0x2000000   not supported (validation error)
Traditional Chinese     0x4000000   not supported (validation error)
======================  ==========  ===================================================

Operations apply in the order width, case, byte reversal. Case mapping is Unicode's (Rust's),
which expands a few characters (``ß`` -> ``SS``) where Windows keeps them; a longer result is a
truncation like any other. A result longer than the column is a *truncation* handled by the
column's truncation disposition; redirected rows go to "Character Map Error Output" with
ErrorCode and ErrorColumn (the mapped column's integer lineage id).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Final, cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from dataflow.core.errors import DataflowError, ExecutionError, ValidationError
from dataflow.package.model import Input, InputColumn, OutputColumn, to_int
from dataflow.pipeline.component import ColumnInfo, Emit, PipelineComponent, sync_batch
from dataflow.pipeline.context import RunContext
from dataflow.pipeline.exprsupport import STRING_TYPES, TRUNCATION_CODE, Fit, lineage_ref, to_arrow
from dataflow.pipeline.registry import register
from dataflow.pipeline.rowerrors import ColumnFailure, error_batch, route

LOWERCASE: Final = 0x100
UPPERCASE: Final = 0x200
BYTE_REVERSAL: Final = 0x800
HIRAGANA: Final = 0x100000
KATAKANA: Final = 0x200000
HALF_WIDTH: Final = 0x400000
FULL_WIDTH: Final = 0x800000
LINGUISTIC_CASING: Final = 0x1000000
SIMPLIFIED_CHINESE: Final = 0x2000000
TRADITIONAL_CHINESE: Final = 0x4000000

FLAG_NAMES: Final[dict[int, str]] = {
    LOWERCASE: "Lowercase",
    UPPERCASE: "Uppercase",
    BYTE_REVERSAL: "Byte reversal",
    HIRAGANA: "Hiragana",
    KATAKANA: "Katakana",
    HALF_WIDTH: "Half width",
    FULL_WIDTH: "Full width",
    LINGUISTIC_CASING: "Linguistic casing",
    SIMPLIFIED_CHINESE: "Simplified Chinese",
    TRADITIONAL_CHINESE: "Traditional Chinese",
}
SUPPORTED: Final = LOWERCASE | UPPERCASE | BYTE_REVERSAL | HALF_WIDTH | FULL_WIDTH

# Operations that cannot be combined: the "Mutually exclusive mapping operations" table of the
# Character Map Transformation page (learn.microsoft.com, sql-server-2008-r2 ms141694).
EXCLUSIVE: Final[tuple[tuple[int, int], ...]] = (
    (LOWERCASE, UPPERCASE),
    (HIRAGANA, KATAKANA),
    (HALF_WIDTH, FULL_WIDTH),
    (SIMPLIFIED_CHINESE, TRADITIONAL_CHINESE),
    *(
        (case, other)
        for case in (LOWERCASE, UPPERCASE)
        for other in (HIRAGANA, KATAKANA, HALF_WIDTH, FULL_WIDTH)
    ),
)


def _width_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(half -> full, full -> half) character maps, built once from Unicode's compatibility
    decompositions: ASCII and full-width forms, the ideographic space, half-width katakana."""
    to_full: dict[str, str] = {" ": "\u3000"}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII variants
        to_full[unicodedata.normalize("NFKC", chr(code))] = chr(code)
    marks = "\uff9e\uff9f"  # half-width voiced / semi-voiced sound marks
    halves = [chr(c) for c in range(0xFF61, 0xFFA0)]
    pairs: dict[str, str] = {}
    for base in halves:
        for mark in marks:
            composed = unicodedata.normalize("NFKC", base + mark)
            if len(composed) == 1:  # ｶﾞ -> ガ: one full-width character
                pairs[base + mark] = composed
    singles = {h: unicodedata.normalize("NFKC", h) for h in halves}
    singles["\uff9e"], singles["\uff9f"] = (
        "\u309b",
        "\u309c",
    )  # standalone marks (NFKC gives combining ones)
    # Longest patterns first: replace_many(leftmost=True) takes the first pattern that matches.
    to_full = {**pairs, **singles, **to_full}
    to_half = {full: half for half, full in to_full.items()}
    return to_full, to_half


TO_FULL_WIDTH, TO_HALF_WIDTH = _width_tables()


def byte_reverse(arr: pa.Array[Any]) -> pa.Array[Any]:
    """Swap the two bytes of every UTF-16 code unit, for a whole column at once.

    The column is joined into one text with NUL separators (NUL maps to itself; SSIS strings
    cannot hold it), re-encoded in one codec call and split again. Code units that become lone
    surrogates cannot be stored as UTF-8 and become U+FFFD.
    """
    n = len(arr)
    if n == 0:
        return arr
    filled: Any = pc.fill_null(cast(Any, arr), "")
    filled = filled.cast(pa.large_string())
    whole = pa.LargeListArray.from_arrays(pa.array([0, n], pa.int64()), filled)
    joined: Any = pc.binary_join(whole, pa.scalar("\x00", pa.large_string()))
    text: str = joined[0].as_py()
    swapped = text.encode("utf-16-le").decode("utf-16-be", "surrogatepass")
    clean = swapped.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    values = pc.list_flatten(pc.split_pattern(pa.array([clean], pa.large_string()), "\x00"))
    if len(values) != n:  # a value held a NUL after all: never misalign rows
        raise ExecutionError(
            "DTS_E_PROCESSINPUTFAILED",
            "byte reversal cannot map a string that contains a NUL character",
            hint="remove NUL characters from the column upstream",
        )
    return cast(
        "pa.Array[Any]", pc.if_else(pc.is_null(arr), pa.scalar(None, pa.large_string()), values)
    )


def apply_flags(values: pl.Series, flags: int) -> pl.Series:
    """``values`` mapped by ``flags`` (supported operations only; see the module table)."""
    frame = values.to_frame("v")
    expr = pl.col("v")
    if flags & FULL_WIDTH:
        expr = expr.str.replace_many(TO_FULL_WIDTH, leftmost=True)
    if flags & HALF_WIDTH:
        expr = expr.str.replace_many(TO_HALF_WIDTH, leftmost=True)
    if flags & UPPERCASE:
        expr = expr.str.to_uppercase()
    if flags & LOWERCASE:
        expr = expr.str.to_lowercase()
    out = frame.select_seq(expr).to_series()  # one expression: no thread pool
    if flags & BYTE_REVERSAL:
        out = pl.Series("v", byte_reverse(to_arrow(out, pa.large_string())))
    return out


def flag_problems(flags: int, where: str, path: str) -> list[DataflowError]:
    """Validation errors for unsupported or contradictory ``MapFlags``."""
    problems: list[DataflowError] = []
    unknown = flags & ~sum(FLAG_NAMES)
    if unknown:
        problems.append(
            ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"{where}: MapFlags {flags:#x} holds unknown bits {unknown:#x}",
                path=path,
            )
        )
    for bit, name in FLAG_NAMES.items():
        if flags & bit and not bit & SUPPORTED:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"{where}: the Character Map operation {name!r} (MapFlags {bit:#x}) is not supported "
                    "by this runtime",
                    path=path,
                    hint="supported: Lowercase, Uppercase, Byte reversal, Half width, Full width",
                )
            )
    for a, b in EXCLUSIVE:
        if flags & a and flags & b:
            problems.append(
                ValidationError(
                    "DTS_E_INDIVIDUALVALIDATIONFAILED",
                    f"{where}: {FLAG_NAMES[a]} and {FLAG_NAMES[b]} cannot be combined",
                    path=path,
                )
            )
    if flags == 0:
        problems.append(
            ValidationError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                f"{where}: no mapping operation selected",
                path=path,
            )
        )
    return problems


@dataclass
class _Mapping:
    info: ColumnInfo  # where the result goes
    source: ColumnInfo
    flags: int
    error_disposition: str
    truncation_disposition: str
    fit: Fit


@register("Microsoft.CharacterMap")
class CharacterMap(PipelineComponent):
    def _mappings(self) -> tuple[list[_Mapping], list[DataflowError]]:
        inp = self.only_input()
        available = self.layout.input_columns(inp.ref_id)
        items: list[_Mapping] = []
        problems: list[DataflowError] = []

        def add(
            col: InputColumn | OutputColumn, info: ColumnInfo | None, source: ColumnInfo | None
        ) -> None:
            flags = to_int(col.prop("MapFlags"), 0)
            where = f"column {col.name!r}"
            if source is None or info is None:
                problems.append(
                    ValidationError(
                        "DTS_E_VALIDATIONFAILED",
                        f"{where} maps {col.prop('InputColumnLineageId')!r}, which is not an input column",
                        path=col.ref_id,
                        hint="choose the input column in the Character Map editor",
                    )
                )
                return
            found = flag_problems(flags, where, col.ref_id)
            for spec, role in ((source.spec, "source"), (info.spec, "result")):
                if spec.name not in STRING_TYPES:
                    found.append(
                        ValidationError(
                            "DTS_E_INDIVIDUALVALIDATIONFAILED",
                            f"{where}: the {role} column is {spec}; Character Map works on string columns only",
                            path=col.ref_id,
                        )
                    )
            if found:
                problems.extend(found)
                return
            fit = Fit(source.spec, info.spec)
            items.append(
                _Mapping(
                    info,
                    source,
                    flags,
                    col.error_row_disposition,
                    col.truncation_row_disposition,
                    fit,
                )
            )

        for col in inp.columns:
            if col.usage_type.lower() == "readwrite":
                info = next((c for c in available if c.lineage_id == col.lineage_id), None)
                add(col, info, info)
        for out in self.model.outputs:
            if out.is_error_output:
                continue
            for oc in out.columns:
                raw = oc.prop("InputColumnLineageId") or oc.prop("InputColumnLineageID") or ""
                ref = lineage_ref(raw)
                source = next(
                    (
                        c
                        for c in available
                        if c.lineage_id == ref or (ref.isdigit() and c.numeric_id == int(ref))
                    ),
                    None,
                )
                add(oc, self.column_info(oc), source)
        redirects = any(
            "RedirectRow" in (m.error_disposition, m.truncation_disposition) for m in items
        )
        problems += self.check_error_output(redirects, "a column", "Character Map Error Output")
        return items, problems

    def validate(self) -> list[DataflowError]:
        return self._mappings()[1]

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        items, problems = self._mappings()
        if problems:
            raise problems[0]
        self.items = items
        self.main = self.output(error=False)
        self.errors_out = self.error_output()

    def process(self, input: Input, batch: pa.RecordBatch) -> list[Emit]:
        failures: list[ColumnFailure] = []
        arrays: list[pa.Array[Any]] = []
        for m in self.items:
            source = pl.Series("v", batch.column(m.source.lineage_id))
            fitted = m.fit.apply(apply_flags(source, m.flags))
            if fitted.truncated is not None:
                failures.append(
                    ColumnFailure(
                        m.info.name,
                        m.info.numeric_id,
                        fitted.truncated,
                        TRUNCATION_CODE,
                        m.truncation_disposition,
                        truncation=True,
                        detail=f"mapped value longer than {m.info.spec}",
                    )
                )
            arrays.append(to_arrow(fitted.values, m.info.field.type))
        routed = route(self.model.ref_id, batch.num_rows, failures)
        out = sync_batch(batch, [m.info for m in self.items], arrays)
        if routed.redirect is None:
            return [(self.main, out)]
        assert routed.keep is not None
        if self.errors_out is None:
            raise ExecutionError(
                "DTS_E_INDIVIDUALVALIDATIONFAILED",
                "rows must be redirected but the component has no error output",
                path=self.model.ref_id,
            )
        return [
            (self.main, out.filter(routed.keep)),
            (self.errors_out, error_batch(batch, routed, self.errors_out, self.layout.numeric)),
        ]
