"""The release pipeline for real: py-spy captures of the sample load, then the gate."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from builders import SAMPLES, git

from flamediff.archive import Archive

pytestmark = [pytest.mark.pyspy, pytest.mark.slow]

LOAD = SAMPLES / "load"
# About 1.5 s a run: v1's apply_discounts gets ~25 samples a run, so the regression stays
# clear even when a busy machine halves the samples of some runs; and functions' run-to-run
# noise stays near the few percent the gate's error rates were measured at (0.6 s runs,
# dominated by py-spy attaching and the load's short phases, measured 31%).
ORDERS = "50000"


def flamediff(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flamediff", *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


def test_two_captures_of_the_same_code_pass_the_gate(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    load = f"{sys.executable} {LOAD / 'v1' / 'load.py'} {ORDERS}"
    result = flamediff(
        "compare",
        "a1",
        "a2",
        "--base-cmd",
        load,
        "--head-cmd",
        load,
        "--archive",
        str(archive),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert Archive(archive).names() == ["a1", "a2"]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    significant = [
        row["function"]
        for row in report["rows"]
        if row["significant"] and row["function"] != "<load>"
    ]
    # Benjamini-Hochberg at q = 0.05 bounds the chance of any false discovery among
    # identical code to 5%: one chance finding is possible, a block is not.
    assert len(significant) <= 1, significant
    assert report["gate"]["verdict"] in ("pass", "warn")


def test_release_re_measures_the_previous_commit_and_blocks_the_regression(
    tmp_path: Path,
) -> None:
    """A project whose load is one command at every commit: `release` checks the previous
    release's commit out into a worktree and captures it beside the head."""
    project, archive, out = tmp_path / "project", tmp_path / "archive", tmp_path / "out"
    shutil.copytree(LOAD / "v1", project, ignore=shutil.ignore_patterns("__pycache__"))
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-qm", "v1")
    command = ["--", sys.executable, "load.py", ORDERS]
    first = flamediff("release", "v1", "--archive", str(archive), *command, cwd=project)
    assert first.returncode == 0, first.stderr
    shutil.copytree(
        LOAD / "v2", project, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    git(project, "commit", "-qam", "v2")
    # --calls: one more run of each side under a tracer, the base's in its checkout.
    second = flamediff(
        "release", "v2", "--calls", "--out", str(out), "--archive", str(archive), *command,
        cwd=project,
    )  # fmt: skip
    assert second.returncode == 1, second.stdout + second.stderr
    assert "v1 re-measured beside the head in this job (from a checkout of" in second.stderr
    # stdout is the table a person reads; report.md holds the Markdown.
    row = next(
        line for line in second.stdout.splitlines() if line.lstrip().startswith("apply_discounts")
    )
    assert "*" in row
    report = json.loads((out / "report.json").read_text())
    assert report["gate"]["verdict"] == "block"
    blocked = [finding["function"] for finding in report["gate"]["blocking"]]
    assert any(name.startswith("apply_discounts") for name in blocked), blocked
    # v2 made apply_discounts itself slower, not more often called: the exact counts say so.
    reason = next(
        finding["reason"]
        for finding in report["gate"]["blocking"]
        if finding["function"].startswith("apply_discounts")
    )
    assert re.search(r"called as often \((\d[\d,]*) -> \1 calls\), \+\d+% time per call", reason)
    assert Archive(archive).calls("v2") is not None
    assert Archive(archive).calls("v1") is None  # re-measured, not archived again
    assert (out / "flamegraph.svg").is_file()
    assert (out / "report.md").read_text().startswith("### v1 → v2")
    # The checkout is gone and the archive holds the two releases, each captured once.
    assert (
        subprocess.run(
            ["git", "worktree", "list"], cwd=project, capture_output=True, text=True, check=True
        ).stdout.count("\n")
        == 1
    )
    assert Archive(archive).names() == ["v1", "v2"]
    accepted = flamediff("gate", "--justify", "rules engine rewrite", "--archive", str(archive))
    assert accepted.returncode == 0, accepted.stderr
    assert "rules engine rewrite" in accepted.stdout
