"""A real capture killed from outside: flamediff itself, the load, or py-spy, with SIGKILL.

Ctrl-C and SIGTERM of flamediff are in tests/integration/test_capture_pyspy.py; a writer
killed at each step of its commit is in test_archive_faults.py. Here the processes of a
running capture are killed the way a cancelled CI job, the OOM killer or an operator would:
nothing half-captured may become a release, no process of the capture may outlive it, and
the next run leaves nothing of it behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from builders import REPO, SAMPLES

from flamediff.archive import Archive
from flamediff.capture import pyspy

pytestmark = pytest.mark.pyspy

LOAD = SAMPLES / "load" / "v1" / "load.py"


def start_capture(root: Path, runs: int, orders: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flamediff", "capture", "r1", "--runs", str(runs),
         "--warmup", "0", "--archive", str(root), "--", sys.executable, str(LOAD), str(orders)],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def children(pid: int) -> dict[int, str]:
    """The direct children of ``pid``: their pid and command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = command
    return found


def wait_for_child(pid: int, needle: str, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child, command in children(pid).items():
            if needle in command:
                return child
        time.sleep(0.02)
    pytest.fail(f"no child running {needle!r}")


def gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # dead, waiting for a parent to collect it
            return True
        time.sleep(0.05)
    return False


def run_folders(pid: int) -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob(f"flamediff-run-{pid}-*"))


def visible(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != ".lock") if root.exists() else []


def test_kill_9_of_flamediff_takes_its_capture_down_and_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    capture = start_capture(root, runs=3, orders=400_000)  # a run of about 12 s
    load = wait_for_child(capture.pid, str(LOAD))
    spy = wait_for_child(capture.pid, "py-spy")
    time.sleep(0.3)  # py-spy attached and sampling
    capture.kill()
    capture.communicate(timeout=30)
    assert gone(load, timeout=3), "the load outlived flamediff"
    assert gone(spy, timeout=3), "py-spy outlived flamediff"
    assert visible(root) == []
    assert run_folders(capture.pid)  # its raw profile was left in the temporary folder ...
    again = start_capture(root, runs=1, orders=3000)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert run_folders(capture.pid) == []  # ... and the next capture removed it
    assert Archive(root).names() == ["r1"]
    assert visible(root) == ["r1"]


def test_kill_9_of_the_load_fails_the_capture_and_archives_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    capture = start_capture(root, runs=3, orders=40000)
    load = wait_for_child(capture.pid, str(LOAD))
    time.sleep(0.3)
    os.kill(load, signal.SIGKILL)
    _, err = capture.communicate(timeout=120)
    assert capture.returncode == 2
    assert err.splitlines()[-1] == (
        f"error: run 1: `{sys.executable} {LOAD} 40000` was killed by SIGKILL; nothing was archived"
    )
    assert "Traceback" not in err
    assert visible(root) == []
    assert run_folders(capture.pid) == []


def test_kill_9_of_py_spy_fails_the_capture_and_archives_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    capture = start_capture(root, runs=3, orders=40000)
    spy = wait_for_child(capture.pid, "py-spy")
    time.sleep(0.3)
    os.kill(spy, signal.SIGKILL)
    _, err = capture.communicate(timeout=120)
    assert capture.returncode == 2
    assert err.splitlines()[-1] == "error: run 1: py-spy was killed by SIGKILL"
    assert "Traceback" not in err
    assert visible(root) == []
    assert run_folders(capture.pid) == []


def test_pending_signals_are_read_from_both_masks_of_proc_status() -> None:
    status = "Name:\tpython\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\nSigBlk:\tff\n"
    assert pyspy.pending_signals(status) == 1 << (signal.SIGKILL - 1)
    assert pyspy.pending_signals("Name:\tx\nSigPnd:\tnot hex\n") == 0
    assert not pyspy.kill_pending(os.getpid())
    assert not pyspy.kill_pending(2**22 + 1)  # no such process


def test_a_killed_load_that_py_spy_holds_stopped_is_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The state itself (SIGKILL pending in a ptrace stop) only arises on some kernels and at
    # a moment no test can pick: stand in for it, and for py-spy with a process that waits.
    monkeypatch.setattr(pyspy, "kill_pending", lambda pid: True)
    monkeypatch.setattr(pyspy, "_HELD_SECONDS", 0.2)
    spy = subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.monotonic()
    pyspy._communicate_releasing_a_killed_load(spy, load_pid=1)
    assert spy.returncode == -signal.SIGTERM
    assert time.monotonic() - started < 10
