"""capture, compare, release and gate writing to an s3:// archive, end to end.

The runs are replayed from the sample load (the runner is the seam tests use, as in
tests/cli/); everything after it, archiving on the S3 server included, is flamediff's own.
One real py-spy capture to the bucket closes the file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from builders import REPO, SAMPLES, run_cli, sample_runs

from flamediff.archive import Archive
from flamediff.capture import runners
from flamediff.capture.replay import ReplayRunner
from flamediff.formats import read_profiles


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-- python load-v1` replays the sample runs of v1; `load-v2` those of v2."""
    files_of = {"load-v1": sample_runs("v1"), "load-v2": sample_runs("v2")}

    def paths_of(command: Sequence[str]) -> Sequence[Path]:
        return files_of[command[-1]]

    monkeypatch.setitem(runners.PROFILERS, "py-spy", ReplayRunner.factory(paths_of))


def test_capture_archives_the_runs_in_the_bucket(bucket: str, capsys, loads) -> None:
    archive = f"{bucket}/archive"
    code, _, err = run_cli(
        capsys, "capture", "v1", "--runs", "3", "--warmup", "1", "--archive", archive,
        "--", "python", "load-v1",
    )  # fmt: skip
    assert code == 0, err
    assert "archived v1: 3 runs" in err
    kept = [dict(profile.counts) for profile in Archive(archive).load("v1").profiles]
    assert kept == [dict(read_profiles(path)[0][1].counts) for path in sample_runs("v1")[1:4]]


def test_compare_archives_both_releases_in_the_bucket_and_blocks(
    bucket: str, tmp_path: Path, capsys, loads
) -> None:
    archive, out = f"{bucket}/archive", tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "compare", "v1", "v2", "--base-cmd", "python load-v1", "--head-cmd",
        "python load-v2", "--archive", archive, "--out", str(out),
    )  # fmt: skip
    assert code == 1, stdout + err
    assert Archive(archive).names() == ["v1", "v2"]
    assert json.loads((out / "report.json").read_text())["gate"]["verdict"] == "block"


def test_release_then_a_justified_gate_on_the_bucket(bucket: str, tmp_path: Path, capsys, loads):
    archive, out = f"{bucket}/archive", tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "release", "v1", "--out", str(out / "v1"), "--archive", archive,
        "--", "python", "load-v1",
    )  # fmt: skip
    assert code == 0, err
    assert "no baseline" in stdout
    code, stdout, err = run_cli(
        capsys, "release", "v2", "--out", str(out / "v2"), "--archive", archive,
        "--", "python", "load-v2",
    )  # fmt: skip
    assert code == 1, stdout + err
    assert "v1 re-measured beside the head" in err
    assert Archive(archive).names() == ["v1", "v2"]
    assert len(Archive(archive).info("v1").runs) == 8  # the archived base kept its runs
    code, stdout, _ = run_cli(capsys, "gate", "--justify", "rules rewrite", "--archive", archive)
    assert code == 0
    assert "rules rewrite" in stdout
    (justification,) = Archive(archive).info("v2").justifications
    assert justification.reason == "rules rewrite"


@pytest.mark.pyspy
def test_a_real_py_spy_capture_lands_in_the_bucket(bucket: str, s3_env: dict[str, str]) -> None:
    import subprocess

    archive = f"{bucket}/archive"
    load = SAMPLES / "load" / "v1" / "load.py"
    result = subprocess.run(
        [sys.executable, "-m", "flamediff", "capture", "r1", "--runs", "1", "--warmup", "0",
         "--archive", archive, "--", sys.executable, str(load), "6000"],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, cwd=REPO,
        env=s3_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = Archive(archive).info("r1")
    assert len(info.runs) == 1
    assert all(run.samples > 0 for run in info.runs)
    assert all(profile.total > 0 for profile in Archive(archive).load("r1").profiles)
