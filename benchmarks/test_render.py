"""Render: the differential and the plain flame graph SVGs, pruned at the default width."""

from __future__ import annotations

from flamediff.model import Profile, merge
from flamediff.render.flamegraph import render_diff_svg, render_flamegraph_svg


def test_render_diff_svg(benchmark, pair_normalised: tuple[Profile, Profile]) -> None:
    base, head = pair_normalised
    svg = benchmark(
        render_diff_svg,
        base,
        head,
        base_name="base",
        head_name="head",
        base_runs=1,
        head_runs=1,
        rate_hz=100.0,
    )
    assert svg.endswith("</svg>\n")


def test_render_flamegraph_svg(benchmark, releases) -> None:
    merged = merge(releases[1].profiles)
    svg = benchmark(
        render_flamegraph_svg, merged, title="head", runs=len(releases[1].profiles), rate_hz=100.0
    )
    assert svg.endswith("</svg>\n")
