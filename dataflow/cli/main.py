"""The ``dataflow`` click group (the console script) and :func:`invoke`, its in-process twin.

Exit codes are dtexec's (:data:`EXIT_CODES`), so that scripts written for dtexec keep working:
a command-line mistake is 6 (click's own default would be 2), Ctrl-C is 3. Commands live in their
own modules and are added here; ``run`` joins ``validate`` when the runner lands.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Sequence
from typing import Any, Final

import click

from dataflow.cli.validate import validate

#: dtexec's exit codes (docs/API.md, "Command line").
EXIT_CODES: Final[dict[str, int]] = {
    "success": 0,
    "failure": 1,
    "canceled": 3,
    "not_found": 4,
    "not_loaded": 5,
    "command_line": 6,
}


class DataflowGroup(click.Group):
    """A click group whose errors end with dtexec's exit codes instead of click's."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(args) if args is not None else sys.argv[1:]
        sys.exit(self.run(argv, prog_name or "dataflow"))

    def run(self, args: list[str], prog_name: str = "dataflow") -> int:
        """Run a command line and return its exit code (errors are printed, never raised)."""
        try:
            rv = super().main(args, prog_name, standalone_mode=False)
        except click.UsageError as exc:
            exc.show()
            return EXIT_CODES["command_line"]
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
        except click.Abort:
            click.echo("Aborted.", err=True)
            return EXIT_CODES["canceled"]
        return rv if isinstance(rv, int) else 0


@click.group(cls=DataflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Run, inspect and validate SQL Server Integration Services (.dtsx) packages."""


main.add_command(validate)


def invoke(args: Sequence[str]) -> tuple[int, str]:
    """Run ``dataflow ARGS…`` in this process: ``(exit code, everything printed to stdout)``.

    Errors click prints go to stderr as usual; the exit code says what happened.
    """
    assert isinstance(main, DataflowGroup)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main.run(list(args))
    return code, out.getvalue()


__all__ = ["EXIT_CODES", "DataflowGroup", "invoke", "main"]
