"""`flamediff diff` and `flamediff gate`: a release against the one before it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.common import (
    ArchiveOption,
    LineLevelOption,
    echo,
    note,
    open_archive,
    write_output,
)
from flamediff.cli.gating import GateFlags, no_baseline, run_gate
from flamediff.cli.report import (
    BaseArgument,
    HeadArgument,
    Metric,
    MetricOption,
    NormaliseOption,
    NoStatsOption,
    ReportFormat,
    SortKey,
    comparison_of,
    load_pair,
    policy_of,
    recorded_justification,
    render_report,
    resolve_names,
)


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
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N functions.")] = 20,
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
    min_width: Annotated[
        float,
        typer.Option(
            "--minwidth",
            help="Frames narrower than this percent of the "
            "width are not drawn (their time still counts in their parents).",
        ),
    ] = 0.1,
    folded: Annotated[
        Path | None,
        typer.Option(
            "--folded",
            help="Write `stack base head` lines, the format of "
            "FlameGraph's difffolded.pl, for flamegraph.pl or inferno.",
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
    if svg is not None or folded is not None:
        from flamediff.model import merge

        base_merged, head_merged = merge(pair.base.profiles), merge(pair.head.profiles)
        if folded is not None:
            from flamediff.formats import write_diff_folded

            write_output(folded, write_diff_folded(base_merged, head_merged))
            note(f"wrote {folded}")
        if svg is not None:
            from flamediff.render.flamegraph import render_diff_svg

            write_output(svg, render_diff_svg(
                base_merged, head_merged, base_name=base_name, head_name=head_name,
                base_runs=len(pair.base.profiles), head_runs=len(pair.head.profiles),
                rate_hz=pair.head.info.rate_hz,
                normalize=comparison.attrs.get("normalisation") != "absolute",
                negate=negate, min_width=min_width,
            ))  # fmt: skip
            note(f"wrote {svg}")
    from flamediff.gate import evaluate

    # The verdict is shown with the diff too, so nobody reads a table the gate would block.
    result = evaluate(
        comparison, policy_of(settings), justification=recorded_justification(pair.head, base_name)
    )
    echo(render_report(comparison, result, output_format, sort=sort, top=top, pattern=pattern))


def gate(
    base: BaseArgument = None,
    head: HeadArgument = None,
    block: Annotated[
        float | None,
        typer.Option(
            "--block",
            help="Block at this slowdown (fraction; default 0.10 = +10%).",
            show_default=False,
        ),
    ] = None,
    warn: Annotated[
        float | None,
        typer.Option("--warn", help="Warn at this slowdown (default 0.03).", show_default=False),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(
            "--alpha", help="False discovery rate of the test (default 0.05).", show_default=False
        ),
    ] = None,
    min_share: Annotated[
        float | None,
        typer.Option(
            "--min-share",
            help="Functions below this share of the release never block (default 0.01).",
            show_default=False,
        ),
    ] = None,
    hot: Annotated[
        list[str] | None,
        typer.Option(
            "--hot",
            help="Glob of hot-path functions; "
            "repeat it. Where given, only these block; the others warn.",
        ),
    ] = None,
    justify: Annotated[
        str | None,
        typer.Option(
            "--justify",
            help="Accept a blocked release "
            "with this written reason; it is recorded with the head release.",
        ),
    ] = None,
    justify_file: Annotated[
        Path | None,
        typer.Option("--justify-file", help="The same, with the reason read from a file."),
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the Markdown report to this file.")
    ] = None,
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
