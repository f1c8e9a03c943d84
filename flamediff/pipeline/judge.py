"""Compare a pair, gate the head, and record a justification that accepts a block.

The settings (``[tool.flamediff]`` with the command line's overrides applied) decide the
normalisation, the test's alpha and share, and the gate's thresholds; :class:`Analysis` holds
what only the command line says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from flamediff import vocabulary as default
from flamediff.archive import Archive, utc_now
from flamediff.config import Settings
from flamediff.errors import ConfigError
from flamediff.model import Justification, Release
from flamediff.pipeline.pair import Pair
from flamediff.vocabulary import Metric

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.analysis.compare import CompareOptions
    from flamediff.gate import Finding, GatePolicy, GateResult


@dataclass(frozen=True, slots=True)
class Analysis:
    """What is compared: ``metric``, with statistics or not (``no_stats``), and whether lines
    of a function are told apart (``line_level``)."""

    metric: Metric = default.METRIC
    no_stats: bool = False
    line_level: bool = False


@dataclass(frozen=True, slots=True)
class Judgement:
    """A pair, its full comparison frame (no view applied) and the gate's result.

    ``recorded``: a new justification was written to the head's release.json.
    """

    pair: Pair
    comparison: pd.DataFrame
    result: GateResult
    recorded: bool = False


def compare_options(
    settings: Settings, analysis: Analysis, *, side_by_side: bool = False
) -> CompareOptions:
    from flamediff.analysis.compare import CompareOptions

    return CompareOptions(
        metric=analysis.metric,
        normalisation=settings.normalise,
        alpha=settings.alpha,
        min_share=settings.min_share,
        no_stats=analysis.no_stats,
        side_by_side=side_by_side,
    )


def compare_pair(
    pair: Pair, settings: Settings, analysis: Analysis, *, side_by_side: bool = False
) -> pd.DataFrame:
    """The full comparison frame (no view applied): what the gate and every report read.
    ``side_by_side``: the pair was captured interleaved in one job."""
    from flamediff.analysis.compare import compare

    options = compare_options(settings, analysis, side_by_side=side_by_side)
    comparison = compare(pair.base, pair.head, options)
    if pair.base.calls is not None and pair.head.calls is not None:
        from flamediff.analysis.calls import with_calls

        comparison = with_calls(comparison, pair.base.calls, pair.head.calls)
    return comparison


def policy_of(
    settings: Settings, *, block_load: bool = False, today: date | None = None
) -> GatePolicy:
    """The gate's policy from the settings; ``block_load`` for side-by-side captures."""
    from flamediff.gate import GatePolicy, Waiver

    return GatePolicy(
        block=settings.block,
        warn=settings.warn,
        alpha=settings.alpha,
        min_share=settings.min_share,
        hot=settings.hot,
        waivers=tuple(
            Waiver(w.function, w.max_regression, w.reason, w.expires) for w in settings.waivers
        ),
        block_load=block_load,
        today=today or date.today(),
    )


# Findings whose change is split by call path; each costs a pass over both releases' stacks.
BLAMED_FINDINGS = 10


def with_blame(
    result: GateResult, comparison: pd.DataFrame, pair: Pair, metric: Metric
) -> GateResult:
    """The result with each blocking or warning function's reason saying where its change came
    from (see :mod:`flamediff.analysis.blame`): the victim of a rewritten caller is then
    named with the caller. Where both releases have call counts, each reason also says how
    often the function was called, and how its time per call changed."""

    from flamediff.analysis.blame import blame, blame_text
    from flamediff.analysis.calls import call_change, calls_text
    from flamediff.analysis.tables import seconds_per_sample

    in_seconds = comparison.attrs.get("unit") == "s"
    scales = {
        "base": comparison.attrs.get("scale_factors_base"),
        "head": comparison.attrs.get("scale_factors_head"),
    }

    def explained(finding: Finding) -> Finding:
        if finding.function == "<load>":
            text = load_blame(comparison, "s" if in_seconds else "samples")
            return replace(finding, reason=f"{finding.reason}; {text}") if text else finding
        paths = blame(
            pair.base,
            pair.head,
            finding.function,
            metric=metric,
            base_scale=scales["base"],
            head_scale=scales["head"],
            base_per_sample=seconds_per_sample(pair.base) if in_seconds else 1.0,
            head_per_sample=seconds_per_sample(pair.head) if in_seconds else 1.0,
        )
        text = blame_text(paths, "s" if in_seconds else "samples")
        reason = f"{finding.reason}; {text}" if text else finding.reason
        if pair.base.calls is not None and pair.head.calls is not None:
            change = call_change(pair.base.calls, pair.head.calls, finding.function)
            counted = calls_text(change, finding.delta_pct)
            reason = f"{reason}; {counted}" if counted else reason
        return replace(finding, reason=reason)

    # Blocks first, then warnings, up to BLAMED_FINDINGS of them in all.
    findings = [*result.blocking, *result.warnings]
    shown = [
        explained(finding) if index < BLAMED_FINDINGS else finding
        for index, finding in enumerate(findings)
    ]
    blocks = len(result.blocking)
    return replace(result, blocking=tuple(shown[:blocks]), warnings=tuple(shown[blocks:]))


def too_few_runs(pair: Pair) -> str | None:
    """Why the pair cannot be tested (fewer than MIN_RUNS runs in a release), or None."""
    runs = (len(pair.base.profiles), len(pair.head.profiles))
    if min(runs) >= default.MIN_RUNS:
        return None
    return (
        f"not tested (n={runs[0]} and n={runs[1]}): testing needs at least {default.MIN_RUNS} "
        "runs per release, so nothing here is significant and the gate would refuse to decide; "
        "capture more runs"
    )


# Functions named as carrying the whole load's change.
LOAD_CULPRITS = 3


def load_blame(comparison: pd.DataFrame, unit: str) -> str | None:
    """Where the whole load's change went: the functions that carry most of it, largest first
    (``most of it in valid_contextj +0.63 s per run (not sampled in the base), ...``)."""
    from flamediff.analysis.blame import short_name

    load = comparison[comparison["status"] == "load"]
    rows = comparison[comparison["status"] != "load"]
    if load.empty or rows.empty:
        return None
    change = float(load["impact_s"].iloc[0])
    if not math.isfinite(change) or change == 0.0:
        return None
    moved = rows[(rows["impact_s"] * change) > 0]
    top = moved.reindex(moved["impact_s"].abs().sort_values(ascending=False).index)
    named = []
    for _, row in top.head(LOAD_CULPRITS).iterrows():
        what = f"{short_name(str(row['function']))} {float(row['impact_s']):+.3g} {unit} per run"
        if row["status"] == "new":
            what += " (not sampled in the base)"
        named.append(what)
    return f"most of it in {', '.join(named)}" if named else None


def fingerprints(archive: Archive, pair: Pair) -> tuple[str, str] | None:
    """The archived base's and head's fingerprints (a re-measured base is judged against the
    archived one's name and code), or None where a release predates them."""
    base = archive.info(pair.base.name).fingerprint()
    head = archive.info(pair.head.name).fingerprint()
    return (base, head) if base is not None and head is not None else None


def recorded_justification(
    head: Release, base_name: str, releases: tuple[str, str] | None = None
) -> str | None:
    """The latest reason recorded for accepting ``head`` against ``base_name``, while both
    releases are still what it was written against: re-importing the base with ``--force``
    (a +691% regression then) must not keep it accepted."""
    reasons = [
        j.reason
        for j in head.info.justifications
        if j.base == base_name and (j.releases is None or j.releases == releases)
    ]
    return reasons[-1] if reasons else None


def read_justification(text: str | None, path: Path | None) -> str | None:
    """The reason given as text or in a file, on one line; an empty one is refused."""
    if text is not None and path is not None:
        raise ConfigError("give --justify or --justify-file, not both")
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: cannot read the justification: {error}") from None
    if text is None:
        return None
    reason = " ".join(text.split())
    if not reason:
        raise ConfigError("the justification is empty: write why this regression is acceptable")
    return reason


def judge(
    archive: Archive,
    pair: Pair,
    settings: Settings,
    analysis: Analysis,
    *,
    justification: str | None = None,
    side_by_side: bool = False,
    decide: bool = True,
    today: date | None = None,
) -> Judgement:
    """Compare the pair and gate the head; a new reason that accepts a block is recorded.

    ``side_by_side``: base and head were just captured interleaved, so the whole load's
    absolute change is the code's and may block. ``decide``: refuse (AnalysisError) to judge
    a comparison whose runs could not have blocked whatever the change, as the gate must;
    a diff only shows.
    """
    from flamediff.gate import evaluate, refuse_blind_gate

    policy = policy_of(settings, block_load=side_by_side, today=today)
    untested = None if decide or analysis.no_stats else too_few_runs(pair)
    if untested is not None:
        # Two single profiles are the classic "show me the difference": a diff shows the
        # deltas, marked untested, as benchstat does; only the gate refuses to decide.
        analysis = replace(analysis, no_stats=True)
    comparison = compare_pair(pair, settings, analysis, side_by_side=side_by_side)
    if decide and not analysis.no_stats:
        refuse_blind_gate(comparison, policy.alpha)
    releases = fingerprints(archive, pair)
    earlier = recorded_justification(pair.head, pair.base.name, releases)
    result = evaluate(comparison, policy, justification=justification or earlier)
    result = with_blame(result, comparison, pair, analysis.metric)
    if untested is not None:
        result = replace(result, notes=(untested, *result.notes))
    if decide:  # and on the change since an older accepted release, the anchor
        from flamediff.pipeline.creep import judge_creep

        reason = justification or earlier
        result = judge_creep(archive, pair, result, settings, analysis, policy, reason)
    recorded = justification is not None and result.verdict == "accepted"
    if recorded:
        assert justification is not None
        archive.add_justification(
            pair.head.name, Justification(pair.base.name, justification, utc_now(), releases)
        )
    return Judgement(pair, comparison, result, recorded)
