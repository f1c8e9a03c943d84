"""The differential flame graph of the shipped sample releases, v1 -> v2, as the tool draws it.

v2 made ``apply_discounts`` scan every discount rule (its own code got ~5x slower) and
rewrote ``render_invoice`` with a generator expression (its own code got ~45% faster, while
its inclusive time barely moved, since the rendering now runs in the new child frame).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
from builders import SAMPLES
from test_flamegraph import Drawn, frames_of, is_blue, is_near_white, is_red
from test_flamegraph_browser import FULL_WIDTH, dump_dom, frames_in, zoom_fragment

from flamediff.formats import read_profiles
from flamediff.model import Profile, merge
from flamediff.processors import normalise
from flamediff.render.flamegraph import PAD_X, ColourBy, render_diff_svg

RATE_HZ = 500.0
RUNS = 8
APPLY_DISCOUNTS = "apply_discounts (shop/pricing.py)"
RENDER_INVOICE = "render_invoice (shop/invoices.py)"
PRICE_ORDER = "price_order (shop/pricing.py)"


@cache
def sample(version: str) -> Profile:
    paths = sorted((SAMPLES / version).glob("run-*.folded"))
    assert len(paths) == RUNS
    runs = [normalise(found) for path in paths for _, found in read_profiles(path)]
    return merge(runs)


@cache
def sample_diff(colour_by: ColourBy = "self") -> str:
    return render_diff_svg(
        sample("v1"),
        sample("v2"),
        base_name="v1",
        head_name="v2",
        base_runs=RUNS,
        head_runs=RUNS,
        rate_hz=RATE_HZ,
        normalize=True,
        colour_by=colour_by,
    )


def widest(svg: str) -> dict[str, Drawn]:
    """Each name's widest frame: a name can be drawn under several callers."""
    frames: dict[str, Drawn] = {}
    for frame in frames_of(svg):
        if frame.name not in frames or frame.width > frames[frame.name].width:
            frames[frame.name] = frame
    return frames


def test_sample_diff_is_xml_with_a_tooltip_on_every_frame() -> None:
    svg = sample_diff()
    ET.fromstring(svg)
    drawn = frames_of(svg)
    assert len(drawn) > 30
    assert all(" — " in frame.tip for frame in drawn)


def test_regressed_function_is_red_and_improved_one_blue() -> None:
    frames = widest(sample_diff())
    assert is_red(frames[APPLY_DISCOUNTS])
    assert is_blue(frames[RENDER_INVOICE])
    assert "self 251 ms → 128 ms, -48.9%" in frames[RENDER_INVOICE].tip


def test_the_root_and_the_callers_of_the_regression_are_not_painted_red() -> None:
    # v2's whole load is longer; the base is scaled to the head's total, and the callers'
    # own code did not change, so none of them lights up.
    frames = widest(sample_diff())
    for name in ("all", "<module> (load.py)", "main (load.py)", PRICE_ORDER):
        assert is_near_white(frames[name]), name


@pytest.mark.parametrize("colour_by", ["self", "total"])
def test_regression_is_red_whatever_the_colouring(colour_by: ColourBy) -> None:
    assert is_red(widest(sample_diff(colour_by))[APPLY_DISCOUNTS])


@pytest.mark.chromium
def test_search_and_zoom_work_on_the_sample_diff_in_chromium(tmp_path: Path) -> None:
    svg = tmp_path / "sample.svg"
    svg.write_text(sample_diff(), encoding="utf-8")
    path = ("<module> (load.py)", "main (load.py)", "process (load.py)", PRICE_ORDER)
    url = f"{svg.as_uri()}#search=apply_disc&zoom={zoom_fragment(path)}"
    frames = frames_in(dump_dom(url, tmp_path / "chromium"))
    zoomed = frames[PRICE_ORDER]
    assert (zoomed.x, zoomed.width) == (PAD_X, FULL_WIDTH)
    assert "match" in frames[APPLY_DISCOUNTS].classes
    assert frames[APPLY_DISCOUNTS].width > 0.5 * FULL_WIDTH, "its share of price_order"
    assert "hidden" in frames["generate_orders (shop/orders.py)"].classes
