"""`flamediff list` and `flamediff check`: what the archive holds, and whether it is sound."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from flamediff.cli.common import echo, note, open_archive
from flamediff.cli.options import ArchiveOption, TableFormatOption
from flamediff.errors import ArchiveError
from flamediff.model import ReleaseInfo
from flamediff.vocabulary import TableFormat


def _row(info: ReleaseInfo) -> dict[str, object]:
    walls = sorted(r.wall_seconds for r in info.runs if r.wall_seconds is not None)
    return {
        "name": info.name,
        "created": info.created,
        "runs": len(info.runs),
        "samples": info.total_samples,
        "median_wall_seconds": walls[len(walls) // 2] if walls else None,
        "rate_hz": info.rate_hz,
        "git_commit": info.git_commit,
        "git_dirty": info.git_dirty,
        "source": info.source,
        "accepted": [j.base for j in info.justifications],
    }


def _text_table(rows: list[dict[str, object]]) -> str:
    header = ("release", "created (UTC)", "runs", "samples", "wall/run", "commit")
    lines = [header]
    for row in rows:
        commit = str(row["git_commit"] or "-")[:10] + ("*" if row["git_dirty"] else "")
        wall = row["median_wall_seconds"]
        lines.append(
            (
                str(row["name"]),
                str(row["created"]).replace("T", " ").removesuffix("Z"),
                str(row["runs"]),
                str(row["samples"]),
                f"{wall:.2f} s" if isinstance(wall, float) else "-",
                commit,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {2, 3, 4}
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    )


def list_releases(
    output_format: TableFormatOption = TableFormat.TABLE,
    archive: ArchiveOption = None,
) -> None:
    """Releases in capture order, with date, runs, samples and git commit (* = dirty)."""
    store, _ = open_archive(archive)
    scanned, damaged = store.scan()
    rows = [_row(info) for _, info in scanned]
    if output_format is TableFormat.JSON:
        echo(
            json.dumps(
                {"releases": rows, "damaged": [d.name for d in damaged]}, indent=2, sort_keys=True
            )
        )
    elif output_format is TableFormat.CSV:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=list(_row(ReleaseInfo("", "")).keys()), lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
        echo(buffer.getvalue())
    elif rows:
        echo(_text_table(rows))
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
