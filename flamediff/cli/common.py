"""What every command shares: the archive and settings, and how output reaches people."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType

from flamediff.archive import Archive
from flamediff.config import Settings, load_settings
from flamediff.vocabulary import TableFormat


def open_archive(archive: str | None, *groups: object) -> tuple[Archive, Settings]:
    """The archive and the settings: ``[tool.flamediff]`` with the options of ``groups``
    (see :func:`flamediff.cli.options.apply_to`) and ``--archive`` applied."""
    from flamediff.cli.options import apply_to
    from flamediff.cli.scenarios import one_stream, selected
    from flamediff.config import archive_location

    settings = load_settings()
    if archive is not None:
        settings = replace(settings, archive=archive_location(archive))
    # `--archive` alone names an archive to read as it is, a scenario's included; with
    # `--scenario` it is the root the scenario's archive lies in.
    if archive is None or selected() is not None:
        settings = one_stream(settings)
    settings = apply_to(settings, *groups)
    return Archive(settings.archive), settings


def echo_table(
    output_format: TableFormat,
    *,
    as_json: Callable[[], str],
    as_csv: Callable[[], str],
    for_terminal: Callable[[bool, int], str],
) -> None:
    """Print a table in the chosen format; for the terminal, fitted and coloured for a person."""
    if output_format is TableFormat.JSON:
        echo(as_json())
    elif output_format is TableFormat.CSV:
        echo(as_csv())
    else:
        echo(for_terminal(use_colour(), terminal_width()))


def use_colour() -> bool:
    """Colour only for a person at a terminal; pipelines and NO_COLOR get plain text."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def terminal_width() -> int:
    return shutil.get_terminal_size((100, 24)).columns


def echo(text: str) -> None:
    """Print a rendered report to stdout exactly once, newline-terminated."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """A status line for people; stderr keeps stdout clean for the report itself."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def wrote(path: Path) -> None:
    note(f"wrote {path}")


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so cleanup runs when a pipeline cancels the job."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
