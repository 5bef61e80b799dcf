"""The ``dataflow`` command line: thin click commands over the library, with dtexec's exit codes.

:func:`invoke` runs a command in-process and returns ``(exit code, output)``; tests call it the
way users call the console script. Modules here import only click at start-up: each command
imports what it needs when it runs, so that ``dataflow --help`` and error paths start fast.
"""

from dataflow.cli.main import EXIT_CODES, invoke, main

__all__ = ["EXIT_CODES", "invoke", "main"]
