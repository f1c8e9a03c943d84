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
from flamediff.cli.report import (
    BaseArgument,
    HeadArgument,
    Metric,
    MetricOption,
    NormaliseOption,
    NoStatsOption,
    ReportFormat,
    SortKey,
    append_step_summary,
    comparison_of,
    exit_code_of,
    gate_and_record,
    load_pair,
    policy_of,
    read_justification,
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
    reason = read_justification(justify, justify_file)
    store, settings = open_archive(archive)
    policy = policy_of(settings, block=block, warn=warn, alpha=alpha, min_share=min_share, hot=hot)
    base_name, head_name = resolve_names(store, base, head)
    if base_name is None:
        text = (
            f"### {head_name}: no baseline\n\n{head_name} is the first release; nothing to gate.\n"
        )
        echo(text)
        append_step_summary(text)
        return
    pair = load_pair(store, base_name, head_name, line_level=line_level)
    comparison = comparison_of(
        pair,
        settings,
        metric=metric,
        normalisation=normalize,
        no_stats=no_stats,
        alpha=policy.alpha,
        min_share=policy.min_share,
    )
    result = gate_and_record(store, pair, comparison, policy, reason)
    text = render_report(comparison, result, ReportFormat.markdown, top=20)
    echo(text)
    append_step_summary(text)
    if markdown is not None:
        write_output(markdown, text)
    raise typer.Exit(exit_code_of(result))
