"""`flamediff history`: the whole load and chosen functions across every archived release."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from flamediff.archive import Archive
from flamediff.cli.common import echo, echo_table, open_archive, wrote
from flamediff.cli.options import (
    AnchorOption,
    ArchiveOption,
    LineLevelOption,
    MetricOption,
    TableFormatOption,
)
from flamediff.config import Settings
from flamediff.errors import AnalysisError, ArchiveError
from flamediff.files import write_output
from flamediff.model import Release
from flamediff.pipeline.pair import load_for_analysis
from flamediff.vocabulary import Metric, TableFormat


def history(
    functions: Annotated[
        list[str] | None,
        typer.Argument(
            help="Functions to follow: identities or globs, on the whole identity or the "
            "bare name: 'apply_discounts', 'render_*', '* (shop/pricing.py)'.",
            show_default=False,
        ),
    ] = None,
    png: Annotated[
        Path | None,
        typer.Option("--png", help="Also write the chart here: a line per function, with bands."),
    ] = None,
    last: Annotated[
        int | None,
        typer.Option(
            "--last", help="Only the N most recent releases (default: all).", show_default=False
        ),
    ] = None,
    metric: MetricOption = Metric.SELF,
    output_format: TableFormatOption = TableFormat.TABLE,
    line_level: LineLevelOption = False,
    anchor: AnchorOption = None,
    archive: ArchiveOption = None,
) -> None:
    """The whole load and FUNCTIONS in every release: in which release did a function climb?

    Per release: the median time per run over its runs, with the fastest and the slowest
    run. ▲ marks a release whose every run is slower than every run of the release before.
    Times are absolute: a slower machine on the day of a capture moves every line at once,
    which the whole load shows. Below the table: each function's change since the anchor the
    gate measures it from (* where significant), and the releases where it grew most.
    """
    from flamediff.analysis.history import history as history_of
    from flamediff.render import history as tables

    store, settings = open_archive(archive)
    names = store.names()
    if not names:
        raise ArchiveError(f"the archive {store.location} holds no release yet")
    if last is not None:
        if last < 1:
            raise typer.BadParameter("must be at least 1", param_hint="--last")
        names = names[-last:]
    releases = [load_for_analysis(store, name, line_level=line_level) for name in names]
    frame = history_of(releases, functions or [], metric=metric)
    echo_table(
        output_format,
        as_json=lambda: tables.render_history_json(frame),
        as_csv=lambda: tables.render_history_csv(frame),
        for_terminal=lambda color, width: tables.render_history_terminal(
            frame, color=color, width=width
        ),
    )
    if output_format is TableFormat.TABLE and frame.attrs["functions"]:
        chosen = frame.attrs["functions"]
        known = dict(zip(names, releases, strict=True))
        since = since_anchor_lines(store, settings, known, chosen, anchor, metric, line_level)
        if since:
            echo(since)
    if png is not None:
        from flamediff.render.charts import render_history_chart

        write_output(png, render_history_chart(frame))
        wrote(png)


def since_anchor_lines(
    store: Archive,
    settings: Settings,
    loaded: dict[str, Release],
    functions: list[str],
    anchor: str | None,
    metric: Metric,
    line_level: bool,
) -> str:
    """The change of ``functions`` since the newest release's anchor, a line each."""
    from flamediff.pipeline.creep import anchor_name, since_anchor, tagged_commits
    from flamediff.pipeline.judge import Analysis
    from flamediff.render.cells import visible

    infos = store.infos()
    names = [info.name for info in infos]
    chosen = anchor_name(
        infos,
        names[-1],
        anchor if anchor is not None else settings.anchor,
        tagged=tagged_commits(),
    )
    if chosen is None:
        return ""
    span = names[names.index(chosen) :]
    header = f"since {visible(chosen)}, {len(span) - 1} releases back (the gate's anchor):"
    releases = [
        loaded.get(name) or load_for_analysis(store, name, line_level=line_level) for name in span
    ]
    try:
        frame = since_anchor(releases, settings, Analysis(metric=metric, line_level=line_level))
    except AnalysisError as error:
        return f"{header} not measured: {error}"
    lines = [header]
    rows = frame[frame["function"].isin(functions)].to_dict("records")
    for row in sorted(rows, key=lambda row: functions.index(str(row["function"]))):
        change = float(row["change_pct"])
        if not row["tested"] or math.isnan(change):
            lines.append(f"  {visible(str(row['function']))}: not tested (too small or new)")
            continue
        mark = "*" if row["significant"] else "~"
        grew = ", ".join(f"{visible(name)} ({step:+.1f}%)" for name, step in row["grew_most"])
        slope = float(row["slope_pct"])
        per_release = f" ({slope:+.2f}% per release)" if math.isfinite(slope) else ""
        # Where a change is not significant, its biggest steps are noise: not named.
        most = f"; grew most in {grew}" if grew and row["significant"] else ""
        lines.append(f"  {visible(str(row['function']))}: {change:+.1f}% {mark}{per_release}{most}")
    return "\n".join(lines)
