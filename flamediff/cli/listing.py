"""`flamediff list` and `flamediff check`: what the archive holds, and whether it is sound."""

from __future__ import annotations

from flamediff.cli.common import echo, note, open_archive
from flamediff.cli.options import ArchiveOption, TableFormatOption
from flamediff.errors import ArchiveError
from flamediff.render.cells import release_row
from flamediff.render.csv import render_releases_csv
from flamediff.render.json import render_releases_json
from flamediff.render.terminal import render_releases_terminal
from flamediff.vocabulary import TableFormat


def list_releases(
    output_format: TableFormatOption = TableFormat.TABLE,
    archive: ArchiveOption = None,
) -> None:
    """Releases in capture order, with date, runs, samples and git commit (* = dirty)."""
    store, _ = open_archive(archive)
    scanned, damaged = store.scan()
    rows = [release_row(info) for _, info in scanned]
    if output_format is TableFormat.JSON:
        echo(render_releases_json(rows, [item.name for item in damaged]))
    elif output_format is TableFormat.CSV:
        echo(render_releases_csv(rows))
    elif rows:
        echo(render_releases_terminal(rows))
    else:
        note(f"no releases in {store.root} yet: capture one with `flamediff capture NAME -- CMD`")
    for item in damaged:
        note(f"warning: {item.name}: {item.reason}")


def check(archive: ArchiveOption = None) -> None:
    """Verify every release of the archive; exit 2 naming each damaged file."""
    store, _ = open_archive(archive)
    if not store.root.is_dir():
        raise ArchiveError(f"{store.root}: no archive here")
    for leftover in store.clean_leftovers():
        if leftover.restored_as is None:
            note(f"removed leftover {leftover.path} of an interrupted writer")
        else:
            note(f"put back {leftover.restored_as}, moved aside by an interrupted --force")
    problems = store.check()
    for problem in problems:
        note(f"damaged: {problem}")
    if problems:
        raise ArchiveError(f"{store.root}: {len(problems)} problem(s) found")
    note(f"{store.root}: {len(store.names())} releases, all sound")
