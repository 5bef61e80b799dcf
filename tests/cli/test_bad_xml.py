"""Bad XML through the real command: a coded error, exit 5, within 2 s, and no file read but the one named.

Every case runs ``python -m dataflow validate FILE --json`` in a fresh process, so the time
includes interpreter start-up and imports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT_SECONDS = 2.0
SECRET = "TOP-SECRET-7f3a9c"

VALID = """<?xml version="1.0"?>
<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts" DTS:refId="Package"
  DTS:CreationName="Microsoft.Package" DTS:ExecutableType="Microsoft.Package"
  DTS:DTSID="{00000000-0000-0000-0000-0000000000AA}" DTS:ObjectName="Small">
  <DTS:Property DTS:Name="PackageFormatVersion">8</DTS:Property>
  <DTS:ConnectionManagers>
    <DTS:ConnectionManager DTS:refId="Package.ConnectionManagers[Input]" DTS:CreationName="FLATFILE"
      DTS:DTSID="{00000000-0000-0000-0000-0000000000AB}" DTS:ObjectName="Input">
      <DTS:ObjectData>
        <DTS:ConnectionManager DTS:Format="Delimited" DTS:ConnectionString="in.csv" />
      </DTS:ObjectData>
    </DTS:ConnectionManager>
  </DTS:ConnectionManagers>
  <DTS:Executables>
    <DTS:Executable DTS:refId="Package\\Run SQL" DTS:CreationName="Microsoft.ExecuteSQLTask"
      DTS:DTSID="{00000000-0000-0000-0000-0000000000AC}" DTS:ExecutableType="Microsoft.ExecuteSQLTask"
      DTS:ObjectName="Run SQL" DTS:Description="a task with a fairly long description, so that
      cutting the file in half lands inside the element tree and not in the prologue" />
  </DTS:Executables>
</DTS:Executable>
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def run_validate(path: Path | str, cwd: Path) -> tuple[int, dict[str, Any], str, float]:
    """``python -m dataflow validate PATH --json`` in a fresh process: (code, json, stderr, s)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "dataflow", "validate", str(path), "--json"],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=30,
    )
    elapsed = time.perf_counter() - start
    assert proc.stdout.strip(), f"no output; stderr:\n{proc.stderr}"
    return proc.returncode, json.loads(proc.stdout), proc.stderr, elapsed


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def external_entity(secret: Path) -> str:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE DTS:Executable [<!ENTITY e SYSTEM "file://{secret}">]>\n'
        + VALID.split("\n", 1)[1].replace('DTS:ObjectName="Small"', 'DTS:ObjectName="&e;"')
    )


def entity_bomb() -> str:
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE lolz [", '  <!ENTITY lol "lol">']
    for i in range(1, 10):
        prev = "lol" if i == 1 else f"lol{i - 1}"
        lines.append(f'  <!ENTITY lol{i} "{("&" + prev + ";") * 10}">')
    lines.append("]>")
    body = VALID.split("\n", 1)[1].replace('DTS:ObjectName="Small"', 'DTS:ObjectName="&lol9;"')
    return "\n".join(lines) + "\n" + body


BAD_CASES: dict[str, tuple[str, str]] = {
    # name: (file content or a marker, expected code)
    "entity_bomb": ("<bomb>", "DTS_E_XMLENTITYREJECTED"),
    "truncated": (VALID[: len(VALID) // 2], "DTS_E_LOADPACKAGEXML"),
    "wrong_root": (
        '<?xml version="1.0"?><Project xmlns="www.microsoft.com/SqlServer/SSIS"><x/></Project>',
        "DTS_E_WRONGROOTELEMENT",
    ),
    "unknown_format": (
        VALID.replace(
            '<DTS:Property DTS:Name="PackageFormatVersion">8<',
            '<DTS:Property DTS:Name="PackageFormatVersion">99<',
        ),
        "DTS_E_UNSUPPORTEDFORMATVERSION",
    ),
    "empty_file": ("", "DTS_E_LOADPACKAGEXML"),
    "not_xml": ("PK\x03\x04 this is a zip, not a package", "DTS_E_LOADPACKAGEXML"),
}


def test_the_valid_package_loads(tmp_path: Path) -> None:
    # The bad cases are derived from this file: it must itself be fine.
    path = tmp_path / "valid.dtsx"
    path.write_text(VALID, encoding="utf-8")
    code, report, stderr, elapsed = run_validate(path, tmp_path)
    assert code == 0, stderr
    assert report["loaded"] is True
    assert report["name"] == "Small"
    assert elapsed < LIMIT_SECONDS


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_xml_is_a_coded_error_within_two_seconds(case: str, tmp_path: Path) -> None:
    content, expected = BAD_CASES[case]
    path = tmp_path / f"{case}.dtsx"
    path.write_text(entity_bomb() if content == "<bomb>" else content, encoding="utf-8")
    code, report, stderr, elapsed = run_validate(path, tmp_path)
    assert code == 5, stderr
    assert report["loaded"] is False
    codes = [e["code"] for e in report["errors"]]
    assert expected in codes, report["errors"]
    assert all(e["refId"] for e in report["errors"])
    assert "Traceback" not in stderr
    assert elapsed < LIMIT_SECONDS, f"{case} took {elapsed:.2f}s"
    if case == "entity_bomb":
        assert "lollol" not in json.dumps(report)  # never expanded


def test_missing_file_says_not_found(tmp_path: Path) -> None:
    code, report, stderr, elapsed = run_validate(tmp_path / "absent.dtsx", tmp_path)
    assert code == 5, stderr
    [err] = report["errors"]
    assert err["code"] == "DTS_E_OPENPACKAGEFILE"
    assert "not found" in err["message"]
    assert elapsed < LIMIT_SECONDS


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_external_entity_is_rejected_and_never_followed(
    encoding: str, tmp_path: Path, secret: Path
) -> None:
    path = tmp_path / "xxe.dtsx"
    text = external_entity(secret)
    if encoding == "utf-16":
        text = text.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>')
    path.write_text(text, encoding=encoding)
    code, report, stderr, elapsed = run_validate(path, tmp_path)
    assert code == 5, stderr
    assert [e["code"] for e in report["errors"]] == ["DTS_E_XMLENTITYREJECTED"]
    assert SECRET not in json.dumps(report) and SECRET not in stderr
    assert elapsed < LIMIT_SECONDS


# The command run under an audit hook that records every file the process opens (io.open and
# os.open both raise the "open" event), written to the file named by DATAFLOW_TEST_OPENED.
AUDIT_DRIVER = r"""
import json, os, runpy, sys
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.append(os.path.realpath(os.fsdecode(args[0])))
sys.addaudithook(hook)
sys.argv = ["dataflow", *sys.argv[1:]]
try:
    runpy.run_module("dataflow", run_name="__main__", alter_sys=True)
finally:
    seen = list(opened)  # taken before the record file itself is opened
    with open(os.environ["DATAFLOW_TEST_OPENED"], "w") as out:
        json.dump(seen, out)
"""


def run_audited(path: Path, cwd: Path, record: Path) -> tuple[int, str, list[str]]:
    env = _env()
    env["DATAFLOW_TEST_OPENED"] = str(record)
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT_DRIVER, "validate", str(path), "--json"],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=30,
    )
    opened = json.loads(record.read_text(encoding="utf-8"))
    return proc.returncode, proc.stdout + proc.stderr, opened


def test_audit_hook_sees_only_the_named_file_opened(tmp_path: Path, secret: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "xxe.dtsx"
    path.write_text(external_entity(secret), encoding="utf-8")
    code, output, opened = run_audited(path, work, tmp_path / "opened.json")
    assert code == 5, output
    assert "DTS_E_XMLENTITYREJECTED" in output
    assert SECRET not in output
    assert str(secret.resolve()) not in opened
    # Of everything under tmp_path (Python's own modules live elsewhere), only the package file
    # was opened.
    ours = {p for p in opened if p.startswith(str(tmp_path.resolve()))}
    assert ours == {str(path.resolve())}


def test_audit_hook_records_what_is_opened(tmp_path: Path, secret: Path) -> None:
    # The test above must be able to fail: the recorder does see the secret file when the
    # command is asked to open it.
    code, _, opened = run_audited(secret, tmp_path, tmp_path / "opened.json")
    assert code == 5  # not XML
    assert str(secret.resolve()) in opened


def test_no_file_but_the_named_one_is_opened_at_os_level(tmp_path: Path, secret: Path) -> None:
    """strace sees opens done in C (libxml2 does not raise audit events)."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed")
    path = tmp_path / "xxe.dtsx"
    path.write_text(external_entity(secret), encoding="utf-8")
    trace = tmp_path / "trace.txt"
    proc = subprocess.run(
        [strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(trace),
         sys.executable, "-m", "dataflow", "validate", str(path), "--json"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
        timeout=60,
    )  # fmt: skip
    if not trace.exists() or "ptrace" in proc.stderr.lower():
        pytest.skip(f"strace cannot trace here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 5, proc.stderr
    text = trace.read_text(encoding="utf-8", errors="replace")
    assert str(path) in text  # the trace works: the named file was opened
    assert str(secret) not in text
    assert SECRET not in proc.stdout + proc.stderr
