"""`dataflow validate --json` over every real package of ../shared/dtsx-corpus, against golden files.

One golden file per corpus package in ``tests/golden/validate/`` records what validate reports:
whether it loaded, its format, error codes, and every executable, component, connection manager,
encrypted value and unparsable expression (refId, kind, status; no free text, so that rewording a
reason does not churn them). They were reviewed by hand once; when an implementation lands (a
task or component registers itself, and its status turns ``supported``), regenerate them:

    DATAFLOW_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/cli/test_corpus_validate.py

and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dataflow.cli import invoke

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "dtsx-corpus"
GOLDEN = REPO / "tests" / "golden" / "validate"
REGEN = os.environ.get("DATAFLOW_REGEN_GOLDEN") == "1"
SKIP = "../shared/dtsx-corpus not present (it sits beside the checkout in CI only)"
ENCRYPTED_WHOLE = "134__Exercises__Solutions__TestSecurity__TestSecurity__AllUserKey.dtsx"

pytestmark = pytest.mark.corpus


def corpus_packages() -> list[Path]:
    return sorted(CORPUS.rglob("*.dtsx")) if CORPUS.is_dir() else []


def golden_name(package: Path) -> str:
    """``<owner folder>__<file name>.json``, with anything but ``[A-Za-z0-9._-]`` made ``_``."""
    rel = package.relative_to(CORPUS)
    stem = "__".join((*rel.parent.parts, rel.stem))
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem) + ".json"


def golden_view(report: dict[str, Any], rel: str) -> dict[str, Any]:
    """The part of a report a golden file records."""
    return {
        "package": rel,
        "loaded": report["loaded"],
        "format": report["format"],
        "errors": [e["code"] for e in report["errors"]],
        "executables": [
            {k: e[k] for k in ("refId", "kind", "taskType", "status", "code")}
            for e in report["executables"]
        ],
        "components": [
            {k: c[k] for k in ("refId", "kind", "classId", "status", "code")}
            for c in report["components"]
        ],
        "connections": [
            {k: c[k] for k in ("refId", "kind", "status")} for c in report["connections"]
        ],
        "encrypted": [
            {k: e[k] for k in ("refId", "property", "supply")} for e in report["encrypted"]
        ],
        "expressions": [
            {k: x[k] for k in ("refId", "property", "code")} for x in report["expressions"]
        ],
    }


def _params() -> list[Any]:
    packages = corpus_packages()
    if not packages:
        return [pytest.param(None, marks=pytest.mark.skip(reason=SKIP), id="no-corpus")]
    return [pytest.param(p, id=golden_name(p).removesuffix(".json")) for p in packages]


@pytest.mark.parametrize("package", _params())
def test_validate_matches_golden(package: Path) -> None:
    code, out = invoke(["validate", str(package), "--json"])
    report = json.loads(out)  # exactly one JSON object
    rel = package.relative_to(CORPUS).as_posix()
    # Every corpus package loads, except the one encrypted whole, which says so.
    if package.name == ENCRYPTED_WHOLE:
        assert code == 5
        assert report["loaded"] is False
        assert [e["code"] for e in report["errors"]] == ["DTS_E_DECRYPTPACKAGE_USERKEY"]
        assert report["encrypted"] and report["encrypted"][0]["refId"] == "Package"
        assert [e["status"] for e in report["executables"]] == ["encrypted"]
    else:
        assert code == 0, report["errors"]
        assert report["loaded"] is True
        assert report["errors"] == []
        assert report["executables"][0]["refId"] == "Package"
    for item in report["unsupported"] + report["errors"]:
        assert item["code"] and item["refId"], item
    view = golden_view(report, rel)
    path = GOLDEN / golden_name(package)
    if REGEN:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(view, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}; run with DATAFLOW_REGEN_GOLDEN=1"
    golden = json.loads(path.read_text(encoding="utf-8"))
    assert view["executables"] == golden["executables"]
    assert view["components"] == golden["components"]
    assert view == golden


def test_every_golden_file_has_its_package() -> None:
    packages = corpus_packages()
    if not packages:
        pytest.skip(SKIP)
    expected = {golden_name(p) for p in packages}
    present = {p.name for p in GOLDEN.glob("*.json")}
    assert len(expected) == len(packages), "two corpus packages map to one golden file name"
    assert present - expected == set(), "golden files without a corpus package"
    assert expected - present == set() or REGEN, "corpus packages without a golden file"


def test_real_command_on_one_corpus_package(tmp_path: Path) -> None:
    packages = [p for p in corpus_packages() if p.name != ENCRYPTED_WHOLE]
    if not packages:
        pytest.skip(SKIP)
    package = next(p for p in packages if "Conditional_Split" in p.name)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (str(REPO), env.get("PYTHONPATH", "")) if x)
    proc = subprocess.run(
        [sys.executable, "-m", "dataflow", "validate", str(package), "--json"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    golden = json.loads((GOLDEN / golden_name(package)).read_text(encoding="utf-8"))
    assert golden_view(report, package.relative_to(CORPUS).as_posix()) == golden
