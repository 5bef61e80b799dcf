"""The SSIS expression language: tokenizer -> parser -> typed tree -> scalar / polars back ends.

Stages (one module each, like sqlglot): :mod:`.tokens`, :mod:`.parser` (-> :mod:`.ast`),
:mod:`.typecheck` (with the tables of :mod:`.types` and :mod:`.functions`), then
:mod:`.scalar` (one row, control flow) or :mod:`.polars_backend` (whole batches), and
:mod:`.generator` back to text. Decisions on undocumented behaviour: :mod:`.choices`.
"""

from dataflow.core.errors import ExpressionError

from .api import (
    NO_ERRORS,
    Assigned,
    Compiled,
    Expression,
    RowErrors,
    check,
    check_tree,
    compile,
    evaluate,
    evaluate_batch,
    fit_to_column,
    infer_spec,
    parse,
    schema_specs,
)
from .ast import References, references
from .choices import CHOICES
from .functions import DATEPARTS, FUNCTIONS
from .generator import generate
from .typecheck import SYSTEM_VARIABLES

__all__ = [
    "CHOICES",
    "DATEPARTS",
    "FUNCTIONS",
    "NO_ERRORS",
    "SYSTEM_VARIABLES",
    "Assigned",
    "Compiled",
    "Expression",
    "ExpressionError",
    "References",
    "RowErrors",
    "check",
    "check_tree",
    "compile",
    "evaluate",
    "evaluate_batch",
    "fit_to_column",
    "generate",
    "infer_spec",
    "parse",
    "references",
    "schema_specs",
]
