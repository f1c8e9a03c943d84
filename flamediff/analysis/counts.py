"""A count model for per-run sample counts: quasi-Poisson with dispersion shared by empirical
Bayes, many functions at a time.

Arrays are (functions, runs) of sample counts; each run has an *exposure*: the factor its
counts are divided by to give the normalised values compare tests (the normalisation's per-run
scale factor over the seconds per sample), so the model follows whatever normalisation
compare chose. A function's expected count in run j of release g is ``mu_g * exposure_j``.

The model is edgeR's quasi-likelihood pipeline (Lund et al. 2012; Chen, Lun and Smyth 2016),
which detects 1.2-fold changes in gene counts with three replicates, cut down to two groups:

1. **Variance** ``Var(y) = q_i * m / w_j``: a per-function dispersion ``q_i`` times
   Poisson's, over a run weight ``w_j = mean(exposure) / exposure_j``. Real A/A captures on a
   busy 2-core machine (``benchmarks/power/noise_model.json``) showed 7 to 16 times Poisson
   at every count level, not a dispersion growing with the count as a negative binomial's
   does: a wall-clock sampler records the same stack again and again while the load waits
   for the CPU, so samples come in clumps (a compound Poisson count), and the runs with the
   most samples are those that waited most, in the largest clumps: each run's normalised
   value is about as precise as another's, whence the weights.
2. **Fit** each release's rate ``mu_g`` by (quasi-)maximum likelihood with the exposures as
   offset: ``sum(w y) / sum(w exposure)`` over the release's runs, i.e. the mean of the
   runs' normalised values.
3. **Empirical Bayes**: each function's ``q_i`` (deviance over residual degrees of freedom)
   has few degrees of freedom at 8 + 8 runs; it is shrunk towards a trend over all functions
   in the log of the mean count, weighted by how much the functions agree (limma's
   ``squeezeVar`` with ``trend=TRUE``: a scaled F prior fitted by moments of the log
   dispersions, Smyth 2004). This is what buys the power: a function borrows the others' runs
   to learn how noisy runs are.
4. **Outlier runs**: Cook's distance of each run in the function's fit; a run beyond the 99%
   point of F(2, n - 2) (DESeq2's rule) is dropped for that function and the fit is redone
   (at most one run per function: several such runs mean the model does not hold).
5. **Test**: quasi-likelihood F-test of the likelihood-ratio statistic, ``(D_null - D_full) /
   q~_i`` on (1, d0 + d) degrees of freedom.

Where the model does not hold the row is decided by the exact Mann-Whitney test on the
normalised values (``counts / exposure``), and the ``test`` column says so:

- a release with no sample of the function (new, removed): the fold change is infinite;
- more than one outlier run, or a dispersion far beyond the others' (its q_i above the 99.9%
  point of the prior's F distribution): shrinking it towards the rest would understate its
  noise, and a rank test makes no assumption about that noise.

The numerics are written here over NumPy arrays rather than with statsmodels' GLM: the fit is
closed-form per release, done for thousands of functions at once in a few vectorised steps,
where a GLM fitted per function in a Python loop costs milliseconds each, and the simulation
behind the README's tables runs thousands of comparisons. SciPy supplies the special
functions and the F distribution (imported here, only when a comparison is tested).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from flamediff.analysis import stats

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

COUNT_TEST = "count"
RANK_TEST = "rank"

TEST_NAME = (
    "quasi-Poisson F-test on sample counts (dispersion shared by empirical Bayes, "
    "outlier runs dropped by Cook's distance); exact Mann-Whitney U where the model does "
    "not hold"
)

COLUMNS = (
    "p_value",
    "log_fold_change",
    "standard_error",
    "dispersion",
    "df",
    "outlier_runs",
    "test",
)

# Cook's distance beyond this quantile of F(2, n - 2) marks an outlier run (DESeq2's default).
COOKS_QUANTILE = 0.99
# A function's own dispersion beyond this quantile of the prior's F distribution is not
# shrunk: the count model does not describe it, and the rank test decides.
DISPERSION_OUTLIER_QUANTILE = 0.999
# Fewer functions than this cannot inform each other: their dispersions are not shrunk.
MIN_SHARED_FUNCTIONS = 3


def poisson_deviance(counts: FloatArray, fitted: FloatArray) -> FloatArray:
    """The Poisson unit deviance 2 (y log(y / m) - (y - m)), 0 log 0 taken as 0."""
    ratio = np.divide(counts, fitted, out=np.ones(counts.shape), where=(counts > 0) & (fitted > 0))
    deviance = 2.0 * (np.where(counts > 0, counts * np.log(ratio), 0.0) - (counts - fitted))
    return np.maximum(deviance, 0.0)


def squeeze(
    dispersions: FloatArray, df: FloatArray, covariate: FloatArray, usable: BoolArray
) -> tuple[FloatArray, FloatArray, float]:
    """limma's ``squeezeVar`` with a linear trend: (posterior, prior per row, prior df d0).

    ``dispersions`` have ``df`` degrees of freedom each; the prior (a scaled inverse
    chi-square) has a scale that follows a straight line in ``covariate`` and is fitted by
    moments of the log dispersions over the ``usable`` rows (Smyth 2004), its line robustly
    (Theil-Sen, median level without a trend). d0 is infinite when
    the dispersions differ no more than chance alone makes them: every row then gets its
    prior. With fewer than :data:`MIN_SHARED_FUNCTIONS` usable rows nothing is shrunk (d0 = 0).
    """
    from scipy import special

    rows = usable & (dispersions > 0) & (df > 0)
    if rows.sum() < MIN_SHARED_FUNCTIONS:
        return dispersions.copy(), dispersions.copy(), 0.0
    d = df[rows]
    centred = np.log(dispersions[rows]) - special.digamma(d / 2.0) + np.log(d / 2.0)
    # A trend only where enough functions and a spread of counts support one.
    x = covariate[rows]
    trended = rows.sum() >= 2 * MIN_SHARED_FUNCTIONS and np.ptp(x) > 0
    # The trend is fitted robustly (Theil-Sen: the median of the pairwise slopes): among 15
    # functions one whose runs hold an outlier would otherwise drag the line to itself.
    if trended:
        from scipy import stats as distributions

        slope, intercept = distributions.theilslopes(centred, x)[:2]
        parameters = 2
    else:
        slope, intercept = 0.0, float(np.median(centred))
        parameters = 1
    residual = centred - (intercept + slope * x)
    spread = float((residual**2).sum() / (residual.size - parameters))
    excess = spread - float(special.polygamma(1, d / 2.0).mean())
    line = intercept + slope * covariate
    if excess <= 0:
        prior = np.exp(line)
        return prior.copy(), prior, math.inf
    prior_df = 2.0 * _trigamma_inverse(excess)
    prior = np.exp(line + float(special.digamma(prior_df / 2.0)) - math.log(prior_df / 2.0))
    posterior = (prior_df * prior + df * dispersions) / (prior_df + df)
    return posterior, prior, prior_df


def _trigamma_inverse(value: float) -> float:
    """The x with trigamma(x) = value (Smyth's Newton iteration, as limma's trigammaInverse)."""
    from scipy import special

    if value > 1e7:
        return 1.0 / math.sqrt(value)
    if value < 1e-6:
        return 1.0 / value
    x = 0.5 + 1.0 / value
    for _ in range(50):
        trigamma = float(special.polygamma(1, x))
        step = trigamma * (1.0 - trigamma / value) / float(special.polygamma(2, x))
        x += step
        if -step / x < 1e-8:
            break
    return x


def count_test(
    base_counts: npt.ArrayLike,
    head_counts: npt.ArrayLike,
    base_exposure: npt.ArrayLike,
    head_exposure: npt.ArrayLike,
) -> pd.DataFrame:
    """Test each function's rate, base against head; one row per function, in order.

    ``base_counts`` (functions, n_base) and ``head_counts`` (functions, n_head) are sample
    counts; ``*_exposure`` (runs,) the per-run exposures (see the module docstring). Columns:

    ``p_value``: two-sided, from the test named in ``test``; ``log_fold_change``: natural log
    of head's rate over base's (inf/-inf/NaN where a release has none); ``standard_error``:
    of the log fold change under the model (NaN where the rank test decided);
    ``dispersion``: the row's variance in multiples of Poisson's, after shrinkage; ``df``: the
    F-test's denominator degrees of freedom (d0 + d, inf when the prior is exact);
    ``outlier_runs``: runs dropped by Cook's distance; ``test``: :data:`COUNT_TEST` or
    :data:`RANK_TEST`.

    The frame's ``attrs`` hold the prior's degrees of freedom ``prior_df``.
    """
    from scipy import stats as distributions

    base = np.asarray(base_counts, dtype=np.float64)
    head = np.asarray(head_counts, dtype=np.float64)
    n_base, n_head = base.shape[1], head.shape[1]
    rows = base.shape[0]
    counts = np.concatenate([base, head], axis=1)
    exposure = np.concatenate(
        [np.asarray(base_exposure, dtype=np.float64), np.asarray(head_exposure, dtype=np.float64)]
    )[np.newaxis, :]
    is_head = np.arange(n_base + n_head) >= n_base
    # Each run weighs the same, whatever its exposure (prior weights mean/exposure): on a busy
    # machine a run with many samples is one the load spent waiting for the CPU, and its
    # samples came in larger clumps, so its normalised value is no more precise than another
    # run's. On a quiet machine this costs little (exposures differ by tens of percent).
    run_weights = np.broadcast_to(exposure.mean() / exposure, counts.shape)
    weights = np.array(run_weights)
    modelled = (base.sum(axis=1) > 0) & (head.sum(axis=1) > 0) & (min(n_base, n_head) >= 2)

    fit = _fit(counts, exposure, weights, is_head)
    # The trend's covariate: the log of the mean count per run (the counts' own scale).
    covariate = np.log(np.maximum(counts.mean(axis=1), 0.5))
    outliers = np.zeros(rows, dtype=np.int64)
    if min(n_base, n_head) >= 3:
        # Cook's distance is scaled by the dispersion the other functions expect (the prior),
        # as DESeq2 scales it by the fitted trend: an outlier inflates its own function's.
        _, expected_dispersion, _ = squeeze(fit["q"], fit["df"], covariate, modelled)
        cooks = _cooks_distance(counts, fit["fitted"], weights, is_head, expected_dispersion)
        cutoff = float(distributions.f.ppf(COOKS_QUANTILE, 2, n_base + n_head - 2))
        beyond = (cooks > cutoff) & modelled[:, np.newaxis]
        outliers = beyond.sum(axis=1)
        worst = np.argmax(np.where(beyond, cooks, -np.inf), axis=1)
        drop = outliers == 1
        if drop.any():
            weights[np.flatnonzero(drop), worst[drop]] = 0.0
            fit = _fit(counts, exposure, weights, is_head)

    q, df = fit["q"], fit["df"]
    usable = modelled & (outliers <= 1) & (df > 0)
    posterior, prior, prior_df = squeeze(q, df, covariate, usable)
    # A dispersion far beyond the prior's spread is not this model's to shrink.
    ratio = np.divide(q, prior, out=np.zeros(rows), where=prior > 0)
    if math.isinf(prior_df):
        tail = distributions.chi2.sf(ratio * df, np.maximum(df, 1.0))
    elif prior_df > 0:
        tail = distributions.f.sf(ratio, np.maximum(df, 1.0), prior_df)
    else:
        tail = np.ones(rows)
    holds = usable & (tail >= 1.0 - DISPERSION_OUTLIER_QUANTILE) & (posterior > 0)

    total_df = df + prior_df
    statistic = np.divide(fit["lr"], posterior, out=np.zeros(rows), where=posterior > 0)
    if math.isinf(prior_df):
        count_p = distributions.chi2.sf(statistic, 1.0)
    else:
        count_p = distributions.f.sf(statistic, 1.0, np.maximum(total_df, 1.0))
    pvalues = np.where(holds, count_p, np.nan)
    if (~holds).any():
        values = counts / exposure
        pvalues[~holds] = stats.mann_whitney_p(
            values[~holds][:, :n_base], values[~holds][:, n_base:]
        )
    with np.errstate(invalid="ignore"):  # 0 * inf where a release has no sample
        standard_error = np.sqrt(posterior * fit["inverse_information"])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_fold_change = np.log(fit["head_rate"]) - np.log(fit["base_rate"])
    frame = pd.DataFrame(
        {
            "p_value": pvalues,
            "log_fold_change": log_fold_change,
            "standard_error": np.where(holds, standard_error, np.nan),
            "dispersion": np.where(holds, posterior, np.nan),
            "df": np.where(holds, total_df, np.nan),
            "outlier_runs": np.where(holds, outliers, 0),
            "test": np.where(holds, COUNT_TEST, RANK_TEST),
        }
    )
    frame.attrs["prior_df"] = prior_df
    return frame


def _fit(
    counts: FloatArray, exposure: FloatArray, weights: FloatArray, is_head: BoolArray
) -> dict[str, FloatArray]:
    """Both models' fits, the likelihood-ratio statistic and each row's own dispersion q.

    The full model has one rate per release, the null model one for both; each rate is
    ``sum(w y) / sum(w exposure)``, the quasi-likelihood estimate with the exposure as offset
    and prior weights w (0 for a dropped run).
    """
    weighted_exposure = weights * exposure
    rates = []
    for side in (~is_head, is_head):
        total = (weights[:, side] * counts[:, side]).sum(axis=1)
        rates.append(total / weighted_exposure[:, side].sum(axis=1))
    base_rate, head_rate = rates
    fitted = np.where(is_head[np.newaxis, :], head_rate[:, np.newaxis], base_rate[:, np.newaxis])
    fitted = fitted * exposure
    null_rate = (weights * counts).sum(axis=1) / weighted_exposure.sum(axis=1)
    null = null_rate[:, np.newaxis] * exposure
    full_deviance = (weights * poisson_deviance(counts, fitted)).sum(axis=1)
    null_deviance = (weights * poisson_deviance(counts, null)).sum(axis=1)
    df = (weights > 0).sum(axis=1) - 2.0
    q = np.divide(full_deviance, df, out=np.zeros(len(df)), where=df > 0)
    # The inverse Fisher information of the log fold change under Poisson: 1/sum(m) per release.
    with np.errstate(divide="ignore"):
        inverse_information = 1.0 / (weights * fitted)[:, ~is_head].sum(axis=1) + 1.0 / (
            (weights * fitted)[:, is_head].sum(axis=1)
        )
    return {
        "fitted": fitted,
        "lr": np.maximum(null_deviance - full_deviance, 0.0),
        "df": df,
        "q": q,
        "inverse_information": inverse_information,
        "base_rate": base_rate,
        "head_rate": head_rate,
    }


def _cooks_distance(
    counts: FloatArray, fitted: FloatArray, weights: FloatArray, is_head: BoolArray, q: FloatArray
) -> FloatArray:
    """Cook's distance of each run in its function's two-release fit (2 parameters).

    ``r^2 / (2 q) * h / (1 - h)^2`` with the weighted Pearson residual r under Poisson and the
    leverage h of a run within its release: its share of the release's weighted fitted count.
    """
    pearson = weights * np.divide(
        (counts - fitted) ** 2, fitted, out=np.zeros(counts.shape), where=fitted > 0
    )
    irls = weights * fitted
    leverage = np.zeros(counts.shape)
    for side in (~is_head, is_head):
        total = irls[:, side].sum(axis=1, keepdims=True)
        leverage[:, side] = np.divide(
            irls[:, side], total, out=np.zeros(irls[:, side].shape), where=total > 0
        )
    scale = 2.0 * np.maximum(q, 1e-12)[:, np.newaxis]
    cooks: FloatArray = np.divide(
        pearson * leverage,
        scale * (1.0 - leverage) ** 2,
        out=np.zeros(counts.shape),
        where=leverage < 1.0,
    )
    return cooks


def relative_floor(
    standard_error: FloatArray, level: float, power: float = stats.FLOOR_POWER
) -> FloatArray:
    """The smallest relative change detectable at ``level`` with ``power``, from the count
    model's standard error of the log fold change: exp((z_{1-level/2} + z_power) * se) - 1."""
    from statistics import NormalDist

    normal = NormalDist()
    z = normal.inv_cdf(1.0 - level / 2.0) + normal.inv_cdf(power)
    floor: FloatArray = np.expm1(z * standard_error)
    return floor
