"""The change since an anchor: a slow climb that no single step shows must block, and an
unchanged history must not block more often than one unchanged pair does."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from flamediff.analysis.compare import CompareOptions, compare_counts
from flamediff.analysis.creep import (
    HistoryScenario,
    creep,
    creep_rates,
    synthetic_history,
    t_two_sided,
    trend_mann_kendall,
    trend_of_release_means,
    trend_of_runs,
)
from flamediff.analysis.simulate import TARGET, NoiseModel, synthetic_counts
from flamediff.gate import GatePolicy, GateResult, Waiver, evaluate, evaluate_creep

NAMES = [f"v{index}" for index in range(1, 11)]
PER_SAMPLE = 1.0 / NoiseModel().rate_hz


def creeping_history(seed: int = 7, growth: float = 0.015, share: float = 0.20):
    """Ten releases of 8 runs; the hot target grows by ``growth`` per release."""
    return synthetic_history(NoiseModel(), share, 8, 10, np.random.default_rng(seed), growth=growth)


def creep_of(history, names=NAMES, **options):
    return creep(
        history, names, CompareOptions(**options), seconds_per_sample=[PER_SAMPLE] * len(history)
    )


def test_a_climb_of_1_5_percent_per_release_passes_every_step_and_blocks_since_the_anchor() -> None:
    history = creeping_history()
    policy = GatePolicy()
    for before, after in itertools.pairwise(history):
        step = compare_counts(
            before, after, CompareOptions(), base_seconds_per_sample=PER_SAMPLE,
            head_seconds_per_sample=PER_SAMPLE,
        )  # fmt: skip
        assert evaluate(step, policy).verdict != "block"

    result = evaluate_creep(creep_of(history), policy, GateResult("pass"))

    assert result.verdict == "block"
    (finding,) = result.blocking
    assert finding.function == TARGET
    assert result.since is not None
    assert result.since.anchor == "v1"
    assert result.since.findings == (finding,)
    # 1.015 ** 9 - 1 = 14.3%: the cumulative change, not one step.
    assert 10.0 < finding.delta_pct < 20.0
    assert f"{finding.delta_pct:+.1f}% since v1, 9 releases back" in finding.reason
    assert "grew most in v" in finding.reason


def test_the_trend_finds_the_climb_when_the_two_ends_alone_hide_it() -> None:
    history = creeping_history(seed=3)
    frame = creep_of(history).set_index("function")
    target = frame.loc[TARGET]
    assert target["trend_p"] < 1e-4
    assert target["slope_pct"] == pytest.approx(1.5, abs=0.6)
    assert target["significant"]


def test_an_unchanged_history_of_twenty_releases_blocks_less_often_than_one_unchanged_pair() -> (
    None
):
    """The single A/A pair blocks in about 0.1-0.3% of trials at 8 runs (README, Creep): any
    false block of the change since the anchor in 60 histories would be a rate over 1.6%."""
    unchanged = creep_rates(HistoryScenario(20, 8, 0.05, 0.0), trials=60, seed=11)
    assert unchanged["any"] == 0.0
    # The tests themselves, before the threshold, keep to their level: q <= 0.05 over all
    # functions bounds the chance of any false significance at about 5%.
    assert unchanged["significant"] <= 0.1
    # The same machinery sees a real climb: the zero above is not blindness.
    growing = creep_rates(HistoryScenario(11, 8, 0.20, 0.015), trials=20, seed=12)
    assert growing["target"] >= 0.8


def test_one_noisy_release_at_the_end_does_not_fake_a_creep() -> None:
    """A head 15% slower in one capture only (nothing before it moved): the anchor comparison
    alone would block; the trend over the history, which the change must also exceed, does
    not reach the threshold."""
    rng = np.random.default_rng(5)
    history = synthetic_history(NoiseModel(), 0.20, 8, 9, rng)
    history.append(synthetic_counts(NoiseModel(), 0.20, 8, rng, slowdown=0.15))
    frame = creep_of(history).set_index("function")
    assert frame.loc[TARGET, "anchor_delta_pct"] > 10.0
    assert frame.loc[TARGET, "change_pct"] < 10.0


def test_the_step_says_it_already_so_the_anchor_adds_nothing() -> None:
    history = creeping_history(growth=0.03)
    frame = creep_of(history)
    step_block = evaluate_creep(frame, GatePolicy(), GateResult("pass")).blocking[0]
    step = GateResult("block", blocking=(step_block,))
    result = evaluate_creep(frame, GatePolicy(), step)
    assert result.blocking == (step_block,)
    assert result.since is not None
    assert result.since.findings == ()


def test_a_justification_accepts_the_creep() -> None:
    result = evaluate_creep(
        creep_of(creeping_history()), GatePolicy(), GateResult("pass"), justification="new rules"
    )
    assert result.verdict == "accepted"
    assert result.justification == "new rules"
    assert not result.blocked


def test_a_waiver_wide_enough_covers_the_cumulative_change() -> None:
    from datetime import date

    waiver = Waiver("target*", 0.30, "accepted in review #7", date(2099, 1, 1))
    policy = GatePolicy(waivers=(waiver,))
    result = evaluate_creep(creep_of(creeping_history()), policy, GateResult("pass"))
    assert result.verdict == "pass"
    assert [finding.function for finding in result.waived] == [TARGET]


def test_a_function_off_the_hot_path_only_warns_on_its_creep() -> None:
    policy = GatePolicy(hot=("f0*",))
    result = evaluate_creep(creep_of(creeping_history()), policy, GateResult("pass"))
    assert result.verdict == "warn"
    assert [finding.function for finding in result.warnings] == [TARGET]


def test_with_only_an_anchor_and_a_head_the_anchor_comparison_decides() -> None:
    history = creeping_history(growth=0.0)
    frame = creep_of(history[:2], names=["v1", "v2"])
    assert frame["trend_p"].isna().all()
    tested = frame[frame["tested"]]
    assert (tested["p_value"] == tested["anchor_p"]).all()
    assert (tested["change_pct"] == tested["anchor_delta_pct"]).all()


@pytest.mark.parametrize("trend", [trend_of_release_means, trend_of_runs, trend_mann_kendall])
def test_every_trend_recovers_a_clean_climb(trend) -> None:
    releases, runs = 8, 4
    release_of_run = np.repeat(np.arange(releases), runs)
    rng = np.random.default_rng(0)
    climbing = np.log(1.02) * release_of_run + rng.normal(0.0, 0.002, release_of_run.size)
    flat = rng.normal(0.0, 0.02, release_of_run.size)
    result = trend(np.vstack([climbing, flat]), release_of_run)
    assert math.expm1(result.slope[0]) == pytest.approx(0.02, abs=0.002)
    assert result.change[0] == pytest.approx(result.slope[0] * (releases - 1))
    assert result.pvalue[0] < 0.01
    assert result.pvalue[1] > 0.01


@pytest.mark.parametrize("degrees", [1, 2, 3, 8, 9, 18, 158])
def test_student_t_without_scipy_agrees_with_scipy(degrees: int) -> None:
    from scipy.special import stdtr

    t = np.array([0.0, 0.5, 1.0, 2.2, 4.0, -3.0, 12.0])
    expected = 2.0 * stdtr(degrees, -np.abs(t))
    assert t_two_sided(t, degrees) == pytest.approx(expected, abs=1e-14)
