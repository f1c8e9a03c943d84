"""More runs where the first look leaves a hot function undecided (`compare`, `release`).

A side-by-side capture of ``runs`` + ``runs`` mostly settles every hot function: it blocks,
or it is clearly inside the thresholds. Where one is still open (slower than the warn
threshold with a loose q, see :func:`flamediff.gate.undecided`) more runs are what buys a
verdict, so the capture goes on, interleaved as before, up to ``max_runs`` a side, and the
report says why. A clear case costs no extra run; an unclear one at most ``max_runs / runs``
times the capture.

The verdict is then taken on all runs. Looking twice gives a false alarm two chances; the
power lab measures what that costs (README, "Power on a busy machine").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from flamediff.capture.session import CapturedRun
from flamediff.config import Settings
from flamediff.model import Release, ReleaseInfo
from flamediff.pipeline.judge import Analysis, compare_options, policy_of
from flamediff.pipeline.pair import analysed

# What the capture asks after its first runs: None to stop there, or why to go on.
FirstLook = Callable[[Release, Release], str | None]

# Functions named in the reason; the rest are counted.
NAMED = 3


def captured_release(info: ReleaseInfo, runs: Sequence[CapturedRun]) -> Release:
    """Runs just captured, as a release (nothing archived)."""
    return Release(
        replace(info, runs=tuple(run.info for run in runs)), tuple(run.profile for run in runs)
    )


def first_look(settings: Settings, analysis: Analysis) -> FirstLook:
    """The look a side-by-side capture takes after its first runs, with the gate's settings."""

    def look(base: Release, head: Release) -> str | None:
        from flamediff.analysis.compare import compare
        from flamediff.gate import undecided

        if analysis.no_stats:
            return None
        options = compare_options(settings, analysis, side_by_side=True)
        line_level = analysis.line_level
        comparison = compare(
            analysed(base, line_level=line_level), analysed(head, line_level=line_level), options
        )
        open_rows = undecided(comparison, policy_of(settings, block_load=True))
        if not open_rows:
            return None
        named = ", ".join(
            f"{row.function} ({row.delta_pct:+.1f}%, q={row.q_value:.2f})"
            for row in open_rows[:NAMED]
        )
        more = len(open_rows) - NAMED
        named += f" and {more} more" if more > 0 else ""
        return f"could still block or pass after {len(base.profiles)} runs a side: {named}"

    return look
