import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from flamediff.analysis.compare import CompareOptions, compare_counts
from flamediff.analysis.simulate import NoiseModel, synthetic_counts
from flamediff.errors import AnalysisError, ConfigError
from flamediff.gate import GatePolicy, GateResult, Waiver, evaluate

TODAY = date(2026, 6, 1)


def comparison(*rows, no_stats=False):
    """A comparison frame with only the columns the gate reads, load row first.

    Each row: (function, delta_pct, head_share, q_value), optionally a status and a noise
    floor; q_value None means untested.
    """
    records = [
        {
            "function": "<load>",
            "status": "load",
            "delta_pct": 0.0,
            "head_share": 1.0,
            "q_value": 0.5,
            "tested": not no_stats,
            "noise_floor_pct": 2.0,
        }
    ]
    for function, delta, share, q, *rest in rows:
        records.append(
            {
                "function": function,
                "status": rest[0] if rest else "changed",
                "delta_pct": delta,
                "head_share": share,
                "q_value": math.nan if q is None else q,
                "tested": q is not None,
                "noise_floor_pct": rest[1] if len(rest) > 1 else 5.0,
            }
        )
    frame = pd.DataFrame(records)
    frame.attrs.update({"no_stats": no_stats, "min_share": 0.01, "filtered": False})
    return frame


def policy(**overrides):
    return GatePolicy(today=TODAY, **overrides)


def names(findings):
    return [finding.function for finding in findings]


def test_nothing_changed_passes():
    result = evaluate(comparison(("a", 1.0, 0.3, 0.8)), policy())
    assert result.verdict == "pass"
    assert result == GateResult(verdict="pass", notes=result.notes)
    assert not result.blocked


def test_every_verdict_states_the_policy_it_was_reached_under():
    frame = comparison(("a", 1.0, 0.3, 0.8))
    frame.attrs.update(normalisation="measured", rates_hz=[500.0, 500.0])
    (line,) = evaluate(frame, policy(block=0.2, hot=("shop.*",))).notes
    assert line == (
        "policy: block over +20%; warn over +3%; q <= 0.05; min-share 1%; may block: shop.*; "
        "normalisation measured; rates: base 500 Hz, head 500 Hz"
    )


def test_every_blocking_row_is_listed():
    frame = comparison(
        ("a", 25.0, 0.30, 0.001),
        ("b", 12.0, 0.05, 0.02),
        ("c", 50.0, 0.02, 0.04),
    )
    result = evaluate(frame, policy())
    assert result.verdict == "block"
    assert result.blocked
    assert names(result.blocking) == ["a", "b", "c"]
    assert all(finding.level == "block" for finding in result.blocking)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("a", 25.0, 0.30, 0.20), "pass"),  # not significant
        (("a", 25.0, 0.005, 0.001), "pass"),  # below min share
        (("a", -25.0, 0.30, 0.001), "pass"),  # faster
        (("a", 2.0, 0.30, 0.001), "pass"),  # significant but below warn
        (("a", 5.0, 0.30, 0.001), "warn"),  # between warn and block
        (("a", 10.0, 0.30, 0.001), "warn"),  # block needs more than 10%
        (("a", 10.5, 0.30, 0.001), "block"),
    ],
)
def test_thresholds(row, expected):
    assert evaluate(comparison(row), policy()).verdict == expected


def test_the_gate_uses_its_own_alpha_on_q_values():
    frame = comparison(("a", 25.0, 0.3, 0.03))
    assert evaluate(frame, policy()).verdict == "block"
    # A stricter alpha blocks less: the gate says its policy is weaker than the default.
    stricter = evaluate(frame, policy(alpha=0.01))
    assert stricter.verdict == "warn"
    assert not stricter.blocking
    assert stricter.capture_warnings == (
        "policy weaker than the defaults: alpha 0.01 (default 0.05)",
    )


def test_only_hot_functions_block_and_the_others_warn():
    frame = comparison(
        ("parse_order (shop/orders.py)", 30.0, 0.2, 0.001),
        ("render (shop/invoices.py)", 30.0, 0.2, 0.001),
    )
    result = evaluate(frame, policy(hot=("* (shop/orders.py)",)))
    assert result.verdict == "block"
    assert names(result.blocking) == ["parse_order (shop/orders.py)"]
    assert names(result.warnings) == ["render (shop/invoices.py)"]
    assert "not hot" in result.warnings[0].reason


def test_a_waiver_in_force_covers_a_regression_up_to_its_limit():
    waiver = Waiver("parse_*", 0.30, "new validation, accepted in review #12", date(2026, 7, 1))
    frame = comparison(("parse_order", 25.0, 0.2, 0.001), ("parse_item", 40.0, 0.2, 0.001))
    result = evaluate(frame, policy(waivers=(waiver,)))
    assert names(result.waived) == ["parse_order"]
    assert result.waived[0].waiver == waiver
    assert names(result.blocking) == ["parse_item"]
    assert "limit of 30%" in result.blocking[0].reason
    assert result.verdict == "block"
    assert result.expired_waivers == ()


def test_a_waiver_applies_on_its_last_day():
    waiver = Waiver("parse_*", 0.30, "accepted", TODAY)
    result = evaluate(comparison(("parse_order", 25.0, 0.2, 0.001)), policy(waivers=(waiver,)))
    assert result.verdict == "pass"
    assert names(result.waived) == ["parse_order"]


def test_an_expired_waiver_no_longer_applies_and_says_so():
    waiver = Waiver("parse_*", 0.30, "accepted for the spring release", date(2026, 5, 31))
    result = evaluate(comparison(("parse_order", 25.0, 0.2, 0.001)), policy(waivers=(waiver,)))
    assert result.verdict == "block"
    assert "expired on 2026-05-31" in result.blocking[0].reason
    assert result.blocking[0].waiver == waiver
    assert result.expired_waivers == (waiver,)


def test_a_justification_accepts_a_block_but_keeps_the_rows():
    frame = comparison(("a", 25.0, 0.3, 0.001))
    result = evaluate(frame, policy(), justification="caching moved to the next release")
    assert result.verdict == "accepted"
    assert not result.blocked
    assert result.justification == "caching moved to the next release"
    assert names(result.blocking) == ["a"]
    # Nothing to accept: the justification is not recorded.
    assert evaluate(comparison(), policy(), justification="x").justification is None


def test_a_blank_justification_is_refused():
    with pytest.raises(ConfigError):
        evaluate(comparison(("a", 25.0, 0.3, 0.001)), policy(), justification="  ")


def whole_load(delta_pct, q_value, noise_floor_pct=2.0):
    frame = comparison(("a", 1.0, 0.3, 0.8))
    frame.loc[0, ["delta_pct", "q_value", "noise_floor_pct"]] = [
        delta_pct,
        q_value,
        noise_floor_pct,
    ]
    return frame


def test_the_whole_load_of_captures_made_apart_only_warns():
    result = evaluate(whole_load(40.0, 0.001), policy(hot=("a",)))
    assert result.verdict == "warn"
    assert "slower in absolute time" in result.warnings[0].reason
    measured = whole_load(40.0, 0.001)
    measured.attrs["machine_measured"] = True
    (warning,) = evaluate(measured, policy(hot=("a",))).warnings
    assert "slower in CPU time, scaled by the machine's measured speed" in warning.reason
    assert names(result.warnings) == ["<load>"]


def test_the_whole_load_of_a_side_by_side_capture_blocks_like_a_hot_function():
    # A slowdown spread over every function, none of them over the threshold once each run
    # is scaled: only the whole load shows it, and side by side it is the code's.
    side_by_side = policy(block_load=True, hot=("nothing matches",))
    blocked = evaluate(whole_load(15.0, 0.001), side_by_side)
    assert blocked.verdict == "block"
    assert names(blocked.blocking) == ["<load>"]
    assert "side by side" in blocked.blocking[0].reason
    assert names(evaluate(whole_load(5.0, 0.001), side_by_side).warnings) == ["<load>"]
    assert evaluate(whole_load(15.0, 0.2), side_by_side).verdict == "pass"
    within_noise = evaluate(whole_load(15.0, 0.001, noise_floor_pct=20.0), side_by_side)
    assert within_noise.verdict == "warn"
    accepted = evaluate(whole_load(15.0, 0.001), side_by_side, justification="bigger input")
    assert accepted.verdict == "accepted"


def test_new_functions_warn_unless_asked_to_block():
    frame = comparison(("fresh", math.nan, 0.2, 0.001, "new"))
    warned = evaluate(frame, policy()).warnings
    assert names(warned) == ["fresh"]
    # No base run sampled it: that is all the gate knows, and all it says.
    assert warned[0].reason.startswith("not sampled in the base (new, renamed, or too brief")
    assert names(evaluate(frame, policy(block_new=True)).blocking) == ["fresh"]


def test_without_statistics_thresholds_only_warn():
    frame = comparison(("a", 25.0, 0.3, None), ("b", 5.0, 0.3, None), no_stats=True)
    result = evaluate(frame, policy())
    assert result.verdict == "warn"
    assert names(result.warnings) == ["a"]
    assert "untested" in result.warnings[0].reason
    assert any("without statistics" in text for text in result.capture_warnings)


def test_a_regression_within_the_noise_floor_warns():
    frame = comparison(("a", 15.0, 0.02, 0.01, "changed", 18.0))
    result = evaluate(frame, policy())
    assert result.verdict == "warn"
    assert "noise floor of 18%" in result.warnings[0].reason
    assert evaluate(frame, policy(beyond_noise_floor=False)).verdict == "block"


def test_a_sparse_capture_is_said_beside_the_verdict_without_changing_it():
    frame = comparison(("a", 0.0, 0.3, 0.9, "changed", 4.0), ("b", 1.0, 0.02, 0.7, "changed", 25.0))
    result = evaluate(frame, policy())
    # Nearly every real capture has such a function: a gate that always warned would not be
    # read, so the pass stands and says what it could not see.
    assert result.verdict == "pass"
    assert not result.warnings
    assert len(result.capture_warnings) == 1
    assert "b (25%)" in result.capture_warnings[0]
    # Outside the hot list a noisy function cannot block, so it does not matter.
    assert not evaluate(frame, policy(hot=("a",))).capture_warnings


def test_too_few_runs_for_any_significance_is_a_capture_warning():
    frame = comparison(("a", 0.0, 0.3, 0.9, "changed", math.inf))
    result = evaluate(frame, policy())
    assert "too few runs" in result.capture_warnings[0]


def test_filtered_comparisons_are_noted():
    frame = comparison(("a", 1.0, 0.3, 0.8))
    frame.attrs["filtered"] = True
    assert "filtered" in evaluate(frame, policy()).notes[-1]


def test_a_frame_without_the_columns_is_refused():
    with pytest.raises(AnalysisError, match="q_value"):
        evaluate(pd.DataFrame({"function": ["a"], "status": ["changed"]}), policy())


@pytest.mark.parametrize(
    "fields", [{"block": 0.02, "warn": 0.05}, {"warn": -0.1}, {"alpha": 1.0}, {"min_share": -1}]
)
def test_bad_policies_are_config_errors(fields):
    with pytest.raises(ConfigError):
        GatePolicy(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"pattern": "", "max_regression": 0.1, "reason": "r"},
        {"pattern": "a", "max_regression": -0.1, "reason": "r"},
        {"pattern": "a", "max_regression": 0.1, "reason": " "},
    ],
)
def test_bad_waivers_are_config_errors(fields):
    with pytest.raises(ConfigError):
        Waiver(expires=TODAY, **fields)


def test_end_to_end_on_synthetic_counts():
    rng = np.random.default_rng(21)
    noise = NoiseModel(functions=15, samples_per_run=20_000)
    base = synthetic_counts(noise, 0.2, 8, rng)
    head = synthetic_counts(noise, 0.2, 8, rng, slowdown=0.5)
    frame = compare_counts(base, head, CompareOptions())
    result = evaluate(frame, policy())
    assert result.verdict == "block"
    assert names(result.blocking) == ["target (app/hot.py)"]


def test_thresholds_weaker_than_the_defaults_never_pass_quietly():
    frame = comparison(("a", 96.0, 0.3, 0.001))
    for weak in ({"block": 1.0}, {"block": 0.05, "warn": 0.05}, {"min_share": 0.99}):
        result = evaluate(frame, policy(**weak))
        assert result.verdict in ("warn", "block"), weak
        assert any(text.startswith("policy weaker than the defaults") for text in
                   result.capture_warnings), weak  # fmt: skip
    assert evaluate(frame, policy(block=0.05, warn=0.02)).verdict == "block"
    assert not evaluate(frame, policy(block=0.05, warn=0.02)).capture_warnings


def test_releases_sampled_at_different_rates_are_flagged():
    frame = comparison(("a", 0.0, 0.3, 0.9))
    frame.attrs["rates_hz"] = [500.0, 100.0]
    result = evaluate(frame, policy())
    assert result.verdict == "warn"
    assert "different rates (500.0 and 100.0 Hz)" in result.capture_warnings[0]


def test_a_sparse_capture_names_code_before_pseudo_frames_and_what_would_suffice():
    frame = comparison(
        ("<import>", 1.0, 0.05, 0.7, "changed", 60.0),
        ("<idle>", 1.0, 0.05, 0.7, "changed", 50.0),
        ("parse (app/p.py)", 1.0, 0.05, 0.7, "changed", 20.0),
    )
    (warning,) = evaluate(frame, policy()).capture_warnings
    named = warning.split("larger than that: ", 1)[1]
    assert named.startswith("parse (app/p.py) (20%), <import> (60%), <idle> (50%)")
    # A 20% floor against a 10% threshold: four times the runs, or the samples, halve it.
    assert "capture about 4x the runs per release" in warning
    assert "about 4x the samples per run (a higher rate or a longer load)" in warning


def _few_runs(test: str, runs: int = 4):
    rng = np.random.default_rng(3)
    noise = NoiseModel(samples_per_run=4000, functions=20)
    base = synthetic_counts(noise, 0.1, runs, rng)
    head = synthetic_counts(noise, 0.1, runs, rng, slowdown=0.5)
    return compare_counts(
        base, head, CompareOptions(test=test),  # type: ignore[arg-type]
        base_seconds_per_sample=0.01, head_seconds_per_sample=0.01,
    )  # fmt: skip


def test_four_runs_a_side_are_refused_where_only_the_rank_test_decides():
    # 2 / C(8, 4) = 0.029 per function cannot survive the correction over 21 functions.
    from flamediff.gate import refuse_blind_gate

    with pytest.raises(AnalysisError, match="capture at least 6 runs per release"):
        refuse_blind_gate(_few_runs("rank"), 0.05)


def test_four_runs_a_side_can_block_where_the_count_model_decides():
    from flamediff.gate import refuse_blind_gate

    counted = _few_runs("count")
    refuse_blind_gate(counted, 0.05)  # its p-values have no floor: the gate can decide
    result = evaluate(counted, GatePolicy(today=TODAY))
    assert any(f.function.startswith("target") for f in result.blocking)


def test_only_a_hot_function_that_could_still_block_is_undecided():
    from flamediff.gate import undecided

    frame = comparison(
        ("blocks", 40.0, 0.2, 0.001),  # decided: it blocks
        ("inside_floor", 30.0, 0.1, 0.01, "changed", 45.0),  # significant, within its floor
        ("loose", 8.0, 0.1, 0.2),  # past warn, q under the screen
        ("noise", 8.0, 0.1, 0.6),  # past warn, but q far from anything
        ("faster", -30.0, 0.1, 0.001),  # faster: nothing to decide
        ("small", 30.0, 0.005, 0.1),  # under the min share: never gated
        ("new_one", 30.0, 0.1, 0.01, "new"),  # new functions are judged otherwise
    )
    assert names(undecided(frame, policy())) == ["inside_floor", "loose"]
    assert names(undecided(frame, policy(hot=("blocks",)))) == []
    assert undecided(comparison(("a", 8.0, 0.1, None), no_stats=True), policy()) == []
