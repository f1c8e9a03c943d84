"""Run the load through a runner, alone or interleaved with another, and archive the runs.

Nothing is archived unless every run succeeds: runs are collected first, then each release
is written atomically. The runner comes from a factory (:mod:`flamediff.capture.runners`),
so tests and other profilers drive the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from flamediff import vocabulary as default
from flamediff.archive import Archive, utc_now
from flamediff.capture import CapturedRun, capture_interleaved, capture_runs
from flamediff.capture.metadata import git_state, host_name, python_version_of
from flamediff.capture.runners import CaptureSettings, RunnerFactory, make_runner
from flamediff.capture.session import ProgressCallback, Runner, ignore_progress
from flamediff.config import Settings
from flamediff.errors import CaptureError, ConfigError
from flamediff.model import CallCounts, Release, ReleaseInfo
from flamediff.pipeline.adaptive import FirstLook, captured_release
from flamediff.pipeline.remeasure import Remeasure, checkout


@dataclass(frozen=True, slots=True)
class Captured:
    """A release just archived: its name and its runs. ``extended``: why the capture went on
    past its first runs (see :mod:`flamediff.pipeline.adaptive`), None if it did not."""

    name: str
    runs: tuple[CapturedRun, ...]
    extended: str | None = None
    calls: CallCounts | None = None

    def summary(self) -> str:
        samples = sum(run.info.samples for run in self.runs)
        walls = sorted(r.info.wall_seconds for r in self.runs if r.info.wall_seconds is not None)
        wall = f", median wall {walls[len(walls) // 2]:.2f} s" if walls else ""
        traced = ""
        if self.calls is not None:
            calls = sum(self.calls.edges.values())
            took = self.calls.wall_seconds
            traced = f"; {calls:,} calls counted in one traced run" + (
                f" of {took:.2f} s" if took is not None else ""
            )
        return f"archived {self.name}: {len(self.runs)} runs, {samples} samples{wall}{traced}"


def capture_settings(
    settings: Settings,
    *,
    profiler: str | None = None,
    subprocesses: bool = False,
    native: bool = False,
) -> CaptureSettings:
    """How to capture, from the settings (with the command line's overrides applied)."""
    max_runs = settings.max_runs
    return CaptureSettings(
        profiler=profiler or settings.profiler,
        runs=settings.runs,
        max_runs=settings.runs * default.MAX_RUNS_FACTOR if max_runs is None else max_runs,
        warmup=settings.warmup,
        rate_hz=settings.rate,
        subprocesses=subprocesses,
        native=native,
        calls=settings.calls,
    )


def release_info(name: str, runner: Runner, source: str = "capture") -> ReleaseInfo:
    """What a release records of where and how it was captured."""
    commit, dirty = git_state(Path.cwd())
    return ReleaseInfo(
        name=name,
        created=utc_now(),
        rate_hz=runner.rate_hz,
        command=tuple(runner.command) or None,
        git_commit=commit,
        git_dirty=dirty,
        python_version=python_version_of(runner.command),
        profiler=runner.describe(),
        host=host_name(),
        source=source,
    )


def archive_runs(
    archive: Archive,
    name: str,
    info: ReleaseInfo,
    runs: Sequence[CapturedRun],
    *,
    force: bool,
    calls: CallCounts | None = None,
) -> None:
    with archive.writer(name, force=force) as writer:
        for run in runs:
            writer.add_run(run.profile, run.info)
        if calls is not None:
            writer.add_calls(calls)
        writer.commit(info)


def traced(runner: Runner, settings: CaptureSettings, cwd: Path | None = None) -> CallCounts | None:
    """The load's exact calls from one traced run, when the settings ask for them."""
    if not settings.calls:
        return None
    from flamediff.capture.calls import count_calls

    return count_calls(runner.command, cwd)


def capture_release(
    archive: Archive,
    name: str,
    command: Sequence[str],
    settings: CaptureSettings,
    *,
    force: bool = False,
    runner_factory: RunnerFactory = make_runner,
    on_progress: ProgressCallback = ignore_progress,
) -> Captured:
    """Capture ``command`` ``settings.runs`` times (after the warm-ups) and archive it as
    ``name``. Raises before running anything when the name is taken (unless ``force``)."""
    if not command:
        raise CaptureError("no load command: give one after `--` or set `load` in [tool.flamediff]")
    archive.ensure_absent(name, force=force)
    runner = runner_factory(command, name, settings, None)
    runs = capture_runs(runner, runs=settings.runs, warmup=settings.warmup, on_progress=on_progress)
    calls = traced(runner, settings)
    archive_runs(archive, name, release_info(name, runner), runs, force=force, calls=calls)
    return Captured(name, tuple(runs), calls=calls)


def capture_side_by_side(
    archive: Archive,
    base: tuple[str, Sequence[str]],
    head: tuple[str, Sequence[str]],
    settings: CaptureSettings,
    *,
    force: bool = False,
    runner_factory: RunnerFactory = make_runner,
    on_progress: ProgressCallback = ignore_progress,
    look: FirstLook | None = None,
) -> tuple[Captured, Captured]:
    """Capture two loads alternately (ABBA ABBA ...) in one job and archive both.

    ``base`` and ``head`` are (release name, command). Drift of the machine during the job
    hits both sides alike. Neither is archived unless every run of both succeeds.
    """
    (base_name, base_command), (head_name, head_command) = base, head
    if base_name == head_name:
        raise ConfigError("base and head need different names")
    for name in (base_name, head_name):
        archive.ensure_absent(name, force=force)
    base_runner = runner_factory(base_command, base_name, settings, None)
    head_runner = runner_factory(head_command, head_name, settings, None)
    base_runs, head_runs, extended = interleave(
        base_runner, head_runner, settings, look, on_progress
    )
    base_calls, head_calls = traced(base_runner, settings), traced(head_runner, settings)
    base_info, head_info = (
        release_info(base_name, base_runner),
        release_info(head_name, head_runner),
    )
    archive_runs(archive, base_name, base_info, base_runs, force=force, calls=base_calls)
    archive_runs(archive, head_name, head_info, head_runs, force=force, calls=head_calls)
    return (
        Captured(base_name, tuple(base_runs), extended, base_calls),
        Captured(head_name, tuple(head_runs), extended, head_calls),
    )


def capture_beside_base(
    archive: Archive,
    name: str,
    command: Sequence[str],
    base: ReleaseInfo,
    remeasure: Remeasure,
    settings: CaptureSettings,
    *,
    force: bool = False,
    runner_factory: RunnerFactory = make_runner,
    on_progress: ProgressCallback = ignore_progress,
    look: FirstLook | None = None,
) -> tuple[Captured, Release]:
    """Capture ``name`` interleaved with the base run again (see
    :mod:`flamediff.pipeline.remeasure`); archive ``name`` only.

    Returns the head as archived and the base as re-measured in this job: the archived base
    keeps its own runs, which other comparisons of the history read.
    """
    if not command:
        raise CaptureError("no load command: give one after `--` or set `load` in [tool.flamediff]")
    archive.ensure_absent(name, force=force)
    with checkout(remeasure) as (base_command, folder):
        base_runner = runner_factory(base_command, base.name, settings, folder)
        head_runner = runner_factory(command, name, settings, None)
        base_runs, head_runs, extended = interleave(
            base_runner, head_runner, settings, look, on_progress
        )
        base_calls = traced(base_runner, settings, folder)
    head_calls = traced(head_runner, settings)
    info = release_info(name, head_runner)
    archive_runs(archive, name, info, head_runs, force=force, calls=head_calls)
    remeasured = replace(captured_release(base, base_runs), calls=base_calls)
    return Captured(name, tuple(head_runs), extended, head_calls), remeasured


def interleave(
    base: Runner,
    head: Runner,
    settings: CaptureSettings,
    look: FirstLook | None,
    on_progress: ProgressCallback,
) -> tuple[list[CapturedRun], list[CapturedRun], str | None]:
    """Base and head alternately, ``settings.runs`` a side; then, if ``look`` finds the
    comparison undecided, on to ``settings.max_runs`` a side. Returns both sides' runs and
    why the capture went on (None if it did not)."""
    base_runs, head_runs = capture_interleaved(
        base, head, runs=settings.runs, warmup=settings.warmup, on_progress=on_progress
    )
    more = (settings.max_runs or settings.runs) - settings.runs
    if look is None or more <= 0:
        return base_runs, head_runs, None
    # What the look compares needs only the runs and their rate: no git or interpreter query.
    reason = look(
        captured_release(ReleaseInfo(base.label, utc_now(), base.rate_hz), base_runs),
        captured_release(ReleaseInfo(head.label, utc_now(), head.rate_hz), head_runs),
    )
    if reason is None:
        return base_runs, head_runs, None
    extra_base, extra_head = capture_interleaved(base, head, runs=more, on_progress=on_progress)
    total = settings.runs + more
    return (
        base_runs + extra_base,
        head_runs + extra_head,
        f"captured {total} runs a side, not {settings.runs}: {reason}",
    )
