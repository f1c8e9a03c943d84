import csv
import io

import pytest
from comparisons import release, runs

from flamediff.analysis.compare import COLUMNS, CompareOptions, compare
from flamediff.analysis.tables import TOP_COLUMNS, top_functions
from flamediff.model import ReleaseInfo
from flamediff.render.cells import release_row
from flamediff.render.csv import render_csv, render_releases_csv, render_top_csv


def test_csv_has_every_column_and_row(comparison):
    rows = list(csv.reader(io.StringIO(render_csv(comparison))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == len(comparison) + 1
    assert rows[1][0] == "<load>"


def test_top_functions_keep_both_rankings():
    top = top_functions(release("v1", runs(1000, 1)), 2)
    rows = list(csv.reader(io.StringIO(render_top_csv(top))))
    assert tuple(rows[0]) == TOP_COLUMNS
    assert len(rows) == 5
    assert {row[0] for row in rows[1:]} == {"self", "total"}


def test_releases_have_the_listing_columns():
    info = ReleaseInfo("v1", "2026-01-01T00:00:00Z")
    rows = list(csv.reader(io.StringIO(render_releases_csv([release_row(info)]))))
    assert rows[0][:4] == ["name", "created", "runs", "samples"]
    assert rows[1][:3] == ["v1", "2026-01-01T00:00:00Z", "0"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised(start):
    name = f'{start}HYPERLINK("https://evil.example") (evil.py)'
    runs_ = [{f"main;{name}": 100 + run, "main;plain (app.py)": 300} for run in range(4)]
    comparison = compare(release("v1", runs_), release("v2", runs_), CompareOptions(no_stats=True))
    rows = list(csv.DictReader(io.StringIO(render_csv(comparison), newline="")))
    functions = {row["function"] for row in rows}
    assert "'" + name in functions
    assert name not in functions
    assert "plain (app.py)" in functions  # ordinary names are kept exactly
    # Numbers are numbers: a negative delta is not a name and keeps its sign.
    assert all(not row["delta_pct"].startswith("'") for row in rows)
    top = top_functions(release("v1", runs_), 2)
    assert "'" + name in {
        row["function"] for row in csv.DictReader(io.StringIO(render_top_csv(top), newline=""))
    }
    # Release names never hold control characters (the commands refuse them).
    start = start.strip() or "="
    info = ReleaseInfo(f"{start}cmd|calc", "2026-01-01T00:00:00Z")
    (row,) = csv.DictReader(io.StringIO(render_releases_csv([release_row(info)]), newline=""))
    assert row["name"] == f"'{start}cmd|calc"
