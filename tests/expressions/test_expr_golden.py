"""Every golden case through both back ends (scalar evaluator and polars)."""

from __future__ import annotations

import pytest
from expr_golden_cases import Case, check_case, load_cases

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_scalar(case: Case) -> None:
    check_case(case, "scalar")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_polars(case: Case) -> None:
    check_case(case, "polars")


def test_enough_cases() -> None:
    assert len(CASES) >= 300
