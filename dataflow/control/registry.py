"""Registry of task implementations, keyed by canonical task type (``Microsoft.ExecuteSQLTask``).

Task modules register themselves with :func:`register`; ``validate`` reads :func:`support`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

T = TypeVar("T")

_TASKS: dict[str, type] = {}

UNSUPPORTED: Final[dict[str, str]] = {
    "Microsoft.Exec80PackageTask": "DTS 2000 packages cannot run outside SQL Server 2005",
    "Microsoft.WmiEventWatcherTask": "WMI is a Windows service; not available on this platform",
    "Microsoft.WmiDataReaderTask": "WMI is a Windows service; not available on this platform",
    "Microsoft.MessageQueueTask": "MSMQ is a Windows service; not available on this platform",
    "Microsoft.DTSProcessingTask": "Analysis Services processing needs an SSAS server",
    "Microsoft.ASExecuteDDLTask": "Analysis Services DDL needs an SSAS server",
    "Microsoft.DMQueryTask": "Data Mining queries need an SSAS server",
    "Microsoft.DbMaintenanceReindexTask": "maintenance-plan tasks need SQL Server",
    "Microsoft.TransferDatabaseTask": "database transfer needs SQL Server",
}

# Containers are run by the control-flow runner itself, not by a task module.
CONTAINERS: Final[frozenset[str]] = frozenset(
    {"package", "sequence", "forloop", "foreachloop", "eventhandler"}
)


def register(*task_types: str) -> Callable[[type[T]], type[T]]:
    def deco(cls: type[T]) -> type[T]:
        for t in task_types:
            _TASKS[t] = cls
        return cls

    return deco


def implementation(task_type: str) -> type | None:
    return _TASKS.get(task_type)


def support(task_type: str, kind: str = "task") -> tuple[str, str]:
    """``("supported", "")`` or ``("unsupported", reason)``."""
    _load_builtin()
    if kind in CONTAINERS:
        if _runner_available():
            return "supported", ""
        return "unsupported", f"the control-flow runner ({kind} containers) is not implemented yet"
    if task_type in _TASKS:
        return "supported", ""
    if task_type in UNSUPPORTED:
        return "unsupported", UNSUPPORTED[task_type]
    if task_type.startswith("Microsoft."):
        return "unsupported", f"{task_type} has no implementation in this runtime yet"
    return "unsupported", f"third-party task {task_type} has no implementation here"


def _runner_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("dataflow.control.runner") is not None


BROKEN: dict[str, str] = {}  # module name -> why it failed to import


def _load_builtin() -> None:
    import importlib
    import pkgutil

    try:
        pkg = importlib.import_module("dataflow.control.tasks")
    except ModuleNotFoundError:
        return
    for mod in pkgutil.iter_modules(pkg.__path__):
        try:
            importlib.import_module(f"dataflow.control.tasks.{mod.name}")
        except ImportError as exc:  # one broken module must not take the others down
            BROKEN[mod.name] = f"{type(exc).__name__}: {exc}"
