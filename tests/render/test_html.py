"""The HTML report: self-contained, the Markdown report's rows, and no name ever runs as code."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from builders import release
from test_flamegraph_browser import dump_dom, start_tag

from flamediff.analysis.compare import compare
from flamediff.gate import GatePolicy, GateResult, evaluate
from flamediff.model import Profile, Release, merge
from flamediff.render.flamegraph import render_diff_svg
from flamediff.render.html import render_html_report
from flamediff.render.markdown import render_markdown

# Each would mark the page, or pop up, if it ever ran as code.
HOSTILE = (
    "<script>alert(1)</script>",
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
    "</table><svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\">",
)
PNG = b"\x89PNG\r\n\x1a\nnot really a picture"


def runs(name: str, counts: dict[str, int]) -> Release:
    # Eight runs with a little spread, so the test has something to work on.
    profiles = [
        Profile({("main", function): count + run % 3 for function, count in counts.items()})
        for run in range(8)
    ]
    return release(name, profiles)


def report(
    *, names: tuple[str, ...] = ("steady", "slow"), justification: str | None = None
) -> tuple[str, GateResult, str]:
    steady, slow = names
    base = runs("v1", {steady: 300, slow: 100, "other": 400})
    head = runs("v2", {steady: 300, slow: 250, "other": 400})
    comparison = compare(base, head)
    result = evaluate(comparison, GatePolicy(), justification=justification)
    svg = render_diff_svg(
        merge(base.profiles),
        merge(head.profiles),
        base_name="v1",
        head_name="v2",
        base_runs=8,
        head_runs=8,
        rate_hz=100.0,
    )
    page = render_html_report(comparison, result, svg=svg, chart_png=PNG)
    return page, result, render_markdown(comparison, result)


class Page(HTMLParser):
    """What an HTML parser sees: elements, attributes, script texts, visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_page_is_self_contained_with_verdict_table_chart_and_graph() -> None:
    page, result, _ = report()
    assert result.verdict == "block"
    parsed = Page(page)
    assert page.startswith("<!doctype html>")
    assert len(parsed.named("svg")) == 1
    assert len(parsed.named("script")) == 1, "the flame graph's script only"
    (image,) = parsed.named("img")
    assert image["src"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    links = [
        value for _, attrs in parsed.tags for key, value in attrs.items() if key in ("src", "href")
    ]
    assert all(link is not None and link.startswith("data:") for link in links), "no fetch"
    text = " ".join(parsed.text)
    assert "block" in text
    assert "slower by more than 10%" in text
    assert "whole load (all samples)" in text


def test_table_has_the_markdown_reports_rows_and_cells() -> None:
    page, _, markdown = report()
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in rows[1:]]
    html_rows = re.findall(r"<tr(?: class=\"load\")?><td>(.*?)</tr>", page)
    assert len(html_rows) == len(cells)
    for markdown_cells, html_row in zip(cells, html_rows, strict=True):
        html_cells = re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + html_row)
        assert [html.unescape(cell) for cell in html_cells[1:]] == markdown_cells[1:]


def test_csp_allows_only_the_graphs_own_script() -> None:
    page, _, _ = report()
    parsed = Page(page)
    (csp,) = [
        attrs["content"]
        for attrs in parsed.named("meta")
        if attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp is not None
    assert "default-src 'none'" in csp
    (script,) = parsed.scripts
    script = script.removeprefix("<![CDATA[").removesuffix("]]>")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "unsafe-inline'; " not in csp.split("script-src")[1]


def test_accepted_reason_is_shown() -> None:
    page, result, _ = report(justification="The new parser is needed for Unicode; fixed in v3.")
    assert result.verdict == "accepted"
    assert "Accepted because:</strong> The new parser is needed for Unicode; fixed in v3." in page


def test_hostile_names_are_text_everywhere() -> None:
    page, result, _ = report(names=HOSTILE[:2], justification=HOSTILE[2])
    assert result.verdict == "accepted"
    parsed = Page(page)
    assert len(parsed.named("script")) == 1
    assert not parsed.named("img")[1:], "only the chart is an image"
    assert len(parsed.named("svg")) == 1
    assert "alert" not in " ".join(parsed.scripts)
    text = " ".join(parsed.text)
    for name in HOSTILE[:3]:
        assert name in text


@pytest.mark.chromium
@pytest.mark.parametrize("with_csp", [True, False], ids=["csp", "escaping-alone"])
def test_hostile_names_never_run_in_chromium_and_the_graph_script_does(
    tmp_path: Path, with_csp: bool
) -> None:
    page, _, _ = report(names=(HOSTILE[0], HOSTILE[1]), justification=HOSTILE[2])
    # A release name is text in the title, the table head and the graph too.
    page = page.replace(">v2<", f">{html.escape(HOSTILE[3])}<")
    if not with_csp:
        # Escaping must hold on its own: the policy is a second line of defence.
        page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
        assert "Content-Security-Policy" not in page
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    dom = dump_dom(path.as_uri(), tmp_path / "chromium")
    assert "data-pwned" not in start_tag("html", dom)
    # The graph's own script ran: it marks its SVG as scripted.
    assert "scripted" in start_tag("svg", dom)


def test_dunder_and_angle_bracket_names_read_literally_not_as_markdown() -> None:
    name = "Version.__init__.<locals>.<lambda> (packaging/version.py)"
    page, result, markdown = report(names=("steady", name))
    assert any(finding.function == name for finding in result.blocking)
    assert "\\_\\_init\\_\\_" in markdown  # escaped for Markdown, where it needs to be
    seen = Page(page)
    text = " ".join(seen.text)
    assert "\\_" not in text
    assert "&lt;" not in text  # entities are decoded once, never shown
    cells = [data.strip() for data in seen.text]
    assert name in cells, "the table's cell holds the name as it is"
    assert any(data.startswith(name) and "slower by more than" in data for data in cells), (
        "the blocking finding names it as it is"
    )
