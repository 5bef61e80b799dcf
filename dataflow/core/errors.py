"""The one error root of the product, its phase subclasses, and the table of stable codes.

Every error the runtime raises is a :class:`DataflowError` (or, for cancellation, a
:class:`Cancelled`, which deliberately is *not* an ``Exception`` so that ``except Exception``
cannot swallow it). An error carries:

* ``code`` -- a stable symbolic name. SSIS's own ``DTS_E_*`` / ``DTS_W_*`` name where SSIS has
  one (same numeric HRESULT, so ``System::ErrorCode`` and error-output ``ErrorCode`` values match
  SSIS), otherwise a name of ours in the same style, listed in :data:`CODES` with ``ssis=False``;
* ``path`` -- the object the error concerns: a refId (``Package\\Data Flow Task``), an XML element
  path, or a file;
* ``hint`` -- what the user can do about it.

Subclasses are arranged by phase (load, validate, expression, execute, catalog); row-level errors
are not exceptions at all (they travel as masks in the data flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One row of the code table."""

    name: str
    hresult: int  # unsigned 32-bit value, as written in SSIS's message reference
    message: str
    ssis: bool = True  # False: a code of ours, in SSIS's naming style

    @property
    def decimal(self) -> int:
        """The signed 32-bit value (what ``ErrorCode`` columns and ``System::ErrorCode`` hold)."""
        return self.hresult - (1 << 32) if self.hresult & 0x80000000 else self.hresult

    @property
    def hex(self) -> str:
        return f"0x{self.hresult:08X}"


def _table(*rows: tuple[str, int, str] | tuple[str, int, str, bool]) -> dict[str, CodeInfo]:
    return {row[0]: CodeInfo(*row) for row in rows}


# Ours live in 0xC00Fxxxx (errors) / 0x800Fxxxx (warnings), a range SSIS does not use.
CODES: Final[dict[str, CodeInfo]] = _table(
    # --- loading packages and projects -------------------------------------------------------
    (
        "DTS_E_FUNDAMENTALLOADINGERROR",
        0xC0011007,
        "the package file is not valid XML or cannot be loaded",
    ),
    ("DTS_E_OPENPACKAGEFILE", 0xC0011002, "the package file could not be opened"),
    ("DTS_E_LOADPACKAGEXML", 0xC0011003, "the package XML could not be loaded"),
    ("DTS_E_CANTLOADFROMNODE", 0xC0011001, "an object cannot be loaded from this XML element"),
    (
        "DTS_E_DECRYPTXML_PASSWORD",
        0xC001405F,
        "an encrypted XML node could not be decrypted; loading continues without it",
    ),
    ("DTS_E_PACKAGEPASSWORD", 0xC0014037, "the package is encrypted with a password"),
    (
        "DTS_E_DECRYPTPACKAGE_USERKEY",
        0xC0014060,
        "the package is encrypted whole with a user key and cannot be decrypted here",
    ),
    (
        "DTS_E_XMLENTITYREJECTED",
        0xC00F0001,
        "the XML declares a DTD or entity; entities are never resolved or expanded",
        False,
    ),
    (
        "DTS_E_WRONGROOTELEMENT",
        0xC00F0002,
        "the XML root element is not what this file type needs",
        False,
    ),
    ("DTS_E_UNSUPPORTEDFORMATVERSION", 0xC00F0003, "unknown PackageFormatVersion", False),
    (
        "DTS_E_PROJECTLOADERROR",
        0xC00F0004,
        "the project, .ispac or project file could not be loaded",
        False,
    ),
    ("DTS_E_PACKAGENOTFOUND", 0xC00F0005, "no package of that name in the project", False),
    (
        "DTS_E_INVALIDATTRIBUTEVALUE",
        0xC00F0006,
        "an attribute holds a value of the wrong form",
        False,
    ),
    # --- validation -----------------------------------------------------------------------------
    ("DTS_E_VALIDATIONFAILED", 0xC004700D, "validation failed; the data flow does not start"),
    ("DTS_E_VALIDATIONFAILEDONCOMPONENTS", 0xC004700C, "one or more components failed validation"),
    ("DTS_E_INDIVIDUALVALIDATIONFAILED", 0xC0047017, "a component failed validation"),
    ("DTS_E_TASKVALIDATIONFAILED", 0xC0024102, "a task failed validation"),
    ("DTS_E_ERRORCOMPONENT", 0xC0048021, "component missing, unregistered or not supported"),
    ("DTS_E_UNSUPPORTEDTASK", 0xC00F0101, "this task type cannot run in this runtime", False),
    ("DTS_E_UNSUPPORTEDCONNECTIONTYPE", 0xC00F0102, "unknown connection manager type", False),
    (
        "DTS_E_SCRIPTNEEDSPYTHONPORT",
        0xC00F0103,
        "a C#/VB script needs a Python implementation to run here",
        False,
    ),
    ("DTS_E_CONNECTIONNOTFOUND", 0xC001000E, "connection manager name or ID not found"),
    ("DTS_E_VARIABLENOTFOUND", 0xC0010001, "variable not in the Variables collection"),
    ("DTS_E_VARIABLEREADONLY", 0xC0010003, "write to a read-only variable"),
    ("DTS_E_BUILDERERROR", 0xC00F0104, "the builder was given an inconsistent package", False),
    (
        "DTS_E_FILEREADFAILED",
        0xC00F0301,
        "a component could not read a file named in a column",
        False,
    ),
    (
        "DTS_E_FILEWRITEFAILED",
        0xC00F0302,
        "a component could not write a file named in a column",
        False,
    ),
    (
        "DTS_E_UNSUPPORTEDFEATURE",
        0xC00F0105,
        "a component setting this runtime does not implement",
        False,
    ),
    # --- expressions ----------------------------------------------------------------------------
    ("DTS_E_EXPREVALDIVBYZERO", 0xC004707B, "division by zero"),
    ("DTS_E_EXPREVALSTATIC_DIVBYZERO", 0xC0049030, "division by zero detected while validating"),
    ("DTS_E_EXPREVALLITERALOVERFLOW", 0xC004707C, "numeric literal too big for its type"),
    (
        "DTS_E_EXPREVALBINARYOPNUMERICOVERFLOW",
        0xC004707D,
        "result of binary op exceeds numeric limits",
    ),
    ("DTS_E_EXPREVALBINARYOPOVERFLOW", 0xC004707E, "result of binary op overflows its type"),
    ("DTS_E_EXPREVALUNARYOPOVERFLOW", 0xC00470E5, "unary minus overflows its type"),
    ("DTS_E_EXPREVALFUNCTIONOVERFLOW", 0xC004707F, "function result too large for its type"),
    ("DTS_E_EXPREVALDATACONVERSIONOVERFLOW", 0xC00470C0, "overflow converting between types"),
    (
        "DTS_E_EXPREVALBINARYTYPEMISMATCH",
        0xC0047080,
        "operand types incompatible for binary operator",
    ),
    (
        "DTS_E_EXPREVALUNSUPPORTEDUNNARYTYPE",
        0xC0047086,
        "operand type incompatible for unary operator",
    ),
    ("DTS_E_EXPREVALCONDITIONALOPTYPEMISMATCH", 0xC004709F, "?: branch types incompatible"),
    ("DTS_E_EXPREVALPARAMTYPEMISMATCH", 0xC0047089, "function argument of the wrong type"),
    # SSIS splits this one by plural forms (0xC00470F9..FB); one code of ours covers them all.
    (
        "DTS_E_EXPREVALINVALIDNUMBEROFPARAMS",
        0xC00F0107,
        "function called with the wrong number of arguments",
        False,
    ),
    ("DTS_E_EXPREVALINVALIDFUNCTION", 0xC004708A, "unknown function"),
    (
        "DTS_E_EXPREVALILLEGALESCAPEINSTRINGLITERAL",
        0xC00470B8,
        "illegal escape sequence in a string literal",
    ),
    (
        "DTS_E_EXPREVALILLEGALHEXESCAPEINSTRINGLITERAL",
        0xC00470B7,
        "illegal \\x escape in a string literal",
    ),
    ("DTS_E_EXPREVALAMBIGUOUSVARIABLENNAME", 0xC00470DD, "variable name is ambiguous"),
    (
        "DTS_E_EXPREVALBINARYSIGNMISMATCH",
        0xC0047082,
        "signed and unsigned operands cannot be combined",
    ),
    (
        "DTS_E_EXPREVALCONDITIONALOPINVALIDCONDITIONTYPE",
        0xC004709E,
        "the ?: condition is not Boolean",
    ),
    ("DTS_E_EXPREVALINVALIDCASTLENGTH", 0xC00470F1, "invalid length in a cast"),
    ("DTS_E_EXPREVALINVALIDCASTPRECISION", 0xC00470AB, "invalid precision in a cast"),
    ("DTS_E_EXPREVALINVALIDCASTSCALE", 0xC00470AC, "invalid scale in a cast"),
    ("DTS_E_EXPREVALINVALIDCASTCODEPAGE", 0xC00470AA, "invalid code page in a cast"),
    ("DTS_E_EXPREVALINVALIDDATEPARTNODE", 0xC00470F0, "the datepart is not a string literal"),
    ("DTS_E_EXPREVALINVALIDTOKENSINGLEEQUAL", 0xC00470D7, "a single = is not an operator (use ==)"),
    ("DTS_E_EXPREVALEXPRESSIONEMPTY", 0xC004709A, "the expression is empty"),
    (
        "DTS_E_EXPREVALCANNOTCONVERTRESULT",
        0xC004709D,
        "the result cannot be converted to the target type",
    ),
    ("DTS_E_EXPREVALINVALIDCAST", 0xC0047095, "cast between these types is not supported"),
    ("DTS_E_EXPREVALCASTFAILED", 0xC00470C4, "a legal cast failed on this value"),
    ("DTS_E_EXPREVALINVALIDTOKEN", 0xC0047096, "unrecognized token"),
    ("DTS_E_EXPREVALFAILEDTOPARSEEXPRESSION", 0xC0047099, "expression is not well formed"),
    (
        "DTS_E_EXPREVALINPUTCOLUMNNAMENOTFOUND",
        0xC00470A2,
        "column name not found among input columns",
    ),
    ("DTS_E_EXPREVALVARIABLENOTFOUND", 0xC00470A6, "variable not found in scope"),
    ("DTS_E_EXPREVALFNSUBSTRINGINVALIDLENGTH", 0xC004708B, "negative length for SUBSTRING"),
    (
        "DTS_E_EXPREVALFNSUBSTRINGINVALIDSTARTINDEX",
        0xC004708C,
        "SUBSTRING start index must be >= 1",
    ),
    ("DTS_E_EXPREVALFNRIGHTINVALIDLENGTH", 0xC00470E7, "negative length for RIGHT/LEFT"),
    ("DTS_E_EXPREVALFNREPLICATEINVALIDREPEATCOUNT", 0xC00470E8, "negative REPLICATE count"),
    (
        "DTS_E_EXPREVALFNFINDSTRINGINVALIDOCCURRENCECOUNT",
        0xC00470EE,
        "FINDSTRING occurrence must be > 0",
    ),
    ("DTS_E_EXPREVALSQRTINVALIDPARAM", 0xC00470DF, "SQRT of a negative number"),
    ("DTS_E_EXPREVALLNINVALIDPARAM", 0xC00470E0, "LN of zero or a negative number"),
    ("DTS_E_EXPREVALLOGINVALIDPARAM", 0xC00470E1, "LOG of zero or a negative number"),
    ("DTS_E_EXPREVALPOWERINVALIDPARAM", 0xC00470E2, "POWER result indeterminate"),
    ("DTS_E_EXPREVALINVALIDDATEPART", 0xC004708F, "unknown datepart"),
    ("DTS_E_EXPREVALTRUNCATIONASERROR", 0xC001700E, "truncation during expression evaluation"),
    (
        "DTS_E_EXPREVALASSIGNMENTTYPEMISMATCH",
        0xC001F186,
        "assignment result not convertible to the variable type",
    ),
    (
        "DTS_E_EXPREVALASSIGNMENTTOREADONLYVARIABLE",
        0xC001F187,
        "assignment to a read-only variable",
    ),
    # --- execution ------------------------------------------------------------------------------
    ("DTS_E_PRIMEOUTPUTFAILED", 0xC0047038, "a source or asynchronous output failed"),
    ("DTS_E_PROCESSINPUTFAILED", 0xC0047022, "a component failed while processing an input buffer"),
    ("DTS_E_THREADFAILED", 0xC0047021, "an engine worker thread exited with an error"),
    (
        "DTS_E_THREADCANCELLED",
        0xC0047039,
        "thread stopping because of cancel or a failure elsewhere",
    ),
    ("DTS_E_CANCELRECEIVED", 0xC00470E4, "cancel request received"),
    (
        "DTS_E_USERCOMPONENTEXCEPTION",
        0xC0047062,
        "a script or custom component raised an exception",
    ),
    (
        "DTS_E_INDUCEDTRANSFORMFAILUREONERROR",
        0xC0209029,
        "an error on a column whose disposition is FailComponent",
    ),
    (
        "DTS_E_INDUCEDTRANSFORMFAILUREONTRUNCATION",
        0xC020902A,
        "a truncation on a column whose disposition is FailComponent",
    ),
    ("DTS_E_COLUMNSTATUSERROR", 0xC020901C, "column status error"),
    ("DTS_E_DATACONVERSIONFAILED", 0xC02020C5, "conversion between two columns failed"),
    ("DTS_E_FAILEDCOLUMNDATACONVERSIONSTATUS", 0xC02020A1, "conversion of a column failed"),
    ("DTS_E_TXLOOKUP_ROWLOOKUPERROR", 0xC020901E, "lookup found no match"),
    (
        "DTS_E_TXSPLITEXPRESSIONEVALUATEDTONULL",
        0xC020902B,
        "a Conditional Split condition evaluated to NULL",
    ),
    (
        "DTS_E_TXDATACONVERTSTATIC_CANTCONVERTVALUE",
        0xC020907F,
        "Data Conversion could not convert a value",
    ),
    ("DTS_E_INDIVIDUALPREEXECUTEFAILED", 0xC004701A, "a component failed in PreExecute"),
    (
        "DTS_E_FLATFILESOURCEADAPTERSTATIC_CANTCONVERTVALUE",
        0xC0209084,
        "Flat File Source: value not convertible",
    ),
    (
        "DTS_E_ERRORWHILEREADINGDATAROWS",
        0xC0202092,
        "Flat File Source: error while processing the file",
    ),
    (
        "DTS_E_FLATFILEFORMATNOTSUPPORTED",
        0xC0208031,
        "flat file Format must be Delimited, FixedWidth, RaggedRight or Mixed",
    ),
    ("DTS_E_CANNOTACQUIRECONNECTIONFROMCONNECTIONMANAGER", 0xC020801C, "AcquireConnection failed"),
    ("DTS_E_TIMEOUT", 0xC0016009, "request timed out"),
    # --- checkpoints ----------------------------------------------------------------------------
    ("DTS_E_CHECKPOINTMISMATCH", 0xC0016049, "checkpoint file belongs to a different package"),
    (
        "DTS_E_CHECKPOINTFILENOTSPECIFIED",
        0xC001F081,
        "CheckpointUsage=Always but no CheckpointFileName",
    ),
    ("DTS_E_LOADCHECKPOINT", 0xC001F083, "checkpoint required but could not be loaded"),
    ("DTS_E_CHECKPOINTLOADXML", 0xC001F082, "checkpoint file could not be read"),
    # --- catalog ---------------------------------------------------------------------------------
    ("DTS_E_CATALOGERROR", 0xC00F0201, "catalog operation failed", False),
    # --- warnings ------------------------------------------------------------------------------
    ("DTS_W_MAXIMUMERRORCOUNTREACHED", 0x80019002, "error count reached MaximumErrorCount"),
    ("DTS_W_EXTERNALMETADATACOLUMNSOUTOFSYNC", 0x800470C8, "external metadata out of sync"),
    ("DTS_W_CANNOTFINDOBJECT", 0x80012017, "package path refers to a missing object"),
    (
        "DTS_W_ENCRYPTEDPROPERTYMISSING",
        0x800F0001,
        "a sensitive property was encrypted in the file and must be supplied at run time",
        False,
    ),
    ("DTS_W_UNSUPPORTEDCOMPONENT", 0x800F0002, "component loaded but cannot run here", False),
)


def code_info(code: str) -> CodeInfo:
    """The table row of ``code`` (raises ``KeyError`` for an unknown code: codes are a closed set)."""
    return CODES[code]


class DataflowError(Exception):
    """Root of every error the runtime raises."""

    phase = "runtime"

    def __init__(
        self, code: str, message: str, *, path: str | None = None, hint: str | None = None
    ):
        if code not in CODES:
            raise KeyError(f"unknown error code {code!r}; add it to dataflow.core.errors.CODES")
        self.code = code
        self.message = message
        self.path = path
        self.hint = hint
        super().__init__(self.__str__())

    @property
    def info(self) -> CodeInfo:
        return CODES[self.code]

    @property
    def hresult(self) -> int:
        """Signed 32-bit value, as SSIS reports it in ``System::ErrorCode``."""
        return self.info.decimal

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.path:
            text += f" [at {self.path}]"
        if self.hint:
            text += f" -- {self.hint}"
        return text

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "code": self.code,
            "hresult": self.info.hex,
            "message": self.message,
            "path": self.path,
            "hint": self.hint,
            "phase": self.phase,
        }


class LoadError(DataflowError):
    """A package, project or file could not be read (dtexec exit code 5)."""

    phase = "load"


class EncryptedPackageError(LoadError):
    """The whole package body is encrypted (``EncryptAll…``); nothing more can be loaded."""


class ValidationError(DataflowError):
    """The package loaded but cannot run as it is (dtexec exit code 1)."""

    phase = "validate"


class ExpressionError(DataflowError):
    """An SSIS expression failed to parse, type-check or evaluate.

    ``line`` and ``column`` are 1-based positions in the expression text when known.
    """

    phase = "expression"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        path: str | None = None,
        hint: str | None = None,
        expression: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ):
        self.expression = expression
        self.line = line
        self.column = column
        if line is not None and column is not None:
            message = f"{message} (line {line}, column {column})"
        super().__init__(code, message, path=path, hint=hint)


class ExecutionError(DataflowError):
    """A task, container or component failed while running."""

    phase = "execute"


class CatalogError(DataflowError):
    """An operation on the SSISDB-like catalog failed."""

    phase = "catalog"


class Cancelled(BaseException):
    """A run was cancelled. Not an ``Exception``: cancellation must never be swallowed."""

    code = "DTS_E_CANCELRECEIVED"

    def __init__(self, message: str = "the run was cancelled", *, path: str | None = None):
        self.message = message
        self.path = path
        super().__init__(message)
