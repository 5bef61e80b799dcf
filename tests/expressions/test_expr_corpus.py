"""Every expression stored in ../shared/dtsx-corpus parses and type-checks against its package.

The genuinely invalid stored expressions are listed in EXPECTED_FAILURES with the reason; the
test asserts the set of failures equals that list exactly, so a regression or a fix both show.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflow.expressions import ExpressionError, check_tree

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "dtsx-corpus"
SKIP = "../shared/dtsx-corpus not present (it sits beside the checkout in CI only)"

#: (package, expression text, error code): reason
EXPECTED_FAILURES: dict[tuple[str, str, str], str] = {
    (
        "AmroSuliman__ETL-SSIS-Real-Scenarios/UseCase_19__19 Import files from multiple locations to "
        "SQL Server in SSIS__19 Import files from multiple locations to SQL Server in SSIS__Package.dtsx",
        "@[User::FILEPATH]",
        "DTS_E_EXPREVALVARIABLENOTFOUND",
    ): (
        "property expression RowDelimiter of a connection manager names @[User::FILEPATH], but the "
        "package declares User::FilePath; variable names are case-sensitive (expressions.md §1)"
    ),
}


def _failures() -> tuple[int, dict[tuple[str, str, str], str]]:
    from expr_corpus import BOOLEAN_HOSTS, expressions_of

    failures: dict[tuple[str, str, str], str] = {}
    count = 0
    for path in sorted(CORPUS.rglob("*.dtsx")):
        try:
            stored, variables = expressions_of(path, CORPUS)
        except Exception as exc:
            failures[(path.relative_to(CORPUS).as_posix(), "<package>", type(exc).__name__)] = str(
                exc
            )
            continue
        for expr in stored:
            count += 1
            try:
                typed = check_tree(expr.text, expr.columns, variables, expr.lineage)
            except ExpressionError as err:
                failures[(expr.package, expr.text, err.code)] = (
                    f"{expr.host} {expr.where}: {err.message}"
                )
                continue
            if expr.host in BOOLEAN_HOSTS and typed.spec.name != "DT_BOOL":
                failures[(expr.package, expr.text, "NOT_BOOLEAN")] = (
                    f"{expr.host} {expr.where}: {typed.spec}"
                )
    return count, failures


@pytest.mark.corpus
def test_corpus_expressions_type_check() -> None:
    if not CORPUS.is_dir():
        pytest.skip(SKIP)
    count, failures = _failures()
    assert count > 100
    unexpected = {k: v for k, v in failures.items() if k not in EXPECTED_FAILURES}
    fixed = [k for k in EXPECTED_FAILURES if k not in failures]
    assert not unexpected, "\n".join(f"{k}: {v}" for k, v in unexpected.items())
    assert not fixed, f"listed as failing but now pass: {fixed}"
