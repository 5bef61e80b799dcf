"""Shared test fixtures: the public package corpus beside the checkout (CI only)."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "dtsx-corpus"
CORPUS_SKIP = "../shared/dtsx-corpus not present (it sits beside the checkout in CI only)"


def corpus_packages() -> list[Path]:
    """Every .dtsx of the corpus (empty when the corpus is absent)."""
    return sorted(CORPUS.rglob("*.dtsx")) if CORPUS.is_dir() else []


def corpus_id(path: Path | None) -> str:
    return "corpus-absent" if path is None else f"{path.parent.name}/{path.name}"


def corpus_params() -> list[Path | None]:
    """Parameters for a test over every corpus package: ``[None]`` (skip) when it is absent."""
    return list(corpus_packages()) or [None]


def require(path: Path | None) -> Path:
    if path is None:
        pytest.skip(CORPUS_SKIP)
    return path


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(CORPUS_SKIP)
    return CORPUS
