"""``dataflow validate``: the compatibility report of a package or project (nothing is run).

A thin command over :mod:`dataflow.control.compat`. The report module (and with it lxml and the
package model) is imported when the command runs, and rich only for the human-readable form, so
that ``--json`` on a bad file answers quickly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from dataflow.control.compat import CompatReport, ProjectReport

HELP = """Report what of PACKAGE (a .dtsx file) or PROJECT (an .ispac, a .dtproj or a project
folder) this runtime can run, without running it.

\b
Lists every executable and data-flow component as supported, unsupported (with
the reason and a code) or encrypted; connection managers of unknown types;
sensitive values that were encrypted in the file and must be supplied at run
time (with the --param / --conn / --set option that does it); stored
expressions that do not parse; load errors, always with a DTS_… code.

\b
Exit code: 0 when the package (for a project: the project and every package
in it) loaded, 5 (dtexec's "could not load") otherwise; 6 for a command-line
mistake.

\b
--json prints one JSON object. For a package:
  {"package": path (in a project: its name there), "name": str,
   "loaded": bool, "format": int|null,
   "encrypted":   [{code, refId, path, property, supply, hint}],
   "executables": [{refId, name, kind, taskType, status, reason, code, disabled}],
   "components":  [{refId, name, task, kind, classId, status, reason, code}],
   "connections": [{refId, name, creationName, kind, scope, status, reason, code}],
   "unsupported": [{code, refId, type, kind, reason}],
   "expressions": [{code, refId, property, expression, message, line, column}],
   "errors":      [{code, refId, hresult, message, path, hint, phase}]}
status is "supported", "unsupported" or "encrypted" (connections: "known" or
"unknown"); "format" is null when the file did not load far enough to say.
For a project (without --package):
  {"project": path, "name": str, "loaded": bool, "connections": [...],
   "encrypted": [...], "unsupported": [...], "expressions": [...],
   "errors": [...], "packages": [<one package object as above>, ...]}
where the top-level lists hold the project's own connection managers and
parameters.
"""


@click.command("validate", help=HELP, short_help="Compatibility report of a package or project.")
@click.argument("path", metavar="PACKAGE|PROJECT", type=click.Path(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "--package",
    "package_name",
    metavar="NAME",
    help="With a project: report on this package only (prints a package object).",
)
@click.pass_context
def validate(ctx: click.Context, path: str, as_json: bool, package_name: str | None) -> None:
    from dataflow.control.compat import check_path

    report = check_path(path, package_name)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_human(report)
    ctx.exit(report.exit_code)


# ------------------------------------------------------------------------------------------------
# Human-readable output
# ------------------------------------------------------------------------------------------------


def _print_human(report: CompatReport | ProjectReport) -> None:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False, width=None if _is_tty() else 160)
    from dataflow.control.compat import CompatReport

    if isinstance(report, CompatReport):
        _print_package(console, report)
        return
    _print_project(console, report)


def _is_tty() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def _table(title: str, columns: list[str], rows: list[list[str]]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _status_text(status: str) -> str:
    colour = {"supported": "green", "known": "green", "encrypted": "yellow"}.get(status, "red")
    return f"[{colour}]{status}[/{colour}]"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _print_package(console: Any, report: CompatReport) -> None:
    if report.executables:
        console.print(
            _table(
                "Executables",
                ["refId", "kind", "type", "status", "reason"],
                [
                    [
                        _escape(e.ref_id) + (" (disabled)" if e.disabled else ""),
                        e.kind,
                        _escape(e.task_type),
                        _status_text(e.status),
                        _escape(e.reason),
                    ]
                    for e in report.executables
                ],
            )
        )
    if report.components:
        console.print(
            _table(
                "Components",
                ["refId", "kind", "status", "reason"],
                [
                    [_escape(c.ref_id), _escape(c.kind), _status_text(c.status), _escape(c.reason)]
                    for c in report.components
                ],
            )
        )
    _print_common(console, report)
    console.print(_summary(report))


def _print_common(console: Any, report: CompatReport | ProjectReport) -> None:
    if report.connections:
        console.print(
            _table(
                "Connection managers",
                ["refId", "type", "status"],
                [
                    [_escape(c.ref_id), _escape(c.creation_name), _status_text(c.status)]
                    for c in report.connections
                ],
            )
        )
    if report.encrypted:
        console.print(
            _table(
                "Encrypted values (not loaded; supply them at run time)",
                ["refId", "property", "how to supply"],
                [
                    [_escape(e.ref_id), _escape(e.property), _escape(e.hint)]
                    for e in report.encrypted
                ],
            )
        )
    if report.expressions:
        console.print(
            _table(
                "Expressions that do not parse",
                ["refId", "property", "code", "message"],
                [
                    [_escape(x.ref_id), _escape(x.property), x.code, _escape(x.message)]
                    for x in report.expressions
                ],
            )
        )
    for err in report.errors:
        text = f"{err.code}: {err.message}"
        if err.path:
            text += f" [at {err.path}]"
        if err.hint:
            text += f" -- {err.hint}"
        console.print(f"[red]error[/red] {_escape(text)}")


def _count(items: Any, status: str) -> int:
    return sum(1 for i in items if i.status == status)


def _summary(report: CompatReport) -> str:
    name = _escape(report.name or report.package)
    if not report.loaded:
        first = report.errors[0].code if report.errors else "unknown error"
        return f"[bold]{name}[/bold]: [red]not loaded[/red] ({first})"
    parts = [
        f"{len(report.executables)} executables "
        f"({_count(report.executables, 'supported')} supported, "
        f"{_count(report.executables, 'unsupported')} unsupported)",
        f"{len(report.components)} components "
        f"({_count(report.components, 'supported')} supported, "
        f"{_count(report.components, 'unsupported')} unsupported)",
        f"{len(report.connections)} connection managers "
        f"({_count(report.connections, 'unknown')} of unknown type)",
        f"{len(report.encrypted)} encrypted values to supply",
        f"{len(report.expressions)} expressions that do not parse",
    ]
    where = _escape(Path(report.package).name)
    return f"[bold]{name}[/bold] ({where}, format {report.format}): loaded; " + ", ".join(parts)


def _print_project(console: Any, report: ProjectReport) -> None:
    console.print(f"[bold]Project {_escape(report.name)}[/bold] ({_escape(report.project)})")
    _print_common(console, report)
    for pkg in report.packages:
        console.print()
        console.print(f"[bold]Package {_escape(pkg.package)}[/bold]")
        _print_package(console, pkg)
    state = "loaded" if report.loaded else "[red]not loaded[/red]"
    console.print(
        f"[bold]{_escape(report.name)}[/bold]: {state}; {len(report.packages)} packages "
        f"({sum(1 for p in report.packages if p.loaded)} loaded)"
    )


__all__ = ["validate"]
