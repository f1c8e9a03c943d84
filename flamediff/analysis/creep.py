"""Creep: a function that climbs a little in every release, past the block threshold in all.

The step-by-step gate compares each release with the one before it. A hot function that gets
1.5% slower in each of ten releases is 16% slower at the end and passes every step. Here the
head is compared with an *anchor*, an older release the pipeline accepted as a baseline, in
two ways, and :func:`creep` returns one row per function with both:

- the **anchor comparison**: head against anchor, exactly as
  :func:`flamediff.analysis.compare.compare_counts` compares a pair (normalised per run, exact
  Mann-Whitney);
- the **trend test** over every release from the anchor to the head, using all their runs:
  every run's value is normalised by one median-ratio factor computed over all runs of the
  history, logged, averaged per release, and the release means regressed on the release's
  index; the slope is tested with Student's t on the K - 2 degrees of freedom of the K release
  means (``"release-means"``, the default). Averaging per release first is what makes the
  test honest on real captures: runs of one release share a day, a machine and a build, so
  they are not independent evidence of a trend across releases. Two alternatives are kept to
  be measured against it (``python -m flamediff.analysis.creep``): ``"runs-hc3"`` regresses
  every run (heteroscedasticity-consistent HC3 error, t on runs - 2 degrees of freedom), and
  ``"mann-kendall"`` tests a monotone trend of the per-release medians, with Sen's slope.

The two p-values are combined per function as ``min(1, 2 * min(p_anchor, p_trend))``
(Bonferroni over the two tests), then corrected over the functions tested with
Benjamini-Hochberg, as the gate corrects the pair's functions.

Columns of the creep frame, one row per function of either end:

``function`` (str); ``tested`` (bool): present at both ends and at least ``min_share`` of the
anchor or the head; ``head_share`` (float): as in the comparison frame;
``anchor_delta_pct``, ``anchor_p`` (float): the anchor comparison's change of the medians and
its p-value; ``slope_pct`` (float): the trend's change per release, in percent;
``trend_pct`` (float): the trend's fitted change over the whole history (anchor to head);
``trend_p`` (float): the trend test's p-value (NaN with fewer than three releases);
``change_pct`` (float): the change since the anchor the gate holds against its threshold: of
``anchor_delta_pct`` and ``trend_pct`` the one nearer zero (either alone where the other is
NaN), so that neither one noisy end release nor a step the straight line overstates fakes a
creep;
``p_value``, ``q_value`` (float): combined and corrected, NaN where untested;
``significant`` (bool): tested and q <= alpha; ``noise_floor_pct`` (float): the smaller of the
anchor comparison's noise floor and the trend's (the cumulative change the trend detects with
80% power); ``grew_most`` (tuple of (release, percent)): the releases whose per-release median
grew most from the release before, largest first, at most three, growth only.

``attrs``: ``anchor``, ``head``, ``releases`` (names, anchor first), ``method``, ``metric``,
``normalisation``, ``unit``, ``alpha``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from flamediff.analysis import stats
from flamediff.analysis.compare import CompareOptions, compare_counts
from flamediff.analysis.simulate import NoiseModel
from flamediff.analysis.tables import FunctionCounts
from flamediff.errors import AnalysisError

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GatePolicy

TrendMethod = Literal["release-means", "runs-hc3", "mann-kendall"]
TREND_METHODS: tuple[TrendMethod, ...] = ("release-means", "runs-hc3", "mann-kendall")

COLUMNS = (
    "function",
    "tested",
    "head_share",
    "anchor_delta_pct",
    "anchor_p",
    "slope_pct",
    "trend_pct",
    "trend_p",
    "change_pct",
    "p_value",
    "q_value",
    "significant",
    "noise_floor_pct",
    "grew_most",
)

# Releases named as those where a function grew most.
GREW_MOST = 3
# Added to every count before the log: a run without the function is not minus infinity.
_PSEUDO_COUNT = 0.5
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Trend:
    """The trend of every function (rows) over the history: per-release slope of the log
    values, the fitted change from the first to the last release, and the test's p-value."""

    slope: stats.FloatArray
    change: stats.FloatArray
    standard_error: stats.FloatArray
    pvalue: stats.FloatArray


def t_two_sided(t: stats.FloatArray, degrees: int) -> stats.FloatArray:
    """Two-sided p-value P(|T| >= |t|) of Student's t with integer ``degrees`` (>= 1).

    The finite series of Abramowitz and Stegun 26.7.3-4 in theta = atan(|t| / sqrt(degrees)):
    exact for integer degrees up to rounding (1e-15 absolute), and it spares the gate
    importing scipy.special, which costs from half a second to seconds on a busy machine.
    """
    if degrees < 1:
        raise AnalysisError(f"Student's t needs at least one degree of freedom, not {degrees}")
    theta = np.arctan(np.abs(np.asarray(t, dtype=np.float64)) / math.sqrt(degrees))
    sine, cosine = np.sin(theta), np.cos(theta)
    squared = cosine**2
    term = np.ones(theta.shape)
    total = np.ones(theta.shape)
    if degrees % 2:
        for k in range(1, (degrees - 3) // 2 + 1):
            term = term * (2 * k) / (2 * k + 1) * squared
            total += term
        inside = theta + (sine * cosine * total if degrees > 1 else 0.0)
        within = 2.0 / math.pi * inside
    else:
        for k in range(1, (degrees - 2) // 2 + 1):
            term = term * (2 * k - 1) / (2 * k) * squared
            total += term
        within = sine * total
    p: stats.FloatArray = np.clip(1.0 - within, 0.0, 1.0)
    return p


def _ratio_p(slope: stats.FloatArray, error: stats.FloatArray, degrees: int) -> stats.FloatArray:
    """Two-sided p of slope / error; an exact line (error 0) is significant unless flat."""
    t = np.divide(slope, error, out=np.zeros(slope.shape), where=error > 0)
    pvalue = t_two_sided(t, degrees)
    pvalue[(error <= 0) & (slope != 0)] = 0.0
    pvalue[(error <= 0) & (slope == 0)] = 1.0
    return pvalue


def trend_of_release_means(logs: stats.FloatArray, release_of_run: stats.IntArray) -> Trend:
    """Least squares of each row's release means of ``logs`` on the release index.

    ``logs`` (functions, runs); ``release_of_run`` (runs,) the 0-based release of each run,
    every release from 0 to K - 1 present. Needs K >= 3.
    """
    releases = int(release_of_run.max()) + 1
    sums = np.zeros((logs.shape[0], releases))
    np.add.at(sums.T, release_of_run, logs.T)
    means = sums / np.bincount(release_of_run, minlength=releases)
    x = np.arange(releases, dtype=np.float64)
    centred = x - x.mean()
    sxx = float(centred @ centred)
    centred_means = means - means.mean(axis=1, keepdims=True)
    slope = centred_means @ centred / sxx
    residual = centred_means - slope[:, np.newaxis] * centred
    degrees = releases - 2
    error = np.sqrt((residual**2).sum(axis=1) / degrees / sxx)
    return Trend(slope, slope * (releases - 1), error, _ratio_p(slope, error, degrees))


def trend_of_runs(logs: stats.FloatArray, release_of_run: stats.IntArray) -> Trend:
    """Least squares of every run's value on its release's index, with an HC3 error."""
    releases = int(release_of_run.max()) + 1
    x = release_of_run.astype(np.float64)
    centred = x - x.mean()
    sxx = float(centred @ centred)
    centred_logs = logs - logs.mean(axis=1, keepdims=True)
    slope = centred_logs @ centred / sxx
    residual = centred_logs - slope[:, np.newaxis] * centred
    leverage = 1.0 / x.size + centred**2 / sxx
    weights = centred**2 / (1.0 - leverage) ** 2
    error = np.sqrt(residual**2 @ weights) / sxx
    degrees = x.size - 2
    return Trend(slope, slope * (releases - 1), error, _ratio_p(slope, error, degrees))


def trend_mann_kendall(logs: stats.FloatArray, release_of_run: stats.IntArray) -> Trend:
    """Mann-Kendall on each row's per-release medians; Sen's slope (median pairwise slope).

    The normal approximation with continuity correction; medians of normalised times do not
    tie. The standard error is Sen's slope over the test's z, for the noise floor only.
    """
    releases = int(release_of_run.max()) + 1
    medians = np.column_stack(
        [np.median(logs[:, release_of_run == k], axis=1) for k in range(releases)]
    )
    first, second = np.triu_indices(releases, k=1)
    differences = medians[:, second] - medians[:, first]
    score = np.sign(differences).sum(axis=1)
    variance = releases * (releases - 1) * (2 * releases + 5) / 18.0
    z = (score - np.sign(score)) / math.sqrt(variance)
    pvalue = np.array([2.0 * (1.0 - _STANDARD_NORMAL.cdf(abs(value))) for value in z])
    slope = np.median(differences / (second - first), axis=1)
    error = np.divide(np.abs(slope), np.abs(z), out=np.full(slope.shape, np.inf), where=z != 0)
    return Trend(slope, slope * (releases - 1), error, pvalue)


_TRENDS = {
    "release-means": trend_of_release_means,
    "runs-hc3": trend_of_runs,
    "mann-kendall": trend_mann_kendall,
}


def _history_factors(
    normalisation: str,
    seconds: stats.FloatArray,
    counts: stats.IntArray,
    run_seconds: stats.FloatArray,
) -> tuple[stats.FloatArray, str]:
    """One scale factor per run of the whole history, as compare() scales a pair's runs.

    "measured" is not applied across a history (the probe compares two captures); median-ratio
    stands in for it and for "auto".
    """
    if normalisation == "absolute":
        return np.ones(run_seconds.shape), "absolute"
    if normalisation != "share":
        factors = stats.median_ratio_factors(seconds, counts)
        if factors is not None:
            return factors, "median-ratio"
    log_runs = np.log(run_seconds)
    return np.exp(log_runs - log_runs.mean()), "share"


def creep(
    history: Sequence[FunctionCounts],
    names: Sequence[str],
    options: CompareOptions | None = None,
    *,
    seconds_per_sample: Sequence[float] | None = None,
    unit: Literal["s", "samples"] = "s",
    method: TrendMethod = "release-means",
) -> pd.DataFrame:
    """The creep frame (see the module docstring) of ``history``: anchor first, head last.

    ``history`` holds the counts of every release from the anchor to the head, in order, and
    ``names`` their names; ``seconds_per_sample`` one per release (1.0 each by default).
    """
    import pandas as pd

    options = options or CompareOptions()
    if len(history) < 2 or len(names) != len(history):
        raise AnalysisError("a creep needs an anchor and a head, and a name for each release")
    if method not in _TRENDS:
        raise AnalysisError(f"unknown trend method {method!r}")
    per_sample = list(seconds_per_sample or [1.0] * len(history))
    functions = tuple(sorted(set().union(*(counts.functions for counts in history))))
    history = [counts.reindex(functions) for counts in history]
    anchor, head = history[0], history[-1]
    pair = compare_counts(
        anchor,
        head,
        options,
        base_name=names[0],
        head_name=names[-1],
        base_seconds_per_sample=per_sample[0],
        head_seconds_per_sample=per_sample[-1],
        unit=unit,
    )
    pair = pair[pair["status"] != "load"].reset_index(drop=True)

    use_self = options.metric == "self"
    counts = np.concatenate(
        [c.self_samples if use_self else c.total_samples for c in history], axis=1
    )
    self_counts = np.concatenate([c.self_samples for c in history], axis=1)
    scale = np.concatenate([np.full(c.runs, s) for c, s in zip(history, per_sample, strict=True)])
    run_seconds = np.concatenate([c.run_samples for c in history]) * scale
    factors, normalisation = _history_factors(
        options.normalisation, self_counts * scale, self_counts, run_seconds
    )
    logs = np.log((counts + _PSEUDO_COUNT) * scale / factors)
    release_of_run = np.concatenate(
        [np.full(c.runs, index, dtype=np.int64) for index, c in enumerate(history)]
    )

    tested = pair["tested"].to_numpy(dtype=bool) & (pair["status"] == "changed").to_numpy()
    rows = len(functions)
    slope_pct = np.full(rows, np.nan)
    trend_pct = np.full(rows, np.nan)
    trend_p = np.full(rows, np.nan)
    trend_floor = np.full(rows, np.inf)
    if len(history) >= 3 and tested.any():
        trend = _TRENDS[method](logs[tested], release_of_run)
        slope_pct[tested] = 100.0 * np.expm1(trend.slope)
        trend_pct[tested] = 100.0 * np.expm1(trend.change)
        trend_p[tested] = trend.pvalue
        level = options.alpha / max(int(tested.sum()), 1)
        z = _STANDARD_NORMAL.inv_cdf(1.0 - level / 2.0) + _STANDARD_NORMAL.inv_cdf(0.8)
        trend_floor[tested] = 100.0 * np.expm1(z * trend.standard_error * (len(history) - 1))

    anchor_p = pair["p_value"].to_numpy(dtype=np.float64)
    anchor_delta = pair["delta_pct"].to_numpy(dtype=np.float64)
    smallest_p = np.fmin(anchor_p, trend_p)
    tests = np.isfinite(anchor_p).astype(np.int64) + np.isfinite(trend_p)
    pvalue = np.where(tested, np.minimum(1.0, tests * smallest_p), np.nan)
    qvalue = stats.benjamini_hochberg(pvalue)
    # The more cautious of the two estimates: the one nearer zero (either where one is NaN).
    nearer = np.abs(anchor_delta) <= np.abs(trend_pct)
    change = np.where(np.isnan(trend_pct) | nearer, anchor_delta, trend_pct)
    change = np.where(np.isnan(anchor_delta), trend_pct, change)
    floor = np.fmin(pair["noise_floor_pct"].to_numpy(dtype=np.float64), trend_floor)

    frame = pd.DataFrame(
        {
            "function": pair["function"],
            "tested": tested,
            "head_share": pair["head_share"],
            "anchor_delta_pct": anchor_delta,
            "anchor_p": anchor_p,
            "slope_pct": slope_pct,
            "trend_pct": trend_pct,
            "trend_p": trend_p,
            "change_pct": change,
            "p_value": pvalue,
            "q_value": qvalue,
            "significant": tested & (qvalue <= options.alpha),
            "noise_floor_pct": floor,
            "grew_most": _grew_most(logs, release_of_run, names, tested),
        },
        columns=list(COLUMNS),
    )
    frame.attrs.update(
        {
            "anchor": names[0],
            "head": names[-1],
            "releases": list(names),
            "method": method,
            "metric": str(options.metric),
            "normalisation": normalisation,
            "unit": unit,
            "alpha": options.alpha,
        }
    )
    return frame


def _grew_most(
    logs: stats.FloatArray,
    release_of_run: stats.IntArray,
    names: Sequence[str],
    tested: npt.NDArray[np.bool_],
) -> list[tuple[tuple[str, float], ...]]:
    """Per function, the releases whose median grew most over the previous one's."""
    releases = len(names)
    medians = np.column_stack(
        [np.median(logs[:, release_of_run == k], axis=1) for k in range(releases)]
    )
    steps = 100.0 * np.expm1(np.diff(medians, axis=1))
    grew: list[tuple[tuple[str, float], ...]] = []
    for row in range(logs.shape[0]):
        if not tested[row]:
            grew.append(())
            continue
        order = np.argsort(-steps[row], kind="stable")[:GREW_MOST]
        grew.append(tuple((names[k + 1], float(steps[row, k])) for k in order if steps[row, k] > 0))
    return grew


# ---- measured on synthetic histories ----------------------------------------------------


def synthetic_history(
    noise: NoiseModel,
    target_share: float,
    runs: int,
    releases: int,
    rng: np.random.Generator,
    *,
    growth: float = 0.0,
    release_sigma: float = 0.0,
) -> list[FunctionCounts]:
    """Counts of ``releases`` synthetic releases (see :mod:`flamediff.analysis.simulate`).

    The target is ``(1 + growth) ** k`` slower in release ``k`` (0 for the first), times a
    log-normal effect of ``release_sigma`` drawn once per release: what a capture's day, build
    or machine does to one function in all runs of a release alike.
    """
    from flamediff.analysis.simulate import synthetic_counts

    effects = rng.lognormal(0.0, release_sigma, size=releases) if release_sigma else None
    history = []
    for k in range(releases):
        factor = (1.0 + growth) ** k * (float(effects[k]) if effects is not None else 1.0)
        history.append(synthetic_counts(noise, target_share, runs, rng, factor - 1.0))
    return history


def history_verdict(
    history: Sequence[FunctionCounts],
    *,
    policy: GatePolicy | None = None,
    options: CompareOptions | None = None,
    method: TrendMethod = "release-means",
    rate_hz: float = 100.0,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(blocked, significant): the functions whose change since the first release of
    ``history`` blocks on its own, and those whose change is significant at all."""
    from flamediff.gate import GatePolicy, GateResult, evaluate_creep

    names = [f"r{index:03d}" for index in range(len(history))]
    frame = creep(
        history,
        names,
        options,
        seconds_per_sample=[1.0 / rate_hz] * len(history),
        method=method,
    )
    result = evaluate_creep(frame, policy or GatePolicy(), GateResult("pass"))
    significant = frame.loc[frame["significant"], "function"]
    return tuple(f.function for f in result.blocking), tuple(str(f) for f in significant)


@dataclass(frozen=True, slots=True)
class HistoryScenario:
    """One row of the measured table: ``releases`` of ``runs`` runs; the target holds
    ``share`` and grows by ``growth`` per release, with ``release_sigma`` of per-release noise."""

    releases: int
    runs: int
    share: float
    growth: float
    release_sigma: float = 0.0
    noise: NoiseModel = field(default_factory=NoiseModel)


Outcome = Literal["target", "any", "significant"]


def creep_rates(
    scenario: HistoryScenario, trials: int, seed: int, *, method: TrendMethod = "release-means"
) -> dict[Outcome, float]:
    """Over ``trials`` histories, the fraction in which the change since the first release
    blocks the target ("target": detection), blocks any function ("any": false blocks when
    nothing grows), and is significant for any function ("significant": the trend and anchor
    tests' own false alarms, before the threshold)."""
    from flamediff.analysis.simulate import TARGET

    rng = np.random.default_rng(seed)
    seen: dict[Outcome, int] = {"target": 0, "any": 0, "significant": 0}
    for _ in range(trials):
        history = synthetic_history(
            scenario.noise,
            scenario.share,
            scenario.runs,
            scenario.releases,
            rng,
            growth=scenario.growth,
            release_sigma=scenario.release_sigma,
        )
        blocked, significant = history_verdict(
            history, method=method, rate_hz=scenario.noise.rate_hz
        )
        seen["target"] += TARGET in blocked
        seen["any"] += bool(blocked)
        seen["significant"] += bool(significant)
    return {outcome: count / trials for outcome, count in seen.items()}


def measure(trials: int = 200, seed: int = 1, runs: int = 8) -> str:
    """The Markdown table of the creep gate's false blocks and detection, per trend method,
    beside the single comparison's false blocks (the bar an A/A history must not exceed)."""
    from flamediff.analysis.simulate import Scenario, block_rate

    noise = NoiseModel()
    single = block_rate(Scenario(runs, 0.05, 0.0, noise), 10 * trials, seed, target_only=False)
    null = [HistoryScenario(20, runs, 0.05, 0.0), HistoryScenario(20, runs, 0.05, 0.0, 0.02)]
    growing = [
        HistoryScenario(11, runs, 0.20, 0.015),
        HistoryScenario(11, runs, 0.05, 0.015),
        HistoryScenario(11, runs, 0.20, 0.01),
        HistoryScenario(11, runs, 0.05, 0.015, 0.02),
    ]
    header = [
        "trend test",
        "A/A: blocks",
        "A/A: significant",
        "A/A, 2% release noise: blocks",
        "A/A, 2% release noise: significant",
        "+1.5%/release, 20% share",
        "+1.5%/release, 5% share",
        "+1%/release, 20% share",
        "+1.5%/release, 5%, 2% release noise",
    ]
    lines = ["| " + " | ".join(header) + " |", "|:--|" + "|".join("---:" for _ in header[1:]) + "|"]
    for method in TREND_METHODS:
        cells: list[str] = [method]
        for index, scenario in enumerate(null):
            # False alarms are rare: measured on five times as many histories.
            rates = creep_rates(scenario, 5 * trials, seed + 100 * index, method=method)
            cells += [f"{100 * rates['any']:.1f}%", f"{100 * rates['significant']:.1f}%"]
        for index, scenario in enumerate(growing):
            rates = creep_rates(scenario, trials, seed + 1000 + 100 * index, method=method)
            cells.append(f"{100 * rates['target']:.1f}%")
        lines.append("| " + " | ".join(cells) + " |")
    footnote = (
        f"{trials} histories per cell ({5 * trials} for A/A), {runs} runs per release, anchor = "
        "the first release; A/A: 20 releases of identical code; growth: 11 releases (ten "
        f"steps). The simulation's noise: machine drift ±{100 * noise.drift:.0f}% per run, "
        f"per-function jitter {100 * noise.jitter:.0f}%, {noise.samples_per_run} samples per "
        "run; release noise: the target's time moved by a log-normal 2% per release, in all "
        "its runs alike. Default policy (block at +10%, q <= 0.05). blocks: any function blocks "
        "on its change since the anchor; significant: any function's change is significant "
        "(q <= 0.05), threshold or not; growth columns: the growing function blocks. A single "
        f"A/A comparison of {runs} vs {runs} runs blocks in {100 * single:.2f}% of "
        f"{10 * trials} pairs."
    )
    return "\n".join([*lines, "", footnote]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The creep gate's error rates, measured.")
    parser.add_argument("--trials", type=int, default=200, help="histories per table cell")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the table is stable)")
    parser.add_argument("--runs", type=int, default=8, help="runs per release")
    arguments = parser.parse_args(argv)
    print(measure(trials=arguments.trials, seed=arguments.seed, runs=arguments.runs), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
