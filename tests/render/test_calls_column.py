"""The calls column: in every table when both releases were traced, nowhere otherwise."""

from __future__ import annotations

import json

import pytest
from comparisons import SLOW, STEADY

from flamediff.analysis.calls import with_calls
from flamediff.model import CallCounts
from flamediff.render.csv import render_csv
from flamediff.render.html import render_html_report
from flamediff.render.json import render_json
from flamediff.render.markdown import render_markdown
from flamediff.render.terminal import render_terminal

MAIN = ("main", "/srv/app/main.py")


def render_html(comparison) -> str:
    return render_html_report(comparison, None, svg="<svg></svg>", chart_png=None)


def traced(slow_calls: int) -> CallCounts:
    return CallCounts(
        {
            (MAIN, ("slow", "/srv/app/slow.py")): slow_calls,
            (MAIN, ("steady", "/srv/app/s.py")): 40_000,
        }
    )


@pytest.fixture(scope="module")
def counted(comparison):
    return with_calls(comparison, traced(1_204), traced(3_480))


def test_each_function_gets_its_calls_in_both_releases(counted) -> None:
    rows = counted.set_index("function")
    assert (rows.loc[SLOW, "base_calls"], rows.loc[SLOW, "head_calls"]) == (1_204, 3_480)
    assert (rows.loc[STEADY, "base_calls"], rows.loc[STEADY, "head_calls"]) == (40_000, 40_000)
    # Neither the whole load nor code the tracer never saw has a count.
    assert rows.loc["<load>", ["base_calls", "head_calls"]].isna().all()
    assert rows.loc["other0 (app/o.py)", ["base_calls", "head_calls"]].isna().all()


def test_every_table_shows_the_calls_when_both_releases_were_traced(counted) -> None:
    markdown = render_markdown(counted)
    assert "| q | calls |" in markdown
    slow_line = next(line for line in markdown.splitlines() if line.startswith("| slow"))
    assert slow_line.endswith("| 1,204 → 3,480 |")
    assert "| 40k (same) |" in markdown
    assert "calls: the function's exact calls in one traced run of each release" in markdown
    terminal = render_terminal(counted, color=False, width=160)
    assert "calls" in terminal.splitlines()[2]
    slow_row = next(line for line in terminal.splitlines() if line.lstrip().startswith("slow"))
    assert slow_row.rstrip().endswith("2.89x")
    assert "<th>calls</th>" in render_html(counted)
    rows = {row["function"]: row for row in json.loads(render_json(counted))["rows"]}
    assert (rows[SLOW]["base_calls"], rows[SLOW]["head_calls"]) == (1_204, 3_480)
    assert rows["<load>"]["base_calls"] is None
    assert "base_calls,head_calls" in render_csv(counted).splitlines()[0]


def test_no_table_has_a_calls_column_without_call_counts(comparison) -> None:
    assert "calls" not in render_markdown(comparison)
    assert "calls" not in render_terminal(comparison, color=False, width=160).splitlines()[2]
    assert "<th>calls</th>" not in render_html(comparison)
