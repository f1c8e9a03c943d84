"""What a capture says when py-spy itself cannot do its job (no real ptrace denial needed)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from flamediff.capture.pyspy import PTRACE_HELP, PySpyRunner
from flamediff.errors import CaptureError


def fake_py_spy(folder: Path, stderr: str, status: int) -> str:
    script = folder / "py-spy"
    script.write_text(f"#!/bin/sh\necho '{stderr}' >&2\nexit {status}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def runner(py_spy: str) -> PySpyRunner:
    load = PySpyRunner([sys.executable, "-c", "import time; time.sleep(0.2)"], rate_hz=100)
    load.py_spy = py_spy
    return load


def test_a_ptrace_denial_explains_how_to_grant_it(tmp_path: Path) -> None:
    denied = fake_py_spy(tmp_path, "Error: Permission denied (os error 13)", 1)
    with pytest.raises(CaptureError) as caught:
        runner(denied).run()
    assert str(caught.value) == PTRACE_HELP
    assert "CAP_SYS_PTRACE" in PTRACE_HELP
    assert "ptrace_scope" in PTRACE_HELP
    assert "sudo" in PTRACE_HELP


def test_any_other_py_spy_failure_is_named(tmp_path: Path) -> None:
    broken = fake_py_spy(tmp_path, "Error: Failed to find python version from target process", 1)
    with pytest.raises(CaptureError, match="py-spy failed: Error: Failed to find python version"):
        runner(broken).run()


def test_py_spy_that_cannot_attach_yet_is_started_again(tmp_path: Path) -> None:
    # py-spy pointed at a process still exec'ing its interpreter fails at once ("Failed to get
    # process executable name"); the load runs on, so the capture tries again and succeeds.
    attempts = tmp_path / "attempts"
    script = tmp_path / "py-spy"
    script.write_text(
        "#!/bin/sh\n"
        f"echo x >> '{attempts}'\n"
        f"if [ $(wc -l < '{attempts}') -le 2 ]; then\n"
        "  echo 'Error: Failed to get process executable name' >&2; exit 1\n"
        "fi\n"
        'while [ "$1" != "--output" ]; do shift; done\n'
        "echo 'main (app.py:1);work (app.py:5) 7' > \"$2\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    load = PySpyRunner([sys.executable, "-c", "import time; time.sleep(2)"], rate_hz=100)
    load.py_spy = str(script)
    captured = load.run()
    assert captured.profile.total == 7
    assert attempts.read_text().count("x") == 3
