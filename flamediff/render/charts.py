"""Charts as PNG bytes: the largest changes of a comparison, and the history of releases.

Both renderers take frames and return PNG bytes; they never write files or show windows.
They draw on a bare :class:`matplotlib.figure.Figure` (the Agg canvas, no pyplot and its
global state) under matplotlib's default style plus ours, so a user's ``matplotlibrc`` does
not change the picture, and the bytes are the same from one run to the next: no software or
date metadata is written.

- :func:`render_delta_chart`: the comparison frame of
  :func:`flamediff.analysis.compare.compare` (columns read: ``function``, ``status``,
  ``base_{metric}_s``, ``head_{metric}_s``, ``delta_pct``, ``impact_s``, ``verdict``,
  ``noise_floor_pct``; attrs: base, head, n_base, n_head, metric, unit,
  alpha, normalisation).
- :func:`render_history_chart`: the frame of :func:`flamediff.analysis.history.history`.

Colours: slower is ColorBrewer RdBu's red and faster its blue, as in the flame graph and the
terminal table, told apart with red-green colour blindness; significance is also shown by
an ``*`` and by saturation, so it never rests on hue alone. History lines use the Okabe-Ito
palette, designed to stay distinct for colour-blind readers.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from flamediff.render.cells import visible

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.text import Annotation, Text

SLOWER: Final = "#b2182b"
FASTER: Final = "#2166ac"
SLOWER_UNSURE: Final = "#f4a582"
FASTER_UNSURE: Final = "#92c5de"
NOISE: Final = "#e3e3e3"
INK: Final = "#222222"
MUTED: Final = "#666666"
# Okabe & Ito (2008), without its yellow, which is unreadable as a thin line on white.
SERIES: Final = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
LOAD_COLOUR: Final = "#555555"
# Titles keep this far from the figure's edges, in pixels.
_EDGE_PX: Final = 8

DPI: Final = 100
WIDTH_IN: Final = 11.0
# A rise of the median by at least this fraction, beyond every run before it, is labelled.
CLIMB: Final = 0.2
# Names longer than this are cut in the middle: the start says what, the end says where.
MAX_NAME: Final = 60

_STYLE: Final[Mapping[str, Any]] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # Room between the title and the axes for the one-line subtitle under the title.
    "axes.titlepad": 22,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#999999",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "savefig.dpi": DPI,
    "svg.hashsalt": "flamediff",
    "path.simplify": True,
    # Names are data: `$x$` in a function's name is text, not mathtext to typeset.
    "text.parse_math": False,
}


@contextlib.contextmanager
def _quiet_glyphs() -> Iterator[None]:
    """A name in a script the font lacks (CJK, emoji) is drawn as boxes; that is no reason to
    warn on every chart, nor on every measurement of its text."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from", UserWarning)
        yield


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with _quiet_glyphs():
        # No "Software" or creation time: the same input gives the same bytes.
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _styled() -> Any:
    """matplotlib's defaults (not the user's rc file) with this module's style on top."""
    return matplotlib.style.context(["default", dict(_STYLE)])


def shorten(name: str, limit: int = MAX_NAME) -> str:
    """``name`` as a label: control characters as escapes, cut in the middle with ``…`` when
    longer than ``limit`` characters."""
    name = visible(name)
    if len(name) <= limit:
        return name
    keep = limit - 1
    return name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def _time_scale(largest: float, unit: str) -> tuple[float, str]:
    """A factor and a label so that values of up to ``largest`` read without exponents."""
    if unit != "s":
        return 1.0, "samples"
    if largest >= 1.0:
        return 1.0, "s"
    return 1000.0, "ms"


def _percent(value: float) -> str:
    if not math.isfinite(value):
        return ""
    text = f"{value:+.0f}%" if abs(value) >= 100 else f"{value:+.1f}%"
    # The minus sign the axes use, not a hyphen.
    return text.replace("-", "\N{MINUS SIGN}")


def render_delta_chart(comparison: pd.DataFrame, *, top: int = 15) -> bytes:
    """The ``top`` largest changes of ``comparison`` as a horizontal bar chart, as PNG bytes.

    One bar per function: head minus base of the compared metric, per run (``impact_s``),
    the largest change first; red slower, blue faster, saturated and marked ``*`` when
    significant. Behind each bar, a grey band spans ± the function's noise floor (the
    smallest change this capture could detect for it), in the same unit. The title names
    the releases; the subtitle gives the runs, the whole load's change and the test.
    """
    with _styled():
        return _png(delta_figure(comparison, top=top))


def delta_figure(comparison: pd.DataFrame, *, top: int = 15) -> Figure:
    """The figure :func:`render_delta_chart` draws, laid out: every text inside the figure
    and every bar label clear of the axes' edges."""
    from flamediff.analysis.compare import comparison_meta

    meta = comparison_meta(comparison)
    metric, unit = meta["metric"], meta["unit"]
    functions = comparison[comparison["status"] != "load"]
    functions = functions[functions["impact_s"].abs() > 0]
    order = functions["impact_s"].abs().sort_values(ascending=False, kind="stable").index
    shown = functions.loc[order].head(max(top, 0))
    rows = _records(shown)
    load_rows = _records(comparison[comparison["status"] == "load"])

    floors = [_floor_seconds(row, metric) for row in rows]
    largest = max(
        [abs(float(row["impact_s"])) for row in rows] + [f for f in floors if math.isfinite(f)],
        default=0.0,
    )
    factor, unit_label = _time_scale(largest, unit)
    height = 1.9 + 0.36 * max(len(rows), 2)
    with _styled():
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
        axes = figure.add_subplot()
        base, head = str(meta["base"]), str(meta["head"])
        axes.set_title(
            f"{shorten(base, 30)} → {shorten(head, 30)}: largest changes of {metric} time"
        )
        subtitle = [
            f"{_runs(meta['n_base'])} of {shorten(base, 20)}, {meta['n_head']} of "
            f"{shorten(head, 20)}"
        ]
        if load_rows:
            measured = meta.get("normalisation") == "measured"
            subtitle.append(_load_words(load_rows[0], unit, measured=measured))
        if meta["no_stats"]:
            subtitle.append("no statistics: nothing is marked significant")
        else:
            subtitle.append(f"* significant: q ≤ {meta['alpha']:g}")
        words = _subtitle(axes, " · ".join(subtitle))
        if not rows:
            axes.text(
                0.5, 0.5, "no function changed", ha="center", va="center", transform=axes.transAxes
            )
            axes.set_yticks([])
            axes.set_xticks([])
            _keep_inside(figure, axes, words)
            return figure
        labels = _draw_bars(axes, rows, floors, factor)
        difference = f"{shorten(head, 30)} \N{MINUS SIGN} {shorten(base, 30)}"
        axes.set_xlabel(f"change of {metric} time per run ({unit_label}), {difference}")
        # Only the kinds of bar drawn, so the legend never explains what is not there.
        kinds = {(float(row["impact_s"]) > 0, _significant(row)) for row in rows}
        handles = [
            Patch(color=colour, label=label)
            for (slower, significant), colour, label in (
                ((True, True), SLOWER, "slower, significant"),
                ((True, False), SLOWER_UNSURE, "slower, not significant"),
                ((False, True), FASTER, "faster, significant"),
                ((False, False), FASTER_UNSURE, "faster, not significant"),
            )
            if (slower, significant) in kinds
        ]
        if any(math.isfinite(floor) and floor > 0 for floor in floors):
            handles.append(Patch(color=NOISE, label="noise floor: smallest detectable change"))
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=len(handles),
            fontsize=8.5,
            handlelength=1.2,
            columnspacing=1.4,
        )
        _keep_inside(figure, axes, words)
        _labels_clear_of_the_axes(figure, axes, labels)
        return figure


def _significant(row: Mapping[str, Any]) -> bool:
    """The comparison's verdict, read from its one column: a significant change."""
    return row["verdict"] in ("slower", "faster")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def _agg(figure: Figure) -> FigureCanvasAgg:
    """The figure's Agg canvas, which measures text as the PNG will draw it."""
    canvas = figure.canvas
    return canvas if isinstance(canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)


def _keep_inside(figure: Figure, axes: Axes, subtitle: Annotation) -> None:
    """Shift the title and subtitle left, over the names' column, where they would run past
    the figure's right edge (long names push the axes right; the words are laid out last)."""
    with _quiet_glyphs():
        figure.draw_without_rendering()
    renderer = _agg(figure).get_renderer()  # type: ignore[no-untyped-call]
    right = max(subtitle.get_window_extent(renderer).x1, axes.title.get_window_extent(renderer).x1)
    room = figure.bbox.width - _EDGE_PX
    if right <= room:
        return
    left = min(subtitle.get_window_extent(renderer).x0, axes.title.get_window_extent(renderer).x0)
    shift = min(right - room, left - _EDGE_PX) / axes.bbox.width
    subtitle.xy = (-shift, 1.0)
    axes.title.set_x(-shift)


def _labels_clear_of_the_axes(
    figure: Figure, axes: Axes, labels: Sequence[tuple[Text, float, float]]
) -> None:
    """Move a bar's label inside its bar where, outside, it would cross the axes' edge (and
    the names beside it): "-84.5% *" at the end of the longest bar."""
    with _quiet_glyphs():
        figure.draw_without_rendering()
    renderer = _agg(figure).get_renderer()  # type: ignore[no-untyped-call]
    inner = axes.get_window_extent(renderer)
    for label, value, pad in labels:
        box = label.get_window_extent(renderer)
        if box.x0 >= inner.x0 and box.x1 <= inner.x1:
            continue
        label.set_x(value - pad if value >= 0 else value + pad)
        label.set_horizontalalignment("right" if value >= 0 else "left")
        if label.get_fontweight() == "bold":
            label.set_color("white")  # on the saturated bar of a significant change


def _subtitle(axes: Axes, text: str) -> Annotation:
    """A grey line between the title and the top of ``axes``."""
    return axes.annotate(
        text,
        xy=(0.0, 1.0),
        xycoords="axes fraction",
        xytext=(0, 6),
        textcoords="offset points",
        ha="left",
        va="bottom",
        color=MUTED,
        fontsize=9,
    )


def _floor_seconds(row: Mapping[str, Any], metric: str) -> float:
    """The noise floor of ``row`` in the metric's unit: a percentage of its base value."""
    floor = float(row["noise_floor_pct"])
    base = float(row[f"base_{metric}_s"])
    if not math.isfinite(floor) or not math.isfinite(base):
        return math.nan
    return floor / 100.0 * base


def _load_words(row: Mapping[str, Any], unit: str, *, measured: bool = False) -> str:
    before, after = float(row["base_self_s"]), float(row["head_self_s"])
    factor, label = _time_scale(max(before, after), unit)
    change = _percent(float(row["delta_pct"]))
    marker = " *" if _significant(row) else ""
    return (
        f"whole load {before * factor:.3g} → {after * factor:.3g} {label} per run, "
        f"{change}{marker} ({'CPU time, measured scale' if measured else 'absolute'})"
    )


def _draw_bars(
    axes: Axes, rows: Sequence[Mapping[str, Any]], floors: Sequence[float], factor: float
) -> list[tuple[Text, float, float]]:
    """Bars top-down in the order given, each over its noise-floor band, labelled at its end;
    the labels, with the end of their bar and the gap between them."""
    positions = list(range(len(rows)))[::-1]
    values = [float(row["impact_s"]) * factor for row in rows]
    halves = [floor * factor for floor in floors if math.isfinite(floor)]
    right = max([*values, *halves, 0.0])
    left = min([*values, *(-half for half in halves), 0.0])
    extent = max(right - left, 1e-12)
    for position, floor in zip(positions, floors, strict=True):
        if math.isfinite(floor) and floor > 0:
            half = floor * factor
            axes.add_patch(
                Rectangle(
                    (-half, position - 0.42), 2 * half, 0.84, color=NOISE, zorder=1, linewidth=0
                )
            )
    colours = [
        (SLOWER if value > 0 else FASTER)
        if _significant(row)
        else (SLOWER_UNSURE if value > 0 else FASTER_UNSURE)
        for row, value in zip(rows, values, strict=True)
    ]
    bars = axes.barh(positions, values, height=0.62, color=colours, zorder=2)
    for bar, row in zip(bars, rows, strict=True):
        if row["status"] == "new":
            # New code is told apart from code that got slower, as in the flame graph.
            bar.set_hatch("///")
            bar.set_edgecolor("white")
    axes.axvline(0, color="#444444", linewidth=0.8, zorder=3)
    pad = extent * 0.012
    labels: list[tuple[Text, float, float]] = []
    for position, value, row in zip(positions, values, rows, strict=True):
        if row["status"] == "new":
            words = "new"
        elif row["status"] == "removed":
            words = "removed"
        else:
            words = _percent(float(row["delta_pct"]))
        if _significant(row):
            words += " *"
        label = axes.text(
            value + (pad if value >= 0 else -pad),
            position,
            words,
            va="center",
            ha="left" if value >= 0 else "right",
            fontsize=9,
            fontweight="bold" if _significant(row) else "normal",
            color=INK,
            zorder=4,
        )
        labels.append((label, value, pad))
    axes.set_yticks(positions, [shorten(str(row["function"])) for row in rows], fontsize=9)
    axes.tick_params(axis="y", length=0)
    # Room for the labels at the bar ends on both sides.
    axes.set_xlim(left - extent * 0.14, right + extent * 0.14)
    axes.set_ylim(-0.7, len(rows) - 0.3)
    axes.grid(axis="x", color="#eeeeee", zorder=0)
    axes.set_axisbelow(True)
    return labels


def render_history_chart(history_frame: pd.DataFrame, *, max_functions: int = 7) -> bytes:
    """The history frame as a line chart, as PNG bytes.

    Top panel: the whole load; below it, on their own scale, the first ``max_functions``
    functions of the frame (the subtitle says how many more the table holds). Each line is
    the median per release of the runs' time per run; the band around it spans the
    fastest to the slowest run. The largest rise of a median by :data:`CLIMB` or more with
    every run slower than every run before (``beyond_runs``) is labelled: the release where
    the function climbed. Release names label the x axis, in
    the frame's order.
    """
    from flamediff.analysis.compare import LOAD_ROW

    meta = history_frame.attrs
    metric, unit = str(meta.get("metric", "self")), str(meta.get("unit", "s"))
    releases = [str(name) for name in meta.get("releases", [])] or list(
        dict.fromkeys(history_frame["release"].astype(str))
    )
    functions = [name for name in dict.fromkeys(history_frame["series"]) if name != LOAD_ROW]
    drawn, hidden = functions[: max(max_functions, 0)], functions[max(max_functions, 0) :]
    panels = 2 if drawn else 1
    height = 3.2 + (3.6 if drawn else 0) + (0.22 * len(drawn))
    with _styled():
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
        grid = figure.add_gridspec(panels, 1, height_ratios=[1, 1.6][:panels])
        load_axes = figure.add_subplot(grid[0])
        load = history_frame[history_frame["series"] == LOAD_ROW]
        _draw_series(load_axes, load, LOAD_COLOUR, "whole load (all samples)", unit)
        load_axes.set_title(f"{metric.capitalize()} time per run across releases")
        words = (
            f"{len(releases)} release{'s' if len(releases) != 1 else ''} · line: median of "
            "the runs · band: fastest to slowest run · absolute"
        )
        if hidden:
            words += f" · {len(hidden)} more function(s) in the table"
        _subtitle(load_axes, words)
        load_axes.set_ylabel(f"whole load ({_axis_unit(load, unit)})")
        axes_list = [load_axes]
        if drawn:
            function_axes = figure.add_subplot(grid[1], sharex=load_axes)
            selected = history_frame[history_frame["series"].isin(drawn)]
            scale_unit = _axis_unit(selected, unit)
            for index, name in enumerate(drawn):
                rows = history_frame[history_frame["series"] == name]
                colour = SERIES[index % len(SERIES)]
                _draw_series(function_axes, rows, colour, shorten(str(name)), unit, scale_unit)
            function_axes.set_ylabel(f"{metric} time ({scale_unit})")
            function_axes.legend(
                loc="upper center",
                bbox_to_anchor=(0.5, -0.12 - 0.08 * (len(releases) > 8)),
                ncols=2 if len(drawn) > 1 else 1,
                fontsize=9,
            )
            axes_list.append(function_axes)
        for axes in axes_list:
            # Headroom above the highest run, so no point or band touches the frame.
            axes.set_ylim(0, max(axes.get_ylim()[1], 1e-9) * 1.1)
            axes.grid(axis="y", color="#eeeeee")
            axes.set_axisbelow(True)
            axes.margins(x=0.04 if len(releases) > 1 else 0.5)
        _release_ticks(axes_list, releases)
        return _png(figure)


def _axis_unit(rows: pd.DataFrame, unit: str) -> str:
    largest = float(rows["max_s"].max()) if len(rows) else 0.0
    return _time_scale(largest if math.isfinite(largest) else 0.0, unit)[1]


def _draw_series(
    axes: Axes,
    rows: pd.DataFrame,
    colour: str,
    label: str,
    unit: str,
    scale_unit: str | None = None,
) -> None:
    """One series: its median line with markers, and its min-max band (a bar for 1 release)."""
    scale_unit = scale_unit or _axis_unit(rows, unit)
    factor = 1000.0 if scale_unit == "ms" else 1.0
    positions = rows["position"].to_numpy()
    median = rows["median_s"].to_numpy() * factor
    low, high = rows["min_s"].to_numpy() * factor, rows["max_s"].to_numpy() * factor
    if len(positions) > 1:
        axes.fill_between(positions, low, high, color=colour, alpha=0.16, linewidth=0)
    else:
        axes.vlines(positions, low, high, color=colour, alpha=0.5, linewidth=6)
    axes.plot(positions, median, color=colour, marker="o", markersize=5, linewidth=2, label=label)
    climbs = rows[rows["beyond_runs"] & (rows["change_pct"] >= 100.0 * CLIMB)]
    if len(climbs):
        climb = climbs.sort_values("change_pct", ascending=False).iloc[0]
        index = int(climb["position"])
        axes.annotate(
            f"+{float(climb['change_pct']):.0f}% in {shorten(str(climb['release']), 24)}",
            xy=(index, float(climb["median_s"]) * factor),
            xytext=(-6, 8),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color=colour,
            fontsize=9,
            fontweight="bold",
        )


def _release_ticks(axes_list: Sequence[Axes], releases: Sequence[str]) -> None:
    """Release names under the bottom panel; every k-th when there are too many to read."""
    step = max(1, math.ceil(len(releases) / 24))
    positions = list(range(0, len(releases), step))
    labels = [shorten(releases[position], 24) for position in positions]
    rotate = len(positions) > 8 or max((len(label) for label in labels), default=0) > 12
    bottom = axes_list[-1]
    bottom.set_xticks(
        positions, labels, rotation=35 if rotate else 0, ha="right" if rotate else "center"
    )
    bottom.set_xlabel("release (capture order)")
    for axes in axes_list[:-1]:
        axes.tick_params(axis="x", labelbottom=False)
