"""The archive's cache of parsed and normalised runs: always equal to reading the run files."""

from __future__ import annotations

import gzip
import hashlib
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from builders import profile

from flamediff.archive import CACHE_DIR, Archive, utc_now
from flamediff.archive import cache as cache_module
from flamediff.archive.cache import decode, encode
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
    assert cache_files(archive) == ["run-01.normalised.stacks", "run-02.normalised.stacks"]
    normalised = archive.load("v1", normalised=True).profiles
    assert [p.counts for p in normalised] == [normalise(r).counts for r in RUNS]
    assert [p.counts for p in archive.load("v1").profiles] == [r.counts for r in RUNS]
    assert cache_files(archive) == [
        "run-01.normalised.stacks",
        "run-01.stacks",
        "run-02.normalised.stacks",
        "run-02.stacks",
    ]
    assert [p.counts for p in archive.load("v1").profiles] == [r.counts for r in RUNS]


def test_without_a_cache_the_run_files_are_parsed_and_the_cache_comes_back(tmp_path: Path) -> None:
    archive = store(tmp_path)
    for path in (archive.root / "v1" / CACHE_DIR).iterdir():
        path.unlink()
    assert [p.counts for p in archive.load("v1").profiles] == [r.counts for r in RUNS]
    assert cache_files(archive) == ["run-01.stacks", "run-02.stacks"]


def test_a_run_file_changed_after_caching_is_read_as_it_is_now(tmp_path: Path) -> None:
    archive = store(tmp_path)
    with gzip.open(archive.root / "v1" / "run-02.folded.gz", "wt") as stream:
        stream.write("main (a.py:1) 4\n")
    for normalised in (False, True):
        with pytest.raises(ArchiveError, match=r"run-02\.folded\.gz: not the run file archived"):
            archive.load("v1", normalised=normalised)


@pytest.mark.parametrize(
    "damage", [b"", b"garbage", b"flamediff run cache 1 x\n", b"flamediff stacks 3\n" * 9]
)
def test_a_damaged_cache_entry_is_ignored_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    archive = store(tmp_path)
    entry = archive.root / "v1" / CACHE_DIR / "run-01.stacks"
    entry.write_bytes(damage)
    assert archive.load("v1").profiles[0].counts == RUNS[0].counts
    assert entry.read_bytes() != damage


@pytest.mark.parametrize("variant", ["", ".normalised"])
def test_a_valid_header_over_damaged_data_is_ignored(tmp_path: Path, variant: str) -> None:
    archive = store(tmp_path)
    archive.load("v1")  # writes the parsed entries
    entry = archive.root / "v1" / CACHE_DIR / f"run-01{variant}.stacks"
    header = b"\n".join(entry.read_bytes().split(b"\n", 3)[:3]) + b"\n"
    entry.write_bytes(header + b"\x00not a table")
    assert archive.load("v1").profiles[0].counts == RUNS[0].counts
    assert archive.load("v1", normalised=True).profiles[0].counts == normalise(RUNS[0]).counts
    assert entry.read_bytes().startswith(header)
    assert not entry.read_bytes().endswith(b"not a table")


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
    assert f"run-01{variant}.stacks" in cache_files(archive)


def test_a_changed_normaliser_rebuilds_the_normalised_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = store(tmp_path)
    archive.load("v1", normalised=True)
    entry = archive.root / "v1" / CACHE_DIR / "run-01.normalised.stacks"
    before = entry.read_bytes()
    monkeypatch.setattr(cache_module, "_normaliser_source", lambda: "another normaliser")
    loaded = archive.load("v1", normalised=True)
    assert [p.counts for p in loaded.profiles] == [normalise(r).counts for r in RUNS]
    assert entry.read_bytes() != before


# ---- an entry is verified, never trusted for what it says of itself ---------------------------


def entry_of(archive: Archive, run: str = "run-01", variant: str = ".normalised") -> Path:
    return archive.root / "v1" / CACHE_DIR / f"{run}{variant}.stacks"


def test_check_reads_every_cache_entry_and_names_a_damaged_one(tmp_path: Path) -> None:
    archive = store(tmp_path)
    archive.load("v1")  # the parsed entries too
    assert archive.check() == []
    entry = entry_of(archive, "run-02", "")
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0x10
    entry.write_bytes(bytes(data))
    assert archive.check() == [f"{entry}: damaged cache entry (ignored by every read)"]
    assert [p.counts for p in archive.load("v1").profiles] == [r.counts for r in RUNS]
    assert archive.check() == []  # the read rebuilt it


def test_check_catches_an_entry_forged_with_a_valid_digest(tmp_path: Path) -> None:
    archive = store(tmp_path)
    entry = entry_of(archive)
    data = entry.read_bytes()
    key = data[: data.index(b"\n", data.index(b"\n", len(b"flamediff stacks 3\n")) + 1) + 1]
    forged = profile("main;other 9", " 2")  # the same 11 samples, another function
    entry.write_bytes(encode(key, normalise(forged).table))
    assert archive.check() == [f"{entry}: cache entry differs from its run file"]


def crafted(key: bytes, names: int, name_bytes: int, stacks: int, frames: int, tail: bytes = b""):
    """An entry declaring these lengths over ``tail``, its digest recomputed as an attacker can."""
    body = key + struct.pack("<QQQQ", names, name_bytes, stacks, frames) + tail
    return body + hashlib.sha256(body).digest()


@pytest.mark.parametrize(
    "lengths",
    [
        (2**31 - 1, 0, 0, 0),
        (1, 2**62, 0, 0),
        (0, 0, 2**61, 0),
        (0, 0, 0, 2**62),
        (2**64 - 1, 2**64 - 1, 2**64 - 1, 2**64 - 1),
    ],
)
def test_declared_lengths_beyond_the_entry_allocate_nothing(lengths) -> None:
    key = b"flamediff stacks 3\nparsed parsed\n" + b"0" * 64 + b"\n"
    data = crafted(key, *lengths, tail=b"\x01" * 64)
    tracemalloc.start()
    try:
        assert decode(data, key, samples=1) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024  # the entry is 200 bytes; nothing near what it declares


def test_counts_that_wrap_past_int64_to_the_right_total_are_refused() -> None:
    from flamediff.stacks import StackTable

    key = b"flamediff stacks 3\nparsed parsed\n" + b"0" * 64 + b"\n"
    wrapping = np.array([2**62, 2**62, 2**62, 2**62 + 5], dtype=np.int64)  # sums to 5 in int64
    assert int(wrapping.sum()) == 5
    table = StackTable(
        ("a", "b", "c", "d"),
        np.arange(4, dtype=np.int32),
        np.arange(5, dtype=np.int64),
        wrapping,
    )
    assert decode(encode(key, table), key, samples=5) is None
    honest = StackTable(table.names, table.frames, table.offsets, np.array([1, 1, 1, 2]))
    decoded = decode(encode(key, honest), key, samples=5)
    assert decoded is not None
    assert decoded.to_counts() == honest.to_counts()


def test_names_of_any_text_round_trip_through_an_entry() -> None:
    from flamediff.stacks import StackTable

    counts = {("", "a;b", "\x00", "\ud800 lone surrogate", "é" * 300): 3, ("z",): 1}
    table = StackTable.from_counts(counts)
    key = b"flamediff stacks 3\nparsed parsed\n" + b"0" * 64 + b"\n"
    decoded = decode(encode(key, table), key, samples=4)
    assert decoded is not None
    assert decoded.to_counts() == counts
