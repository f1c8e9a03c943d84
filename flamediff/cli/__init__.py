"""The command line: one module per command, and the one place errors become exit codes.

Exit codes: 0 ok (warnings allowed), 1 the gate blocked a release, 2 bad input or
environment, 3 an unexpected error (a bug: never read as a verdict), 130 interrupted. 1 comes
from a block and from nothing else: CI reads it as "this release is slower".
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence

import typer

from flamediff import __version__, interruption
from flamediff.cli.archiving import archive_app
from flamediff.cli.bisect import bisect
from flamediff.cli.capture import capture
from flamediff.cli.comment import comment
from flamediff.cli.compare import compare
from flamediff.cli.diff import diff, gate
from flamediff.cli.export import export
from flamediff.cli.flamegraph import flamegraph
from flamediff.cli.history import history
from flamediff.cli.importing import import_release
from flamediff.cli.listing import check, list_releases
from flamediff.cli.release import release
from flamediff.cli.scenarios import SCENARIO_HELP, select
from flamediff.cli.show import show
from flamediff.errors import FlamediffError, InputWarning

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
    scenario: str | None = typer.Option(
        None,
        "--scenario",
        envvar="FLAMEDIFF_SCENARIO",
        help=f"{SCENARIO_HELP} capture and release run every scenario without it; the other "
        "commands need it in a project with scenarios.",
        show_default=False,
    ),
) -> None:
    """Make performance regressions visible and blocking, release after release."""
    select(scenario)


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
app.command("comment")(comment)
app.command("bisect")(bisect)
app.add_typer(archive_app, name="archive")


BLOCKED = 1
BAD_INPUT = 2
UNEXPECTED = 3
INTERRUPTED = 130


def debugging() -> bool:
    """Whether an unexpected error shows its traceback (``FLAMEDIFF_DEBUG=1``)."""
    return os.environ.get("FLAMEDIFF_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def _input_notes() -> Iterator[None]:
    """Print what the readers warn of (a file read, but not exactly as written) as notes,
    once each, whether the command ends well or not."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        try:
            yield
        finally:
            notes = dict.fromkeys(
                str(w.message) for w in caught if issubclass(w.category, InputWarning)
            )
            for message in notes:
                sys.stderr.write(f"note: {message}\n")
            for other in caught:  # any other warning is shown as Python would have
                if not issubclass(other.category, InputWarning):
                    warnings.showwarning(
                        other.message, other.category, other.filename, other.lineno
                    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; the only place an error becomes one.

    Typer runs outside its standalone mode, so that it chooses no exit code for flamediff:
    every code comes from here.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with _input_notes():
            result = app(args=args, prog_name="flamediff", standalone_mode=False)
    except FlamediffError as error:
        sys.stderr.write(f"error: {error}\n")
        return error.exit_code
    except typer.TyperException as error:  # usage: unknown option, bad value
        show = getattr(error, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"error: {error.format_message()}\n")
        return BAD_INPUT
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("interrupted\n")
        return INTERRUPTED
    except MemoryError:
        # A profile too large for the memory at hand is bad input for this machine, not a bug.
        sys.stderr.write("error: out of memory: the profiles are too large for this machine\n")
        return BAD_INPUT
    except OSError as error:
        # The environment refused: a read-only or full archive, a missing folder.
        where = f"{error.filename}: " if error.filename else ""
        sys.stderr.write(f"error: {where}{error.strerror or error}\n")
        return BAD_INPUT
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else BAD_INPUT)
    except Exception as error:  # the boundary: anything else is a bug
        if interruption.received():  # unless a Ctrl-C surfaced as another error
            sys.stderr.write("interrupted\n")
            return INTERRUPTED
        if debugging():
            traceback.print_exc()
        detail = f"{type(error).__name__}: {error}"
        sys.stderr.write(
            f"internal error: {detail} (a bug in flamediff, not a verdict; "
            "FLAMEDIFF_DEBUG=1 shows the traceback)\n"
        )
        return UNEXPECTED
    # A command that ends normally returns None; typer.Exit(code) returns its code here.
    return result if isinstance(result, int) else 0
