"""Registry of data-flow component implementations, keyed by canonical SSIS component id.

A component module registers its class with :func:`register` when it is defined; nothing else
needs to change to add a component (see STYLE.md). ``validate`` reads :func:`support` to report
every component of a package as supported, unsupported (with the reason) or not yet implemented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

T = TypeVar("T")

_COMPONENTS: dict[str, type] = {}

# Components we will not run, with the reason (anything neither here nor registered is reported
# as not implemented yet).
UNSUPPORTED: Final[dict[str, str]] = {
    "Microsoft.FuzzyLookup": "Fuzzy Lookup is out of scope (no equivalent matching engine here)",
    "Microsoft.FuzzyGrouping": "Fuzzy Grouping is out of scope (no equivalent matching engine here)",
    "Microsoft.TermExtraction": "Term Extraction is out of scope",
    "Microsoft.TermLookup": "Term Lookup is out of scope",
    "Microsoft.SQLServerDestination": "SQL Server Destination needs a local SQL Server; "
    "point the package at another database with --conn and an OLE DB Destination",
}


def register(*component_ids: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: ``@register("Microsoft.DerivedColumn")``."""

    def deco(cls: type[T]) -> type[T]:
        for cid in component_ids:
            _COMPONENTS[cid] = cls
        return cls

    return deco


def implementation(component_id: str) -> type | None:
    return _COMPONENTS.get(component_id)


def support(component_id: str) -> tuple[str, str]:
    """``("supported", "")``, ``("unsupported", reason)`` for a canonical component id."""
    _load_builtin()
    if component_id in _COMPONENTS:
        return "supported", ""
    if component_id in UNSUPPORTED:
        return "unsupported", UNSUPPORTED[component_id]
    if component_id.startswith("Microsoft."):
        return "unsupported", f"{component_id} has no implementation in this runtime yet"
    return "unsupported", f"third-party component {component_id} has no implementation here"


BROKEN: dict[str, str] = {}  # module name -> why it failed to import


def _load_builtin() -> None:
    """Import the built-in component modules so that they register themselves."""
    import importlib
    import pkgutil

    try:
        pkg = importlib.import_module("dataflow.pipeline.components")
    except ModuleNotFoundError:
        return
    for mod in pkgutil.iter_modules(pkg.__path__):
        try:
            importlib.import_module(f"dataflow.pipeline.components.{mod.name}")
        except ImportError as exc:  # one broken module must not take the others down
            BROKEN[mod.name] = f"{type(exc).__name__}: {exc}"
