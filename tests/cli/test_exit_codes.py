"""Exit 1 means "blocked" and nothing else: CI reads it as a verdict."""

from __future__ import annotations

import importlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import run_cli

import flamediff.archive
import flamediff.gate

COMPARE_MODULE = importlib.import_module("flamediff.analysis.compare")

FAULTS = (ValueError("bad"), TypeError("wrong type"), SystemError("bad code"), KeyError("k"),
          RuntimeError("boom"), AssertionError("never"), ZeroDivisionError("zero"))  # fmt: skip
# Where a fault can strike: what every command reads, analyses or decides.
TARGETS = (
    (flamediff.archive.Archive, "load"),
    (flamediff.archive.Archive, "info"),
    (COMPARE_MODULE, "compare"),
    (flamediff.gate, "evaluate"),
)
COMMANDS = (
    ("gate",), ("diff",), ("diff", "--format", "json"), ("show", "v2"), ("list",),
    ("history",), ("flamegraph", "v2", "--output", "{tmp}/g.svg"), ("export", "v2"), ("check",),
)  # fmt: skip


def test_the_sample_pair_blocks_without_a_fault(archive: Path, capsys) -> None:
    # The baseline of the test below: with nothing injected, gate exits 1 (a real block).
    assert run_cli(capsys, "gate", "--archive", str(archive))[0] == 1


@pytest.mark.parametrize("seed", range(12))
def test_an_unexpected_error_never_exits_1(
    archive: Path, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    owner, name = rng.choice(TARGETS)
    fault = rng.choice(FAULTS)

    def broken(*args: object, **kwargs: object) -> None:
        raise fault

    monkeypatch.setattr(owner, name, broken)
    for command in COMMANDS:
        args = [part.format(tmp=tmp_path) for part in command]
        code, _, err = run_cli(capsys, *args, "--archive", str(archive))
        assert code != 1, (command, name, err)
        if code == 3:
            # Progress lines may come first; the error is one line, the last.
            last = err.splitlines()[-1]
            assert last.startswith("internal error: "), err
            assert "Traceback" not in err
            assert "FLAMEDIFF_DEBUG=1" in err


def test_debug_shows_the_traceback(archive: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise SystemError("bad code object")

    monkeypatch.setattr(flamediff.gate, "evaluate", broken)
    monkeypatch.setenv("FLAMEDIFF_DEBUG", "1")
    code, _, err = run_cli(capsys, "gate", "--archive", str(archive))
    assert code == 3
    assert "Traceback" in err
    assert "SystemError: bad code object" in err


def test_a_read_only_archive_is_bad_environment_not_a_block(archive: Path, capsys) -> None:
    if os.geteuid() == 0:
        # root writes through permissions: a file where the lock's folder should be refuses
        # root too.
        (archive / ".lock").unlink(missing_ok=True)
        (archive / ".lock").mkdir()
    else:
        archive.chmod(0o555)
    try:
        code, _, err = run_cli(
            capsys, "gate", "--justify", "accepted for the demo", "--archive", str(archive)
        )
    finally:
        archive.chmod(0o755)
    assert code == 2, err
    assert err.splitlines()[-1].startswith("error: "), err
    assert "Traceback" not in err


def test_ctrl_c_while_the_commands_are_imported_is_an_interruption(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import builtins

    from flamediff import entry

    real_import = builtins.__import__

    def interrupted(name: str, *args: object, **kwargs: object) -> object:
        if name == "flamediff.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as done:
        entry.run()
    assert done.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_ctrl_c_inside_a_command_is_an_interruption(
    archive: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(flamediff.gate, "evaluate", interrupted)
    code, _, err = run_cli(capsys, "gate", "--archive", str(archive))
    assert code == 130
    assert "Traceback" not in err


# A Ctrl-C that lands while a C extension initialises surfaces as the import's own error.
CTRL_C_AS_IMPORT_ERROR = """
import builtins, os, signal, time
real_import = builtins.__import__

def importing(name, *args, **kwargs):
    if name == "flamediff.cli":
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            raise ImportError("initialization failed") from None
    return real_import(name, *args, **kwargs)

builtins.__import__ = importing
from flamediff.entry import run
run()
"""


def test_ctrl_c_that_surfaces_as_an_import_error_is_an_interruption() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_AS_IMPORT_ERROR], capture_output=True, timeout=60
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr == b"interrupted\n"


def test_an_error_after_ctrl_c_inside_a_command_is_an_interruption(
    archive: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flamediff import interruption

    def interrupted_import(*args: object, **kwargs: object) -> None:
        monkeypatch.setattr(interruption, "_received", True)
        raise ImportError("initialization failed")

    monkeypatch.setattr(flamediff.gate, "evaluate", interrupted_import)
    code, _, err = run_cli(capsys, "gate", "--archive", str(archive))
    assert code == 130, err
    assert "internal error" not in err


@pytest.mark.parametrize("delay", [0.4, 0.8])
def test_ctrl_c_sent_to_a_running_gate_never_reads_as_a_block(archive: Path, delay: float) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "flamediff", "gate", "--archive", str(archive)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    # Interrupted (130, or killed by the signal itself, which a shell also reports as 130),
    # or the gate finished first and blocked the sample pair (1).
    assert process.returncode in (130, -signal.SIGINT, 1), err
    assert b"Traceback" not in err
    if process.returncode == 1:
        assert b"blocks:" in err or b"interrupted" not in err
