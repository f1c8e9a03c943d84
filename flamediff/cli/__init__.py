"""The command line: one module per command, and the one place errors become exit codes.

Exit codes: 0 ok (warnings allowed), 1 the gate blocked a release, 2 bad input or
environment, 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from flamediff import __version__
from flamediff.cli.capture import capture
from flamediff.cli.compare import compare
from flamediff.cli.diff import diff, gate
from flamediff.cli.export import export
from flamediff.cli.flamegraph import flamegraph
from flamediff.cli.history import history
from flamediff.cli.importing import import_release
from flamediff.cli.listing import check, list_releases
from flamediff.cli.release import release
from flamediff.cli.show import show
from flamediff.errors import FlamediffError

app = typer.Typer(
    name="flamediff",
    help="Make performance regressions visible and blocking, release after release.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"flamediff {__version__}\n")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Make performance regressions visible and blocking, release after release."""


app.command("capture")(capture)
app.command("import")(import_release)
app.command("list")(list_releases)
app.command("show")(show)
app.command("diff")(diff)
app.command("history")(history)
app.command("flamegraph")(flamegraph)
app.command("gate")(gate)
app.command("compare")(compare)
app.command("release")(release)
app.command("export")(export)
app.command("check")(check)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; the only place an error becomes one."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="flamediff")
    except FlamediffError as error:
        sys.stderr.write(f"error: {error}\n")
        return error.exit_code
    except MemoryError:
        # A profile too large for the memory at hand is bad input for this machine, not a bug.
        sys.stderr.write("error: out of memory: the profiles are too large for this machine\n")
        return 2
    except SystemExit as done:
        # Typer ends every run with SystemExit: 0, 2 for usage errors, 130 for Ctrl-C, and
        # the code a command raised with typer.Exit (1 when the gate blocks).
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return 0
