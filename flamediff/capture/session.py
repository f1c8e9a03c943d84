"""Driving runners through warm-up and counted runs, alone or interleaved."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flamediff.model import Profile, ProfilerInfo, RunInfo


@dataclass(frozen=True, slots=True)
class CapturedRun:
    profile: Profile
    info: RunInfo


class Runner(Protocol):
    """Something that runs the load once per ``run()`` and returns its profile.

    ``label`` names the side of the capture (the release); ``command`` is the load as given;
    ``rate_hz`` the sampling rate the runs' counts are taken at (None: unknown).
    """

    @property
    def label(self) -> str: ...

    @property
    def command(self) -> Sequence[str]: ...

    @property
    def rate_hz(self) -> float | None: ...

    def run(self) -> CapturedRun: ...

    def describe(self) -> ProfilerInfo:
        """The profiler, its version and the options that shape what a profile holds."""
        ...


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a capture: ``counted`` is False for warm-up runs, whose profile is dropped."""

    label: str
    step: int  # of the whole job, warm-ups and both sides of an interleaved job included
    steps: int
    counted: bool
    number: int  # of this label's warm-up or counted runs: "run 3 of 8"
    of: int
    run: CapturedRun | None  # None when the step is about to start


ProgressCallback = Callable[[Progress], None]


def ignore_progress(_: Progress) -> None:
    pass


def capture_runs(
    runner: Runner, *, runs: int, warmup: int = 0, on_progress: ProgressCallback = ignore_progress
) -> list[CapturedRun]:
    """Warm-up runs (not kept), then ``runs`` counted runs, in order."""
    plan = [False] * warmup + [True] * runs
    return _execute([(runner, counted) for counted in plan], on_progress)[runner.label]


def interleaved_order(runs: int) -> list[int]:
    """Which side (0 base, 1 head) runs at each step: pairs alternate AB, BA (ABBA ABBA ...).

    Plain alternation (ABAB) always runs the head later than the base, so a machine that
    slows down during the job makes the head look slower; ABBA cancels a linear drift.
    """
    order: list[int] = []
    for pair in range(runs):
        order.extend((0, 1) if pair % 2 == 0 else (1, 0))
    return order


def capture_interleaved(
    base: Runner,
    head: Runner,
    *,
    runs: int,
    warmup: int = 0,
    on_progress: ProgressCallback = ignore_progress,
) -> tuple[list[CapturedRun], list[CapturedRun]]:
    """Capture two loads alternately on the same machine in one job, so drift hits both."""
    sides = (base, head)
    plan = [(sides[side], False) for side in interleaved_order(warmup)]
    plan += [(sides[side], True) for side in interleaved_order(runs)]
    captured = _execute(plan, on_progress)
    return captured[base.label], captured[head.label]


def _execute(
    plan: Sequence[tuple[Runner, bool]], on_progress: ProgressCallback
) -> dict[str, list[CapturedRun]]:
    kept: dict[str, list[CapturedRun]] = {runner.label: [] for runner, _ in plan}
    totals = Counter((runner.label, counted) for runner, counted in plan)
    done: Counter[tuple[str, bool]] = Counter()
    for step, (runner, counted) in enumerate(plan, start=1):
        key = (runner.label, counted)
        done[key] += 1
        where = (runner.label, step, len(plan), counted, done[key], totals[key])
        on_progress(Progress(*where, None))
        result = runner.run()
        if counted:
            kept[runner.label].append(result)
        on_progress(Progress(*where, result))
    return kept
