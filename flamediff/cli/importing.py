"""`flamediff import`: archive profiles captured elsewhere as the runs of a release."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.archive import utc_now
from flamediff.capture.metadata import git_state, host_name
from flamediff.cli.common import note, open_archive
from flamediff.cli.options import ArchiveOption, ForceOption
from flamediff.errors import ConfigError, InputError
from flamediff.model import Profile, ReleaseInfo, RunInfo


def import_release(
    release: Annotated[str, typer.Argument(help="Name of the new release.")],
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Folded/collapsed (py-spy raw) or speedscope files, optionally gzipped. "
            "Each file is a run; a speedscope file with several profiles gives one run each.",
            show_default=False,
        ),
    ],
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            help="Sampling rate the files were captured at, so time is shown "
            "in seconds; without it, in samples.",
        ),
    ] = None,
    force: ForceOption = False,
    archive: ArchiveOption = None,
) -> None:
    """Archive existing profiles as the runs of RELEASE."""
    from flamediff.formats import read_profiles

    store, _ = open_archive(archive)
    if rate is not None and not 0 < rate < float("inf"):
        raise ConfigError(f"--rate must be a positive number of samples per second, not {rate}")
    store.ensure_absent(release, force=force)
    profiles: list[Profile] = []
    for path in files:
        if not path.is_file():
            # A directory, FIFO or device is refused by name: reading one could block forever.
            raise InputError(path, "not a regular file" if path.exists() else "no such file")
        try:
            found = read_profiles(path, rate_hz=rate)
        except MemoryError:
            # Input sizes are not capped (a gzip'd file can expand a thousandfold); under a
            # memory limit the file is refused by name rather than with a traceback.
            raise InputError(path, "too large to read into the memory available") from None
        if not found or any(profile.total == 0 for _, profile in found):
            raise InputError(path, "holds no samples")
        profiles.extend(profile for _, profile in found)
    commit, dirty = git_state(Path.cwd())
    info = ReleaseInfo(
        name=release, created=utc_now(), rate_hz=rate, command=None, git_commit=commit,
        git_dirty=dirty, host=host_name(), source="import",
    )  # fmt: skip
    with store.writer(release, force=force) as writer:
        for profile in profiles:
            wall = profile.total / rate if rate else None
            writer.add_run(profile, RunInfo(profile.total, wall, None))
        writer.commit(info)
    note(f"archived {release}: {len(profiles)} runs, {sum(p.total for p in profiles)} samples")
