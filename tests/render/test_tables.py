import csv
import io
import json
import re
from datetime import date

import numpy as np
import pytest

from flamediff.analysis.compare import COLUMNS, CompareOptions, compare
from flamediff.analysis.tables import TOP_COLUMNS, top_functions
from flamediff.gate import GatePolicy, Waiver, evaluate
from flamediff.model import Profile, Release, ReleaseInfo
from flamediff.render.tables import (
    SCHEMA_VERSION,
    escape_markdown,
    render_csv,
    render_json,
    render_markdown,
    render_terminal,
    render_top_csv,
    render_top_json,
    render_top_terminal,
)

TODAY = date(2026, 6, 1)
NASTY = "a|b <script>alert(1)</script> & `tick` [x](y) *s* _u_ ~t~ $m$ (f.py)"
STEADY = "steady (app/s.py)"
SLOW = "slow (app/slow.py)"


def release(name, runs):
    profiles = tuple(
        Profile.from_pairs((tuple(stack.split(";")), count) for stack, count in run.items())
        for run in runs
    )
    return Release(ReleaseInfo(name, "2026-01-01T00:00:00Z", rate_hz=100.0), profiles)


def runs(slow, seed):
    rng = np.random.default_rng(seed)
    weights = {SLOW: slow, NASTY: 800, STEADY: 2000}
    # Enough unchanged functions for the median of ratios to ignore the one that changed.
    weights.update({f"other{index} (app/o.py)": 600 for index in range(6)})
    return [
        {f"main;{name}": int(rng.poisson(weight)) for name, weight in weights.items()}
        for _ in range(8)
    ]


@pytest.fixture(scope="module")
def comparison():
    base = release("v1", runs(1000, 1))
    head = release("v2", runs(1500, 2))
    return compare(base, head)


@pytest.fixture(scope="module")
def result(comparison):
    waiver = Waiver("nothing*", 0.5, "old", date(2026, 1, 1))
    return evaluate(comparison, GatePolicy(today=TODAY, waivers=(waiver,)), justification="ok")


def table_lines(markdown):
    return [line for line in markdown.splitlines() if line.startswith("|")]


def unescaped_pipes(line):
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_escapes_names_so_the_table_holds_and_no_html_gets_in(comparison, result):
    markdown = render_markdown(comparison, result)
    lines = table_lines(markdown)
    assert {unescaped_pipes(line) for line in lines} == {7}
    assert "<script>" not in markdown
    assert "&lt;script&gt;" in markdown
    assert "&amp;" in markdown
    assert "\\`tick\\`" in markdown
    assert "\\[x\\](y)" in markdown
    assert "\\$m\\$" in markdown


def test_escape_markdown_keeps_plain_names_readable():
    assert escape_markdown("parse_order (shop/orders.py)") == "parse\\_order (shop/orders.py)"
    assert escape_markdown("a\nb") == "a b"


def test_markdown_marks_significant_rows_and_hides_noise(comparison, result):
    markdown = render_markdown(comparison, result)
    slow_line = next(line for line in table_lines(markdown) if line.startswith("| slow"))
    delta = re.search(r"\| \+(\d+\.\d)% \* \|", slow_line)
    assert delta is not None
    assert 40 < float(delta.group(1)) < 55
    steady_line = next(line for line in table_lines(markdown) if line.startswith("| steady"))
    assert "| ~ |" in steady_line


def test_markdown_footnote_and_verdict(comparison, result):
    markdown = render_markdown(comparison, result)
    assert "n = 8 runs of v1, 8 runs of v2" in markdown
    assert "q ≤ 0.05" in markdown
    assert "Mann-Whitney U" in markdown
    assert "**verdict: accepted**" in markdown
    assert "- accepted: ok" in markdown
    assert "- blocks: slow (app/slow.py) (+4" in markdown
    assert "- expired waiver, no longer applies: nothing\\* up to +50% until 2026-01-01: old" in (
        markdown
    )
    assert markdown.endswith("\n")


def test_markdown_lists_the_waivers_used(comparison):
    waiver = Waiver("slow *", 0.6, "known cost of the new parser", date(2026, 12, 31))
    outcome = evaluate(comparison, GatePolicy(today=TODAY, waivers=(waiver,)))
    markdown = render_markdown(comparison, outcome)
    assert "**verdict: warn**" in markdown  # the whole load is slower: it warns
    assert "- waived: slow (app/slow.py)" in markdown
    assert "known cost of the new parser" in markdown


def test_markdown_without_a_gate_result_is_just_the_table(comparison):
    markdown = render_markdown(comparison)
    assert "verdict" not in markdown
    # header, rule, load row, four functions; `main` has no self time and no line
    assert len(table_lines(markdown)) == 2 + 1 + 9


def test_terminal_colours_and_plain_mode(comparison, result):
    coloured = render_terminal(comparison, result, color=True)
    plain = render_terminal(comparison, result, color=False, width=200)
    assert "\x1b[31m" in coloured  # red: slower
    assert "\x1b[" not in plain
    assert NASTY in plain  # rich markup in names is printed, not interpreted
    assert "verdict: accepted" in plain
    assert "blocks: slow (app/slow.py)" in plain


def test_terminal_prints_markup_literally():
    base = release("v1", [{"main;[bold red]x[/bold red]": 10}] * 4)
    plain = render_terminal(compare(base, base), color=False, width=120)
    assert "[bold red]x[/bold red]" in plain


def test_json_schema(comparison, result):
    text = render_json(comparison, result)
    document = json.loads(text)
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["kind"] == "flamediff.comparison"
    assert document["base"] == {"name": "v1", "runs": 8}
    assert len(document["rows"]) == len(comparison)
    assert set(document["rows"][0]) == set(COLUMNS)
    assert document["rows"][0]["function"] == "<load>"
    assert document["gate"]["verdict"] == "accepted"
    assert document["gate"]["blocking"][0]["function"] == SLOW
    assert document["gate"]["expired_waivers"][0]["expires"] == "2026-01-01"
    untested = next(row for row in document["rows"] if row["function"] == "main")
    assert untested["p_value"] is None  # NaN is null
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert json.loads(render_json(comparison))["gate"] is None


def test_csv_has_every_column_and_row(comparison):
    rows = list(csv.reader(io.StringIO(render_csv(comparison))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == len(comparison) + 1
    assert rows[1][0] == "<load>"


def test_top_renderers():
    top = top_functions(release("v1", runs(1000, 1)), 2)
    plain = render_top_terminal(top, color=False, width=200)
    assert "top functions by self time" in plain
    assert "top functions by total time" in plain
    assert STEADY in plain
    document = json.loads(render_top_json(top))
    assert document["schema_version"] == 1
    assert document["kind"] == "flamediff.top"
    assert document["release"] == "v1"
    assert [row["function"] for row in document["by_self"]] == [STEADY, SLOW]
    assert [row["function"] for row in document["by_total"]] == ["main", STEADY]
    rows = list(csv.reader(io.StringIO(render_top_csv(top))))
    assert tuple(rows[0]) == TOP_COLUMNS
    assert len(rows) == 5


def test_no_stats_footnote(comparison):
    base = release("v1", runs(1000, 1)[:2])
    frame = compare(base, base, CompareOptions(no_stats=True))
    assert "No statistics" in render_markdown(frame)
