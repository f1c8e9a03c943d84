import re
from datetime import date

from comparisons import TODAY, release, runs

from flamediff.analysis.compare import CompareOptions, compare
from flamediff.gate import GatePolicy, Waiver, evaluate
from flamediff.render.markdown import render_markdown


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


def test_no_stats_footnote(comparison):
    base = release("v1", runs(1000, 1)[:2])
    frame = compare(base, base, CompareOptions(no_stats=True))
    assert "No statistics" in render_markdown(frame)


def test_the_footnote_counts_the_family_tested_not_the_rows_shown(comparison):
    from flamediff.pipeline.reports import report_text

    functions = comparison[comparison["status"] != "load"]
    family = int(functions["tested"].sum())
    assert family > 3
    for top in (None, 2):
        markdown = report_text(comparison, None, "markdown", top=top)
        assert f"Benjamini-Hochberg q ≤ 0.05 over {family} functions" in markdown
    # --top cut the rows shown, not the family behind their q-values.
    assert len(table_lines(report_text(comparison, None, "markdown", top=2))) == 2 + 1 + 2


def test_a_row_the_rank_test_decided_says_so_and_the_footnote_explains(comparison):
    # Where the count model does not hold for a function, the rank test decides its row; a
    # reader must be able to tell which test a q-value came from.
    mixed = comparison.copy()
    mixed.attrs = dict(comparison.attrs)
    slow = mixed["function"].str.startswith("slow")
    assert set(comparison.loc[comparison["tested"], "test"]) <= {"count", "rank"}
    mixed["test"] = mixed["test"].where(~slow, "rank")
    mixed.loc[~slow & mixed["tested"] & (mixed["status"] != "load"), "test"] = "count"
    lines = table_lines(render_markdown(mixed))
    slow_line = next(line for line in lines if line.startswith("| slow"))
    steady_line = next(line for line in lines if line.startswith("| steady"))
    assert re.search(r"\| q[<=]\S+ rank \|", slow_line), slow_line
    assert "rank" not in steady_line
    assert "`rank` after q: the rank test decided that row." in render_markdown(mixed)


def test_a_report_decided_by_the_rank_test_alone_marks_no_row():
    rank_only = compare(
        release("v1", runs(1000, 1)), release("v2", runs(1500, 2)), CompareOptions(test="rank")
    )
    markdown = render_markdown(rank_only)
    assert not any(line.rstrip(" |").endswith("rank") for line in table_lines(markdown))
    assert "after q" not in markdown
