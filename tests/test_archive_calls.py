"""A release's call counts in the archive: kept beside its runs, checked, carried by a copy."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from builders import profile, run_cli

from flamediff.archive import Archive, utc_now
from flamediff.errors import ArchiveError
from flamediff.model import CallCounts, ReleaseInfo, RunInfo
from flamediff.pipeline.copy import copy_archive
from flamediff.pipeline.pair import load_pair

CALLS = CallCounts(
    {(("main", "/app/load.py"), ("parse", "/app/parser.py")): 3_480}, processes=1, wall_seconds=2.5
)


def store(archive: Archive, name: str, calls: CallCounts | None = CALLS) -> None:
    with archive.writer(name) as writer:
        for _ in range(3):
            writer.add_run(profile("main;parse 5", "main 2"), RunInfo(7, 0.1, 0))
        if calls is not None:
            writer.add_calls(calls)
        writer.commit(ReleaseInfo(name=name, created=utc_now(), rate_hz=100.0))


def test_call_counts_are_archived_beside_the_runs_and_read_back_for_analysis(
    tmp_path: Path,
) -> None:
    archive = Archive(tmp_path / "archive")
    store(archive, "v1")
    store(archive, "v2", calls=None)
    document = json.loads((tmp_path / "archive" / "v1" / "release.json").read_text())
    assert document["calls"]["file"] == "calls.json.gz"
    assert archive.calls("v1") == CALLS
    assert archive.calls("v2") is None
    pair = load_pair(archive, "v1", "v2")
    assert (pair.base.calls, pair.head.calls) == (CALLS, None)
    assert archive.check() == []


def test_call_counts_changed_after_the_capture_are_refused_and_named_by_check(
    tmp_path: Path,
) -> None:
    archive = Archive(tmp_path / "archive")
    store(archive, "v1")
    file = tmp_path / "archive" / "v1" / "calls.json.gz"
    edited = json.loads(gzip.decompress(file.read_bytes()))
    edited["edges"][0][4] = 1
    file.write_bytes(gzip.compress(json.dumps(edited).encode()))
    with pytest.raises(ArchiveError, match=r"v1/calls.json.gz: not the call counts archived"):
        archive.calls("v1")
    assert any("calls.json.gz: not the call counts archived" in p for p in archive.check())
    file.unlink()
    assert any("calls.json.gz: call counts missing" in p for p in Archive(archive.root).check())


def test_a_copy_carries_the_call_counts_byte_for_byte(tmp_path: Path, capsys) -> None:
    source, target = Archive(tmp_path / "one"), Archive(tmp_path / "two")
    store(source, "v1")
    store(source, "v2", calls=None)
    copy_archive(source, target)
    assert target.read_calls_file("v1") == source.read_calls_file("v1")
    assert target.calls("v2") is None
    # Run again, the copy finds the same release there and writes nothing.
    code, _, err = run_cli(capsys, "archive", "copy", str(source.root), str(target.root))
    assert code == 0, err
    assert "2 already there" in err


def test_a_release_json_naming_a_run_file_as_its_call_counts_is_damaged(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    store(archive, "v1")
    path = tmp_path / "archive" / "v1" / "release.json"
    document = json.loads(path.read_text())
    document["calls"]["file"] = document["runs"][0]["file"]
    path.write_text(json.dumps(document))
    with pytest.raises(ArchiveError, match="'calls' must name a file of the release folder"):
        Archive(tmp_path / "archive").info("v1")
