"""The .dtsx reader over every corpus package and over small hand-written packages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dataflow.core.errors import EncryptedPackageError, LoadError
from dataflow.package.model import Package
from dataflow.package.reader import load_package, load_package_bytes
from tests.conftest import CORPUS_SKIP, corpus_id, corpus_packages, corpus_params, require

PACKAGES = corpus_packages()
ENCRYPTED_WHOLE = "134__Exercises__Solutions__TestSecurity__TestSecurity__AllUserKey.dtsx"


def _load(path: Path) -> Package:
    return load_package(path)


@pytest.mark.corpus
def test_corpus_is_complete(corpus: Path) -> None:
    # INVENTORY.md counts 60 packages; the formats are what the files declare.
    assert len(PACKAGES) == 60
    formats: Counter[int] = Counter()
    for p in PACKAGES:
        if p.name == ENCRYPTED_WHOLE:
            continue
        formats[_load(p).format_version] += 1
    assert formats == {8: 39, 6: 9, 3: 3, 2: 8}


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_params(), ids=corpus_id)
def test_corpus_package_loads(path: Path | None) -> None:
    path = require(path)
    if path.name == ENCRYPTED_WHOLE:
        with pytest.raises(EncryptedPackageError) as exc:
            _load(path)
        assert exc.value.code == "DTS_E_DECRYPTPACKAGE_USERKEY"
        assert str(path) in str(exc.value)
        return
    pkg = _load(path)
    assert pkg.ref_id == "Package"
    assert pkg.kind == "package"
    refs = [e.ref_id for e in pkg.walk()]
    assert len(refs) == len(set(refs)), "executable refIds are unique"
    for exe in pkg.walk():
        assert exe.ref_id.startswith("Package")
        known = {c.ref_id for c in exe.executables}
        for pc in exe.constraints:
            assert pc.from_ref in known, f"{pc.ref_id} from {pc.from_ref}"
            assert pc.to_ref in known, f"{pc.ref_id} to {pc.to_ref}"
        if exe.pipeline is None:
            continue
        outputs = {o.ref_id for c in exe.pipeline.components for o in c.outputs}
        inputs = {i.ref_id for c in exe.pipeline.components for i in c.inputs}
        for path_ in exe.pipeline.paths:
            assert path_.start_ref in outputs, path_.ref_id
            assert path_.end_ref in inputs, path_.ref_id
        for comp in exe.pipeline.components:
            assert comp.ref_id.startswith(exe.ref_id + "\\")
            # Old GUID class ids map to the same kinds as the Microsoft.* names.
            assert not comp.kind.startswith("{"), (comp.ref_id, comp.class_id)
            for conn in comp.connections:
                if conn.manager_ref.startswith("Package."):
                    assert pkg.connection(conn.manager_ref).ref_id == conn.manager_ref


@pytest.mark.corpus
def test_old_formats_get_refids_and_rewritten_lineage(corpus: Path) -> None:
    path = next(corpus.rglob("*Version2005__Scripts__Solutions__SSISIntegration*Payroll.dtsx"))
    pkg = _load(path)
    assert pkg.format_version == 2
    assert [e.ref_id for e in pkg.walk()] == [
        "Package",
        "Package\\Execute SQL Task",
        "Package\\Payroll Data Flow",
    ]
    (pc,) = pkg.constraints
    assert (pc.from_ref, pc.to_ref) == ("Package\\Execute SQL Task", "Package\\Payroll Data Flow")
    df = pkg.find("Payroll Data Flow")
    assert df.task_type == "Microsoft.Pipeline"
    assert df.pipeline is not None
    derived = df.pipeline.component("Create New Columns")
    assert derived.kind == "Microsoft.DerivedColumn"
    hire = derived.input("Derived Column Input").columns[0]
    src_col = "Package\\Payroll Data Flow\\Payroll Source.Outputs[Flat File Source Output].Columns[HireDate]"
    assert hire.name == "HireDate"
    assert hire.lineage_id == src_col
    assert hire.prop("Expression", "").startswith(f"[SUBSTRING](#{{{src_col}}},1,4)")
    conv = df.pipeline.component("Change Types").output("Data Conversion Output").columns[0]
    assert conv.prop("SourceInputColumnLineageID") == f"#{{{src_col}}}"
    reader = df.pipeline.component("PayrollList")
    assert reader.kind == "Microsoft.DataReaderDestinationAdapter"
    source = df.pipeline.component("Payroll Source")
    assert source.connections[0].manager_ref == "Package.ConnectionManagers[Payroll Text File]"
    assert pkg.connection("Payroll Text File").kind == "FLATFILE"


@pytest.mark.corpus
def test_sensitive_values_load_without_their_ciphertext(corpus: Path) -> None:
    pkg = _load(next(corpus.rglob("*DataMigration__DataMigration__Package1.dtsx")))
    task = pkg.executables[0]
    assert set(task.encrypted) == {"PackagePassword", "SQLPassword"}
    assert task.payload is not None
    for node in task.payload.iter():
        assert node.attr("Encrypted") is None
        if node.local_name in ("PackagePassword", "SQLPassword"):
            assert node.text is None
    pkg2 = _load(corpus / "Cloud-on-Tap__NextGenLabel-SQL-Integration" / "Package.dtsx")
    assert any("encrypted with the package password" in e for e in pkg2.encrypted)


def test_boolean_and_refid_forms_of_format_3() -> None:
    xml = b"""<?xml version="1.0"?>
<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts" DTS:ExecutableType="SSIS.Package.2">
<DTS:Property DTS:Name="PackageFormatVersion">3</DTS:Property>
<DTS:Variable><DTS:Property DTS:Name="Expression"></DTS:Property>
<DTS:Property DTS:Name="EvaluateAsExpression">-1</DTS:Property>
<DTS:Property DTS:Name="Namespace">User</DTS:Property><DTS:Property DTS:Name="ReadOnly">0</DTS:Property>
<DTS:VariableValue DTS:DataType="3">42</DTS:VariableValue>
<DTS:Property DTS:Name="ObjectName">N</DTS:Property></DTS:Variable>
<DTS:Executable DTS:ExecutableType="STOCK:SEQUENCE">
<DTS:Property DTS:Name="Disabled">-1</DTS:Property>
<DTS:Property DTS:Name="ObjectName">Seq</DTS:Property>
<DTS:Property DTS:Name="DTSID">{AAAAAAAA-0000-0000-0000-000000000001}</DTS:Property>
<DTS:Property DTS:Name="CreationName">STOCK:SEQUENCE</DTS:Property>
</DTS:Executable>
<DTS:Property DTS:Name="ObjectName">Old</DTS:Property>
<DTS:Property DTS:Name="CreationName">SSIS.Package.2</DTS:Property>
</DTS:Executable>"""
    pkg = load_package_bytes(xml)
    assert pkg.format_version == 3
    assert pkg.name == "Old"
    (var,) = pkg.variables
    assert var.qualified_name == "User::N"
    assert var.evaluate_as_expression is True
    assert var.read_only is False
    assert var.python_value == 42
    (seq,) = pkg.executables
    assert seq.ref_id == "Package\\Seq"
    assert seq.kind == "sequence"
    assert seq.disabled is True
    assert seq.properties["Disabled"] == "True"


def test_missing_file_is_a_coded_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as exc:
        load_package(tmp_path / "nope.dtsx")
    assert exc.value.code == "DTS_E_OPENPACKAGEFILE"


def test_whole_package_encryption_is_detected_without_a_format_property() -> None:
    xml = (
        b'<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts" DTS:refId="Package" '
        b'DTS:ProtectionLevel="3" Encrypted="1">AQAAAA==</DTS:Executable>'
    )
    with pytest.raises(EncryptedPackageError) as exc:
        load_package_bytes(xml)
    assert exc.value.code == "DTS_E_PACKAGEPASSWORD"


def test_skip_reason_is_stated() -> None:
    assert "beside the checkout" in CORPUS_SKIP
