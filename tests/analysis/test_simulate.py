import json
import math
from pathlib import Path

import numpy as np
import pytest

from flamediff.analysis.compare import CompareOptions, compare_counts
from flamediff.analysis.simulate import (
    FITTED,
    FITTED_ONE_HOG,
    TARGET,
    NoiseModel,
    Scenario,
    block_rate,
    main,
    measure,
    shares,
    synthetic_counts,
    synthetic_release,
)
from flamediff.gate import GatePolicy, evaluate


def test_identical_code_blocks_in_at_most_one_percent_of_a_thousand_pairs():
    rate = block_rate(Scenario(runs=8, share=0.02, regression=0.0), 1000, seed=7, target_only=False)
    assert rate <= 0.01


def test_a_twenty_percent_regression_in_a_five_percent_function_is_caught():
    rate = block_rate(Scenario(runs=8, share=0.05, regression=0.20), 200, seed=8)
    assert rate >= 0.90


def test_that_capture_resolves_the_injected_regression():
    # The detection claim above is made where the function's noise floor (about 10%) is well
    # below the +20% injected: the gate's own estimate agrees with the measured rate.
    rng = np.random.default_rng(9)
    noise = NoiseModel()
    floors = []
    for _ in range(10):
        base = synthetic_counts(noise, 0.05, 8, rng)
        head = synthetic_counts(noise, 0.05, 8, rng)
        frame = compare_counts(base, head, CompareOptions())
        floors.append(frame.loc[frame["function"] == TARGET, "noise_floor_pct"].iloc[0])
    assert 5 < np.median(floors) < 15
    assert max(floors) < 20


def test_shares_sum_to_one_with_the_target_first():
    expected = shares(NoiseModel(functions=5), 0.2)
    assert expected[0] == pytest.approx(0.2)
    assert expected.sum() == pytest.approx(1.0)
    assert (np.diff(expected[1:]) < 0).all()


def test_machine_drift_moves_every_function_of_a_run_together():
    rng = np.random.default_rng(10)
    noise = NoiseModel(functions=5, jitter=0.0, samples_per_run=1_000_000)
    counts = synthetic_counts(noise, 0.2, 6, rng)
    leaves = counts.self_samples[counts.self_samples.sum(axis=1) > 0]
    ratios = leaves / leaves[:, :1]
    assert np.ptp(ratios, axis=0).max() < 0.02  # same factor for all functions of a run
    assert np.ptp(counts.run_samples) / counts.run_samples.mean() > 0.1  # but runs differ


def test_synthetic_release_is_a_release_of_main_stacks():
    release = synthetic_release("v1", NoiseModel(functions=3), 0.5, 4, np.random.default_rng(11))
    assert len(release.profiles) == 4
    assert release.info.rate_hz == 100.0
    assert [run.samples for run in release.info.runs] == [p.total for p in release.profiles]
    assert all(stack[0] == "main (app/main.py)" for p in release.profiles for stack, _ in p)


def test_measure_prints_a_markdown_table():
    table = measure(runs=(4,), target_shares=(0.2,), regressions=(0.5,), trials=2)
    lines = table.splitlines()
    assert lines[0] == "| runs | A/A false blocks | +50% at 20% |"
    assert lines[2].startswith("| 4 | ")
    assert "2 trials per cell" in table


def test_main_prints_the_table(capsys):
    assert main(["--trials", "1", "--runs", "4"]) == 0
    assert capsys.readouterr().out.startswith("| runs |")


# ---- the noise model fitted to real busy-machine captures ----------------------------------

POWER = Path(__file__).resolve().parents[2] / "benchmarks" / "power"
# Each fitted model beside the file its fit wrote: the busier pool, and the one-hog pool.
FITS = [(FITTED, POWER / "noise_model.json"), (FITTED_ONE_HOG, POWER / "noise_model-one-hog.json")]
FIT_IDS = ["busier", "one-hog"]


@pytest.mark.parametrize(("model", "path"), FITS, ids=FIT_IDS)
def test_the_fitted_noise_model_is_the_one_measured_on_real_captures(model, path):
    fitted = json.loads(path.read_text())["simulation"]
    assert {name: getattr(model, name) for name in fitted} == fitted
    # As the issue describes a busy machine: clumps of several times Poisson, and outliers.
    assert 2.0 <= model.dispersion <= 20.0
    assert 0.0 < model.outlier_rate < 0.05


@pytest.mark.parametrize("model", [FITTED, FITTED_ONE_HOG], ids=FIT_IDS)
def test_under_the_fitted_noise_identical_code_blocks_in_at_most_one_percent(model):
    rate = block_rate(Scenario(8, 0.04, 0.0, model), 300, seed=21, target_only=False)
    assert rate <= 0.01


@pytest.mark.parametrize("model", [FITTED, FITTED_ONE_HOG], ids=FIT_IDS)
def test_under_the_fitted_noise_large_regressions_of_hot_functions_are_caught(model):
    assert block_rate(Scenario(8, 0.20, 1.0, model), 60, seed=22) >= 0.9
    assert block_rate(Scenario(8, 0.10, 1.0, model), 60, seed=23) >= 0.75


def test_under_the_fitted_noise_a_change_too_small_to_resolve_never_passes_silently():
    # +20% in a 4% function is below what 8 + 8 runs of this noise resolve: the gate either
    # blocks it or says its capture is too sparse to gate, never a clean pass.
    rng = np.random.default_rng(24)
    floors = []
    for _ in range(20):
        base = synthetic_counts(FITTED, 0.04, 8, rng)
        head = synthetic_counts(FITTED, 0.04, 8, rng, slowdown=0.20)
        frame = compare_counts(base, head, CompareOptions())
        result = evaluate(frame, GatePolicy(block_load=True))
        blocked = any(finding.function == TARGET for finding in result.blocking)
        assert blocked or result.capture_warnings
        floors.append(frame.loc[frame["function"] == TARGET, "noise_floor_pct"].iloc[0])
    assert np.median(floors) > 20


def test_clumped_counts_vary_by_the_dispersion_asked_for():
    rng = np.random.default_rng(25)
    noise = NoiseModel(functions=5, drift=0.0, jitter=0.0, dispersion=6.0, samples_per_run=50_000)
    counts = synthetic_counts(noise, 0.2, 400, rng).self_samples
    leaves = counts[counts.sum(axis=1) > 0]
    index = leaves.var(axis=1, ddof=1) / leaves.mean(axis=1)
    assert np.all((index > 4.5) & (index < 8.0))


def test_outlier_runs_are_off_by_the_size_asked_for():
    rng = np.random.default_rng(26)
    noise = NoiseModel(
        functions=3, drift=0.0, jitter=0.0, samples_per_run=1_000_000,
        outlier_rate=0.2, outlier_size=math.log(3.0),
    )  # fmt: skip
    counts = synthetic_counts(noise, 0.25, 500, rng).self_samples
    target = counts[counts.sum(axis=1) > 0][0]
    ratios = target / np.median(target)
    off = (ratios > 2.5) | (ratios < 0.4)
    assert 0.12 < off.mean() < 0.28
    assert np.allclose(np.sort(ratios[ratios > 2.5])[[0, -1]], 3.0, rtol=0.05)
