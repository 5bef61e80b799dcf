"""dataflow: a native, cross-platform runtime for SQL Server Integration Services packages.

Public entry points (docs/API.md)::

    from dataflow import load_package, load_project, DTSExecResult
"""

from dataflow.core.errors import DataflowError
from dataflow.core.results import DTSExecResult
from dataflow.package.model import Package
from dataflow.package.project import Project, load_project
from dataflow.package.reader import load_package

__all__ = ["DTSExecResult", "DataflowError", "Package", "Project", "load_package", "load_project"]
__version__ = "0.1.0"
