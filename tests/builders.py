"""Small builders that stand in for captured profiles and archived releases in tests."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from flamediff.model import Profile, Release, ReleaseInfo, RunInfo

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_profiles"


def profile(*lines: str) -> Profile:
    """``profile("a;b 3", "a;c 1")``: folded lines, root first, count last."""
    pairs = []
    for line in lines:
        stack, _, count = line.rpartition(" ")
        pairs.append((tuple(stack.split(";")) if stack else (), int(count)))
    return Profile.from_pairs(pairs)


def release(name: str, runs: Sequence[Profile], rate_hz: float | None = 100.0) -> Release:
    """A release of the given runs, as if captured at ``rate_hz``."""
    infos = tuple(RunInfo(p.total, p.total / rate_hz if rate_hz else None, 0) for p in runs)
    info = ReleaseInfo(name=name, created="2026-01-01T00:00:00Z", rate_hz=rate_hz, runs=infos)
    return Release(info, tuple(runs))


def sample_runs(version: str) -> list[Path]:
    """The captured runs of a sample release (``v1``, ``v2``), in order."""
    return sorted((SAMPLES / version).glob("run-*.folded"))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run flamediff's CLI in-process: (exit code, stdout, stderr)."""
    from flamediff.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def import_release(capsys, archive: Path, name: str, files: Sequence[Path], rate="500") -> None:
    code, _, err = run_cli(
        capsys, "import", name, *map(str, files), "--rate", rate, "--archive", str(archive)
    )
    assert code == 0, err


def git(folder: Path, *args: str) -> str:
    """Run git in ``folder`` as a throwaway author; its output, stripped."""
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=folder, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
