"""Capturing the load with samples taken on its own CPU time, from inside it (``cpu-timer``).

py-spy samples the wall clock from outside: a load that waits for a CPU on a busy machine
is still sampled, in whatever function it was preempted, so another process's load lands
on the load's functions in clumps. This runner puts flamediff's ``sitecustomize``
(``inload/``) first on the load's ``PYTHONPATH`` with a rate, and a thread in the load
samples the main thread once per 1/rate seconds of the main thread's CPU time, never while
it waits. No ptrace is needed. What it cannot see: threads other than the main thread,
native frames, and interpreters started with ``-S`` or ``-I`` (they read no
``sitecustomize``; the run then fails and says so). It lowers the load's GIL switch
interval to a quarter of the sampling interval, so that the sampling thread gets its turn.
"""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from flamediff.capture.calls import TRACER
from flamediff.capture.probe import probe_seconds
from flamediff.capture.pyspy import (
    die_with_parent,
    ended,
    last_line,
    load_environment,
    resolve_command,
)
from flamediff.capture.session import CapturedRun
from flamediff.errors import CaptureError, ConfigError
from flamediff.model import ProfilerInfo, RunInfo, merge

NAME = "cpu-timer"


class CpuTimerRunner:
    """Runs the load once per ``run()``, sampling itself on its CPU time."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        rate_hz: float,
        subprocesses: bool = False,
        native: bool = False,
        label: str = "load",
        cwd: Path | None = None,
    ) -> None:
        if native:
            raise ConfigError(f"--native needs py-spy: the {NAME} profiler sees Python frames only")
        self.command = resolve_command(command)
        self.rate_hz = rate_hz
        self.subprocesses = subprocesses
        self.label = label
        self.cwd = cwd
        self.runs_done = 0

    def describe(self) -> ProfilerInfo:
        options = [("rate_hz", f"{self.rate_hz:g}"), ("clock", "main thread CPU time")]
        if self.subprocesses:
            options.append(("subprocesses", "true"))
        return ProfilerInfo(NAME, platform.python_version(), tuple(options))

    def _environment(self, output: Path) -> dict[str, str]:
        environment = load_environment(self.cwd) or dict(os.environ)
        path = [str(TRACER)]
        if environment.get("PYTHONPATH"):
            path.append(environment["PYTHONPATH"])
        environment.update(
            PYTHONPATH=os.pathsep.join(path),
            FLAMEDIFF_SAMPLES_DIR=str(output),
            FLAMEDIFF_SAMPLE_HZ=f"{self.rate_hz:g}",
        )
        if self.subprocesses:
            environment["FLAMEDIFF_SAMPLE_CHILDREN"] = "1"
        return environment

    def run(self) -> CapturedRun:
        from flamediff.formats import read_profiles

        self.runs_done += 1
        shown = " ".join(self.command)
        with tempfile.TemporaryDirectory(prefix="flamediff-cpu-timer-") as folder:
            output = Path(folder) / "samples"
            output.mkdir()
            log = Path(folder) / "load.log"
            probe_before = probe_seconds()
            started = time.perf_counter()
            with log.open("wb") as log_stream:
                try:
                    load = subprocess.Popen(
                        self.command,
                        stdin=subprocess.DEVNULL,
                        stdout=log_stream,
                        stderr=subprocess.STDOUT,
                        cwd=self.cwd,
                        env=self._environment(output),
                        preexec_fn=die_with_parent(),
                    )
                except OSError as error:
                    raise CaptureError(
                        f"cannot start {self.command[0]}: {error.strerror}"
                    ) from None
                try:
                    _, raw_status, usage = os.wait4(load.pid, 0)
                except BaseException:
                    load.kill()
                    load.wait()
                    raise
                load.returncode = os.waitstatus_to_exitcode(raw_status)
            wall = time.perf_counter() - started
            probe = (probe_before + probe_seconds()) / 2.0
            if load.returncode != 0:
                detail = last_line(log)
                raise CaptureError(
                    f"run {self.runs_done}: `{shown}` {ended(load.returncode)}"
                    + (f" ({detail})" if detail else "")
                    + "; nothing was archived"
                )
            files = sorted(output.glob("samples-*.folded"))
            if not files:
                raise CaptureError(
                    f"run {self.runs_done}: `{shown}` sampled no Python process: an "
                    "interpreter started with -S or -I reads no sitecustomize; use py-spy"
                )
            profile = merge([found for file in files for _, found in read_profiles(file)])
        if profile.total == 0:
            raise CaptureError(
                f"run {self.runs_done} of {shown}: no samples; the load used less CPU than "
                f"one sample's worth (1/{self.rate_hz:g} s)"
            )
        cpu = round(usage.ru_utime + usage.ru_stime, 4)
        info = RunInfo(profile.total, round(wall, 4), load.returncode, cpu, round(probe, 7))
        return CapturedRun(profile, info)
