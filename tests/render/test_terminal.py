from comparisons import NASTY, STEADY, release, runs

from flamediff.analysis.compare import compare
from flamediff.analysis.tables import top_functions
from flamediff.render.terminal import (
    render_releases_terminal,
    render_terminal,
    render_top_terminal,
)


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


def test_top_functions_by_self_and_by_total():
    top = top_functions(release("v1", runs(1000, 1)), 2)
    plain = render_top_terminal(top, color=False, width=200)
    assert "top functions by self time" in plain
    assert "top functions by total time" in plain
    assert STEADY in plain


def test_releases_are_aligned_with_a_dirty_commit_starred():
    rows = [
        {"name": "v1", "created": "2026-01-01T00:00:00Z", "runs": 8, "samples": 12000,
         "median_wall_seconds": 1.5, "git_commit": "0123456789abcdef", "git_dirty": True},
        {"name": "v10-long", "created": "2026-01-02T00:00:00Z", "runs": 8, "samples": 900,
         "median_wall_seconds": None, "git_commit": None, "git_dirty": False},
    ]  # fmt: skip
    lines = render_releases_terminal(rows).splitlines()
    assert lines[0].split() == [
        "release",
        "created",
        "(UTC)",
        "runs",
        "samples",
        "wall/run",
        "commit",
    ]
    assert lines[1].startswith("v1        2026-01-01 00:00:00")
    assert lines[1].endswith("1.50 s  0123456789*")
    assert lines[2].endswith("-  -")
    # Numbers are right-aligned: their columns end at the same place.
    assert lines[1].index("12000") + 5 == lines[2].index("900") + 3
