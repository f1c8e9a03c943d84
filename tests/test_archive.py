from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from builders import profile

from flamediff.archive import FORMAT_VERSION, Archive, utc_now
from flamediff.errors import ArchiveError
from flamediff.model import Justification, ProfilerInfo, ReleaseInfo, RunInfo

RUNS = [profile("main (a.py:1);work (a.py:5) 7", " 2"), profile("main (a.py:1) 4")]


def store(archive: Archive, name: str, *, force: bool = False) -> None:
    with archive.writer(name, force=force) as writer:
        for run in RUNS:
            writer.add_run(run, RunInfo(run.total, 1.5, 0))
        writer.commit(ReleaseInfo(name=name, created=utc_now(), rate_hz=100.0))


def visible(archive: Archive) -> list[str]:
    return sorted(p.name for p in archive.root.iterdir() if p.name != ".lock")


def test_a_release_round_trips_with_its_runs_and_metadata(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a")
    store(archive, "v1")
    loaded = archive.load("v1")
    assert [dict(p.counts) for p in loaded.profiles] == [dict(r.counts) for r in RUNS]
    assert [run.samples for run in loaded.info.runs] == [9, 4]
    assert loaded.info.rate_hz == 100.0
    document = json.loads((archive.root / "v1" / "release.json").read_text())
    assert document["format_version"] == FORMAT_VERSION
    assert (archive.root / "v1" / "release.json").read_text().endswith("}\n")


def test_release_json_records_the_profiler_and_each_run_file_by_its_sha256(
    tmp_path: Path,
) -> None:
    archive = Archive(tmp_path)
    profiler = ProfilerInfo("py-spy", "0.4.1", (("rate_hz", "100"), ("native", "true")))
    with archive.writer("v1") as writer:
        writer.add_run(RUNS[0], RunInfo(RUNS[0].total, 1.5, 0, cpu_seconds=1.25))
        writer.add_run(RUNS[1], RunInfo(RUNS[1].total, 1.5, 0, probe_seconds=0.5))
        writer.commit(ReleaseInfo(name="v1", created=utc_now(), profiler=profiler))
    document = json.loads((tmp_path / "v1" / "release.json").read_text())
    assert document["format_version"] == 2
    assert "py_spy_version" not in document
    assert document["profiler"] == {
        "name": "py-spy",
        "version": "0.4.1",
        "options": [["rate_hz", "100"], ["native", "true"]],
    }
    for run in document["runs"]:
        data = (tmp_path / "v1" / run["file"]).read_bytes()
        assert run["sha256"] == hashlib.sha256(data).hexdigest()
    info = archive.info("v1")
    assert info.profiler == profiler
    assert [(r.cpu_seconds, r.probe_seconds) for r in info.runs] == [(1.25, None), (None, 0.5)]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"sha256": "ABC"}, "runs[0].sha256 must be 64 hex digits, not 'ABC'"),
        ({"sha256": None}, "runs[0].sha256 must be 64 hex digits, not None"),
        ({"sha256": "a" * 64 + "\n"}, "runs[0].sha256 must be 64 hex digits"),
    ],
)
def test_a_format_2_run_without_a_valid_sha256_is_damaged(
    tmp_path: Path, edit: dict, reason: str
) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")
    path = tmp_path / "v1" / "release.json"
    document = json.loads(path.read_text())
    document["runs"][0].update(edit)
    path.write_text(json.dumps(document))
    with pytest.raises(ArchiveError, match=re.escape(reason)):
        archive.info("v1")


def test_order_is_capture_order_not_name_order(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    for name in ("v10", "v2", "v1"):
        store(archive, name)
    assert archive.names() == ["v10", "v2", "v1"]
    assert archive.previous("v2") == "v10"
    assert archive.previous("v10") is None
    assert archive.latest() == "v1"


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")

    def interrupted_capture() -> None:
        with archive.writer("v2") as writer:
            writer.add_run(RUNS[0], RunInfo(RUNS[0].total))
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_capture()
    assert visible(archive) == ["v1"]
    assert archive.names() == ["v1"]


def test_an_existing_name_is_refused_unless_forced(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")
    with pytest.raises(ArchiveError, match=r"already exists.*--force"):
        store(archive, "v1")
    store(archive, "v1", force=True)
    assert archive.names() == ["v1"]
    assert visible(archive) == ["v1"]


@pytest.mark.parametrize(
    "name", ["", "../x", "a/b", "..", ".hidden", "a\x00b", "tab\there", "x" * 101, "new\nline"]
)
def test_hostile_release_names_are_refused(tmp_path: Path, name: str) -> None:
    archive = Archive(tmp_path / "a")
    with pytest.raises(ArchiveError, match="invalid release name"):
        store(archive, name)
    assert not (tmp_path / "x").exists()


def test_leftovers_of_a_killed_writer_are_cleaned_by_the_next(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    dead_pid = 2**22 + 12345  # above the default pid_max: never a live process
    stale = tmp_path / f".tmp-{dead_pid}-abcd"
    stale.mkdir()
    (stale / "run-01.folded.gz").write_bytes(b"partial")
    mine = tmp_path / f".tmp-{os.getpid()}-live"
    mine.mkdir()
    store(archive, "v1")
    assert not stale.exists()
    assert mine.exists()  # a writer that still runs keeps its folder


def test_justifications_are_appended_and_read_back(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")
    archive.add_justification("v1", Justification("v0", "bigger cache, accepted", "2026-01-02"))
    (accepted,) = archive.info("v1").justifications
    assert accepted.reason == "bigger cache, accepted"


def test_damaged_releases_are_reported_and_the_others_stay_usable(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    for name in ("v1", "v2", "v3", "v4"):
        store(archive, name)
    (tmp_path / "v2" / "release.json").unlink()
    (tmp_path / "v3" / "release.json").write_text("{ not json")
    document = json.loads((tmp_path / "v4" / "release.json").read_text())
    document["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "v4" / "release.json").write_text(json.dumps(document))
    good, damaged = archive.scan()
    assert [info.name for _, info in good] == ["v1"]
    reasons = {d.name: d.reason for d in damaged}
    assert "missing" in reasons["v2"]
    assert "not valid JSON" in reasons["v3"]
    assert "newer flamediff" in reasons["v4"]
    assert archive.load("v1").info.name == "v1"


def test_check_names_a_truncated_run_file(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")
    run = tmp_path / "v1" / "run-01.folded.gz"
    run.write_bytes(run.read_bytes()[:12])
    problems = archive.check()
    assert len(problems) == 1
    assert str(run) in problems[0]
    with pytest.raises(ArchiveError, match=r"run-01\.folded\.gz: not the run file archived"):
        archive.load("v1")


def test_check_notices_counts_that_disagree_with_release_json(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")
    with gzip.open(tmp_path / "v1" / "run-02.folded.gz", "wt") as stream:
        stream.write("main (a.py:1) 5\n")
    document = json.loads((tmp_path / "v1" / "release.json").read_text())
    for run in document["runs"]:
        del run["sha256"]  # as a release of format 1 would be
    document["format_version"] = 1
    (tmp_path / "v1" / "release.json").write_text(json.dumps(document))
    (problem,) = archive.check()
    assert "holds 5 samples, release.json says 4" in problem


def test_a_run_file_edited_with_its_sample_count_unchanged_is_refused(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")
    # Same 4 samples, another function: only the run file's SHA-256 tells.
    with gzip.open(tmp_path / "v1" / "run-02.folded.gz", "wt") as stream:
        stream.write("main (a.py:1);innocent (a.py:9) 4\n")
    run = tmp_path / "v1" / "run-02.folded.gz"
    message = f"{run}: not the run file archived (its SHA-256 differs from the one release.json"
    (problem,) = archive.check()
    assert problem.startswith(message)
    for normalised in (False, True):
        with pytest.raises(ArchiveError) as raised:
            archive.load("v1", normalised=normalised)
        assert str(raised.value).startswith(message)


def test_unknown_release_names_the_latest(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    store(archive, "v1")
    with pytest.raises(ArchiveError, match=r"no release 'v9'.*latest: v1"):
        archive.load("v9")


def test_a_release_is_on_disk_before_it_is_visible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run files, release.json and their folder are synced before the rename, the archive after."""
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, Path.rename

    def fsync(handle: int) -> None:
        events.append(("sync", str(Path(f"/proc/self/fd/{handle}").readlink())))
        real_fsync(handle)

    def rename(self: Path, target: Path) -> Path:
        events.append(("rename", str(target)))
        return real_rename(self, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Path, "rename", rename)
    root = tmp_path / "archive"
    store = Archive(root)
    run = profile("main;a 3")
    with store.writer("v1") as writer:
        writer.add_run(run, RunInfo(run.total, 1.0, 0))
        writer.add_run(run, RunInfo(run.total, 1.0, 0))
        writer.commit(ReleaseInfo(name="v1", created=utc_now(), rate_hz=100.0))
    visible = events.index(("rename", str(root / "v1")))
    synced_before = {Path(path).name for kind, path in events[:visible] if kind == "sync"}
    assert {"run-01.folded.gz", "run-02.folded.gz"} <= synced_before
    assert any(name.endswith("-release.json") for name in synced_before)  # before its replace
    assert any(name.startswith(".tmp-") and "." not in name[1:] for name in synced_before)
    assert ("sync", str(root)) in events[visible:]


def test_a_release_replaced_while_it_is_read_is_read_again_not_called_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # import --force in another process swaps the release between this reader's read of
    # release.json and its read of the run files: the runs no longer match the document it
    # holds. That is a replacement, not damage: the reader reads the new release whole.
    archive = Archive(tmp_path)
    store(archive, "v1")
    real_read = archive.storage.read
    replaced = []

    def read(name: str, file: str) -> bytes:
        data = real_read(name, file)
        if file == "release.json" and not replaced:
            replaced.append(True)
            other = Archive(tmp_path)
            with other.writer("v1", force=True) as writer:
                writer.add_run(profile("main (a.py:1);other (b.py:2) 9"), RunInfo(9, 2.0, 0))
                writer.commit(ReleaseInfo(name="v1", created=utc_now(), rate_hz=250.0))
        return data

    monkeypatch.setattr(archive.storage, "read", read)
    release = archive.load("v1")
    assert release.info.rate_hz == 250.0
    assert [p.total for p in release.profiles] == [9]
    assert replaced == [True]
