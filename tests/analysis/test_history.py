"""The history frame: the whole load and chosen functions across releases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import SAMPLES, profile
from builders import release as release_of

from flamediff.analysis.compare import LOAD_ROW
from flamediff.analysis.history import COLUMNS, history, matches
from flamediff.errors import AnalysisError
from flamediff.formats import read_profiles
from flamediff.model import Release, ReleaseInfo, RunInfo
from flamediff.processors import normalise


def release(name: str, runs: list[list[str]], rate_hz: float | None = 100.0) -> Release:
    return release_of(name, [profile(*lines) for lines in runs], rate_hz=rate_hz)


PARSE = "parse (app/io.py)"
RENDER = "render (app/out.py)"


def three_releases() -> list[Release]:
    # parse: 10 self samples in each run of v1; 10 and 40 in v2 (it climbs); absent in v3.
    return [
        release(
            "v1",
            [[f"main;{PARSE} 10", f"main;{RENDER} 20", "main 70"]] * 2,
        ),
        release(
            "v2",
            [
                [f"main;{PARSE} 10", f"main;{RENDER} 20", "main 70"],
                [f"main;{PARSE} 30", f"main;{RENDER};{PARSE} 10", "main 60"],
            ],
        ),
        release("v3", [[f"main;{RENDER} 20", "main 80"]] * 3),
    ]


def series(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame[frame["series"] == name].reset_index(drop=True)


def test_columns_order_and_attrs() -> None:
    frame = history(three_releases(), ["parse*"])
    assert tuple(frame.columns) == COLUMNS
    assert frame["series"].tolist() == [LOAD_ROW] * 3 + [PARSE] * 3
    assert frame["release"].tolist() == ["v1", "v2", "v3"] * 2
    assert frame["position"].tolist() == [0, 1, 2] * 2
    assert frame.attrs == {
        "metric": "self",
        "unit": "s",
        "releases": ["v1", "v2", "v3"],
        "functions": [PARSE],
        "patterns": ["parse*"],
    }


def test_median_min_max_over_runs_in_seconds_per_run() -> None:
    frame = history(three_releases(), [PARSE])
    parse = series(frame, PARSE)
    # At 100 Hz: v2's runs hold 10 and 40 self samples of parse (0.1 s and 0.4 s).
    assert parse["median_s"].tolist() == pytest.approx([0.1, 0.25, 0.0])
    assert parse["min_s"].tolist() == pytest.approx([0.1, 0.1, 0.0])
    assert parse["max_s"].tolist() == pytest.approx([0.1, 0.4, 0.0])
    assert parse["runs"].tolist() == [2, 2, 3]
    assert parse["runs_seen"].tolist() == [2, 2, 0]
    assert parse["share"].tolist() == pytest.approx([0.1, 0.25, 0.0])
    load = series(frame, LOAD_ROW)
    assert load["median_s"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert load["share"].tolist() == [1.0, 1.0, 1.0]


def test_change_from_the_previous_release_and_steps_beyond_every_run() -> None:
    frame = history(three_releases(), [PARSE, RENDER])
    parse = series(frame, PARSE)
    assert parse["change_pct"].tolist()[1:] == pytest.approx([150.0, -100.0])
    assert np.isnan(parse["change_pct"].iloc[0])
    # v2's runs (0.1 s, 0.4 s) overlap v1's (0.1 s): no clear step; v3's 0 is below all.
    assert parse["beyond_runs"].tolist() == [False, False, True]
    render = series(frame, RENDER)
    # v1: 0.2 s per run; v2: runs of 0.2 and 0.0 s (median -50%); v3: 0.2 s again
    # (+100%), but no faster than v2's slowest run: no step beyond every run.
    assert render["change_pct"].tolist()[1:] == pytest.approx([-50.0, 100.0])
    assert render["beyond_runs"].tolist() == [False, False, False]


def test_total_metric_counts_the_function_anywhere_in_the_stack() -> None:
    # v2's second run calls parse from render: render's own time is 0 there, its total 0.1 s.
    by_self = series(history(three_releases(), [RENDER]), RENDER)
    assert by_self["min_s"].tolist() == pytest.approx([0.2, 0.0, 0.2])
    by_total = series(history(three_releases(), [RENDER], metric="total"), RENDER)
    assert by_total["min_s"].tolist() == pytest.approx([0.2, 0.1, 0.2])


def test_patterns_match_identities_globs_and_bare_names() -> None:
    assert matches(PARSE, PARSE)
    assert matches(PARSE, "parse")
    assert matches(PARSE, "pars*")
    assert matches(PARSE, "* (app/io.py)")
    assert not matches(PARSE, "Parse")
    assert not matches("parse_row (app/io.py)", "parse")
    frame = history(three_releases(), ["*", "parse"])
    # A function chosen twice is one series, credited to the first argument choosing it.
    assert frame.attrs["functions"] == ["main", PARSE, RENDER]
    assert set(frame["pattern"]) == {LOAD_ROW, "*"}


def test_an_argument_matching_nothing_is_an_error_with_suggestions() -> None:
    with pytest.raises(AnalysisError, match=r"no function matches 'prase' .*'parse \(app/io"):
        history(three_releases(), ["prase"])
    with pytest.raises(AnalysisError, match="no release"):
        history([], ["x"])
    with pytest.raises(AnalysisError, match="metric"):
        history(three_releases(), [], metric="wall")  # type: ignore[arg-type]


def test_without_functions_only_the_load_and_samples_without_a_rate() -> None:
    releases = [release("a", [["main 5"]], rate_hz=None), release("b", [["main 7"]])]
    frame = history(releases, [])
    assert frame["series"].tolist() == [LOAD_ROW, LOAD_ROW]
    assert frame["median_s"].tolist() == [5.0, 7.0]
    assert frame.attrs["unit"] == "samples"


def test_a_release_without_runs_is_refused() -> None:
    empty = Release(ReleaseInfo(name="e", created="", runs=(RunInfo(0),)), ())
    with pytest.raises(AnalysisError, match="has no runs"):
        history([empty], [])


def sample(version: str) -> Release:
    paths = sorted((SAMPLES / version).glob("run-*.folded"))
    profiles = tuple(normalise(p) for path in paths for _, p in read_profiles(path))
    info = ReleaseInfo(name=version, created="", rate_hz=500.0)
    return Release(info, profiles)


def test_the_sample_regression_shows_in_v2() -> None:
    frame = history([sample("v1"), sample("v2")], ["apply_discounts", "render_invoice"])
    apply = series(frame, "apply_discounts (shop/pricing.py)")
    assert apply["median_s"].iloc[1] > 4 * apply["median_s"].iloc[0]
    # Even the fastest v2 run is slower than the slowest v1 run.
    assert apply["min_s"].iloc[1] > apply["max_s"].iloc[0]
    render = series(frame, "render_invoice (shop/invoices.py)")
    assert render["median_s"].iloc[1] < 0.7 * render["median_s"].iloc[0]
