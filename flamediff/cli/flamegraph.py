"""`flamediff flamegraph`: the plain flame graph of one release."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff import vocabulary as default
from flamediff.cli.common import open_archive, wrote
from flamediff.cli.options import ArchiveOption, LineLevelOption, MinWidthOption
from flamediff.files import write_output
from flamediff.pipeline.pair import load_for_analysis


def flamegraph(
    release: Annotated[str, typer.Argument(help="Release to draw.")],
    svg: Annotated[Path, typer.Option("--svg", help="Write the flame graph SVG here.")],
    min_width: MinWidthOption = default.MIN_WIDTH_PCT,
    line_level: LineLevelOption = False,
    archive: ArchiveOption = None,
) -> None:
    """Draw RELEASE's flame graph, all runs together, widths in time per run.

    Colours are stable per module: a file keeps its colour in every graph and release.
    Open the SVG in a browser to zoom (click) and search (Ctrl-F).
    """
    from flamediff.model import merge
    from flamediff.render.flamegraph import render_flamegraph_svg

    if not 0 <= min_width < 100:
        raise typer.BadParameter("a percentage in [0, 100)", param_hint="--minwidth")
    store, _ = open_archive(archive)
    loaded = load_for_analysis(store, release, line_level=line_level)
    text = render_flamegraph_svg(
        merge(loaded.profiles),
        title=f"Flame graph: {release}",
        runs=max(len(loaded.profiles), 1),
        rate_hz=loaded.info.rate_hz,
        min_width=min_width,
    )
    write_output(svg, text)
    wrote(svg)
