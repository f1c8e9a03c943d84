"""`flamediff archive copy`: a whole history from one archive to another."""

from __future__ import annotations

from typing import Annotated

import typer

from flamediff.cli.common import note

archive_app = typer.Typer(
    help="Work on archives as a whole: copy a history between a folder and a bucket.",
    no_args_is_help=True,
)


@archive_app.command("copy")
def copy(
    source: Annotated[
        str, typer.Argument(help="The archive to copy: a folder, or a URL (s3://bucket/prefix).")
    ],
    target: Annotated[
        str, typer.Argument(help="Where to copy it: a folder or a URL; created if need be.")
    ],
) -> None:
    """Copy every release of SOURCE to TARGET, in capture order, with its justifications.

    Run files are copied byte for byte and checked against their SHA-256 on both sides.
    Releases already in TARGET and identical are skipped, so an interrupted copy is simply
    run again; a release of the same name that differs is an error naming it.
    """
    from flamediff.archive import Archive
    from flamediff.config import archive_location
    from flamediff.pipeline.copy import Copied, Outcome, copy_archive

    def progress(copied: Copied) -> None:
        if copied.outcome is Outcome.COPIED:
            note(f"copied {copied.name} ({copied.runs} runs)")
        else:
            note(f"{copied.name}: {copied.outcome}")

    source_archive = Archive(archive_location(source))
    target_archive = Archive(archive_location(target))
    done = copy_archive(source_archive, target_archive, progress=progress)
    copied = sum(1 for item in done if item.outcome is Outcome.COPIED)
    note(
        f"{target_archive.location}: {copied} release(s) copied, {len(done) - copied} already there"
    )
