"""Loader and runner for the evaluation golden files (``golden/*.txt``).

One case per line, fields separated by `` ;; ``::

    expression ;; inputs ;; expected ;; type [;; comment]

* inputs: JSON ``{"row": {...}, "vars": {...}, "types": {...}}`` (any part optional, ``{}`` for
  none). Values of date/time, decimal or GUID type are given as text plus a ``types`` entry.
* expected: a JSON value (numbers compare exactly, DT_R4 after rounding to float32; text
  compares with the canonical text of date/time/GUID results), ``NULL``, ``ERR:DTS_E_…`` (a run-time
  error) or ``STATIC:DTS_E_…`` (rejected by the parser or type checker).
* type: the result type, ``DT_WSTR`` (name only) or with arguments ``DT_NUMERIC(10,2)``; ``-`` to skip.
* comment: free text; ``choice:KEY`` names the entry of ``dataflow.expressions.choices`` it pins.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from dataflow.core.datatypes import TypeSpec, arrow_field
from dataflow.expressions import ExpressionError, evaluate, evaluate_batch
from dataflow.expressions.api import _typed_values, check_tree
from dataflow.expressions.codes import code as ssis_code
from dataflow.expressions.scalar import to_f32, to_text

GOLDEN = Path(__file__).parent / "golden"
SEP = " ;; "


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    expression: str
    inputs: dict[str, Any]
    expected: str
    type: str
    comment: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(GOLDEN.glob("*.txt")):
        if path.name.startswith("identity"):
            continue
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            parts = raw.split(SEP)
            if len(parts) < 4:
                raise ValueError(
                    f"{path.name}:{number}: expected 4 fields, got {len(parts)}: {raw!r}"
                )
            expr, inputs, expected, typ = (p.strip() for p in parts[:4])
            comment = SEP.join(parts[4:]).strip()
            cases.append(
                Case(path.name, number, expr, json.loads(inputs or "{}"), expected, typ, comment)
            )
    return cases


def _type_matches(actual: TypeSpec, expected: str) -> bool:
    if expected == "-":
        return True
    if "(" in expected:
        return str(actual) == expected
    return actual.name == expected


def _same(actual: Any, expected: Any, spec: TypeSpec) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    name = spec.name
    if isinstance(actual, dict) and name == "DT_DBTIMESTAMPOFFSET":  # the Arrow struct layout
        tz = dt.timezone(dt.timedelta(minutes=actual["offset_min"]))
        actual = actual["utc"].astimezone(tz)
    if isinstance(actual, uuid.UUID):
        actual = "{" + str(actual).upper() + "}"
    if isinstance(actual, dt.datetime | dt.date | dt.time) and isinstance(expected, str):
        return to_text(actual, spec) == expected
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(actual, Decimal):
        return actual == Decimal(str(expected))
    if isinstance(actual, float):
        if isinstance(expected, str):
            return str(actual) == expected or (expected == "NaN" and math.isnan(actual))
        want = to_f32(float(expected)) if name == "DT_R4" else float(expected)
        return actual == want or math.isclose(actual, want, rel_tol=1e-12)
    if isinstance(actual, bytes) and isinstance(expected, str):
        return actual.hex().upper() == expected
    return bool(actual == expected) and type(actual) is type(expected)


def _expected_value(text: str) -> Any:
    return None if text == "NULL" else json.loads(text)


def _row(case: Case) -> dict[str, Any] | None:
    """The case's row, with hex text decoded for DT_BYTES/DT_IMAGE inputs."""
    row = case.inputs.get("row")
    if row is None:
        return None
    types = case.inputs.get("types", {})
    out = {}
    for name, value in row.items():
        t = str(types.get(name, ""))
        binary = t.startswith(("DT_BYTES", "DT_IMAGE"))
        out[name] = bytes.fromhex(value) if binary and isinstance(value, str) else value
    return out


def _arrow_batch(case: Case) -> pa.Table:
    types = case.inputs.get("types", {})
    row = _row(case) or {}
    values, specs = _typed_values(row, types, False)
    if not values:
        return pa.table({"__dummy": pa.array([0], pa.int32())})
    fields = [arrow_field(name, specs[name]) for name in values]
    arrays = []
    for f, name in zip(fields, values, strict=True):
        v = values[name]
        if specs[name].name == "DT_DBTIMESTAMPOFFSET" and v is not None:
            offset = v.utcoffset()
            v = {"utc": v.astimezone(dt.UTC), "offset_min": offset // dt.timedelta(minutes=1)}
        arrays.append(pa.array([v], type=f.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def run_scalar(case: Case) -> tuple[Any, TypeSpec | None]:
    vars_ = case.inputs.get("vars")
    row = case.inputs.get("row")
    types = case.inputs.get("types")
    value = evaluate(case.expression, variables=vars_, row=row, types=types)
    return value, None


def result_type(case: Case) -> TypeSpec:
    _vars, vspecs = _typed_values(case.inputs.get("vars"), case.inputs.get("types", {}), True)
    _values, cspecs = _typed_values(_row(case), case.inputs.get("types", {}), False)
    return check_tree(case.expression, cspecs, vspecs).spec


def check_case(case: Case, backend: str) -> None:
    """Run one golden case through ``backend`` ("scalar" or "polars") and assert the outcome."""
    expected = case.expected
    types = case.inputs.get("types")
    vars_ = case.inputs.get("vars")

    def run() -> Any:
        if backend == "scalar":
            return evaluate(case.expression, variables=vars_, row=_row(case), types=types)
        batch = _arrow_batch(case)
        array = evaluate_batch(
            case.expression, batch, variables=vars_, types=types, fold_constants=False
        )
        assert len(array) == 1
        return array.to_pylist()[0]

    if backend == "polars" and "scalar-only" in case.comment:
        try:
            run()
        except ExpressionError as err:
            assert "not supported by the vectorised back end" in str(err), str(err)
            return
        raise AssertionError(f"{case.id}: marked scalar-only but the polars back end ran it")
    if expected.startswith(("ERR:", "STATIC:")):
        code = ssis_code(expected.split(":", 1)[1])  # SSIS's name, or its stand-in until added
        try:
            value = run()
        except ExpressionError as err:
            assert err.code == code, (
                f"{case.id} [{backend}]: expected {code}, got {err.code}: {err}"
            )
            if expected.startswith("STATIC:"):
                assert err.line is not None or code.endswith(("NOTFOUND",)), (
                    f"{case.id}: no position"
                )
            return
        raise AssertionError(f"{case.id} [{backend}]: expected {code}, got value {value!r}")
    spec = result_type(case)
    assert _type_matches(spec, case.type), f"{case.id}: type {spec}, expected {case.type}"
    value = run()
    if hasattr(value, "variable"):  # Assigned
        value = value.value
    want = _expected_value(expected)
    assert _same(value, want, spec), (
        f"{case.id} [{backend}]: {case.expression!r} -> {value!r}, expected {want!r}"
    )
