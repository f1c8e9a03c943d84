"""Real py-spy captures of the sample load: what a release pipeline step relies on."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import REPO, SAMPLES

from flamediff.archive import Archive

pytestmark = pytest.mark.pyspy

FLAMEDIFF = [sys.executable, "-m", "flamediff"]
LOAD_V1 = SAMPLES / "load" / "v1" / "load.py"


def flamediff(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLAMEDIFF, *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


def test_capture_archives_every_run_with_its_metadata(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = flamediff(
        "capture",
        "r1",
        "--runs",
        "3",
        "--warmup",
        "0",
        "--archive",
        str(archive),
        "--",
        sys.executable,
        str(LOAD_V1),
        "6000",
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert "archived r1: 3 runs" in result.stderr
    info = Archive(archive).info("r1")
    assert len(info.runs) == 3
    assert all(run.samples > 0 and run.exit_status == 0 for run in info.runs)
    assert all(run.wall_seconds and run.wall_seconds > 0 for run in info.runs)
    assert info.rate_hz == 500
    assert info.command == (sys.executable, str(LOAD_V1), "6000")
    assert info.python_version
    assert info.profiler is not None
    assert info.profiler.name == "py-spy"
    assert info.profiler.version
    assert info.host
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert info.git_commit == head
    stacks = Archive(archive).load("r1").profiles[0].counts
    assert any(frame.startswith("process (load.py:") for stack in stacks for frame in stack)
    listing = flamediff("list", "--format", "json", "--archive", str(archive))
    assert json.loads(listing.stdout)["releases"][0]["name"] == "r1"


def test_a_failing_load_fails_the_capture_and_archives_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = flamediff(
        "capture",
        "r1",
        "--runs",
        "2",
        "--archive",
        str(archive),
        "--",
        sys.executable,
        "-c",
        "print('db is down'); raise SystemExit(3)",
    )
    assert result.returncode == 2
    assert "exited with status 3 (db is down)" in result.stderr
    assert "Traceback" not in result.stderr
    assert Archive(archive).names() == []
    assert leftovers(archive) == []


def test_a_missing_command_is_named(tmp_path: Path) -> None:
    result = flamediff("capture", "r1", "--archive", str(tmp_path), "--", "no-such-load")
    assert (result.returncode, result.stderr) == (2, "error: command not found: no-such-load\n")


def leftovers(archive: Path) -> list[str]:
    """Everything in the archive folder but its lock file; no folder at all is fine."""
    return [p.name for p in archive.iterdir() if p.name != ".lock"] if archive.exists() else []


def load_processes(orders: str) -> list[str]:
    """Load processes run with this exact order count (unique per test, so parallel runs of
    the suite do not see each other's loads)."""
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    return [
        line
        for line in ps.stdout.splitlines()
        if line.endswith(f"{LOAD_V1} {orders}") and "flamediff" not in line
    ]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_capture_leaves_nothing_behind(tmp_path: Path, signum: int) -> None:
    archive = tmp_path / "archive"
    orders = str(6000 + os.getpid() % 1000 + signum)
    process = subprocess.Popen(
        [
            *FLAMEDIFF,
            "capture",
            "r1",
            "--runs",
            "20",
            "--warmup",
            "0",
            "--archive",
            str(archive),
            "--",
            sys.executable,
            str(LOAD_V1),
            orders,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once a run has been taken and the next one is under way: the progress line
    # of the first run says so, however slow or busy the machine is.
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "run 1/20" in line:
            break
    time.sleep(0.1)
    process.send_signal(signum)
    _, rest = process.communicate(timeout=60)
    err = "".join(seen) + rest
    assert process.returncode in (130, -signum), err
    assert "Traceback" not in err
    assert "interrupted: nothing of r1 was archived" in err
    assert leftovers(archive) == []
    assert Archive(archive).names() == []
    time.sleep(0.2)
    assert load_processes(orders) == []


def test_help_does_not_load_the_heavy_libraries() -> None:
    probe = (
        "import sys\n"
        "from flamediff.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'scipy', 'numpy') if m in sys.modules]\n"
        "print('heavy:' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert result.stdout.strip().splitlines()[-1] == "heavy:"


def test_subprocesses_are_profiled_under_their_command_line(tmp_path: Path) -> None:
    parent = tmp_path / "parent.py"
    parent.write_text(
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, {str(LOAD_V1)!r}, '20000'], check=True)\n"
    )
    archive = tmp_path / "archive"
    result = flamediff(
        "capture",
        "sub",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--subprocesses",
        "--archive",
        str(archive),
        "--",
        sys.executable,
        str(parent),
    )
    assert result.returncode == 0, result.stderr
    from flamediff.processors import normalise

    (profile,) = Archive(archive).load("sub").profiles
    frames = {frame for stack in normalise(profile).counts for frame in stack}
    # The child's frame keeps its command line; no frame keeps a pid.
    assert any(f.startswith('process "') and f.endswith('load.py 20000"') for f in frames)
    assert not [f for f in frames if re.match(r"process \d+:", f)]


@pytest.mark.parametrize(
    ("launcher", "body"),
    [
        # A pyenv shim: a shell that execs the interpreter after a moment (same pid).
        ("shim", 'sleep 0.3\nexec "{python}" "$@"\n'),
        # `uv run`, `poetry run`, tox-style wrappers: the interpreter is a child.
        ("wrapper", 'sleep 0.2\n"{python}" "$@"\nexit $?\n'),
    ],
)
def test_any_launcher_of_the_interpreter_is_captured(
    tmp_path: Path, launcher: str, body: str
) -> None:
    script = tmp_path / launcher
    script.write_text("#!/bin/sh\n" + body.format(python=sys.executable))
    script.chmod(0o755)
    archive = tmp_path / "archive"
    result = flamediff(
        "capture", "r1", "--runs", "2", "--warmup", "0", "--archive", str(archive),
        "--", str(script), str(LOAD_V1), "6000",
        cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    stacks = Archive(archive).load("r1").profiles[0].counts
    assert any(frame.startswith("process (load.py:") for stack in stacks for frame in stack)
