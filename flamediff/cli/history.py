"""`flamediff history`: the whole load and chosen functions across every archived release."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.common import echo_table, open_archive, wrote
from flamediff.cli.options import (
    ArchiveOption,
    LineLevelOption,
    MetricOption,
    TableFormatOption,
)
from flamediff.errors import ArchiveError
from flamediff.files import write_output
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
    archive: ArchiveOption = None,
) -> None:
    """The whole load and FUNCTIONS in every release: in which release did a function climb?

    Per release: the median time per run over its runs, with the fastest and the slowest
    run. ▲ marks a release whose every run is slower than every run of the release before.
    Times are absolute: a slower machine on the day of a capture moves every line at once,
    which the whole load shows.
    """
    from flamediff.analysis.history import history as history_of
    from flamediff.render import history as tables

    store, _ = open_archive(archive)
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
    if png is not None:
        from flamediff.render.charts import render_history_chart

        write_output(png, render_history_chart(frame))
        wrote(png)
