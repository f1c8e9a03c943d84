"""One self-contained HTML page to attach to a release: verdict, table, chart, flame graph.

:func:`render_html_report` returns the page as ``str``; it never writes files. The page
needs nothing but itself: the CSS is inline, the chart is a ``data:`` URI and the
differential flame graph is inline SVG, so its script runs (zoom, search) and it can be
mailed, attached to a CI run or opened from disk.

Safety: every name (functions, releases, reasons) is escaped with :func:`html.escape`, and
the page's Content-Security-Policy allows no network access and runs only the flame
graph's own script, identified by its SHA-256: were a name ever to slip through as markup,
a ``<script>`` or an ``onerror=`` in it would still not run.

The table holds the same rows and cells as the Markdown report
(:func:`flamediff.render.markdown.render_markdown`), from the same cells
(:mod:`flamediff.render.cells`), so the two never disagree; a delta's colour is its row's
``verdict``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import TYPE_CHECKING, Final

from flamediff.render import cells

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GateResult

_VERDICT_WORDS: Final = {
    "pass": "no regression beyond the thresholds",
    "warn": "passes, with warnings to read",
    "block": "a significant regression blocks this release",
    "accepted": "blocked, then accepted with a written reason",
}

_CSS: Final = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: #1d1d1d; background: #fff; margin: 0 auto; max-width: 1240px; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 34px 0 10px; border-bottom: 1px solid #e4e4e4; padding-bottom: 4px; }
.verdict { display: inline-block; padding: 3px 12px; border-radius: 4px; font-weight: 700;
  color: #fff; text-transform: uppercase; letter-spacing: .04em; margin-right: 10px; }
.verdict.pass { background: #1b7f3b; } .verdict.warn { background: #a86400; }
.verdict.block { background: #b2182b; } .verdict.accepted { background: #2166ac; }
.summary { font-size: 16px; margin: 10px 0; }
.reason { border-left: 4px solid #2166ac; background: #f2f6fb; margin: 10px 0;
  padding: 8px 14px; }
ul.gate { margin: 6px 0; padding-left: 22px; } ul.gate li { margin: 3px 0; }
.kind { font-weight: 600; }
.kind.blocks { color: #b2182b; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid #ececec; text-align: right;
  white-space: nowrap; }
th { border-bottom: 2px solid #cfcfcf; font-weight: 600; }
th:first-child, td:first-child { text-align: left; white-space: normal;
  overflow-wrap: anywhere; }
tr.load td { font-weight: 600; background: #fafafa; }
td.slower { color: #b2182b; font-weight: 700; } td.faster { color: #2166ac; font-weight: 700; }
td.untested { color: #8a8a8a; }
.footnote { color: #555; font-size: 13px; margin: 8px 0; }
code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: #f3f3f3;
  padding: 0 3px; border-radius: 3px; }
img.chart { max-width: 100%; height: auto; display: block; }
.graph { overflow-x: auto; border: 1px solid #e4e4e4; }
.graph svg { display: block; }
.hint { color: #555; font-size: 13px; margin: 4px 0 10px; }
""".strip()

_CODE = re.compile(r"`([^`]*)`")
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_CDATA = re.compile(r"\A<!\[CDATA\[(.*)\]\]>\Z", re.DOTALL)


def _text(value: object) -> str:
    """Any name or message as HTML text: markup characters and quotes become entities."""
    return html.escape(str(value), quote=True)


def _with_code(text: str) -> str:
    """Escaped ``text`` whose backtick spans become ``<code>``, as in the Markdown report."""
    return _CODE.sub(lambda match: f"<code>{match[1]}</code>", _text(text))


def _inline_svg(svg: str) -> tuple[str, str | None]:
    """The SVG without its XML declaration, and its script's CSP source (sha256-...)."""
    body = svg.split("?>", 1)[1].lstrip() if svg.lstrip().startswith("<?xml") else svg
    found = _SCRIPT.search(body)
    if found is None:
        return body, None
    # The browser hashes the script's text: the content of its CDATA section.
    content = found[1]
    cdata = _CDATA.match(content)
    text = cdata[1] if cdata else html.unescape(content)
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return body, f"'sha256-{digest}'"


def _table(comparison: pd.DataFrame) -> list[str]:
    meta = cells.meta(comparison)
    unit, metric = str(meta["unit"]), str(meta["metric"])
    rows = cells.shown(cells.records(comparison), metric)
    with_calls = cells.has_calls(comparison)
    out = [
        f"<h2>{_text(metric.capitalize())} time per run</h2>",
        "<table>",
        "<thead><tr><th>function</th>"
        f"<th>{_text(meta['base'])}</th><th>{_text(meta['head'])}</th>"
        "<th>delta</th><th>share of head</th><th>q</th>"
        + ("<th>calls</th>" if with_calls else "")
        + "</tr></thead>",
        "<tbody>",
    ]
    for row in rows:
        kind = cells.VERDICT_KIND.get(str(row["verdict"]), "")
        css = ' class="load"' if row["status"] == "load" else ""
        delta = f'<td class="{kind}">' if kind else "<td>"
        out.append(
            f"<tr{css}><td>{_text(cells.label(row))}</td>"
            f"<td>{_text(cells.time_cell(row, 'base', metric, unit))}</td>"
            f"<td>{_text(cells.time_cell(row, 'head', metric, unit))}</td>"
            f"{delta}{_text(cells.delta_cell(row))}</td>"
            f"<td>{_text(cells.share(float(row['head_share'])))}</td>"
            f"<td>{_text(cells.pvalue_cell(row, cells.main_test(meta)))}</td>"
            + (f"<td>{_text(cells.calls_cell(row))}</td>" if with_calls else "")
            + "</tr>"
        )
    out.append("</tbody></table>")
    tested = cells.tested_family(comparison)
    out += [f'<p class="footnote">{_with_code(line)}</p>' for line in cells.footnote(meta, tested)]
    return out


def _verdict(result: GateResult) -> list[str]:
    lines = cells.gate_lines(result, markdown=False)
    out = [
        f'<p class="summary"><span class="verdict {_text(result.verdict)}">'
        f"{_text(result.verdict)}</span>{_text(_VERDICT_WORDS.get(result.verdict, ''))}</p>"
    ]
    if result.verdict == "accepted" and result.justification is not None:
        out.append(
            f'<p class="reason"><strong>Accepted because:</strong> '
            f"{_text(result.justification)}</p>"
        )
    items = []
    for line in lines[1:]:
        kind, _, rest = line.partition(": ")
        if kind == "accepted":
            continue
        slug = re.sub(r"[^a-z]+", "-", kind)
        items.append(f'<li><span class="kind {slug}">{_text(kind)}:</span> {_text(rest)}</li>')
    if items:
        out += ['<ul class="gate">', *items, "</ul>"]
    since = cells.since_lines(result, markdown=False)
    if since:
        out += [f"<h3>{_text(since[0])}</h3>", f"<p>{_text(since[1])}</p>", '<ul class="gate">']
        for line in since[2:]:
            kind, _, rest = line.partition(": ")
            slug = re.sub(r"[^a-z]+", "-", kind)
            out.append(f'<li><span class="kind {slug}">{_text(kind)}:</span> {_text(rest)}</li>')
        out.append("</ul>")
    return out


def render_html_report(
    comparison: pd.DataFrame,
    result: GateResult | None,
    *,
    svg: str,
    chart_png: bytes | None,
) -> str:
    """The report page of ``comparison`` (the view to tabulate) and the gate's ``result``.

    ``svg``: the differential flame graph (:func:`flamediff.render.flamegraph.render_diff_svg`),
    inlined. ``chart_png``: the delta chart (:func:`flamediff.render.charts.render_delta_chart`)
    or None to leave it out. Columns read: those of the Markdown report.
    """
    meta = cells.meta(comparison)
    base, head = str(meta["base"]), str(meta["head"])
    graph, script_source = _inline_svg(svg)
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; " + (
        f"script-src {script_source}" if script_source else "script-src 'none'"
    )
    title = f"flamediff: {base} → {head}" + (f" ({result.verdict})" if result else "")
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_text(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{_text(base)} → {_text(head)}</h1>",
    ]
    if result is not None:
        parts += _verdict(result)
    parts += _table(comparison)
    if chart_png is not None:
        encoded = base64.b64encode(chart_png).decode("ascii")
        alt = f"Bar chart: the largest changes of {meta['metric']} time from {base} to {head}"
        parts += [
            "<h2>Largest changes</h2>",
            f'<img class="chart" alt="{_text(alt)}" src="data:image/png;base64,{encoded}">',
        ]
    parts += [
        "<h2>Differential flame graph</h2>",
        '<p class="hint">Hover a frame for its times in both releases; click it to zoom, '
        "click the bottom frame to zoom out; <em>Search</em> (top right) highlights frames "
        "matching a regular expression. Colours follow the table: red slower, blue faster, pale "
        "not significant, hatched new.</p>",
        f'<div class="graph">{graph}</div>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"
