"""Result and exit-code tables shared by the runner, the CLI and dtsclient."""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class DTSExecResult(IntEnum):
    """The result of an executable, as SSIS's ``DTSExecResult``."""

    Success = 0
    Failure = 1
    Completion = 2
    Canceled = 3


# dtexec exit codes (reference/ssis/runtime.md): a separate code space from DTSExecResult.
EXIT_SUCCESS: Final = 0
EXIT_FAILURE: Final = 1
EXIT_CANCELED: Final = 3
EXIT_NOT_FOUND: Final = 4
EXIT_COULD_NOT_LOAD: Final = 5
EXIT_COMMAND_LINE: Final = 6
