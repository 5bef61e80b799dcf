"""The error root: stable codes, SSIS's numeric values, object paths, cancellation."""

from __future__ import annotations

import pytest

from dataflow.core.errors import CODES, Cancelled, DataflowError, ExpressionError, LoadError


def test_codes_keep_ssis_values() -> None:
    # Values from SSIS's message reference (reference/ssis/errors.md).
    assert CODES["DTS_E_TXLOOKUP_ROWLOOKUPERROR"].decimal == -1071607778
    assert CODES["DTS_E_PRIMEOUTPUTFAILED"].hex == "0xC0047038"
    assert CODES["DTS_W_MAXIMUMERRORCOUNTREACHED"].decimal == -2147381246
    assert all(name.startswith(("DTS_E_", "DTS_W_")) for name in CODES)
    assert len({c.hresult for c in CODES.values()}) == len(CODES), "no two codes share a value"


def test_error_carries_code_path_and_hint() -> None:
    err = LoadError("DTS_E_OPENPACKAGEFILE", "no such file", path="/x.dtsx", hint="check the path")
    assert isinstance(err, DataflowError)
    assert str(err) == "DTS_E_OPENPACKAGEFILE: no such file [at /x.dtsx] -- check the path"
    assert err.to_dict()["phase"] == "load"
    assert err.hresult == CODES["DTS_E_OPENPACKAGEFILE"].decimal


def test_unknown_codes_are_refused() -> None:
    with pytest.raises(KeyError):
        DataflowError("DTS_E_MADEUP", "x")


def test_expression_errors_carry_positions() -> None:
    err = ExpressionError("DTS_E_EXPREVALINVALIDTOKEN", "bad token", line=1, column=7)
    assert (err.line, err.column) == (1, 7)
    assert "line 1, column 7" in str(err)


def test_cancellation_is_not_swallowed_by_except_exception() -> None:
    def swallow() -> None:
        try:
            raise Cancelled()
        except Exception:
            pytest.fail("Cancelled was caught by `except Exception`")

    with pytest.raises(Cancelled):
        swallow()
