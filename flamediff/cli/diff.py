"""`flamediff diff` and `flamediff gate`: a release against the one before it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.common import (
    ArchiveOption,
    LineLevelOption,
    MinWidthOption,
    echo,
    note,
    open_archive,
    write_output,
)
from flamediff.cli.gating import (
    AlphaOption,
    BlockOption,
    GateFlags,
    HotOption,
    JustifyFileOption,
    JustifyOption,
    MarkdownOption,
    MinShareOption,
    WarnOption,
    no_baseline,
    run_gate,
)
from flamediff.cli.report import (
    REPORT_ROWS,
    BaseArgument,
    HeadArgument,
    Metric,
    MetricOption,
    NormaliseOption,
    NoStatsOption,
    ReportFormat,
    SortKey,
    comparison_of,
    diff_svg,
    load_pair,
    policy_of,
    recorded_justification,
    render_report,
    resolve_names,
)


class ColourBy(StrEnum):
    self_time = "self"
    total_time = "total"


def diff(
    base: BaseArgument = None,
    head: HeadArgument = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option("--format", help="table (terminal), markdown (PR, release notes), json, csv."),
    ] = ReportFormat.table,
    sort: Annotated[
        SortKey,
        typer.Option(
            "--sort",
            help="impact: seconds per run gained or lost (a +8% change of "
            "a 30% function before +50% of a 0.1% one); delta, share, q, name.",
        ),
    ] = SortKey.impact,
    top: Annotated[
        int | None, typer.Option("--top", help="Show only the first N functions.")
    ] = REPORT_ROWS,
    metric: MetricOption = Metric.self_time,
    pattern: Annotated[
        str | None,
        typer.Option("--filter", help="Only functions matching this glob, e.g. 'shop.*'."),
    ] = None,
    normalize: NormaliseOption = None,
    no_stats: NoStatsOption = False,
    line_level: LineLevelOption = False,
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
    min_width: MinWidthOption = 0.1,
    folded: Annotated[
        Path | None,
        typer.Option(
            "--folded",
            help="Write `stack base head` lines, the format of "
            "FlameGraph's difffolded.pl, for flamegraph.pl or inferno.",
        ),
    ] = None,
    colour_by: Annotated[
        ColourBy,
        typer.Option(
            "--colour-by",
            help="What the flamegraph's colours show. self: the change of each frame's own "
            "time, so red lands on the function whose code got slower; total: of its "
            "inclusive time, so the whole tower above a regression turns red.",
        ),
    ] = ColourBy.self_time,
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
    store, settings = open_archive(archive)
    base_name, head_name = resolve_names(store, base, head)
    if base_name is None:
        note(f"no baseline: {head_name} is the first release")
        return
    pair = load_pair(store, base_name, head_name, line_level=line_level)
    comparison = comparison_of(
        pair, settings, metric=metric, normalisation=normalize, no_stats=no_stats
    )
    if folded is not None:
        from flamediff.formats import write_diff_folded
        from flamediff.model import merge

        write_output(
            folded, write_diff_folded(merge(pair.base.profiles), merge(pair.head.profiles))
        )
        note(f"wrote {folded}")
    graph = None
    if svg is not None or html is not None:
        graph = diff_svg(
            pair, comparison, negate=negate, min_width=min_width, colour_by=colour_by.value
        )
    if svg is not None and graph is not None:
        write_output(svg, graph)
        note(f"wrote {svg}")
    from flamediff.gate import evaluate

    # The verdict is shown with the diff too, so nobody reads a table the gate would block.
    result = evaluate(
        comparison, policy_of(settings), justification=recorded_justification(pair.head, base_name)
    )
    if png is not None or html is not None:
        from flamediff.analysis.compare import view
        from flamediff.render.charts import render_delta_chart

        chart = render_delta_chart(view(comparison, pattern=pattern), top=top or 15)
        if png is not None:
            write_output(png, chart)
            note(f"wrote {png}")
        if html is not None and graph is not None:
            from flamediff.render.html import render_html_report

            shown = view(comparison, sort=sort.value, top=top, pattern=pattern)
            write_output(html, render_html_report(shown, result, svg=graph, chart_png=chart))
            note(f"wrote {html}")
    echo(render_report(comparison, result, output_format, sort=sort, top=top, pattern=pattern))


def gate(
    base: BaseArgument = None,
    head: HeadArgument = None,
    block: BlockOption = None,
    warn: WarnOption = None,
    alpha: AlphaOption = None,
    min_share: MinShareOption = None,
    hot: HotOption = None,
    justify: JustifyOption = None,
    justify_file: JustifyFileOption = None,
    markdown: MarkdownOption = None,
    metric: MetricOption = Metric.self_time,
    normalize: NormaliseOption = None,
    no_stats: NoStatsOption = False,
    line_level: LineLevelOption = False,
    archive: ArchiveOption = None,
) -> None:
    """Exit 1 when HEAD has a significant hot-path regression over the block threshold.

    Prints the Markdown report (and appends it to $GITHUB_STEP_SUMMARY when set).
    Exit 0 pass (warnings allowed), 1 blocked, 2 error.
    """
    store, settings = open_archive(archive)
    base_name, head_name = resolve_names(store, base, head)
    if base_name is None:
        raise typer.Exit(no_baseline(head_name))
    flags = GateFlags(block, warn, alpha, min_share, hot, justify, justify_file, markdown,
                      metric, normalize, no_stats, line_level)  # fmt: skip
    raise typer.Exit(run_gate(store, settings, base_name, head_name, flags))
