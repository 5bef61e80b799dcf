"""Where two package models differ: readable failure messages for round-trip tests."""

from __future__ import annotations

import dataclasses
from typing import Any


def first_difference(a: Any, b: Any, path: str = "package") -> str | None:
    """Where two models differ (for a readable failure message)."""
    if a == b:
        return None
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} != {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            if f.compare and getattr(a, f.name) != getattr(b, f.name):
                return first_difference(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    if isinstance(a, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {a!r:.200} != {b!r:.200}"
