"""The capture seam: which profiler runs the load, chosen by name.

A *runner* runs the load once per ``run()`` and describes itself (profiler, version, the
options that shape the profile) for the release's metadata. :data:`PROFILERS` maps a
profiler's name to the factory that builds its runner from a :class:`CaptureSettings`;
adding a profiler is one module with its runner plus one entry here. Tests put a replaying
factory in its place, so every capturing command runs without ptrace permission.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from flamediff import vocabulary as default
from flamediff.capture.session import Runner
from flamediff.errors import ConfigError


@dataclass(frozen=True, slots=True)
class CaptureSettings:
    """How every run of a capture is made.

    ``runs`` counted runs after ``warmup`` runs that are thrown away; ``rate_hz`` samples a
    second; ``subprocesses`` and ``native`` are passed to the profiler; ``calls``: one more
    run under a tracer counts calls (see :mod:`flamediff.capture.calls`). ``max_runs``: how
    many runs a side an interleaved capture may grow to when its first look is undecided
    (None: ``runs``, never more).
    """

    profiler: str = default.PROFILER
    runs: int = default.RUNS
    max_runs: int | None = None
    warmup: int = default.WARMUP
    rate_hz: float = default.RATE_HZ
    subprocesses: bool = False
    native: bool = False
    calls: bool = False

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise ConfigError(f"--runs must be at least 1, not {self.runs}")
        if self.max_runs is not None and self.max_runs < self.runs:
            raise ConfigError(
                f"--max-runs ({self.max_runs}) cannot be fewer than --runs ({self.runs})"
            )
        if self.warmup < 0:
            raise ConfigError(f"--warmup cannot be negative, not {self.warmup}")
        if not 0 < self.rate_hz < float("inf"):
            raise ConfigError(
                f"--rate must be a positive number of samples per second, not {self.rate_hz}"
            )
        if self.profiler not in PROFILERS:
            raise ConfigError(
                f"unknown profiler {self.profiler!r}; choose one of {', '.join(PROFILERS)}"
            )


RunnerFactory = Callable[[Sequence[str], str, CaptureSettings, Path | None], Runner]
"""Builds a runner of ``command`` labelled ``label`` (the release's name), run in ``cwd``."""


def _py_spy(
    command: Sequence[str], label: str, settings: CaptureSettings, cwd: Path | None
) -> Runner:
    from flamediff.capture.pyspy import PySpyRunner

    return PySpyRunner(
        command,
        rate_hz=settings.rate_hz,
        subprocesses=settings.subprocesses,
        native=settings.native,
        label=label,
        cwd=cwd,
    )


def _cpu_timer(
    command: Sequence[str], label: str, settings: CaptureSettings, cwd: Path | None
) -> Runner:
    from flamediff.capture.cputimer import CpuTimerRunner

    return CpuTimerRunner(
        command,
        rate_hz=settings.rate_hz,
        subprocesses=settings.subprocesses,
        native=settings.native,
        label=label,
        cwd=cwd,
    )


PROFILERS: dict[str, RunnerFactory] = {"py-spy": _py_spy, "cpu-timer": _cpu_timer}


def make_runner(
    command: Sequence[str], label: str, settings: CaptureSettings, cwd: Path | None = None
) -> Runner:
    """The runner of ``settings.profiler`` for ``command``."""
    return PROFILERS[settings.profiler](command, label, settings, cwd)
