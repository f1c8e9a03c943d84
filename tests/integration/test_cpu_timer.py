"""The cpu-timer profiler: the load samples itself on the CPU time it spends."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from builders import run_cli

from flamediff.archive import Archive
from flamediff.capture.cputimer import CpuTimerRunner
from flamediff.errors import CaptureError, ConfigError

RATE = 500.0

LOAD = textwrap.dedent(
    """
    import subprocess, sys, time

    def spin(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    def nap(seconds):
        time.sleep(seconds)

    def main():
        nap(0.6)
        spin(0.4)
        if sys.argv[1:] == ["parent"]:
            subprocess.run([sys.executable, __file__, "child"], check=True)

    main()
    """
)


def frames(profile) -> set[str]:
    return {frame for stack, _ in profile for frame in stack}


def test_samples_are_taken_on_cpu_time_and_named_as_py_spy_names_them(tmp_path: Path) -> None:
    load = tmp_path / "load.py"
    load.write_text(LOAD)
    run = CpuTimerRunner([sys.executable, str(load)], rate_hz=RATE).run()
    # 0.4 s of CPU at 500 Hz is 200 samples; the 0.6 s asleep add none.
    assert 140 <= run.info.samples <= 280, run.info.samples
    assert run.info.cpu_seconds is not None
    assert run.info.cpu_seconds >= 0.4
    names = frames(run.profile)
    assert any(name.startswith("spin (load.py:") for name in names), names
    # Asleep, the main thread spends no CPU: at most the sample its last instructions owed.
    asleep = sum(n for stack, n in run.profile if stack and stack[-1].startswith("nap ("))
    assert asleep <= 2, asleep


def test_only_the_first_process_is_sampled_unless_subprocesses_are_asked_for(
    tmp_path: Path,
) -> None:
    load = tmp_path / "load.py"
    load.write_text(LOAD)
    command = [sys.executable, str(load), "parent"]
    alone = CpuTimerRunner(command, rate_hz=RATE).run()
    both = CpuTimerRunner(command, rate_hz=RATE, subprocesses=True).run()
    spinning = [
        sum(n for stack, n in run.profile if stack and stack[-1].startswith("spin ("))
        for run in (alone, both)
    ]
    assert 1.6 <= spinning[1] / spinning[0] <= 2.5, spinning


def test_a_failing_load_and_an_isolated_interpreter_fail_the_run(tmp_path: Path) -> None:
    load = tmp_path / "load.py"
    load.write_text("raise SystemExit('no orders file')\n")
    with pytest.raises(CaptureError, match=r"exited with status 1 \(no orders file\)"):
        CpuTimerRunner([sys.executable, str(load)], rate_hz=RATE).run()
    load.write_text("print('hello')\n")
    with pytest.raises(CaptureError, match="sampled no Python process"):
        CpuTimerRunner([sys.executable, "-I", str(load)], rate_hz=RATE).run()
    with pytest.raises(ConfigError, match="--native needs py-spy"):
        CpuTimerRunner([sys.executable, str(load)], rate_hz=RATE, native=True)


def test_capture_with_the_cpu_timer_archives_runs_the_gate_reads(tmp_path: Path, capsys) -> None:
    load = tmp_path / "load.py"
    load.write_text(LOAD)
    archive = tmp_path / "archive"
    code, _, err = run_cli(
        capsys, "capture", "v1", "--profiler", "cpu-timer", "--runs", "2", "--warmup", "0",
        "--archive", str(archive), "--", sys.executable, str(load),
    )  # fmt: skip
    assert code == 0, err
    info = Archive(archive).info("v1")
    assert info.profiler is not None
    assert info.profiler.name == "cpu-timer"
    assert ("clock", "main thread CPU time") in info.profiler.options
    assert all(run.cpu_seconds is not None for run in info.runs)
