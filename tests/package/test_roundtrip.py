"""Load, save as format 8, load again: the model is equal, for every corpus package."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dataflow.core.errors import EncryptedPackageError
from dataflow.package.reader import load_package, load_package_bytes
from dataflow.package.writer import save_package, to_xml_bytes
from tests.conftest import corpus_id, corpus_packages, corpus_params, require
from tests.package.modeldiff import first_difference

PACKAGES = corpus_packages()


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_params(), ids=corpus_id)
def test_corpus_round_trip(path: Path | None, tmp_path: Path) -> None:
    path = require(path)
    try:
        original = load_package(path)
    except EncryptedPackageError:
        pytest.skip("encrypted whole: reports itself and loads no further (test_reader checks it)")
    out = tmp_path / "copy.dtsx"
    save_package(original, out)
    again = load_package(out)
    assert again.format_version == 8
    assert first_difference(original, again) is None
    assert original == again
    # Writing is deterministic: the second save is byte-identical to the first.
    assert to_xml_bytes(again) == out.read_bytes()


def test_first_difference_points_at_the_field() -> None:
    xml = to_xml_bytes(
        load_package_bytes(
            b'<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts" DTS:refId="Package" '
            b'DTS:ObjectName="A" DTS:CreationName="Microsoft.Package">'
            b'<DTS:Property DTS:Name="PackageFormatVersion">8</DTS:Property></DTS:Executable>'
        )
    )
    a = load_package_bytes(xml)
    b = dataclasses.replace(a, name="B")
    assert first_difference(a, b) == "package.name: 'A' != 'B'"
