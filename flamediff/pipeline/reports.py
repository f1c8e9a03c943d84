"""The reports and pictures of a judgement, as text and as the files of a release's report.

Renderers return text; this module picks them and writes files, each atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from flamediff import vocabulary as default
from flamediff.files import write_output
from flamediff.pipeline.pair import Pair
from flamediff.vocabulary import Metric, SortKey

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GateResult
    from flamediff.pipeline.judge import Judgement


def report_text(
    comparison: pd.DataFrame,
    result: GateResult | None,
    output_format: str,
    *,
    sort: SortKey = default.SORT,
    top: int | None = None,
    pattern: str | None = None,
    color: bool = False,
    width: int = 100,
) -> str:
    """The comparison, viewed (sorted, cut, filtered), in the requested format."""
    from flamediff.analysis.compare import view
    from flamediff.render import tables

    shown = view(comparison, sort=sort, top=top, pattern=pattern)
    if output_format == "markdown":
        return tables.render_markdown(shown, result)
    if output_format == "json":
        return tables.render_json(shown, result)
    if output_format == "csv":
        return tables.render_csv(shown)
    return tables.render_terminal(shown, result, color=color, width=width)


def gate_report(judgement: Judgement) -> str:
    """The Markdown report the gate prints and a pipeline's summary shows, with the section
    "since <anchor>" where the change since the anchor adds to the step-by-step verdict."""
    from flamediff.render.tables import render_since

    text = report_text(judgement.comparison, judgement.result, "markdown", top=default.REPORT_ROWS)
    since = render_since(judgement.result)
    return f"{text}\n{since}" if since else text


def json_report(judgement: Judgement) -> str:
    """report.json: every function, the gate, and ``since`` where the anchor adds to it."""
    import json

    from flamediff.render.tables import render_json, render_since

    text = render_json(judgement.comparison, judgement.result)
    since = render_since(judgement.result, "json")
    if not since:
        return text
    document = json.loads(text)
    document["since"] = json.loads(since)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def append_step_summary(markdown: str) -> str | None:
    """Append to $GITHUB_STEP_SUMMARY, which GitHub Actions shows on the run's page.

    Returns a warning to show when it cannot be written (the gate's verdict stands).
    """
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    try:
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as error:
        return f"warning: cannot append to $GITHUB_STEP_SUMMARY ({target}): {error.strerror}"
    return None


def no_baseline_report(head_name: str) -> str:
    """The report of the first release ever: nothing to compare with, nothing can block."""
    return (
        f"### {head_name}: no baseline\n\n"
        f"{head_name} is the first release in the archive; it is the baseline of the next one.\n"
    )


def significance(comparison: pd.DataFrame, colour_by: str) -> dict[str, bool]:
    """The test's verdict per tested function, when it tested what the picture colours."""
    if comparison.attrs.get("metric") != colour_by:
        return {}
    tested = comparison[comparison["tested"].astype(bool)]
    verdicts = zip(tested["function"].astype(str), tested["significant"].astype(bool), strict=True)
    return dict(verdicts)


def diff_svg(
    pair: Pair,
    comparison: pd.DataFrame,
    *,
    negate: bool = False,
    min_width: float = default.MIN_WIDTH_PCT,
    colour_by: Metric = Metric.SELF,
) -> str:
    """The differential flame graph of the pair, normalised as the comparison was."""
    from flamediff.model import merge
    from flamediff.render.flamegraph import render_diff_svg

    return render_diff_svg(
        merge(pair.base.profiles),
        merge(pair.head.profiles),
        base_name=pair.base.name,
        head_name=pair.head.name,
        base_runs=len(pair.base.profiles),
        head_runs=len(pair.head.profiles),
        rate_hz=pair.head.info.rate_hz,
        normalize=comparison.attrs.get("normalisation") != "absolute",
        negate=negate,
        min_width=min_width,
        colour_by=colour_by,
        significant=significance(comparison, colour_by),
    )


def delta_chart(comparison: pd.DataFrame, *, top: int = 15, pattern: str | None = None) -> bytes:
    """The bar chart of the largest changes, each against its noise floor."""
    from flamediff.analysis.compare import view
    from flamediff.render.charts import render_delta_chart

    return render_delta_chart(view(comparison, pattern=pattern), top=top)


def html_report(
    comparison: pd.DataFrame,
    result: GateResult | None,
    *,
    svg: str,
    chart: bytes,
    sort: SortKey = default.SORT,
    top: int | None = default.REPORT_ROWS,
    pattern: str | None = None,
) -> str:
    """One self-contained page: verdict, table, chart and the interactive flame graph."""
    from flamediff.analysis.compare import view
    from flamediff.render.html import render_html_report

    shown = view(comparison, sort=sort, top=top, pattern=pattern)
    return render_html_report(shown, result, svg=svg, chart_png=chart)


_PICTURE_TITLES = {
    "flamegraph.svg": "Differential flame graph (SVG: open it in a browser to zoom and search)",
    "delta.png": "Largest changes (chart)",
    "report.html": "The whole report as one page (HTML)",
}


def write_pictures(folder: Path, judgement: Judgement) -> list[Path]:
    """The differential flame graph, the chart of the largest changes, and the HTML page."""
    svg = diff_svg(judgement.pair, judgement.comparison)
    chart = delta_chart(judgement.comparison)
    page = html_report(judgement.comparison, judgement.result, svg=svg, chart=chart)
    written = []
    for name, content in (("flamegraph.svg", svg), ("delta.png", chart), ("report.html", page)):
        write_output(folder / name, content)
        written.append(folder / name)
    return written


def write_reports(folder: Path, judgement: Judgement) -> list[Path]:
    """The release's report folder: Markdown and JSON, plus the pictures; the paths written.

    People read the top of the table (as many rows as the terminal report shows); machines get
    every function in report.json. The Markdown links the pictures by relative path, so the
    folder can be moved, zipped or attached as a whole.
    """

    pictures = write_pictures(folder, judgement)
    links = "\n".join(
        f"- [{_PICTURE_TITLES.get(path.name, path.name)}]({path.name})" for path in pictures
    )
    markdown = f"{gate_report(judgement).rstrip()}\n\n{links}\n"
    written = []
    for name, text in (
        ("report.md", markdown),
        ("report.json", json_report(judgement)),
    ):
        write_output(folder / name, text)
        written.append(folder / name)
    return written + pictures
