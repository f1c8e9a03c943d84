import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flamediff.analysis.tables import (
    IDLE,
    RUN_TABLE_COLUMNS,
    TOP_COLUMNS,
    function_counts,
    run_table,
    top_functions,
)


def counts_of(table, run=0):
    rows = table[table["run"] == run]
    return {
        name: (int(self_), int(total))
        for name, self_, total in zip(
            rows["function"], rows["self_samples"], rows["total_samples"], strict=True
        )
    }


def test_self_is_the_leaf_and_total_is_inclusive(make_release):
    table = run_table(make_release("v1", [["main;a;b 3", "main;a 2", "main;c 1"]]))
    assert list(table.columns) == list(RUN_TABLE_COLUMNS)
    assert counts_of(table) == {"main": (0, 6), "a": (2, 5), "b": (3, 3), "c": (1, 1)}
    assert set(table["run_samples"]) == {6}


def test_recursion_is_counted_once_per_stack_in_total(make_release):
    table = run_table(make_release("v1", [["main;f;g;f;f 4", "main;f 1"]]))
    assert counts_of(table) == {"main": (0, 5), "f": (5, 5), "g": (0, 4)}


def test_empty_stacks_are_idle_and_count_in_the_run(make_release):
    table = run_table(make_release("v1", [["main;a 3", " 2"]]))
    assert counts_of(table)[IDLE] == (2, 2)
    assert set(table["run_samples"]) == {5}


def test_one_block_of_rows_per_run_with_wall_time(make_release):
    release = make_release("v1", [["main;a 3"], ["main;a 1", "main;b 1"]])
    table = run_table(release)
    assert table["run"].tolist() == [0, 0, 1, 1, 1]
    assert counts_of(table, 1) == {"main": (0, 2), "a": (1, 1), "b": (1, 1)}
    assert table["wall_seconds"].tolist() == pytest.approx([0.03, 0.03, 0.02, 0.02, 0.02])


def test_missing_wall_time_is_nan(make_release):
    release = make_release("v1", [["main;a 3"]], rate_hz=None)
    assert math.isnan(run_table(release)["wall_seconds"].iloc[0])


def test_function_counts_share_one_row_order_across_reindex(make_release):
    counts = function_counts(make_release("v1", [["main;a 3"], ["main;b 2"]]))
    assert counts.functions == ("a", "b", "main")
    wider = counts.reindex(("a", "new", "main"))
    assert wider.self_samples.tolist() == [[3, 0], [0, 0], [0, 0]]
    assert wider.total_samples.tolist() == [[3, 0], [0, 0], [3, 2]]


def test_top_functions_ranks_by_self_and_by_total(make_release):
    runs = [["main;a;b 60", "main;a 30", "main;c 10"]] * 3
    top = top_functions(make_release("v1", runs, rate_hz=10.0), 2)
    assert list(top.columns) == list(TOP_COLUMNS)
    by_self = top[top["by"] == "self"]
    by_total = top[top["by"] == "total"]
    assert by_self["function"].tolist() == ["b", "a"]
    assert by_total["function"].tolist() == ["main", "a"]
    assert by_self["rank"].tolist() == [1, 2]
    assert by_self["self_s"].tolist() == pytest.approx([6.0, 3.0])
    assert by_self["self_share"].tolist() == pytest.approx([0.6, 0.3])
    assert by_total["total_share"].tolist() == pytest.approx([1.0, 0.9])
    assert top.attrs == {"release": "v1", "runs": 3, "unit": "s"}


def test_top_functions_without_rate_stay_in_samples(make_release):
    top = top_functions(make_release("v1", [["main;a 7"]], rate_hz=None), 5)
    assert top.attrs["unit"] == "samples"
    assert top.loc[top["by"] == "self", "self_s"].tolist() == [7.0]


def test_top_functions_of_an_empty_release(make_release):
    top = top_functions(make_release("v1", []), 5)
    assert top.empty
    assert list(top.columns) == list(TOP_COLUMNS)


def test_spread_is_the_interquartile_range(make_release):
    runs = [[f"main;a {count}"] for count in (10, 20, 30, 40, 50)]
    row = top_functions(make_release("v1", runs, rate_hz=10.0), 1).iloc[0]
    assert (row["self_lo_s"], row["self_s"], row["self_hi_s"]) == pytest.approx(
        tuple(np.percentile([1, 2, 3, 4, 5], [25, 50, 75]))
    )


def _reference_counts(runs):
    """Self and total samples per function and run, counted stack by stack."""
    self_counts, total_counts = {}, {}
    for run, mapping in enumerate(runs):
        for stack, count in mapping.items():
            names = stack or (IDLE,)
            self_counts.setdefault(names[-1], {}).setdefault(run, 0)
            self_counts[names[-1]][run] += count
            for name in set(names):
                total_counts.setdefault(name, {}).setdefault(run, 0)
                total_counts[name][run] += count
    return self_counts, total_counts


# Few names, so stacks recurse; depths past 64 fill the wider padding groups.
_names = st.sampled_from(["main", "f", "g", "<idle>", "h (m.py)"])
_stack = st.one_of(
    st.lists(_names, max_size=6),
    st.lists(_names, min_size=60, max_size=140),
).map(tuple)
_run = st.dictionaries(_stack, st.integers(min_value=0, max_value=50), max_size=12)


@given(st.lists(_run, min_size=1, max_size=3))
def test_function_counts_agree_with_counting_stack_by_stack(runs):
    from builders import release

    from flamediff.model import Profile

    counts = function_counts(release("v1", [Profile(run) for run in runs]))
    self_counts, total_counts = _reference_counts(runs)
    assert set(counts.functions) == set(total_counts)
    for row, name in enumerate(counts.functions):
        for run in range(len(runs)):
            assert counts.self_samples[row, run] == self_counts.get(name, {}).get(run, 0)
            assert counts.total_samples[row, run] == total_counts[name].get(run, 0)
    assert counts.run_samples.tolist() == [sum(run.values()) for run in runs]
