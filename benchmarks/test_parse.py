"""Parse: folded text into a profile, from a file and from the archive (cached and not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import data
from flamediff.archive import Archive
from flamediff.formats import read_profiles
from flamediff.model import Profile, RunInfo


@pytest.fixture(scope="module")
def archive(
    tmp_path_factory: pytest.TempPathFactory, pair_profiles: tuple[Profile, Profile]
) -> Archive:
    """The base profile archived as a release of one run, as `flamediff import` stores it."""
    store = Archive(tmp_path_factory.mktemp("archive"))
    profile = pair_profiles[0]
    with store.writer("base") as writer:
        writer.add_run(profile, RunInfo(profile.total))
        writer.commit(data.as_release("base", [profile]).info)
    return store


def test_parse_folded_file(benchmark, pair_paths: tuple[Path, Path]) -> None:
    found = benchmark(read_profiles, pair_paths[0])
    assert len(found[0][1]) == data.PAIR_STACKS


def test_parse_archived_run_file(benchmark, archive: Archive) -> None:
    """The run file itself, compressed: what a first read or `flamediff check` pays."""
    found = benchmark(read_profiles, next((archive.root / "base").glob("run-01.*")))
    assert len(found[0][1]) == data.PAIR_STACKS


def test_archive_load(benchmark, archive: Archive) -> None:
    """A release as `export` and `check` read it: through the parsed-run cache."""
    release = benchmark(archive.load, "base")
    assert len(release.profiles[0]) == data.PAIR_STACKS


def test_archive_load_normalised(benchmark, archive: Archive) -> None:
    """A release as `diff` and `gate` read it: normalised, in columns, from the cache."""
    release = benchmark(archive.load, "base", normalised=True)
    assert release.profiles[0].total == release.info.runs[0].samples
