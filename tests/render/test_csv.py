import csv
import io

from comparisons import release, runs

from flamediff.analysis.compare import COLUMNS
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
