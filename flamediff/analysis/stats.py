"""Statistics over per-run values, many functions at a time.

Arrays are (functions, runs): each row is one function, each column one run of the release.

- :func:`mann_whitney_p`: exact, tie-aware, two-sided Mann-Whitney U p-values. Sample counts
  tie (two runs with 0 samples of a function, or the same count), and at 8 runs per side
  SciPy's normal approximation loses most of the test's power, while its ``method="exact"``
  ignores ties. The permutation distribution of the rank sum over all C(n_base + n_head,
  n_base) splits is counted exactly with a small dynamic programme over doubled mid-ranks
  (integers), so no split has to be enumerated and no float tolerance is involved.
- :func:`benjamini_hochberg`: q-values controlling the false discovery rate over the family of
  functions tested.
- :func:`median_ratio_factors`: a robust per-run scale factor (median of ratios, as DESeq
  normalises compositional counts) separating "this run was slower" from "this function got
  slower".
- :func:`noise_floor`: the smallest relative change the data could detect for a function.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TEST_NAME = "Mann-Whitney U, exact and tie-aware, two-sided"

# Up to this many runs in both releases together the exact distribution is counted; beyond it
# the normal approximation is accurate and the count would cost (runs^3) memory.
MAX_EXACT_RUNS = 60

# Median of ratios needs a majority of functions unchanged; below this many functions present
# in every run there is no majority to speak of.
MIN_REFERENCE_FUNCTIONS = 3
# Reference functions are taken from those with at least this many samples in every run when
# enough exist: a function with 3 samples has a ratio that is mostly Poisson noise.
MIN_REFERENCE_SAMPLES = 20

_STANDARD_NORMAL = NormalDist()

# Detection power at which the noise floor is stated.
FLOOR_POWER = 0.8
# Asymptotic relative efficiency of Mann-Whitney against the t-test on normal data (3/pi): its
# sample size needs are those of the t-test divided by this.
_MANN_WHITNEY_EFFICIENCY = 3.0 / math.pi


def min_two_sided_p(n_base: int, n_head: int) -> float:
    """The smallest two-sided exact Mann-Whitney p-value possible: 2 / C(n_base + n_head, n_base).

    0.0286 at 4 vs 4, 0.0079 at 5 vs 5, 1.55e-4 at 8 vs 8.
    """
    return min(1.0, 2.0 / math.comb(n_base + n_head, n_base))


@lru_cache(maxsize=512)
def _rank_sum_tails(pattern: tuple[int, ...], n_base: int) -> tuple[FloatArray, FloatArray]:
    """Cumulative null distribution of the base group's doubled rank sum.

    ``pattern`` is the sorted tuple of the pooled doubled mid-ranks (their ties included). Returns
    (at_most, at_least): ``at_most[s]`` = P(S <= s) and ``at_least[s]`` = P(S >= s) over all
    equally likely ways to choose which ``n_base`` of the pooled values belong to the base.
    """
    top = sum(pattern)
    # ways[k, s]: number of ways to choose k of the values seen so far with doubled-rank sum s.
    ways = np.zeros((n_base + 1, top + 1), dtype=np.float64)
    ways[0, 0] = 1.0
    for rank in pattern:
        # NumPy evaluates overlapping in-place operands as if copied, so each value is chosen at
        # most once per way.
        ways[1:, rank:] += ways[:-1, : top + 1 - rank]
    distribution = ways[n_base] / ways[n_base].sum()
    return np.cumsum(distribution), np.cumsum(distribution[::-1])[::-1]


def mann_whitney_p(base: FloatArray, head: FloatArray) -> FloatArray:
    """Two-sided Mann-Whitney U p-value of each row of ``base`` against the same row of ``head``.

    ``base`` has shape (functions, n_base), ``head`` (functions, n_head); returns (functions,).
    Exact and tie-aware (mid-ranks, the permutation distribution of the observed ranks) as
    ``scipy.stats.permutation_test`` on the rank sum would give, two-sided as twice the smaller
    tail, capped at 1. A row whose values are all equal has p = 1. Beyond
    :data:`MAX_EXACT_RUNS` runs in all, SciPy's tie-corrected normal approximation is used.
    """
    base = np.asarray(base, dtype=np.float64)
    head = np.asarray(head, dtype=np.float64)
    n_base, n_head = base.shape[1], head.shape[1]
    pvalues = np.ones(base.shape[0], dtype=np.float64)
    if base.shape[0] == 0 or n_base == 0 or n_head == 0:
        return pvalues
    pooled = np.concatenate([base, head], axis=1)
    varied = (pooled != pooled[:, :1]).any(axis=1)
    if not varied.any():
        return pvalues
    pooled = pooled[varied]
    if n_base + n_head > MAX_EXACT_RUNS:
        # SciPy only here: importing scipy.stats costs most of a second, which every diff
        # and gate would otherwise pay for a branch that only very long captures reach.
        from scipy import stats

        result = stats.mannwhitneyu(
            pooled[:, :n_base], pooled[:, n_base:], axis=1, method="asymptotic"
        )
        pvalues[varied] = np.asarray(result.pvalue, dtype=np.float64)
        return pvalues

    doubled = _doubled_mid_ranks(pooled)
    observed = doubled[:, :n_base].sum(axis=1)
    patterns, which = np.unique(np.sort(doubled, axis=1), axis=0, return_inverse=True)
    which = which.reshape(-1)
    tested = np.empty(pooled.shape[0], dtype=np.float64)
    for index, pattern in enumerate(patterns):
        rows = which == index
        at_most, at_least = _rank_sum_tails(tuple(int(rank) for rank in pattern), n_base)
        sums = observed[rows]
        tested[rows] = np.minimum(1.0, 2.0 * np.minimum(at_most[sums], at_least[sums]))
    pvalues[varied] = tested
    return pvalues


def _doubled_mid_ranks(values: FloatArray) -> IntArray:
    """Twice the mid-rank of each value within its row, as exact integers.

    A value's mid-rank is (number below it) + (number equal to it, itself included + 1) / 2,
    so twice that is an integer: what ``scipy.stats.rankdata`` gives, doubled, without
    importing SciPy. Rows are compared all pairs at once, a block of rows at a time (runs are
    at most :data:`MAX_EXACT_RUNS`, so a block stays a few megabytes).
    """
    ranks = np.empty(values.shape, dtype=np.int64)
    block = max(1, (1 << 22) // max(1, values.shape[1] ** 2))
    for start in range(0, values.shape[0], block):
        rows = values[start : start + block]
        below = (rows[:, :, np.newaxis] > rows[:, np.newaxis, :]).sum(axis=2)
        equal = (rows[:, :, np.newaxis] == rows[:, np.newaxis, :]).sum(axis=2)
        ranks[start : start + block] = 2 * below + equal + 1
    return ranks


def benjamini_hochberg(pvalues: FloatArray) -> FloatArray:
    """Benjamini-Hochberg q-values (adjusted p-values) of the finite entries of ``pvalues``.

    NaN entries (functions not tested) stay NaN and do not count in the family size. A function
    is a discovery at false discovery rate ``alpha`` when its q-value is at most ``alpha``.
    """
    pvalues = np.asarray(pvalues, dtype=np.float64)
    qvalues = np.full(pvalues.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(pvalues))
    family = finite.size
    if family == 0:
        return qvalues
    order = finite[np.argsort(pvalues[finite], kind="stable")]
    scaled = pvalues[order] * family / np.arange(1, family + 1)
    # q_(i) = min over j >= i of p_(j) m / j: a step-up procedure.
    qvalues[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return qvalues


def median_ratio_factors(values: FloatArray, counts: IntArray) -> FloatArray | None:
    """Per-run scale factors by median of ratios, or None when too few functions support them.

    ``values`` (functions, runs) are the times to normalise, ``counts`` the raw sample counts
    behind them (same shape), used to choose the reference functions: those present in every
    run, preferring those with at least :data:`MIN_REFERENCE_SAMPLES` samples in each. For each
    run the factor is the median over reference functions of value / geometric mean of the
    function's values over all runs; the factors are scaled to a geometric mean of 1, so that
    dividing by them maps every run onto a typical run of the pair. A minority of functions
    that really changed moves the median little, while a machine that is 30% slower in one run
    moves every ratio of that run, and so the factor, by 30%.
    """
    present = (counts > 0).all(axis=1)
    well_sampled = (counts >= MIN_REFERENCE_SAMPLES).all(axis=1)
    reference = well_sampled if well_sampled.sum() >= 2 * MIN_REFERENCE_FUNCTIONS else present
    if reference.sum() < MIN_REFERENCE_FUNCTIONS:
        return None
    logs = np.log(values[reference])
    log_factors = np.median(logs - logs.mean(axis=1, keepdims=True), axis=0)
    factors: FloatArray = np.exp(log_factors - log_factors.mean())
    return factors


def noise_floor(
    base: FloatArray,
    head: FloatArray,
    base_counts: IntArray,
    head_counts: IntArray,
    alpha: float,
    family: int = 1,
) -> FloatArray:
    """The smallest relative change (a fraction) this capture could detect, per function.

    ``base``/``head`` are the normalised per-run values (functions, runs), ``*_counts`` the raw
    sample counts behind them. The per-run coefficient of variation is the larger of the one
    observed within each release (pooled over the releases where the function is present) and
    the sampling noise 1/sqrt(k) of a function with k samples per run; the floor is the shift
    a two-sided test detects with 80% power at these run counts,
    (z_{1-a/2} + z_{0.8}) * cv * sqrt(1/n_base + 1/n_head), widened for Mann-Whitney's
    efficiency of 3/pi against the t-test. ``a`` is ``alpha / family``: Benjamini-Hochberg over
    ``family`` tested functions asks that much of a function that is the only one to change.
    The floor is infinite when even a complete separation of the runs cannot reach ``a``.
    """
    n_base, n_head = base.shape[1], head.shape[1]
    rows = base.shape[0]
    level = alpha / max(family, 1)
    if n_base == 0 or n_head == 0 or min_two_sided_p(n_base, n_head) > level:
        return np.full(rows, np.inf)
    squared_cv = np.zeros(rows)
    degrees = np.zeros(rows)
    for values, runs in ((base, n_base), (head, n_head)):
        if runs < 2:
            continue
        mean = values.mean(axis=1)
        present = mean > 0
        spread = np.zeros(rows)
        spread[present] = values[present].std(axis=1, ddof=1) / mean[present]
        squared_cv += np.where(present, (runs - 1) * spread**2, 0.0)
        degrees += np.where(present, runs - 1, 0)
    observed_cv = np.sqrt(np.divide(squared_cv, degrees, out=np.zeros(rows), where=degrees > 0))
    all_counts = np.concatenate([base_counts, head_counts], axis=1).astype(np.float64)
    # Mean samples per run where the function exists at all (a new function has none in base).
    present_runs = np.maximum((all_counts > 0).sum(axis=1), 1)
    per_run = all_counts.sum(axis=1) / present_runs
    sampling_cv = np.divide(1.0, np.sqrt(per_run), out=np.full(rows, np.inf), where=per_run > 0)
    cv = np.maximum(observed_cv, sampling_cv)
    z = _STANDARD_NORMAL.inv_cdf(1.0 - level / 2.0) + _STANDARD_NORMAL.inv_cdf(FLOOR_POWER)
    floor: FloatArray = z * cv * math.sqrt(1.0 / n_base + 1.0 / n_head)
    return floor / math.sqrt(_MANN_WHITNEY_EFFICIENCY)
