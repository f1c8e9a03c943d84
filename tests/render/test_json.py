import json

from comparisons import SLOW, STEADY, release, runs

from flamediff.analysis.compare import COLUMNS
from flamediff.analysis.tables import top_functions
from flamediff.render.json import (
    SCHEMA_VERSION,
    render_json,
    render_releases_json,
    render_top_json,
)


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


def test_top_functions_document():
    top = top_functions(release("v1", runs(1000, 1)), 2)
    document = json.loads(render_top_json(top))
    assert document["schema_version"] == 1
    assert document["kind"] == "flamediff.top"
    assert document["release"] == "v1"
    assert [row["function"] for row in document["by_self"]] == [STEADY, SLOW]
    assert [row["function"] for row in document["by_total"]] == ["main", STEADY]


def test_releases_document_names_the_damaged_entries():
    row = {"name": "v1", "runs": 8, "accepted": ["v0"]}
    document = json.loads(render_releases_json([row], ["broken"]))
    assert document == {"releases": [row], "damaged": ["broken"]}
