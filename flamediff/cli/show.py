"""`flamediff show`: the top functions of one release."""

from __future__ import annotations

from typing import Annotated

import typer

from flamediff.cli.common import echo_table, open_archive
from flamediff.cli.options import ArchiveOption, LineLevelOption, TableFormatOption
from flamediff.pipeline.pair import load_for_analysis
from flamediff.vocabulary import TableFormat


def show(
    release: Annotated[str, typer.Argument(help="Release to show.")],
    top: Annotated[int, typer.Option("--top", help="How many functions per ranking.")] = 15,
    output_format: TableFormatOption = TableFormat.TABLE,
    line_level: LineLevelOption = False,
    archive: ArchiveOption = None,
) -> None:
    """Top functions of RELEASE by self time and by total time, per run and as a share."""
    from flamediff.analysis.tables import top_functions
    from flamediff.render.csv import render_top_csv
    from flamediff.render.json import render_top_json
    from flamediff.render.terminal import render_top_terminal

    store, _ = open_archive(archive)
    frame = top_functions(load_for_analysis(store, release, line_level=line_level), top)
    echo_table(
        output_format,
        as_json=lambda: render_top_json(frame),
        as_csv=lambda: render_top_csv(frame),
        for_terminal=lambda color, width: render_top_terminal(frame, color=color, width=width),
    )
