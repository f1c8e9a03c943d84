"""A newer flamediff reads the archives older ones wrote: format 1, frozen in tests/data.

The archive under tests/data/archive/format-1/ was written once and is never regenerated
(see the README there); every command that reads an archive is run on a copy of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from builders import REPO

from flamediff.archive import Archive
from flamediff.cli import main
from flamediff.formats import read_profiles

FROZEN = REPO / "tests" / "data" / "archive" / "format-1"
EXPECTED = REPO / "tests" / "data" / "archive" / "format-1.expected"
RELEASES = {"1.0.0": 6, "1.1.0": 6, "1.1.1": 5}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    # Reading writes a parse cache beside the runs: never into the frozen files.
    return Path(shutil.copytree(FROZEN, tmp_path / "archive"))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_frozen_files_are_format_1() -> None:
    for name in RELEASES:
        document = json.loads((FROZEN / name / "release.json").read_text(encoding="utf-8"))
        assert document["format_version"] == 1
    assert not list(FROZEN.rglob(".cache")), "derived caches do not belong to the fixture"


def test_every_release_reads_back_as_exported_when_written(archive: Path) -> None:
    store = Archive(archive)
    assert sorted(store.names()) == sorted(RELEASES)
    assert store.names().index("1.0.0") < store.names().index("1.1.0")
    for name, runs in RELEASES.items():
        release = store.load(name)
        assert len(release.profiles) == runs
        assert [run.samples for run in release.info.runs] == [p.total for p in release.profiles]
        merged: dict[tuple[str, ...], int] = {}
        for profile in release.profiles:
            for stack, count in profile:
                merged[stack] = merged.get(stack, 0) + count
        ((_, expected),) = read_profiles(EXPECTED / f"{name}.folded")
        assert merged == dict(expected.counts), name


def test_metadata_of_a_captured_release(archive: Path) -> None:
    info = Archive(archive).info("1.1.0")
    assert info.created == "2026-02-02T09:00:00Z"
    assert info.rate_hz == 100.0
    assert info.command == ("python", "bench/load.py", "20000")
    assert info.git_commit == "2a1b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
    assert info.git_dirty is False
    assert (info.python_version, info.host) == ("3.11.9", "ci-runner-7")
    # Format 1 named only py-spy's version: the profiler is py-spy at that version.
    assert info.profiler is not None
    assert (info.profiler.name, info.profiler.version) == ("py-spy", "0.4.0")
    assert info.source == "capture"
    assert [run.wall_seconds for run in info.runs][:2] == [8.84, 8.95]
    (accepted,) = info.justifications
    assert accepted.base == "1.0.0"
    assert accepted.reason.startswith("Discounts are now checked")


def test_the_smallest_release_json_reads_with_defaults(archive: Path) -> None:
    info = Archive(archive).info("1.1.1")
    assert info.rate_hz is None
    assert info.command is None
    assert info.git_commit is None
    assert info.source == "capture"
    assert info.justifications == ()
    assert all(run.wall_seconds is None and run.exit_status is None for run in info.runs)


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "--format", "json"],
        ["list", "--format", "csv"],
        ["show", "1.1.1"],
        ["diff", "1.0.0", "1.1.0", "--format", "markdown"],
        ["diff", "1.1.0", "1.1.1", "--format", "json"],
        ["export", "1.0.0", "--format", "speedscope"],
        ["check"],
    ],
    ids=" ".join,
)
def test_every_reading_command_works_on_it(archive: Path, capsys, args: list[str]) -> None:
    code, out, err = cli(capsys, *args, "--archive", str(archive))
    assert code == 0, err
    assert out or "all sound" in err


def test_the_gate_honours_the_recorded_justification(archive: Path, capsys) -> None:
    code, out, _ = cli(capsys, "gate", "1.0.0", "1.1.0", "--archive", str(archive))
    assert code == 0
    assert "verdict: accepted" in out
    assert "apply_discounts (shop/pricing.py)" in out
    code, out, _ = cli(
        capsys, "diff", "1.0.0", "1.1.0", "--format", "json", "--archive", str(archive)
    )
    document = json.loads(out)
    assert document["gate"]["verdict"] == "accepted"
    assert [f["function"] for f in document["gate"]["blocking"]] == [
        "apply_discounts (shop/pricing.py)"
    ]


def test_a_newer_flamediff_writes_beside_format_1(archive: Path, capsys) -> None:
    code, _, err = cli(
        capsys, "import", "1.2.0", str(EXPECTED / "1.1.1.folded"), "--archive", str(archive)
    )
    assert code == 0, err
    store = Archive(archive)
    assert store.names()[-1] == "1.2.0"
    assert cli(capsys, "check", "--archive", str(archive))[0] == 0
