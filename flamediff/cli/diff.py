"""`flamediff diff` and `flamediff gate`: a release against the one before it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff import vocabulary as default
from flamediff.cli.common import echo, note, open_archive, terminal_width, use_colour, wrote
from flamediff.cli.gating import analysis_of, no_baseline, run_gate
from flamediff.cli.options import (
    AnalysisOptions,
    ArchiveOption,
    BaseArgument,
    GateOptions,
    HeadArgument,
    MinWidthOption,
    SortOption,
    grouped,
)
from flamediff.files import write_output
from flamediff.pipeline.judge import judge
from flamediff.pipeline.pair import load_pair, resolve_names
from flamediff.pipeline.reports import delta_chart, diff_svg, html_report, report_text
from flamediff.render.registry import ReportFormat, format_help
from flamediff.vocabulary import Metric, SortKey


@grouped
def diff(
    base: BaseArgument = None,
    head: HeadArgument = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option("--format", help=format_help()),
    ] = ReportFormat.TABLE,
    sort: SortOption = default.SORT,
    top: Annotated[
        int | None, typer.Option("--top", help="Show only the first N functions.")
    ] = default.REPORT_ROWS,
    pattern: Annotated[
        str | None,
        typer.Option("--filter", help="Only functions matching this glob, e.g. 'shop.*'."),
    ] = None,
    *,
    analysis: AnalysisOptions,
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Write the differential flamegraph SVG here.")
    ] = None,
    negate: Annotated[
        bool,
        typer.Option(
            "--negate",
            help="Draw the base's shape, so code paths that shrank or vanished are visible too.",
        ),
    ] = False,
    min_width: MinWidthOption = default.MIN_WIDTH_PCT,
    folded: Annotated[
        Path | None,
        typer.Option(
            "--folded",
            help="Write `stack base head` lines, the format of "
            "FlameGraph's difffolded.pl, for flamegraph.pl or inferno.",
        ),
    ] = None,
    colour_by: Annotated[
        Metric,
        typer.Option(
            "--colour-by",
            "--color-by",
            help="What the flamegraph's colours show. self: the change of each frame's own "
            "time, so red lands on the function whose code got slower; total: of its "
            "inclusive time, so the whole tower above a regression turns red.",
        ),
    ] = Metric.SELF,
    png: Annotated[
        Path | None,
        typer.Option(
            "--png", help="Write a bar chart of the largest changes here, with noise floors."
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Write one self-contained page here: verdict, table, chart and the "
            "interactive flamegraph, to attach or mail.",
        ),
    ] = None,
    archive: ArchiveOption = None,
) -> None:
    """Per-function self (or total) time of HEAD against BASE, with significance."""
    store, settings = open_archive(archive, analysis)
    base_name, head_name = resolve_names(store, base, head)
    if base_name is None:
        note(f"no baseline: {head_name} is the first release")
        return
    pair = load_pair(store, base_name, head_name, line_level=analysis.line_level)
    # The verdict is shown with the diff too, so nobody reads a table the gate would block.
    judgement = judge(store, pair, settings, analysis_of(analysis), decide=False)
    comparison, result = judgement.comparison, judgement.result
    if folded is not None:
        from flamediff.formats import write_diff_folded
        from flamediff.model import merge

        write_output(
            folded, write_diff_folded(merge(pair.base.profiles), merge(pair.head.profiles))
        )
        wrote(folded)
    graph = None
    if svg is not None or html is not None:
        graph = diff_svg(pair, comparison, negate=negate, min_width=min_width, colour_by=colour_by)
    if svg is not None and graph is not None:
        write_output(svg, graph)
        wrote(svg)
    if png is not None or html is not None:
        chart = delta_chart(comparison, top=top or 15, pattern=pattern)
        if png is not None:
            write_output(png, chart)
            wrote(png)
        if html is not None and graph is not None:
            page = html_report(
                comparison, result, svg=graph, chart=chart, sort=sort, top=top, pattern=pattern
            )
            write_output(html, page)
            wrote(html)
    text = report_text(
        comparison, result, output_format.value, sort=SortKey(sort), top=top, pattern=pattern,
        color=use_colour(), width=terminal_width(),
    )  # fmt: skip
    echo(text)


@grouped
def gate(
    base: BaseArgument = None,
    head: HeadArgument = None,
    *,
    gate_flags: GateOptions,
    analysis: AnalysisOptions,
    archive: ArchiveOption = None,
) -> None:
    """Exit 1 when HEAD has a significant hot-path regression over the block threshold.

    Prints the report table; the Markdown report goes to --markdown and to
    $GITHUB_STEP_SUMMARY when set.
    Exit 0 pass (warnings allowed), 1 blocked, 2 error.
    """
    store, settings = open_archive(archive, gate_flags, analysis)
    base_name, head_name = resolve_names(store, base, head)
    if base_name is None:
        raise typer.Exit(no_baseline(head_name, gate_flags))
    raise typer.Exit(run_gate(store, settings, base_name, head_name, analysis, gate_flags))
