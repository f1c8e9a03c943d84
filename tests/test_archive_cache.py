"""The archive's cache of parsed and normalised runs: always equal to reading the run files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from builders import profile

from flamediff.archive import CACHE_DIR, Archive, utc_now
from flamediff.archive import cache as cache_module
from flamediff.errors import ArchiveError
from flamediff.model import ReleaseInfo, RunInfo
from flamediff.processors import normalise

RUNS = [
    profile("main (a.py:1);work (a.py:5) 7", "main (a.py:1);work (a.py:6) 2", " 2"),
    profile('thread (0x7F01);"MainThread";main (a.py:1) 4'),
]


def store(root: Path) -> Archive:
    archive = Archive(root)
    with archive.writer("v1") as writer:
        for run in RUNS:
            writer.add_run(run, RunInfo(run.total, 1.0, 0))
        writer.commit(ReleaseInfo(name="v1", created=utc_now(), rate_hz=100.0))
    return archive


def cache_files(archive: Archive) -> list[str]:
    return sorted(path.name for path in (archive.root / "v1" / CACHE_DIR).iterdir())


def test_writing_a_run_caches_it_normalised_and_a_plain_read_caches_it_parsed(
    tmp_path: Path,
) -> None:
    archive = store(tmp_path)
    assert cache_files(archive) == ["run-01.normalised.marshal", "run-02.normalised.marshal"]
    normalised = archive.load("v1", normalised=True).profiles
    assert [p.counts for p in normalised] == [normalise(r).counts for r in RUNS]
    assert [p.counts for p in archive.load("v1").profiles] == [r.counts for r in RUNS]
    assert cache_files(archive) == [
        "run-01.marshal",
        "run-01.normalised.marshal",
        "run-02.marshal",
        "run-02.normalised.marshal",
    ]
    assert [p.counts for p in archive.load("v1").profiles] == [r.counts for r in RUNS]


def test_without_a_cache_the_run_files_are_parsed_and_the_cache_comes_back(tmp_path: Path) -> None:
    archive = store(tmp_path)
    for path in (archive.root / "v1" / CACHE_DIR).iterdir():
        path.unlink()
    assert [p.counts for p in archive.load("v1").profiles] == [r.counts for r in RUNS]
    assert cache_files(archive) == ["run-01.marshal", "run-02.marshal"]


def test_a_run_file_changed_after_caching_is_read_as_it_is_now(tmp_path: Path) -> None:
    archive = store(tmp_path)
    with gzip.open(archive.root / "v1" / "run-02.folded.gz", "wt") as stream:
        stream.write("main (a.py:1) 5\n")
    with pytest.raises(ArchiveError, match=r"holds 5 samples, release\.json says 4"):
        archive.load("v1")


@pytest.mark.parametrize("damage", [b"", b"garbage", b"flamediff run cache 1 x\n"])
def test_a_damaged_cache_entry_is_ignored_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    archive = store(tmp_path)
    entry = archive.root / "v1" / CACHE_DIR / "run-01.marshal"
    entry.write_bytes(damage)
    assert archive.load("v1").profiles[0].counts == RUNS[0].counts
    assert entry.read_bytes() != damage


@pytest.mark.parametrize("variant", ["", ".normalised"])
def test_a_valid_header_over_damaged_data_is_ignored(tmp_path: Path, variant: str) -> None:
    archive = store(tmp_path)
    archive.load("v1")  # writes the parsed entries
    entry = archive.root / "v1" / CACHE_DIR / f"run-01{variant}.marshal"
    header = b"\n".join(entry.read_bytes().split(b"\n", 2)[:2]) + b"\n"
    entry.write_bytes(header + b"\x00not zlib, not marshal")
    assert archive.load("v1").profiles[0].counts == RUNS[0].counts
    assert archive.load("v1", normalised=True).profiles[0].counts == normalise(RUNS[0]).counts
    assert entry.read_bytes().startswith(header)
    assert not entry.read_bytes().endswith(b"not marshal")


def test_an_archive_where_no_cache_can_be_written_still_loads(tmp_path: Path) -> None:
    archive = store(tmp_path)
    folder = archive.root / "v1" / CACHE_DIR
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_text("not a folder")  # every cache write now fails
    assert [p.counts for p in archive.load("v1", normalised=True).profiles] == [
        normalise(r).counts for r in RUNS
    ]


@pytest.mark.parametrize("line_level", [False, True])
def test_normalised_loads_equal_normalising_the_loaded_runs(
    tmp_path: Path, line_level: bool
) -> None:
    archive = store(tmp_path)
    expected = [normalise(r, line_level=line_level).counts for r in RUNS]
    for _ in range(2):  # computed and cached, then read from the cache
        loaded = archive.load("v1", normalised=True, line_level=line_level)
        assert [p.counts for p in loaded.profiles] == expected
    variant = ".normalised-lines" if line_level else ".normalised"
    assert f"run-01{variant}.marshal" in cache_files(archive)


def test_a_changed_normaliser_rebuilds_the_normalised_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = store(tmp_path)
    archive.load("v1", normalised=True)
    entry = archive.root / "v1" / CACHE_DIR / "run-01.normalised.marshal"
    before = entry.read_bytes()
    monkeypatch.setattr(cache_module, "_normaliser_source", lambda: "another normaliser")
    loaded = archive.load("v1", normalised=True)
    assert [p.counts for p in loaded.profiles] == [normalise(r).counts for r in RUNS]
    assert entry.read_bytes() != before
