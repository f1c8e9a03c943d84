import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from flamediff.analysis.stats import (
    benjamini_hochberg,
    mann_whitney_p,
    median_ratio_factors,
    min_two_sided_p,
    noise_floor,
)


def rank_sum(x, y, axis):
    pooled = np.concatenate([x, y], axis=axis)
    ranks = scipy_stats.rankdata(pooled, axis=axis)
    return np.take(ranks, range(x.shape[axis]), axis=axis).sum(axis=axis)


def permutation_p(x, y):
    """SciPy's exact permutation test on the rank sum: the reference for tied data."""
    if np.all(np.concatenate([x, y]) == x[0]):
        return 1.0
    result = scipy_stats.permutation_test(
        (x, y),
        rank_sum,
        permutation_type="independent",
        alternative="two-sided",
        n_resamples=np.inf,
        vectorized=True,
    )
    return result.pvalue


@pytest.mark.parametrize(("n_base", "n_head"), [(4, 4), (5, 3), (6, 6), (3, 7)])
def test_exact_tie_aware_p_matches_scipy_permutation_test(n_base, n_head):
    rng = np.random.default_rng(n_base * 10 + n_head)
    # Small integer counts: many ties, as sample counts of a rare function have.
    base = rng.integers(0, 5, size=(12, n_base)).astype(float)
    head = rng.integers(0, 5, size=(12, n_head)).astype(float)
    head[:4] += 3  # some shifted rows, so small p-values are checked too
    expected = [permutation_p(base[row], head[row]) for row in range(12)]
    assert mann_whitney_p(base, head) == pytest.approx(expected, rel=1e-9)


def test_without_ties_p_matches_scipy_exact_mann_whitney():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(30, 8))
    head = rng.normal(size=(30, 8)) + np.linspace(0, 2, 30)[:, np.newaxis]
    expected = scipy_stats.mannwhitneyu(base, head, axis=1, method="exact").pvalue
    assert mann_whitney_p(base, head) == pytest.approx(expected, rel=1e-9)


def test_scipy_asymptotic_method_is_much_weaker_at_eight_runs():
    base, head = np.arange(8.0)[np.newaxis], np.arange(8.0, 16.0)[np.newaxis]
    exact = mann_whitney_p(base, head)[0]
    asymptotic = scipy_stats.mannwhitneyu(base[0], head[0], method="asymptotic").pvalue
    assert exact == pytest.approx(min_two_sided_p(8, 8))
    assert asymptotic > 5 * exact


@pytest.mark.parametrize(
    ("runs", "smallest"), [(4, 0.0286), (5, 0.0079), (6, 0.00216), (8, 1.55e-4), (10, 1.08e-5)]
)
def test_complete_separation_gives_the_smallest_p(runs, smallest):
    base = np.arange(runs, dtype=float)[np.newaxis]
    p = mann_whitney_p(base, base + runs)[0]
    assert p == pytest.approx(smallest, rel=0.01)
    assert p == pytest.approx(min_two_sided_p(runs, runs))


def test_identical_values_give_p_one_and_empty_input_is_fine():
    assert mann_whitney_p(np.full((2, 4), 3.0), np.full((2, 4), 3.0)).tolist() == [1.0, 1.0]
    assert mann_whitney_p(np.empty((0, 4)), np.empty((0, 4))).shape == (0,)


def test_many_runs_fall_back_to_the_normal_approximation():
    rng = np.random.default_rng(2)
    base, head = rng.normal(size=(5, 40)), rng.normal(size=(5, 40)) + 0.5
    expected = scipy_stats.mannwhitneyu(base, head, axis=1, method="asymptotic").pvalue
    assert mann_whitney_p(base, head) == pytest.approx(expected)


def test_benjamini_hochberg_by_hand():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    # p * 8 / rank = .008 .032 .104 .082 .0672 .08 .0846 .205, then the running minimum
    # from the largest rank down.
    expected = [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0846, 0.205]
    assert benjamini_hochberg(p) == pytest.approx(expected, abs=1e-4)


def test_benjamini_hochberg_ignores_untested_and_keeps_order():
    q = benjamini_hochberg(np.array([0.04, np.nan, 0.01, 0.6]))
    assert math.isnan(q[1])
    assert q[[0, 2, 3]] == pytest.approx([0.06, 0.03, 0.6])
    assert np.isnan(benjamini_hochberg(np.array([np.nan]))).all()


def test_median_ratio_recovers_a_machine_thirty_percent_slower():
    rng = np.random.default_rng(3)
    typical = rng.uniform(50, 500, size=20)
    machine = np.array([1.0, 1.0, 1.3, 1.0])
    values = typical[:, np.newaxis] * machine
    values[0] *= [1.0, 2.0, 2.0, 2.0]  # a function that really changed does not move it
    factors = median_ratio_factors(values, np.rint(values).astype(np.int64))
    assert factors is not None
    assert factors[2] / factors[0] == pytest.approx(1.3)
    assert factors[1] == pytest.approx(factors[0])
    assert np.exp(np.log(factors).mean()) == pytest.approx(1.0)


def test_median_ratio_needs_functions_present_in_every_run():
    values = np.array([[10.0, 0.0], [5.0, 6.0], [0.0, 3.0]])
    assert median_ratio_factors(values, values.astype(np.int64)) is None


def test_noise_floor_follows_sampling_noise_and_run_count():
    few = np.full((1, 8), 100.0)
    many = np.full((1, 8), 10_000.0)
    sparse = noise_floor(few, few, few.astype(np.int64), few.astype(np.int64), 0.05)[0]
    dense = noise_floor(many, many, many.astype(np.int64), many.astype(np.int64), 0.05)[0]
    # 100 samples per run: 10% sampling noise per run; 100 times more samples: 10 times less.
    assert sparse == pytest.approx(10 * dense)
    assert 0.1 < sparse < 0.2
    assert math.isinf(
        noise_floor(few[:, :3], few[:, :3], few[:, :3].astype(int), few[:, :3].astype(int), 0.05)[0]
    )


def test_noise_floor_sees_run_to_run_variation_and_family_size():
    rng = np.random.default_rng(4)
    steady = np.full((1, 8), 10_000.0)
    noisy = steady * rng.uniform(0.8, 1.2, size=(1, 8))
    counts = steady.astype(np.int64)
    assert (
        noise_floor(noisy, noisy, counts, counts, 0.05)[0]
        > 5 * noise_floor(steady, steady, counts, counts, 0.05)[0]
    )
    assert (
        noise_floor(noisy, noisy, counts, counts, 0.05, family=20)[0]
        > noise_floor(noisy, noisy, counts, counts, 0.05)[0]
    )
