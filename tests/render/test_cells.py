from flamediff.model import ReleaseInfo, RunInfo
from flamediff.render.cells import escape_markdown, release_row, visible


def test_escape_markdown_keeps_plain_names_readable():
    assert escape_markdown("parse_order (shop/orders.py)") == "parse\\_order (shop/orders.py)"
    assert escape_markdown("a\nb") == "a b"


def test_visible_shows_control_characters_as_escapes():
    assert visible("a\x1b[31mb\u202ec") == "a\\x1b[31mb\\u202ec"
    assert visible("plain (app.py)") == "plain (app.py)"


def test_a_release_row_holds_the_median_wall_time_and_the_accepted_bases():
    runs = tuple(RunInfo(100, wall, 0) for wall in (3.0, 1.0, 2.0))
    info = ReleaseInfo("v2", "2026-01-01T00:00:00Z", rate_hz=100.0, runs=runs)
    row = release_row(info)
    assert row["name"] == "v2"
    assert row["runs"] == 3
    assert row["samples"] == 300
    assert row["median_wall_seconds"] == 2.0
    assert row["accepted"] == []
