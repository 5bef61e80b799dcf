"""The README's code stays true: its builder example runs and its two commands exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dataflow import load_package

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_two_commands_come_first_and_exist() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_builder_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = next(
        b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "PackageBuilder" in b
    )
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # the README's own example
    saved = load_package(tmp_path / "sales.dtsx")
    assert saved == namespace["pkg"]
    assert os.path.exists(tmp_path / "sales.dtsx")
