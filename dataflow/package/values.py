"""Persisted value forms of .dtsx files: variable values, XML-name escapes, booleans."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

_XNAME = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_xml_name(text: str) -> str:
    """``_x000D__x000A_`` -> CRLF; ``_x003C_none_x003E_`` -> ``<none>`` (flat-file delimiters)."""
    return _XNAME.sub(lambda m: chr(int(m.group(1), 16)), text)


def escape_xml_name(text: str) -> str:
    """The inverse of :func:`unescape_xml_name` for delimiters (every character escaped)."""
    return "".join(f"_x{ord(c):04X}_" for c in text)


_DATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d",
)


_TIME_FORMATS = ("%I:%M:%S %p", "%H:%M:%S")
ZERO_DATE = dt.datetime(1899, 12, 30)  # OLE Automation day 0: SSIS stores bare times on it


def parse_datetime(text: str) -> dt.datetime:
    """Variable DateTime values (persisted en-US, e.g. ``8/20/2022 7:42:12 AM``, or ISO; a bare
    time such as ``12:00:00 AM`` is on the zero date 1899-12-30)."""
    t = text.strip()
    for f in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(t, f)
        except ValueError:
            continue
    for f in _TIME_FORMATS:
        try:
            clock = dt.datetime.strptime(t, f).time()
        except ValueError:
            continue
        return dt.datetime.combine(ZERO_DATE.date(), clock)
    raise ValueError(f"not a date/time value: {text!r}")


def format_datetime(value: dt.datetime) -> str:
    """DateTime as SSIS persists it (en-US invariant form)."""
    hour = value.hour % 12 or 12
    ampm = "AM" if value.hour < 12 else "PM"
    return f"{value.month}/{value.day}/{value.year} {hour}:{value.minute:02d}:{value.second:02d} {ampm}"


def parse_variant(code: int, text: str) -> Any:
    """A persisted variable / parameter value as a Python value (VARIANT code ``code``)."""
    if code in (2, 3, 16, 17, 18, 19, 20, 21):
        return int(text.strip() or 0)
    if code in (4, 5):
        return float(text.strip() or 0)
    if code in (6, 14):
        return decimal.Decimal(text.strip() or 0)
    if code == 11:
        t = text.strip().lower()
        return t in ("-1", "true", "1")
    if code == 7:
        return parse_datetime(text) if text.strip() else ZERO_DATE
    if code in (0, 1, 13):
        return None
    return text


def format_variant(code: int, value: Any) -> str:
    """A Python value in the persisted text form of VARIANT code ``code``."""
    if value is None:
        return ""
    if code == 11:
        return "-1" if value else "0"
    if code == 7 and isinstance(value, dt.datetime):
        return format_datetime(value)
    if code == 7 and isinstance(value, dt.date):
        return format_datetime(dt.datetime(value.year, value.month, value.day))
    if code == 5 and isinstance(value, float) and value == int(value):
        return f"{int(value)}"
    return str(value)
