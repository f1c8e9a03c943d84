"""Flame graph SVGs: a plain one per release and the differential one of a comparison.

:mod:`~flamediff.render.flamegraph.layout` places the frames, :mod:`.colour` picks their
fills, :mod:`.svg` writes the document; ``flamegraph.css`` and ``flamegraph.js`` are inlined
into it for zoom and search.
"""

from flamediff.render.flamegraph.colour import PALETTES, TableView
from flamediff.render.flamegraph.svg import (
    CHAR_WIDTH,
    COLOUR_BY,
    FRAME_HEIGHT,
    MAX_DEPTH,
    PAD_X,
    ColourBy,
    render_diff_svg,
    render_flamegraph_svg,
)

__all__ = [
    "CHAR_WIDTH",
    "COLOUR_BY",
    "FRAME_HEIGHT",
    "MAX_DEPTH",
    "PAD_X",
    "PALETTES",
    "ColourBy",
    "TableView",
    "render_diff_svg",
    "render_flamegraph_svg",
]
