import math

import numpy as np
import pytest

from flamediff.analysis.compare import (
    COLUMNS,
    LOAD_ROW,
    CompareOptions,
    compare,
    comparison_meta,
    view,
)
from flamediff.analysis.simulate import NoiseModel, synthetic_release
from flamediff.analysis.tables import IDLE
from flamediff.errors import AnalysisError, ConfigError

FUNCTIONS = [f"f{index:02d} (app/m.py)" for index in range(12)]


def steady_runs(weights, machine, slowdown=None, seed=0):
    """Runs of ``main;function`` stacks with Poisson noise; ``machine`` scales each run."""
    rng = np.random.default_rng(seed)
    slowdown = slowdown or {}
    runs = []
    for speed in machine:
        lines = []
        for name, weight in zip(FUNCTIONS, weights, strict=True):
            count = rng.poisson(weight * speed * slowdown.get(name, 1.0))
            if count:
                lines.append(f"main (app/main.py);{name} {count}")
        runs.append(lines)
    return runs


WEIGHTS = [3000, 2000, 1500, 1200, 1000, 800, 600, 500, 400, 300, 200, 100]
DRIFT = [1.0, 1.25, 0.8, 1.1, 0.7, 1.3, 0.9, 1.05]


def row(comparison, function):
    return comparison[comparison["function"] == function].iloc[0]


def test_columns_and_load_row_first(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=1))
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT, seed=2))
    comparison = compare(base, head)
    assert tuple(comparison.columns) == COLUMNS
    assert comparison["function"].iloc[0] == LOAD_ROW
    assert comparison["status"].iloc[0] == "load"
    meta = comparison_meta(comparison)
    assert (meta["base"], meta["head"], meta["n_base"], meta["n_head"]) == ("v1", "v2", 8, 8)
    assert meta["normalisation"] == "median-ratio"
    assert meta["unit"] == "s"


def test_a_real_shift_is_found_and_nothing_else(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=1))
    slower = {FUNCTIONS[2]: 1.3}
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT[::-1], slower, seed=2))
    comparison = compare(base, head)
    shifted = row(comparison, FUNCTIONS[2])
    assert shifted["significant"]
    assert shifted["verdict"] == "slower"
    assert shifted["delta_pct"] == pytest.approx(30, abs=5)
    others = comparison[
        (comparison["status"] == "changed") & (comparison["function"] != FUNCTIONS[2])
    ]
    assert not others["significant"].any()


def test_noise_alone_is_not_significant(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=3))
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT[::-1], seed=4))
    comparison = compare(base, head)
    assert not comparison["significant"].any()
    assert set(comparison["verdict"]) <= {"~", "untested"}


def test_normalisation_recovers_a_machine_thirty_percent_slower(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, [1.0] * 8, seed=5))
    head = make_release("v2", steady_runs(WEIGHTS, [1.3] * 8, seed=6))
    normalised = compare(base, head)
    functions = normalised[normalised["status"] == "changed"]
    assert not functions["significant"].any()
    assert functions["delta_pct"].abs().max() < 10
    factors = [normalised.attrs[f"scale_factors_{side}"] for side in ("base", "head")]
    base_scale, head_scale = (np.exp(np.log(side).mean()) for side in factors)
    assert head_scale / base_scale == pytest.approx(1.3, rel=0.02)
    # The whole-load row stays absolute: the load did take 30% longer.
    load = normalised.iloc[0]
    assert load["delta_pct"] == pytest.approx(30, abs=2)
    assert load["significant"]

    absolute = compare(base, head, CompareOptions(normalisation="absolute"))
    big = absolute[absolute["function"].isin(FUNCTIONS[:6])]
    assert big["significant"].all()
    assert big["delta_pct"].min() > 20


def test_shares_are_compositional_and_median_ratio_is_not(make_release):
    # The largest function gets twice as fast: every other function's share rises.
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=7))
    faster = {FUNCTIONS[0]: 0.5}
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT, faster, seed=8))
    by_share = compare(base, head, CompareOptions(normalisation="share"))
    by_ratio = compare(base, head)
    untouched = FUNCTIONS[1:6]
    assert by_share[by_share["function"].isin(untouched)]["significant"].all()
    assert not by_ratio[by_ratio["function"].isin(untouched)]["significant"].any()
    assert row(by_ratio, FUNCTIONS[0])["verdict"] == "faster"


def test_seconds_come_from_the_rate_and_samples_without_it(make_release):
    runs = [["main;a 300", "main;b 100"]] * 4
    comparison = compare(make_release("v1", runs), make_release("v2", runs))
    assert row(comparison, "a")["base_self_s"] == pytest.approx(3.0)
    assert row(comparison, "main")["head_total_s"] == pytest.approx(4.0)
    assert comparison.iloc[0]["base_total_s"] == pytest.approx(4.0)
    assert comparison.iloc[0]["base_wall_s"] == pytest.approx(4.0)
    unknown = compare(make_release("v1", runs, rate_hz=None), make_release("v2", runs))
    assert unknown.attrs["unit"] == "samples"
    assert row(unknown, "a")["base_self_s"] == pytest.approx(300)


def test_recursion_counts_once_in_total_time(make_release):
    runs = [["main;f;f;f 10", "main;g 10"]] * 4
    comparison = compare(make_release("v1", runs), make_release("v2", runs))
    assert row(comparison, "f")["base_total_s"] == pytest.approx(0.10)
    assert row(comparison, "main")["base_total_s"] == pytest.approx(0.20)


def test_new_removed_and_idle_rows(make_release):
    base = make_release("v1", [["main;a 50", "main;old 20", " 5"]] * 4)
    head = make_release("v2", [["main;a 50", "main;fresh 20", " 5"]] * 4)
    comparison = compare(base, head)
    assert row(comparison, "fresh")["status"] == "new"
    assert math.isnan(row(comparison, "fresh")["delta_pct"])
    assert row(comparison, "old")["status"] == "removed"
    assert row(comparison, "old")["delta_pct"] == pytest.approx(-100)
    assert row(comparison, "a")["status"] == "changed"
    assert row(comparison, IDLE)["base_share"] == pytest.approx(5 / 75)


def test_functions_below_min_share_are_not_tested(make_release):
    runs = [["main;big 990", "main;tiny 5"]] * 4
    comparison = compare(make_release("v1", runs), make_release("v2", runs))
    tiny = row(comparison, "tiny")
    assert not tiny["tested"]
    assert math.isnan(tiny["p_value"])
    assert tiny["verdict"] == "untested"
    assert row(comparison, "big")["tested"]


def test_too_few_runs_is_an_error_unless_statistics_are_off(make_release):
    runs = [["main;a 30", "main;b 10"]] * 3
    base, head = make_release("v1", runs), make_release("v2", runs)
    with pytest.raises(AnalysisError, match="3 runs"):
        compare(base, head)
    comparison = compare(base, head, CompareOptions(no_stats=True))
    assert not comparison["tested"].any()
    assert not comparison["significant"].any()
    assert set(comparison["verdict"]) == {"untested"}
    assert comparison.attrs["test"] == "none"
    assert row(comparison, "a")["delta_pct"] == 0.0


def test_a_release_without_runs_or_samples_is_an_error(make_release):
    good = make_release("v1", [["main;a 3"]] * 4)
    with pytest.raises(AnalysisError, match="no runs"):
        compare(good, make_release("v2", []))
    with pytest.raises(AnalysisError, match="no samples"):
        compare(good, make_release("v2", [["main;a 3"]] * 3 + [[]]))


@pytest.mark.parametrize(
    "options",
    [
        {"metric": "wall"},
        {"normalisation": "geomean"},
        {"alpha": 0.0},
        {"min_share": 1.0},
        {"min_runs": 1},
        {"sort": "size"},
        {"top": -1},
    ],
)
def test_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        CompareOptions(**options)


def test_total_metric_moves_callers_too(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=9))
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT, {FUNCTIONS[0]: 1.5}, seed=10))
    comparison = compare(base, head, CompareOptions(metric="total"))
    assert comparison.attrs["metric"] == "total"
    caller = row(comparison, "main (app/main.py)")
    assert caller["head_share"] == pytest.approx(1.0)
    assert row(comparison, FUNCTIONS[0])["verdict"] == "slower"


def test_views_sort_cut_and_match_but_keep_the_load_row(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=11))
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT, {FUNCTIONS[5]: 2.0}, seed=12))
    full = compare(base, head)
    assert not full.attrs["filtered"]
    assert full["function"].iloc[1] == FUNCTIONS[5]  # the largest impact in seconds
    impacts = full["impact_s"].iloc[1:].abs().tolist()
    assert impacts == sorted(impacts, reverse=True)

    top = compare(base, head, CompareOptions(top=3, sort="name"))
    assert top["function"].tolist() == [LOAD_ROW, *sorted(full["function"].iloc[1:])[:3]]
    assert top.attrs["filtered"]

    matched = view(full, pattern="f0[12]*")
    assert matched["function"].tolist() == [LOAD_ROW, FUNCTIONS[1], FUNCTIONS[2]]
    by_q = view(full, sort="q")["q_value"].iloc[1:].dropna().tolist()
    assert by_q == sorted(by_q)
    by_share = view(full, sort="share")["head_share"].iloc[1:].tolist()
    assert by_share == sorted(by_share, reverse=True)
    by_delta = view(full, sort="delta")["delta_pct"].iloc[1:].dropna().abs().tolist()
    assert by_delta == sorted(by_delta, reverse=True)


def test_comparison_meta_refuses_other_frames():
    import pandas as pd

    with pytest.raises(AnalysisError):
        comparison_meta(pd.DataFrame({"a": [1]}))


def test_synthetic_releases_compare_end_to_end():
    rng = np.random.default_rng(13)
    noise = NoiseModel(functions=10)
    base = synthetic_release("v1", noise, 0.2, 8, rng)
    head = synthetic_release("v2", noise, 0.2, 8, rng, slowdown=0.5)
    comparison = compare(base, head)
    assert row(comparison, "target (app/hot.py)")["verdict"] == "slower"


def test_each_row_names_the_test_that_decided_it(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=1))
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT[::-1], {FUNCTIONS[2]: 1.3}, seed=2))
    comparison = compare(base, head, CompareOptions(min_share=0.02))
    assert row(comparison, LOAD_ROW)["test"] == "rank"
    tested = comparison[comparison["tested"] & (comparison["status"] != "load")]
    assert set(tested["test"]) == {"count"}
    assert set(comparison.loc[~comparison["tested"], "test"]) <= {""}
    assert "quasi-Poisson" in comparison_meta(comparison)["test"]
    assert row(comparison, FUNCTIONS[2])["verdict"] == "slower"


def test_the_rank_test_can_still_decide_every_row(make_release):
    base = make_release("v1", steady_runs(WEIGHTS, DRIFT, seed=1))
    head = make_release("v2", steady_runs(WEIGHTS, DRIFT[::-1], seed=2))
    comparison = compare(base, head, CompareOptions(test="rank"))
    tested = comparison[comparison["tested"]]
    assert set(tested["test"]) == {"rank"}
    assert "Mann-Whitney" in comparison_meta(comparison)["test"]
    with pytest.raises(ConfigError, match="test must be"):
        CompareOptions(test="t-test")  # type: ignore[arg-type]
