"""Write: a run into the archive (serialise and compress), the step `import` and `capture` pay."""

from __future__ import annotations

from pathlib import Path

from flamediff.archive import Archive
from flamediff.formats import write_diff_folded
from flamediff.model import Profile, RunInfo


def test_archive_add_run(benchmark, tmp_path: Path, pair_profiles: tuple[Profile, Profile]) -> None:
    archive = Archive(tmp_path)
    profile = pair_profiles[0]

    def add_run() -> None:
        # The writer's temporary folder is removed on exit: nothing piles up between rounds.
        with archive.writer("base") as writer:
            writer.add_run(profile, RunInfo(profile.total))

    benchmark(add_run)


def test_write_diff_folded(benchmark, pair_normalised: tuple[Profile, Profile]) -> None:
    text = benchmark(write_diff_folded, *pair_normalised)
    assert text.endswith("\n")
