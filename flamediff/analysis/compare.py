"""Compare a release against the previous one, function by function.

:func:`compare` returns the *comparison frame*: one row per function of either release, after
a first row for the whole load. Its columns:

``function`` (str)
    the function's identity; :data:`LOAD_ROW` for the whole-load row.
``status`` ("load" | "new" | "removed" | "changed")
    "new": no sample in any base run; "removed": none in any head run; "changed": present in
    both releases, whether or not its time moved (see ``verdict``); "load": the first row.
``base_self_s``, ``head_self_s``, ``base_total_s``, ``head_total_s`` (float)
    median over the release's runs of the function's self / total time per run, in seconds
    (in samples when a release's sampling rate is unknown, see ``attrs["unit"]``), after the
    per-run normalisation (see below). The load row holds all samples of the run: absolute,
    or its CPU time on the measured scale under ``"measured"``.
``base_self_lo_s``, ``base_self_hi_s``, ... (float)
    the interquartile range over runs of the same values: the spread.
``base_wall_s``, ``head_wall_s`` (float)
    load row only: median wall time of the runs; NaN elsewhere and where unknown.
``delta_pct`` (float)
    relative change of the compared metric (``attrs["metric"]``) from base to head, in percent:
    100 * (head - base) / base on the medians (on the means when the base median is zero but
    the function is not absent); NaN for new functions.
``impact_s`` (float)
    head minus base median of the compared metric, seconds per run: what the change costs.
``base_share``, ``head_share`` (float)
    median over runs of the compared metric's samples over the run's samples (raw counts).
``p_value``, ``q_value`` (float)
    the p-value of the test named in ``test``, and its Benjamini-Hochberg q-value over the
    functions tested; NaN where untested. The load row is tested alone (its q equals its p).
``test`` ("count" | "rank" | "")
    which test decided the row: "count", the count model of
    :func:`flamediff.analysis.counts.count_test` (sample counts with each run's exposure);
    "rank", the exact Mann-Whitney test on the per-run normalised values (the load row, rows
    where the count model does not hold, and every row with ``CompareOptions.test="rank"``);
    "" where untested.
``tested``, ``significant`` (bool)
    tested: the function reached ``min_share`` of either release (and statistics were asked
    for); significant: tested and q <= alpha.
``noise_floor_pct`` (float)
    the smallest change this capture could detect for the function, in percent (see
    :func:`flamediff.analysis.stats.noise_floor`); inf when the run counts cannot reach alpha.
``verdict`` ("slower" | "faster" | "~" | "untested")
    significant and slower, significant and faster, not significant, not tested.

``attrs`` (:class:`ComparisonMeta`) records the names, run counts, metric, normalisation, unit,
alpha, test and scale factors; renderers read it.

Normalisation. Every run's values are divided by a scale factor before medians and tests, so
the seconds shown are those of a "typical run" of the pair:

- ``"auto"`` (default): ``"measured"`` when every run of both releases recorded its CPU time
  and probe time, else ``"median-ratio"``; ``attrs["machine_measured"]`` says which.
- ``"measured"``: a function's share of the run's samples times the run's CPU time, divided by
  the machine's speed from the calibration probe (see :func:`_measured_factors`). It does not
  assume that most functions are unchanged; the whole-load row is then scaled alike.
- ``"median-ratio"``: median of ratios over the functions present in every run (see
  :func:`flamediff.analysis.stats.median_ratio_factors`). One load captured three times gave
  505, 918 and 701 samples: a machine 30% slower in one capture makes every function 30%
  slower in it; absolute seconds would then drown a 10% regression
  in ±30% noise, and would flag every function when the base was captured on a faster day.
  Shares remove the machine but are compositional: when a function holding 30% gets twice as
  fast, every untouched function's share rises by 17.6% and would block. The median ratio
  removes the machine and is moved only by the minority of functions that really changed,
  and is wrong when most functions changed (a hot helper called a third more often, a
  release faster everywhere): it then reports unchanged code as changed.
  Falls back to ``"share"`` (and says so in ``attrs["normalisation"]``) when fewer than three
  functions are present in every run.
- ``"share"``: factor proportional to the run's total samples.
- ``"absolute"``: no factor; right only when base and head were captured side by side.

The whole-load row is absolute, since whether the load as a whole got slower is exactly what a
normalisation inferred from the functions removes; under ``"measured"`` the factors are the
machine's, not the functions', so the row is divided by them too.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict, cast

import numpy as np
import pandas as pd

from flamediff import vocabulary as default
from flamediff.analysis import counts as count_model
from flamediff.analysis import stats
from flamediff.analysis.tables import FunctionCounts, function_counts_of, seconds_per_sample
from flamediff.errors import AnalysisError, ConfigError
from flamediff.model import Release
from flamediff.vocabulary import Metric, Normalisation, SortKey

Status = Literal["load", "new", "removed", "changed"]
Verdict = Literal["slower", "faster", "~", "untested"]

LOAD_ROW = "<load>"

COLUMNS = (
    "function",
    "status",
    "base_self_s",
    "base_self_lo_s",
    "base_self_hi_s",
    "head_self_s",
    "head_self_lo_s",
    "head_self_hi_s",
    "base_total_s",
    "base_total_lo_s",
    "base_total_hi_s",
    "head_total_s",
    "head_total_lo_s",
    "head_total_hi_s",
    "base_wall_s",
    "head_wall_s",
    "delta_pct",
    "impact_s",
    "base_share",
    "head_share",
    "p_value",
    "q_value",
    "test",
    "tested",
    "significant",
    "noise_floor_pct",
    "verdict",
)


class ComparisonMeta(TypedDict):
    """What a comparison frame's ``attrs`` hold."""

    base: str
    head: str
    n_base: int
    n_head: int
    metric: Metric
    normalisation: str
    unit: Literal["s", "samples"]
    alpha: float
    min_share: float
    no_stats: bool
    test: str
    correction: str
    scale_factors_base: list[float]
    scale_factors_head: list[float]
    machine_measured: bool
    filtered: bool
    calls: NotRequired[bool]  # base_calls and head_calls added (analysis.calls.with_calls)


@dataclass(frozen=True, slots=True)
class CompareOptions:
    """How to compare two releases.

    ``metric``: the time that is tested, sorted on and gated: "self" puts each regression on
    the function whose own code got slower; "total" also moves all its callers.
    ``normalisation``: see the module docstring; keep the default unless base and head were
    captured side by side ("absolute") or you want shares.
    ``alpha``: false discovery rate for Benjamini-Hochberg.
    ``min_share``: functions below this share of both releases are not tested (they cannot be
    significant, so cannot block) and do not dilute the test of the others.
    ``min_runs``: fewer runs per release than this is an error unless ``no_stats``: at 4 vs 4
    the smallest exact p-value is 0.0286, below that none reaches 0.05.
    ``no_stats``: deltas only; nothing is tested or significant.
    ``test``: "count" tests the sample counts with a count model and falls back to the exact
    rank test where it does not hold (see :mod:`flamediff.analysis.counts`); "rank" tests
    every function with the exact rank test.
    ``side_by_side``: base and head were captured interleaved in one job, so they shared the
    machine: measured factors then use the runs' CPU time only, not the calibration probe,
    whose few milliseconds are noisier than the difference it would correct.
    ``sort``, ``top``, ``pattern``: the view: sort key, number of function rows kept, and a
    glob (fnmatch) the function must match. The statistics are computed on all functions first.
    """

    metric: Metric = default.METRIC
    normalisation: Normalisation = default.NORMALISATION
    alpha: float = default.ALPHA
    min_share: float = default.MIN_SHARE
    min_runs: int = default.MIN_RUNS
    no_stats: bool = False
    test: Literal["count", "rank"] = "count"
    side_by_side: bool = False
    sort: SortKey = default.SORT
    top: int | None = None
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in tuple(Metric):
            raise ConfigError(f"metric must be 'self' or 'total', not {self.metric!r}")
        if self.normalisation not in tuple(Normalisation):
            choices = ", ".join(f"'{member}'" for member in Normalisation)
            raise ConfigError(f"normalisation must be one of {choices}, not {self.normalisation!r}")
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must be between 0 and 1, not {self.alpha}")
        if not 0.0 <= self.min_share < 1.0:
            raise ConfigError(f"min_share must be in [0, 1), not {self.min_share}")
        if self.min_runs < 2:
            raise ConfigError(f"min_runs must be at least 2, not {self.min_runs}")
        if self.test not in ("count", "rank"):
            raise ConfigError(f"test must be 'count' or 'rank', not {self.test!r}")
        if self.sort not in tuple(SortKey):
            raise ConfigError(f"unknown sort key {self.sort!r}")
        if self.top is not None and self.top < 0:
            raise ConfigError(f"top must not be negative, not {self.top}")


def comparison_meta(comparison: pd.DataFrame) -> ComparisonMeta:
    """The metadata of a comparison frame made by :func:`compare`."""
    if "n_base" not in comparison.attrs:
        raise AnalysisError("not a comparison frame: its attrs lack the comparison's metadata")
    return cast(ComparisonMeta, comparison.attrs)


def compare(base: Release, head: Release, options: CompareOptions | None = None) -> pd.DataFrame:
    """Compare ``head`` against ``base``; see the module docstring for the frame returned.

    The statistics are computed over all functions, then the view options (sort, top,
    pattern) are applied: give the gate an unfiltered comparison.
    """
    options = options or CompareOptions()
    known_rate = bool(base.info.rate_hz) and bool(head.info.rate_hz)
    # Counted together: the two releases share most of their stacks.
    base_counts, head_counts = function_counts_of([base, head])
    comparison = compare_counts(
        base_counts,
        head_counts,
        options,
        base_name=base.name,
        head_name=head.name,
        # Rates can differ between releases; seconds compare, samples only at the same rate.
        base_seconds_per_sample=seconds_per_sample(base) if known_rate else 1.0,
        head_seconds_per_sample=seconds_per_sample(head) if known_rate else 1.0,
        unit="s" if known_rate else "samples",
    )
    comparison.attrs["rates_hz"] = [base.info.rate_hz, head.info.rate_hz]
    return view(comparison, sort=options.sort, top=options.top, pattern=options.pattern)


def _quartiles(values: stats.FloatArray) -> tuple[stats.FloatArray, ...]:
    if values.shape[1] == 0:
        nan = np.full(values.shape[0], np.nan)
        return nan, nan, nan
    low, middle, high = np.percentile(values, [25, 50, 75], axis=1)
    return low, middle, high


def _relative_change(base: stats.FloatArray, head: stats.FloatArray) -> stats.FloatArray:
    """Percent change of the medians, of the means where the base median is 0 but not absent."""
    base_median, head_median = np.median(base, axis=1), np.median(head, axis=1)
    base_mean, head_mean = base.mean(axis=1), head.mean(axis=1)
    use_mean = (base_median == 0) & (base_mean > 0)
    before = np.where(use_mean, base_mean, base_median)
    after = np.where(use_mean, head_mean, head_median)
    change: stats.FloatArray = np.divide(
        100.0 * (after - before), before, out=np.full(before.shape, np.nan), where=before > 0
    )
    return change


def compare_counts(
    base: FunctionCounts,
    head: FunctionCounts,
    options: CompareOptions,
    *,
    base_name: str = "base",
    head_name: str = "head",
    base_seconds_per_sample: float = 1.0,
    head_seconds_per_sample: float = 1.0,
    unit: Literal["s", "samples"] = "s",
) -> pd.DataFrame:
    """The unfiltered comparison frame of two releases' counts, load row first, by function."""
    for name, counts in ((base_name, base), (head_name, head)):
        if counts.runs == 0:
            raise AnalysisError(f"release {name} has no runs to compare")
        if (counts.run_samples == 0).any():
            empty = int(np.flatnonzero(counts.run_samples == 0)[0])
            raise AnalysisError(f"run {empty} of release {name} has no samples")
        if not options.no_stats and counts.runs < options.min_runs:
            raise AnalysisError(
                f"release {name} has {counts.runs} runs; testing needs at least "
                f"{options.min_runs} per release (capture more runs, or compare without "
                "statistics)"
            )
    functions = tuple(sorted(set(base.functions) | set(head.functions)))
    base, head = base.reindex(functions), head.reindex(functions)
    n_base = base.runs

    per_sample = np.concatenate(
        [np.full(base.runs, base_seconds_per_sample), np.full(head.runs, head_seconds_per_sample)]
    )
    self_counts = np.concatenate([base.self_samples, head.self_samples], axis=1)
    total_counts = np.concatenate([base.total_samples, head.total_samples], axis=1)
    run_counts = np.concatenate([base.run_samples, head.run_samples])
    self_seconds = self_counts * per_sample
    total_seconds = total_counts * per_sample
    run_seconds = run_counts * per_sample

    factors, normalisation = _scale_factors(
        options.normalisation, base, head, self_seconds, self_counts, run_seconds,
        side_by_side=options.side_by_side,
    )  # fmt: skip
    self_values = self_seconds / factors
    total_values = total_seconds / factors

    columns: dict[str, Any] = {}
    for metric, values in (("self", self_values), ("total", total_values)):
        for side, part in (("base", values[:, :n_base]), ("head", values[:, n_base:])):
            low, middle, high = _quartiles(part)
            columns[f"{side}_{metric}_s"] = middle
            columns[f"{side}_{metric}_lo_s"] = low
            columns[f"{side}_{metric}_hi_s"] = high
    rows = len(functions)
    columns["base_wall_s"] = np.full(rows, np.nan)
    columns["head_wall_s"] = np.full(rows, np.nan)

    values = self_values if options.metric == "self" else total_values
    metric_counts = self_counts if options.metric == "self" else total_counts
    base_values, head_values = values[:, :n_base], values[:, n_base:]
    columns["delta_pct"] = _relative_change(base_values, head_values)
    columns["impact_s"] = np.median(head_values, axis=1) - np.median(base_values, axis=1)
    shares = metric_counts / run_counts
    base_share = np.median(shares[:, :n_base], axis=1)
    head_share = np.median(shares[:, n_base:], axis=1)
    columns["base_share"] = base_share
    columns["head_share"] = head_share

    tested = np.zeros(rows, dtype=bool)
    if not options.no_stats:
        tested = np.maximum(base_share, head_share) >= options.min_share
        # A function with no sample of this metric anywhere has nothing to test.
        tested &= metric_counts.sum(axis=1) > 0
    pvalues = np.full(rows, np.nan)
    floors = 100.0 * stats.noise_floor(
        base_values,
        head_values,
        metric_counts[:, :n_base],
        metric_counts[:, n_base:],
        options.alpha,
        family=int(tested.sum()),
    )
    decided_by = np.where(tested, "rank", "").astype(object)
    if options.test == "count" and tested.any():
        exposure = factors / per_sample  # so that counts / exposure are the values above
        decided = count_model.count_test(
            metric_counts[tested][:, :n_base],
            metric_counts[tested][:, n_base:],
            exposure[:n_base],
            exposure[n_base:],
        )
        pvalues[tested] = decided["p_value"].to_numpy()
        decided_by[tested] = decided["test"].to_numpy()
        model_floors = 100.0 * count_model.relative_floor(
            decided["standard_error"].to_numpy(), options.alpha / max(int(tested.sum()), 1)
        )
        floors[tested] = np.where(decided["test"] == "count", model_floors, floors[tested])
    else:
        pvalues[tested] = stats.mann_whitney_p(base_values[tested], head_values[tested])
    qvalues = stats.benjamini_hochberg(pvalues)
    significant = tested & (qvalues <= options.alpha)
    columns["p_value"] = pvalues
    columns["q_value"] = qvalues
    columns["test"] = decided_by
    columns["tested"] = tested
    columns["significant"] = significant
    columns["noise_floor_pct"] = floors
    impact = np.asarray(columns["impact_s"])
    columns["verdict"] = np.select(
        [~tested, significant & (impact > 0), significant & (impact < 0)],
        ["untested", "slower", "faster"],
        default="~",
    )
    base_exists = base.total_samples.sum(axis=1) > 0
    head_exists = head.total_samples.sum(axis=1) > 0
    columns["status"] = np.select([~base_exists, ~head_exists], ["new", "removed"], "changed")
    columns["function"] = list(functions)

    # Measured factors are the machine's, not inferred from the functions, so the load row is
    # divided by them too; any other normalisation would remove exactly what the row shows.
    load_seconds = run_seconds / factors if normalisation == "measured" else run_seconds
    load = _load_row(load_seconds[:n_base], load_seconds[n_base:], base, head, run_counts, options)
    # One frame built from arrays with the load row in front: concatenating frames costs
    # more than the statistics, and the simulation builds thousands of these.
    comparison = pd.DataFrame(
        {
            name: np.concatenate(
                [np.array([load[name]], dtype=np.asarray(columns[name]).dtype), columns[name]]
            )
            if name not in ("function", "status", "test", "verdict")
            else [load[name], *np.asarray(columns[name]).tolist()]
            for name in COLUMNS
        }
    )
    meta: ComparisonMeta = {
        "base": base_name,
        "head": head_name,
        "n_base": base.runs,
        "n_head": head.runs,
        "metric": options.metric,
        "normalisation": normalisation,
        "unit": unit,
        "alpha": options.alpha,
        "min_share": options.min_share,
        "no_stats": options.no_stats,
        "test": "none"
        if options.no_stats
        else (count_model.TEST_NAME if options.test == "count" else stats.TEST_NAME),
        "correction": "none" if options.no_stats else "Benjamini-Hochberg",
        "scale_factors_base": [float(factor) for factor in factors[:n_base]],
        "scale_factors_head": [float(factor) for factor in factors[n_base:]],
        "machine_measured": normalisation == "measured",
        "filtered": False,
    }
    comparison.attrs.update(meta)
    return comparison


def _scale_factors(
    asked: Normalisation,
    base: FunctionCounts,
    head: FunctionCounts,
    self_seconds: stats.FloatArray,
    self_counts: stats.IntArray,
    run_seconds: stats.FloatArray,
    *,
    side_by_side: bool = False,
) -> tuple[stats.FloatArray, str]:
    """Every run's scale factor (base runs first) and the normalisation that made them.

    The text returned is the normalisation's name, followed by why when it is not the one
    asked for; ``"measured"`` exactly when the machine's speed was measured.
    """
    if asked == "auto" or asked == "measured":
        if base.measured and head.measured:
            measured = _measured_factors(base, head, run_seconds, probe=not side_by_side)
            return measured, "measured"
        if asked == "measured":
            unmeasured = " and ".join(
                side for side, counts in (("base", base), ("head", head)) if not counts.measured
            )
            raise ConfigError(
                f"normalisation 'measured' needs the CPU time and probe time of every run; the "
                f"{unmeasured} release's runs lack them (captured before they were recorded, "
                "or imported): use 'median-ratio', 'share' or 'absolute'"
            )
    label = "median-ratio" if asked == "auto" else str(asked)
    if asked in ("auto", "median-ratio"):
        factors = stats.median_ratio_factors(self_seconds, self_counts)
        if factors is not None:
            return factors, label
        label = "share (median-ratio needs 3 functions present in every run)"
    if asked == "absolute":
        return np.ones(run_seconds.shape), label
    log_runs = np.log(run_seconds)
    return np.exp(log_runs - log_runs.mean()), label


def _measured_factors(
    base: FunctionCounts, head: FunctionCounts, run_seconds: stats.FloatArray, *, probe: bool
) -> stats.FloatArray:
    """Factors that turn each run's sampled seconds into CPU seconds of a reference machine.

    Sampled seconds count time the load was runnable, waiting for a CPU included, and a
    profiler that falls behind on a busy machine takes fewer samples than its rate promises:
    only the proportions of samples are trusted. A function's share of the run's samples
    times the run's CPU time (rusage) is its CPU time. That is divided by the machine's speed
    during the release's capture: the *fastest* probe of its runs against the geometric mean
    of both releases' fastest. A probe lasts milliseconds, so on a busy machine its time
    swings by half between one run and the next (0.0053 to 0.0095 s in one capture): the
    median of eight of them differed by 28% between two sides captured interleaved, and
    moved every function of one side by that much. The fastest probe is the hardware's speed
    when nothing got in its way, steady to a few percent; what other processes take from a
    run is the CPU time's to show. Without ``probe`` (captures interleaved in one job, which
    shared the machine) the speed is taken as equal: an A/A pair captured interleaved still
    read +27% everywhere from the probes' fastest values on a busy machine.
    """
    assert base.cpu_seconds is not None
    assert head.cpu_seconds is not None
    assert base.probe_seconds is not None
    assert head.probe_seconds is not None
    cpu = np.concatenate([base.cpu_seconds, head.cpu_seconds])
    base_speed = float(np.min(base.probe_seconds)) if probe else 1.0
    head_speed = float(np.min(head.probe_seconds)) if probe else 1.0
    reference = math.sqrt(base_speed * head_speed)
    speed = np.concatenate(
        [np.full(base.runs, base_speed / reference), np.full(head.runs, head_speed / reference)]
    )
    factors: stats.FloatArray = run_seconds / cpu * speed
    return factors


def _load_row(
    base_seconds: stats.FloatArray,
    head_seconds: stats.FloatArray,
    base: FunctionCounts,
    head: FunctionCounts,
    run_counts: stats.IntArray,
    options: CompareOptions,
) -> dict[str, Any]:
    """The whole-load row: all samples and wall time per run, absolute, tested on its own."""
    row: dict[str, Any] = {"function": LOAD_ROW, "status": "load"}
    for side, part in (("base", base_seconds), ("head", head_seconds)):
        low, middle, high = _quartiles(part[np.newaxis, :])
        for metric in ("self", "total"):
            row[f"{side}_{metric}_s"] = float(middle[0])
            row[f"{side}_{metric}_lo_s"] = float(low[0])
            row[f"{side}_{metric}_hi_s"] = float(high[0])
    for side, counts in (("base", base), ("head", head)):
        known = counts.wall_seconds[np.isfinite(counts.wall_seconds)]
        row[f"{side}_wall_s"] = float(np.median(known)) if known.size else math.nan
    before, after = base_seconds[np.newaxis, :], head_seconds[np.newaxis, :]
    row["delta_pct"] = float(_relative_change(before, after)[0])
    row["impact_s"] = float(np.median(head_seconds) - np.median(base_seconds))
    row["base_share"] = 1.0
    row["head_share"] = 1.0
    tested = not options.no_stats
    pvalue = float(stats.mann_whitney_p(before, after)[0]) if tested else math.nan
    row["p_value"] = pvalue
    row["q_value"] = pvalue
    row["test"] = "rank" if tested else ""
    row["tested"] = tested
    row["significant"] = tested and pvalue <= options.alpha
    n_base = base_seconds.shape[0]
    row["noise_floor_pct"] = 100.0 * float(
        stats.noise_floor(
            before,
            after,
            run_counts[np.newaxis, :n_base],
            run_counts[np.newaxis, n_base:],
            options.alpha,
        )[0]
    )
    if not tested:
        row["verdict"] = "untested"
    elif row["significant"]:
        row["verdict"] = "slower" if row["impact_s"] > 0 else "faster"
    else:
        row["verdict"] = "~"
    return row


def view(
    comparison: pd.DataFrame,
    *,
    sort: SortKey = default.SORT,
    top: int | None = None,
    pattern: str | None = None,
) -> pd.DataFrame:
    """The comparison's load row followed by its function rows, sorted, matched and cut.

    ``sort``: "impact" (largest absolute ``impact_s`` first), "delta" (largest absolute
    ``delta_pct``), "share" (largest ``head_share``), "q" (smallest ``q_value``), "name".
    Ties are broken by name so output is stable. ``pattern`` is a glob (fnmatch, case
    sensitive) on the function; ``top`` keeps that many function rows. Columns are unchanged;
    ``attrs["filtered"]`` becomes true when rows were dropped.
    """
    is_load = comparison["status"] == "load"
    load, functions = comparison[is_load], comparison[~is_load]
    if pattern is not None:
        matches = [fnmatch.fnmatchcase(name, pattern) for name in functions["function"]]
        functions = functions[np.array(matches, dtype=bool)]
    if sort == "name":
        functions = functions.sort_values("function", kind="stable")
    else:
        column, ascending = {
            "impact": ("impact_s", False),
            "delta": ("delta_pct", False),
            "share": ("head_share", False),
            "q": ("q_value", True),
        }[sort]
        key = functions[column].abs() if sort in ("impact", "delta") else functions[column]
        order = pd.DataFrame({"key": key, "function": functions["function"]})
        order = order.sort_values(
            ["key", "function"], ascending=[ascending, True], na_position="last", kind="stable"
        )
        functions = functions.loc[order.index]
    if top is not None:
        functions = functions.head(top)
    result = pd.concat([load, functions], ignore_index=True)
    result.attrs = dict(comparison.attrs)
    result.attrs["filtered"] = bool(comparison.attrs.get("filtered")) or len(result) < len(
        comparison
    )
    return result
