"""`flamediff list` and `flamediff check`: what the archive holds, and whether it is sound."""

from __future__ import annotations

from typing import Annotated

import typer

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
        note(
            f"no releases in {store.location} yet: capture one with `flamediff capture NAME -- CMD`"
        )
    for item in damaged:
        note(f"warning: {item.name}: {item.reason}")


def check(
    archive: ArchiveOption = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Also remove what interrupted writers left behind (putting back a release "
            "a killed --force had moved aside) and damaged cache entries. Without it, check "
            "only reads.",
        ),
    ] = False,
) -> None:
    """Verify every release of the archive; exit 2 naming each damaged file.

    Every line says what was found, or what was really done: a removal that failed is
    reported as failed, and counts as a problem.
    """
    from flamediff.archive.cache import remove_entry

    store, _ = open_archive(archive)
    if not store.storage.present():
        raise ArchiveError(f"{store.location}: no archive here")
    failures: list[str] = []
    for leftover in store.clean_leftovers() if repair else store.leftovers():
        if leftover.error is not None:
            failures.append(f"could not remove leftover {leftover.path}: {leftover.error}")
        elif leftover.restored_as is not None:
            note(f"put back {leftover.restored_as}, moved aside by an interrupted --force")
        elif leftover.removed:
            note(f"removed leftover {leftover.path} of an interrupted writer")
        else:
            note(
                f"leftover {leftover.path} of an interrupted writer; "
                "`flamediff check --repair` removes it"
            )
    found = store.inspect()
    problems = list(found.problems)
    for path, reason in found.caches:
        if not repair:
            problems.append(f"{path}: {reason}; `flamediff check --repair` removes it")
            continue
        error = remove_entry(path)
        if error is None:
            note(f"removed damaged cache entry {path} ({reason})")
        else:
            failures.append(f"could not remove damaged cache entry {path}: {error}")
    for problem in problems:
        note(f"damaged: {problem}")
    for failure in failures:
        note(failure)
    if problems or failures:
        raise ArchiveError(f"{store.location}: {len(problems) + len(failures)} problem(s) found")
    note(f"{store.location}: {len(store.names())} releases, all sound")
