"""Blame: a function's change split by the call path that reached it."""

import numpy as np
import pandas as pd
import pytest
from builders import profile, release

from flamediff.analysis.blame import blame, blame_text
from flamediff.vocabulary import Metric

HELPER = "helper (lib/util.py)"
OLD = "parse (lib/parse.py)"
NEW = "_tokenize (lib/parse.py)"


def runs(lines, count=6, seed=0):
    rng = np.random.default_rng(seed)
    built = []
    for _ in range(count):
        noisy = []
        for line in lines:
            stack, _, weight = line.rpartition(" ")
            noisy.append(f"{stack} {rng.poisson(int(weight))}")
        built.append(profile(*noisy))
    return built


def test_the_victim_of_a_rewritten_caller_is_blamed_on_the_caller_s_new_path() -> None:
    # The helper's own code is unchanged; the rewritten parse calls it from a new tokenizer,
    # three times as often.
    base = release("v1", runs([f"main;{OLD};{HELPER} 100", f"main;report;{HELPER} 50"]))
    head = release(
        "v2",
        runs(
            [
                f"main;{OLD};{HELPER} 100",
                f"main;{OLD};{NEW};{HELPER} 200",
                f"main;report;{HELPER} 50",
            ]
        ),
    )
    paths = blame(base, head, HELPER)
    top = paths.iloc[0]
    assert top["path"] == (OLD, NEW, HELPER)
    assert top["status"] == "new path"
    assert 180 < top["impact_s"] < 220
    unchanged = paths[paths["path"] == ("main", "report", HELPER)].iloc[0]
    assert abs(unchanged["impact_s"]) < 15
    text = blame_text(paths, unit="samples")
    assert text is not None
    assert "via parse -> _tokenize -> helper (new path)" in text
    assert "% of the change" in text


def test_blame_sums_to_the_function_s_change_in_the_comparison_s_scale() -> None:
    base = release("v1", runs([f"main;a;{HELPER} 100", f"main;b;{HELPER} 100"], seed=1))
    head = release("v2", runs([f"main;a;{HELPER} 100", f"main;b;{HELPER} 160"], seed=2))
    scale = [2.0] * 6
    paths = blame(base, head, HELPER, base_scale=scale, head_scale=scale, base_per_sample=0.01,
                  head_per_sample=0.01)  # fmt: skip
    mean = lambda rel: np.mean([p.total for p in rel.profiles]) * 0.01 / 2.0  # noqa: E731
    assert paths["impact_s"].sum() == pytest.approx(mean(head) - mean(base), rel=1e-9)
    assert paths.iloc[0]["path"] == ("main", "b", HELPER)


def test_total_time_is_blamed_on_the_callees_it_moved_into() -> None:
    base = release("v1", runs([f"main;{OLD};scan 100"]))
    head = release("v2", runs([f"main;{OLD};scan 100", f"main;{OLD};{NEW};regex 150"]))
    paths = blame(base, head, OLD, metric=Metric.TOTAL)
    assert paths.iloc[0]["path"] == (OLD, NEW, "regex")
    assert paths.iloc[0]["status"] == "new path"


def test_faster_functions_are_blamed_on_the_path_that_lost_the_most() -> None:
    base = release("v1", runs([f"main;a;{HELPER} 100", f"main;b;{HELPER} 300"]))
    head = release("v2", runs([f"main;a;{HELPER} 100", f"main;b;{HELPER} 30"]))
    paths = blame(base, head, HELPER)
    assert paths.iloc[0]["path"] == ("main", "b", HELPER)
    text = blame_text(paths, unit="samples")
    assert text is not None
    assert text.startswith("-")


def test_nothing_to_say_when_the_function_never_ran() -> None:
    base = release("v1", runs(["main;a 10"]))
    assert blame(base, base, HELPER).empty
    assert (
        blame_text(pd.DataFrame(columns=["path", "base_s", "head_s", "impact_s", "status"])) is None
    )
