import math

import numpy as np
import pytest

from flamediff.analysis.counts import COLUMNS, count_test, squeeze
from flamediff.analysis.stats import mann_whitney_p


def clumped(rng, expected, dispersion):
    """Counts with mean ``expected`` and variance ``dispersion`` times Poisson's (NB)."""
    if dispersion == 1.0:
        return rng.poisson(expected)
    size = expected / (dispersion - 1.0)
    return rng.negative_binomial(size, 1.0 / dispersion)


def release(rng, rates, exposure, dispersions):
    expected = np.asarray(rates)[:, np.newaxis] * exposure[np.newaxis, :]
    return np.vstack(
        [
            clumped(rng, row, dispersion)
            for row, dispersion in zip(expected, dispersions, strict=True)
        ]
    )


def exposures(rng, runs):
    return rng.uniform(0.7, 1.3, size=runs)  # the machine's speed per run


RATES = np.geomspace(400, 20, 15)


def test_identical_code_gives_uniform_p_values_under_clumped_noise():
    # Variance 2 to 11 times Poisson's, differing by function, as real busy-machine runs show:
    # rejections at 5% stay near 5%, and the p-values are not piled at 0.
    rng = np.random.default_rng(1)
    dispersions = np.linspace(2.0, 11.0, RATES.size)
    pvalues = []
    for _ in range(150):
        base_exposure, head_exposure = exposures(rng, 8), exposures(rng, 8)
        base = release(rng, RATES, base_exposure, dispersions)
        head = release(rng, RATES, head_exposure, dispersions)
        pvalues.append(count_test(base, head, base_exposure, head_exposure)["p_value"])
    pvalues = np.concatenate(pvalues)
    assert np.mean(pvalues <= 0.05) <= 0.07
    assert np.mean(pvalues <= 0.01) <= 0.02
    assert np.mean(pvalues <= 0.5) == pytest.approx(0.5, abs=0.06)


def test_a_twenty_percent_change_is_found_where_the_rank_test_cannot():
    # 100 samples per run, 3 times Poisson: the counts know the change; 8 ranks a side barely.
    rng = np.random.default_rng(2)
    found = {"count": 0, "rank": 0}
    for _ in range(60):
        base_exposure, head_exposure = exposures(rng, 8), exposures(rng, 8)
        rates = RATES.copy()
        rates[3] = 100.0
        base = release(rng, rates, base_exposure, np.full(rates.size, 3.0))
        rates[3] *= 1.2
        head = release(rng, rates, head_exposure, np.full(rates.size, 3.0))
        frame = count_test(base, head, base_exposure, head_exposure)
        found["count"] += frame["p_value"].iloc[3] <= 0.01
        values = np.hstack([base / base_exposure, head / head_exposure])
        found["rank"] += mann_whitney_p(values[3:4, :8], values[3:4, 8:])[0] <= 0.01
    assert found["count"] >= 1.5 * found["rank"]
    assert found["count"] >= 0.3 * 60


def test_fold_change_is_the_ratio_of_rates_per_unit_of_exposure():
    base = np.array([[10, 20], [5, 5]])
    head = np.array([[30, 30], [5, 0]])
    frame = count_test(base, head, [1.0, 2.0], [1.0, 1.0])
    assert tuple(frame.columns) == COLUMNS
    assert frame["log_fold_change"].iloc[0] == pytest.approx(math.log((60 / 2) / (30 / 3)))


def test_a_release_without_the_function_is_decided_by_the_rank_test():
    rng = np.random.default_rng(3)
    base = rng.poisson(50, size=(6, 8))
    head = rng.poisson(50, size=(6, 8))
    base[0] = 0
    frame = count_test(base, head, np.ones(8), np.ones(8))
    assert frame["test"].iloc[0] == "rank"
    assert (frame["test"].iloc[1:] == "count").all()
    assert frame["p_value"].iloc[0] == pytest.approx(mann_whitney_p(base[:1], head[:1])[0])


def test_one_outlier_run_is_dropped_and_does_not_make_a_finding():
    rng = np.random.default_rng(4)
    base = rng.poisson(100, size=(10, 8))
    head = rng.poisson(100, size=(10, 8))
    head[2, 5] = 600  # one run of one function, six times its usual count
    frame = count_test(base, head, np.ones(8), np.ones(8))
    assert frame["outlier_runs"].iloc[2] == 1
    assert frame["test"].iloc[2] == "count"
    assert frame["p_value"].iloc[2] > 0.05


def test_squeeze_recovers_the_prior_of_scaled_chi_square_dispersions():
    rng = np.random.default_rng(5)
    prior_df, prior, df = 10.0, 3.0, np.full(4000, 14.0)
    true = prior * prior_df / rng.chisquare(prior_df, size=df.size)
    observed = true * rng.chisquare(df) / df
    covariate = np.zeros(df.size)
    posterior, fitted_prior, fitted_df = squeeze(observed, df, covariate, np.ones(df.size, bool))
    assert fitted_df == pytest.approx(prior_df, rel=0.25)
    assert fitted_prior[0] == pytest.approx(prior, rel=0.1)
    # Shrunk towards the prior: closer to the truth than the raw estimates are.
    assert np.mean((posterior - true) ** 2) < 0.7 * np.mean((observed - true) ** 2)


def test_equal_dispersions_share_one_value():
    df = np.full(50, 14.0)
    rng = np.random.default_rng(6)
    observed = 4.0 * rng.chisquare(df) / df
    posterior, _, fitted_df = squeeze(observed, df, np.zeros(50), np.ones(50, bool))
    assert math.isinf(fitted_df) or fitted_df > 100
    assert np.ptp(posterior) < 0.5
