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
from flamediff.render.registry import REPORTS, ReportFormat
from flamediff.vocabulary import Metric, SortKey

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GateResult
    from flamediff.model import Release
    from flamediff.pipeline.judge import Judgement


def viewed(
    comparison: pd.DataFrame,
    *,
    sort: SortKey = default.SORT,
    top: int | None = None,
    pattern: str | None = None,
) -> pd.DataFrame:
    """The comparison sorted, cut and filtered for a report, remembering the family tested.

    ``attrs["tested_functions"]``: how many functions the correction was over, counted before
    the cut, so a footnote under ``--top 5`` still names the family behind its q-values.
    """
    from flamediff.analysis.compare import view

    functions = comparison["status"] != "load"
    family = comparison.attrs.get("tested_functions")
    if not isinstance(family, int):
        family = int(comparison.loc[functions, "tested"].astype(bool).sum())
    shown = view(comparison, sort=sort, top=top, pattern=pattern)
    shown.attrs["tested_functions"] = family
    return shown


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
    """The comparison, viewed (sorted, cut, filtered), in the requested format (one of
    :class:`flamediff.render.registry.ReportFormat`)."""
    from flamediff.render.registry import render_report

    shown = viewed(comparison, sort=sort, top=top, pattern=pattern)
    return render_report(shown, result, output_format, color=color, width=width)


def gate_report(
    judgement: Judgement,
    output_format: ReportFormat = ReportFormat.MARKDOWN,
    *,
    color: bool = False,
    width: int = 100,
) -> str:
    """The gate's report: Markdown for files, pull requests and a pipeline's summary; the
    terminal table (``ReportFormat.TABLE``) for a person or a log, where Markdown would read
    as ``&lt;import&gt;`` and ``\\_\\_init\\_\\_``."""
    return report_text(
        judgement.comparison, judgement.result, output_format, top=default.REPORT_ROWS,
        color=color, width=width,
    )  # fmt: skip


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


def no_baseline_report(head_name: str, *, markdown: bool = True) -> str:
    """The report of the first release ever: nothing to compare with, nothing can block."""
    from flamediff.render.cells import escape_markdown, visible

    name = escape_markdown(head_name) if markdown else visible(head_name)
    return (
        f"{'### ' if markdown else ''}{name}: no baseline\n\n"
        f"{name} is the first release in the archive; it is the baseline of the next one.\n"
    )


def write_no_baseline_reports(folder: Path, head: Release) -> list[Path]:
    """The first release's report folder: the same files a later release gets where they
    mean something without a baseline (report.md, report.json, the flame graph of the
    release itself), so that a pipeline publishing them needs no special case."""
    import json

    from flamediff.model import merge
    from flamediff.render.flamegraph import render_flamegraph_svg

    written = []
    markdown = no_baseline_report(head.name)
    document = {
        "kind": "no-baseline",
        "head": {"name": head.name, "runs": len(head.profiles)},
        "gate": {"verdict": "no baseline", "blocking": [], "warnings": [], "notes": [
            f"{head.name} is the first release in the archive; it is the baseline of the next one"
        ]},
    }  # fmt: skip
    svg = render_flamegraph_svg(
        merge(head.profiles),
        title=f"Flame graph: {head.name} (no baseline yet)",
        runs=max(len(head.profiles), 1),
        rate_hz=head.info.rate_hz,
        min_width=default.MIN_WIDTH_PCT,
    )
    for name, text in (
        ("report.md", markdown),
        ("report.json", json.dumps(document, indent=2) + "\n"),
        ("flamegraph.svg", svg),
    ):
        write_output(folder / name, text)
        written.append(folder / name)
    return written


def diff_svg(
    pair: Pair,
    comparison: pd.DataFrame,
    *,
    negate: bool = False,
    min_width: float = default.MIN_WIDTH_PCT,
    colour_by: Metric = Metric.SELF,
) -> str:
    """The differential flame graph of the pair, normalised as the comparison was, each frame
    coloured with its function's verdict in ``comparison`` (give it unfiltered)."""
    from flamediff.model import merge
    from flamediff.render.flamegraph import TableView, render_diff_svg

    table = TableView.of(
        comparison,
        base_run_samples=[profile.total for profile in pair.base.profiles],
        head_run_samples=[profile.total for profile in pair.head.profiles],
        base_rate_hz=pair.base.info.rate_hz,
        head_rate_hz=pair.head.info.rate_hz,
    )
    return render_diff_svg(
        merge(pair.base.profiles),
        merge(pair.head.profiles),
        base_name=pair.base.name,
        head_name=pair.head.name,
        base_runs=len(pair.base.profiles),
        head_runs=len(pair.head.profiles),
        rate_hz=pair.head.info.rate_hz,
        negate=negate,
        min_width=min_width,
        colour_by=colour_by,
        table=table,
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
    from flamediff.render.html import render_html_report

    shown = viewed(comparison, sort=sort, top=top, pattern=pattern)
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
    folder can be moved, zipped or attached as a whole. The formats written are those the
    registry marks ``in_release_folder``, each as ``report`` plus its extension.
    """
    pictures = write_pictures(folder, judgement)
    links = "\n".join(
        f"- [{_PICTURE_TITLES.get(path.name, path.name)}]({path.name})" for path in pictures
    )
    written = []
    for spec in REPORTS.values():
        if not spec.in_release_folder:
            continue
        if spec.format is ReportFormat.MARKDOWN:
            text = f"{gate_report(judgement).rstrip()}\n\n{links}\n"
        else:
            text = spec.render(judgement.comparison, judgement.result)
        path = folder / f"report{spec.extension}"
        write_output(path, text)
        written.append(path)
    return written + pictures
