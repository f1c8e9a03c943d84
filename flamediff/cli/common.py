"""What every command shares: options, opening the archive, reading releases, writing files."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from flamediff.archive import Archive
from flamediff.config import Settings, load_settings
from flamediff.errors import FlamediffError
from flamediff.model import Release

ArchiveOption = Annotated[
    Path | None,
    typer.Option(
        "--archive",
        help="Archive folder. Default: $FLAMEDIFF_ARCHIVE, then `archive` in "
        "[tool.flamediff], then .flamediff/ here.",
        show_default=False,
    ),
]
LineLevelOption = Annotated[
    bool,
    typer.Option(
        "--line-level",
        help="Tell lines of a function apart. Off by default, because line numbers shift "
        "whenever code above them moves between releases.",
    ),
]

MinWidthOption = Annotated[
    float,
    typer.Option(
        "--minwidth",
        help="Frames narrower than this percent of the width are not drawn (their time still "
        "counts in their parents), so the SVG stays small whatever the profile's size.",
    ),
]


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def echo_table(
    output_format: TableFormat,
    *,
    as_json: Callable[[], str],
    as_csv: Callable[[], str],
    for_terminal: Callable[[bool, int], str],
) -> None:
    """Print a table in the chosen format; for the terminal, fitted and coloured for a person."""
    if output_format is TableFormat.json:
        echo(as_json())
    elif output_format is TableFormat.csv:
        echo(as_csv())
    else:
        echo(for_terminal(use_colour(), terminal_width()))


def use_colour() -> bool:
    """Colour only for a person at a terminal; pipelines and NO_COLOR get plain text."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def terminal_width() -> int:
    return shutil.get_terminal_size((100, 24)).columns


def settings_with_archive(archive: Path | None) -> Settings:
    settings = load_settings()
    return replace(settings, archive=archive) if archive is not None else settings


def open_archive(archive: Path | None) -> tuple[Archive, Settings]:
    settings = settings_with_archive(archive)
    return Archive(settings.archive), settings


def load_for_analysis(archive: Archive, name: str, *, line_level: bool = False) -> Release:
    """A release with every run normalised for comparison (see flamediff.processors)."""
    return archive.load(name, normalised=True, line_level=line_level)


def write_output(path: Path, content: str | bytes) -> None:
    """Write a report atomically: a reader never sees half a file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    folder = path.parent if str(path.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        # mkstemp makes the file private; a report is meant to be read like any other file.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temp).replace(path)
    except OSError as error:
        raise FlamediffError(f"{path}: cannot write: {error.strerror}") from None


def echo(text: str) -> None:
    """Print a rendered report to stdout exactly once, newline-terminated."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """A status line for people; stderr keeps stdout clean for the report itself."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


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
