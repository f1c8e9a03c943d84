"""The history tables: a row per release in the terminal, every column in CSV and JSON."""

from __future__ import annotations

import json

from builders import profile, release

from flamediff.analysis.history import COLUMNS, history
from flamediff.render.history import (
    render_history_csv,
    render_history_json,
    render_history_terminal,
)

NAME = "esc\x1b[31m[bold]\u202e (evil.py)"


def frame():
    v1 = release("v1", [profile(f"main;{NAME} 10", "main 90")] * 2)
    v2 = release("v2", [profile(f"main;{NAME} 50", "main 50")] * 2)
    v3 = release("v3", [profile("main 100")] * 2)
    return history([v1, v2, v3], ["esc*"])


def test_terminal_table_rows_are_releases_and_names_cannot_act_on_the_terminal() -> None:
    text = render_history_terminal(frame(), color=False, width=160)
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "esc\\x1b[31m[bold]\\u202e" in text, "controls escaped, markup literal"
    rows = [line.split()[0] for line in text.splitlines() if line.startswith("  v")]
    assert rows == ["v1", "v2", "v3"]
    assert "▲+400%" in text
    assert "absent" in text


def test_colour_marks_the_climb_red() -> None:
    text = render_history_terminal(frame(), color=True, width=160)
    assert "\x1b[1;31m ▲+400%" in text


def test_json_and_csv_keep_every_column_and_name_exactly() -> None:
    document = json.loads(render_history_json(frame()))
    assert document["schema_version"] == 1
    assert document["releases"] == ["v1", "v2", "v3"]
    assert document["functions"] == [NAME]
    first = document["rows"][0]
    assert set(first) == set(COLUMNS)
    assert first["change_pct"] is None
    lines = render_history_csv(frame()).splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + 6
