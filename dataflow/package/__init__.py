"""The package model, the .dtsx reader and writer, projects and the builder API."""

from dataflow.package.model import (
    Component,
    ConnectionManager,
    Executable,
    Package,
    Parameter,
    Pipeline,
    PrecedenceConstraint,
    Variable,
)
from dataflow.package.reader import load_package

__all__ = [
    "Component",
    "ConnectionManager",
    "Executable",
    "Package",
    "Parameter",
    "Pipeline",
    "PrecedenceConstraint",
    "Variable",
    "load_package",
]
