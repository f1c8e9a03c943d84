"""The PNG charts: valid, deterministic, independent of the user's matplotlib settings."""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pytest
from builders import release
from matplotlib.image import imread

from flamediff.analysis.compare import CompareOptions, compare
from flamediff.analysis.history import history
from flamediff.model import Profile, Release
from flamediff.render.charts import (
    FASTER,
    SLOWER,
    delta_figure,
    render_delta_chart,
    render_history_chart,
    shorten,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def runs(name: str, means: Mapping[str, float], n: int = 8, seed: int = 0) -> Release:
    """A release of ``n`` runs; each function's self samples drawn around its mean."""
    rng = random.Random(f"{name}-{seed}")
    profiles = []
    for _ in range(n):
        counts = {
            ("main", function): max(1, round(rng.gauss(mean, mean**0.5)))
            for function, mean in means.items()
        }
        profiles.append(Profile(counts))
    return release(name, profiles, rate_hz=100.0)


BASE = {"slow": 100.0, "fast": 400.0, "same": 300.0, "gone": 50.0, "other": 500.0}
HEAD = {"slow": 300.0, "fast": 200.0, "same": 300.0, "new": 80.0, "other": 500.0}


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png.startswith(PNG_SIGNATURE)
    found = []
    offset = len(PNG_SIGNATURE)
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data)
        found.append((kind, data))
        offset += 12 + length
    return found


def pixels(png: bytes) -> np.ndarray:
    return (imread(io.BytesIO(png), format="png")[:, :, :3] * 255).round().astype(int)


def has_colour(png: bytes, colour: str) -> bool:
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(pixels(png) - target).sum(axis=2) <= 6).any())


def test_delta_chart_is_a_png_with_red_and_blue_bars_and_no_metadata_that_changes() -> None:
    comparison = compare(runs("v1", BASE), runs("v2", HEAD))
    png = render_delta_chart(comparison)
    kinds = [kind for kind, _ in chunks(png)]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    text = b"".join(data for kind, data in chunks(png) if kind in (b"tEXt", b"iTXt", b"zTXt"))
    assert b"Software" not in text
    assert b"Date" not in text
    width, height = struct.unpack(">II", chunks(png)[0][1][:8])
    assert width == 1100
    assert 300 < height < 800
    assert has_colour(png, SLOWER)
    assert has_colour(png, FASTER)
    assert png == render_delta_chart(comparison)


def test_delta_chart_ignores_the_users_matplotlib_settings() -> None:
    comparison = compare(runs("v1", BASE), runs("v2", HEAD))
    plain = render_delta_chart(comparison)
    with mpl.rc_context({"axes.facecolor": "black", "font.size": 20, "figure.dpi": 300}):
        assert render_delta_chart(comparison) == plain


def test_delta_chart_grows_with_the_rows_it_shows_and_draws_an_empty_comparison() -> None:
    comparison = compare(runs("v1", BASE), runs("v2", HEAD))
    short, tall = render_delta_chart(comparison, top=2), render_delta_chart(comparison, top=6)
    assert pixels(short).shape[0] < pixels(tall).shape[0]
    same = compare(runs("v1", BASE), runs("v1", BASE))
    png = render_delta_chart(same)
    assert png.startswith(PNG_SIGNATURE)
    assert not has_colour(png, SLOWER)


def test_delta_chart_without_a_rate_or_statistics() -> None:
    base = release("a", [Profile({("main", "f"): 10, ("main", "g"): 5})], rate_hz=None)
    head = release("b", [Profile({("main", "f"): 30, ("main", "g"): 5})], rate_hz=None)
    comparison = compare(base, head, CompareOptions(no_stats=True))
    png = render_delta_chart(comparison)
    # Nothing is significant without statistics: pale bars only.
    assert not has_colour(png, SLOWER)
    assert png.startswith(PNG_SIGNATURE)


def test_long_names_are_cut_in_the_middle() -> None:
    name = "a" * 50 + " (" + "package/" * 6 + "module.py)"
    short = shorten(name)
    assert len(short) == 60
    assert short.startswith("aaaa")
    assert short.endswith("module.py)")
    assert "…" in short
    assert shorten("short") == "short"


def releases(count: int) -> list[Release]:
    return [
        runs(f"v{index}", {"climber": 50.0 + 100.0 * (index >= count // 2), "rest": 400.0}, n=4)
        for index in range(count)
    ]


def test_history_chart_is_deterministic_and_draws_the_chosen_functions() -> None:
    frame = history(releases(4), ["climber", "rest"])
    png = render_history_chart(frame)
    assert png == render_history_chart(frame)
    assert has_colour(png, "#0072b2")
    assert has_colour(png, "#d55e00")
    load_only = render_history_chart(history(releases(4), []))
    assert pixels(load_only).shape[0] < pixels(png).shape[0]


@pytest.mark.parametrize("count", [1, 2, 30])
def test_history_chart_of_one_to_many_releases(count: int) -> None:
    png = render_history_chart(history(releases(count), ["climber"]))
    assert png.startswith(PNG_SIGNATURE)
    assert pixels(png).shape[1] == 1100


def test_history_chart_draws_at_most_max_functions() -> None:
    many = {f"f{index}": 100.0 for index in range(10)}
    frame = history([runs("v1", many, n=2), runs("v2", many, n=2)], ["f*"])
    assert len(frame.attrs["functions"]) == 10
    few = render_history_chart(frame, max_functions=2)
    assert has_colour(few, "#0072b2")
    assert not has_colour(few, "#cc79a7")  # the fourth series' colour


def test_names_are_drawn_as_text_whatever_they_hold() -> None:
    # Mathtext that would not parse, controls, bidi overrides, scripts the font lacks: each
    # would raise or warn (and warnings fail the suite) if it reached matplotlib as is.
    names = [r"$\notacommand{x}$ (evil.py)", "esc\x1b[31m\x9b (evil.py)", "名前 🔥 \u202eevil"]
    base = dict.fromkeys(names, 100.0) | {"other": 500.0}
    head = dict.fromkeys(names, 250.0) | {"other": 500.0}
    releases_ = [runs("v1\x1b", base), runs("v2\u202e", head)]
    assert render_delta_chart(compare(*releases_)).startswith(PNG_SIGNATURE)
    assert render_history_chart(history(releases_, ["*"])).startswith(PNG_SIGNATURE)
    assert shorten("esc\x1b[31m\u202e") == "esc\\x1b[31m\\u202e"


LONG = "a_really_quite_long_function_name_from_a_library (site-packages/lib/module/sub.py)"


@pytest.mark.parametrize(
    ("base_name", "head_name", "names"),
    [
        ("1.0", "1.1", [f"{LONG}{index}" for index in range(6)]),
        ("release-candidate-2026", "release-candidate-2027", [f"{LONG}{i}" for i in range(6)]),
        ("a", "b", ["f", "g", "h"]),
    ],
)
def test_delta_chart_words_stay_inside_and_bar_labels_clear_of_the_axes(
    base_name: str, head_name: str, names: list[str]
) -> None:
    # The hottest function got much faster: its bar spans the axes, its label "-84.5% *"
    # used to sit on the y-axis; long names used to push the subtitle past the right edge.
    base = {name: 800.0 + 100 * index for index, name in enumerate(names)} | {"hot": 3000.0}
    head = {name: mean / 3 for name, mean in base.items()} | {"hot": 3000.0 * 0.155}
    comparison = compare(runs(base_name, base), runs(head_name, head))
    figure = delta_figure(comparison)
    renderer = figure.canvas.get_renderer()
    edge = figure.bbox
    (axes,) = figure.axes
    for text in (axes.title, *axes.texts):
        box = text.get_window_extent(renderer)
        assert edge.x0 <= box.x0, text.get_text()
        assert box.x1 <= edge.x1, text.get_text()
    inner = axes.get_window_extent(renderer)
    labels = [text for text in axes.texts if text.get_text().endswith(("*", "%"))]
    assert labels
    for label in labels:
        box = label.get_window_extent(renderer)
        assert inner.x0 <= box.x0, label.get_text()
        assert box.x1 <= inner.x1, label.get_text()
