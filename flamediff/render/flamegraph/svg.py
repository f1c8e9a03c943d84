"""Flame graph SVGs: a plain one per release and Brendan Gregg's differential one.

Both renderers take profiles and return the SVG as a ``str``; they never write files. The SVG
is self-contained (inline CSS and JavaScript, no network), valid XML, and byte-for-byte
deterministic: no timestamps, no randomness, frames sorted alphabetically per level.

What the differential graph shows, and why:

- **Shape** from the head release (``negate=True``: from the base, so code paths that vanished
  are visible). Widths are proportional to samples; tooltips give time per run, so releases
  captured with different numbers of runs compare fairly (time = count / runs / rate_hz).
- **Colour** follows the change of each frame's *self* time per run (time in its own code,
  not in what it called), as ``flamegraph.pl`` does: a regression lands on the function whose
  own code changed, and an improvement stays blue even when the time merely moved into a new
  child (a loop rewritten as a generator expression). Ancestors whose own time did not move
  stay white, so a longer whole load does not paint every tower red. ``colour_by="total"``
  colours the change of *inclusive* time instead (the frame and everything it called), as
  pprof does: a regression then colours its whole tower from the root up to the frame that
  grew. Tooltips give both inclusive and self time. Red is slower, blue faster; saturation is
  the change relative to the largest change among drawn frames.
- **One truth with the table**: given the comparison's view (``table``), amounts are
  normalised as the table's, the hue of every frame is its function's verdict, functions new
  in the head are hatched and the root is the whole load, absolute, with its verdict (see
  :mod:`flamediff.render.flamegraph.colour`). A function the table calls slower is red on
  every frame, also on a call path that shrank: what blocked can be found by eye.
- **Sampling noise fades to white**: a change is weighed by how many Poisson standard errors
  it spans. Under one standard error it is white; the colour ramps up to full at three, so
  0 -> 1 sample stays white.
- **Labels** sit inside frames wide enough for :data:`MIN_LABEL_CHARS` characters of the name
  (then ``..``); a narrower frame gets none, and its tooltip names it.
- **Depth**: frames more than :data:`MAX_DEPTH` above the root are folded into one frame per
  tower, "… N deeper frames", so the SVG's height and size are bounded whatever the recursion.
- **Layout** (:mod:`flamediff.render.flamegraph.layout`): empty stacks under an ``<idle>``
  frame; ``min_width`` is a percentage of the whole graph's width (of all samples), not pixels,
  so the same profile prunes the same frames at any ``width``; every level then holds at most
  ``100 / min_width`` frames, which bounds the file's size. Colours:
  :mod:`flamediff.render.flamegraph.colour`.

Interactivity (``flamegraph.js``): click a frame to zoom, "Reset Zoom", Ctrl-F or "Search"
(a regular expression; case-insensitive when typed all in lower case) highlights matches and
shows their share. The URL fragment ``#search=REGEX&zoom=a;b;c`` (a path of frame names below
the root, each URL-encoded) does the same, for links. Without scripts (an ``<img>``, GitHub's
Markdown) the graph still reads: labels sit inside wide frames, truncated with ``..``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final

from flamediff.model import Profile
from flamediff.render.flamegraph.colour import (
    DARK_FROM,
    PALETTE_STOPS,
    PALETTES,
    SETTLED_STRENGTH,
    UNSETTLED_STRENGTH,
    TableView,
    frame_strength,
    module_fill,
    new_pattern,
    new_pattern_id,
    ramp,
    significance,
)
from flamediff.render.flamegraph.layout import Frame, layout, with_idle
from flamediff.stacks import StackTable, common_names
from flamediff.vocabulary import Metric

ColourBy = Metric
COLOUR_BY: Final = tuple(Metric)

# Geometry in SVG pixels. CHAR_WIDTH is the average advance of a 12 px Verdana or DejaVu Sans
# glyph, rounded up so that estimated labels rarely overflow their frame; flamegraph.js uses
# the same figure when it relabels zoomed frames.
FRAME_HEIGHT: Final = 16
FONT_SIZE: Final = 12
CHAR_WIDTH: Final = 7.0
PAD_X: Final = 10
HEADER_HEIGHT: Final = 84
FOOTER_HEIGHT: Final = 34
MIN_WIDTH_PX: Final = 200
# A label shows at least this many characters of the name (then ".."), or none at all: "p.."
# says nothing and hides the colour. flamegraph.js reads it from the SVG.
MIN_LABEL_CHARS: Final = 4
# Frames deeper than this above the root are folded into one frame per tower, "… N deeper
# frames", so the SVG's height and size stay bounded however deep the recursion.
MAX_DEPTH: Final = 96


# Characters XML 1.0 forbids even escaped, and lone surrogates, which UTF-8 cannot encode.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class _Scale:
    """Turns sample counts into per-run amounts and words."""

    runs: int
    rate_hz: float | None
    factor: float = 1.0  # what one sample is worth: normalisation and rate, see TableView

    def per_run(self, count: float) -> float:
        return count * self.factor / self.runs

    def words(self, count: float) -> str:
        return _format_amount(self.per_run(count), self.rate_hz)


def render_diff_svg(
    base: Profile,
    head: Profile,
    *,
    base_name: str,
    head_name: str,
    base_runs: int,
    head_runs: int,
    rate_hz: float | None,
    normalize: bool = False,
    negate: bool = False,
    min_width: float = 0.1,
    width: int = 1200,
    palette: str = "red-blue",
    colour_by: ColourBy = Metric.SELF,
    table: TableView | None = None,
    max_depth: int | None = None,
) -> str:
    """A differential flame graph of ``head`` against ``base`` as an SVG document.

    Widths come from the head (``negate``: the base); colours from the change of each frame's
    self time per run (``colour_by="total"``: of its inclusive time), red slower and blue
    faster (see the module docstring). ``rate_hz`` is the head's.

    ``table``: the comparison's view (:class:`~flamediff.render.flamegraph.colour.TableView`):
    amounts are normalised as the table's, each frame's hue is its function's verdict, new
    functions are hatched, so the picture agrees with the table (see
    :mod:`flamediff.render.flamegraph.colour`). Without one, ``normalize`` scales the base to
    the head's total, and colours follow each frame's change and its sampling noise alone.
    ``min_width`` is in percent of the graph's width; ``palette`` is one of ``PALETTES``;
    ``max_depth`` (default :data:`MAX_DEPTH`) bounds the frames drawn above the root.
    """
    _check_arguments(min_width, width, rate_hz, {"base_runs": base_runs, "head_runs": head_runs})
    if palette not in PALETTE_STOPS:
        raise ValueError(f"unknown palette {palette!r}; choose one of {', '.join(PALETTES)}")
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be 'self' or 'total', not {colour_by!r}")
    base_counts, head_counts = with_idle(base), with_idle(head)
    names = common_names([base_counts, head_counts])
    base_counts, head_counts = base_counts.renamed(names), head_counts.renamed(names)
    base_total, head_total = base_counts.total, head_counts.total
    base_weight = head_weight = 1.0
    if table is not None:
        base_weight, head_weight = table.base_weight, table.head_weight
    elif normalize and base_total and head_total:
        base_weight = (head_total / head_runs) / (base_total / base_runs)
    head_scale = _Scale(head_runs, rate_hz, head_weight)
    base_scale = _Scale(base_runs, rate_hz, base_weight)
    shape, other = (base_counts, head_counts) if negate else (head_counts, base_counts)
    shape_total = base_total if negate else head_total
    depth_cap = MAX_DEPTH if max_depth is None else max_depth
    frames = layout(shape, other, shape_total * min_width / 100, depth_cap)
    # Verdicts are about the metric the comparison tested; coloured by the other, the
    # picture cannot borrow them and falls back on each frame's change and noise.
    verdicts = table.verdicts if table is not None and table.metric == colour_by else None

    # Signed change (head minus base, per run) and its noise weight for every drawn frame.
    changes: list[tuple[float, float]] = []
    for frame in frames:
        if colour_by == "self":
            shape_count, other_count = frame.self_count, frame.other_self
        else:
            shape_count, other_count = frame.total, frame.other_total
        head_count, base_count = (
            (other_count, shape_count) if negate else (shape_count, other_count)
        )
        change = head_scale.per_run(head_count) - base_scale.per_run(base_count)
        noise = math.sqrt(
            head_count * (head_weight / head_runs) ** 2
            + base_count * (base_weight / base_runs) ** 2
        )
        changes.append((change, significance(change, noise)))
    largest = max(
        (abs(change) for frame, (change, _) in zip(frames, changes, strict=True) if frame.depth),
        default=0.0,
    )

    which = "base" if negate else "head"
    slower, faster = PALETTE_STOPS[palette]
    new = table.new if table is not None else frozenset()
    hatch = f"url(#{new_pattern_id(palette)})"
    drawn: list[tuple[Frame, str, str, bool]] = []
    for frame, (change, weight) in zip(frames, changes, strict=True):
        tip = _diff_tooltip(frame, negate, head_scale, base_scale, shape_total, which)
        if frame.depth == 0 and table is not None:
            fill, tip = _root_colour(frame, negate, table, (base_runs, head_runs), palette, rate_hz)
            dark = False
        elif frame.name in new:
            fill, dark = hatch, False
        else:
            verdict = None
            if verdicts is not None:
                verdict = verdicts.get(frame.name, "untested")
            strength, is_slower = frame_strength(change, weight, largest, verdict)
            fill, dark = ramp(slower if is_slower else faster, strength), strength >= DARK_FROM
        drawn.append((frame, fill, tip, dark))

    unit = "samples" if rate_hz is None else "time"
    colour = f"change of {'self' if colour_by == 'self' else 'inclusive'} {unit} per run"
    if table is not None:
        colour += f", normalised as the table ({table.normalisation})"
        if verdicts is not None:
            colour += "; hue: the table's verdict"
        else:
            colour += f"; no verdicts (the table tested {table.metric} time)"
    elif normalize:
        colour += ", base scaled to the head's total"
    subtitle = (
        f"{base_name} ({_runs(base_runs)}) → {head_name} ({_runs(head_runs)})"
        f" · width: {which} {unit} per run · colour: {colour}"
    )
    legend = _legend(slower, faster, largest, rate_hz, width, palette, with_new=bool(new))
    return _document(
        title=f"Differential flame graph: {base_name} → {head_name}",
        subtitle=subtitle,
        frames=drawn,
        legend=legend,
        total=shape_total,
        width=width,
        kind="diff",
        defs=new_pattern(palette) if new else "",
    )


def _root_colour(
    frame: Frame,
    negate: bool,
    table: TableView,
    runs: tuple[int, int],
    palette: str,
    rate_hz: float | None,
) -> tuple[str, str]:
    """The root is the whole load: absolute, as the table's load row, with its verdict."""
    head_count, base_count = (
        (frame.other_total, frame.total) if negate else (frame.total, frame.other_total)
    )
    before = base_count * table.base_absolute / runs[0]
    after = head_count * table.head_absolute / runs[1]
    slower, faster = PALETTE_STOPS[palette]
    verdict = table.load
    if verdict in ("slower", "faster"):
        fill = ramp(slower if verdict == "slower" else faster, SETTLED_STRENGTH)
    else:
        fill = ramp(slower if after > before else faster, min(UNSETTLED_STRENGTH, 0.1))
    change = _percent_change(before, after) if before else "new"
    mark = {"slower": ", significant", "faster": ", significant", "~": ", not significant"}
    tip = (
        f"{frame.name} — whole load: base {_format_amount(before, rate_hz)} → head "
        f"{_format_amount(after, rate_hz)}, {change}{mark.get(str(verdict), '')}"
    )
    return fill, tip


def render_flamegraph_svg(
    profile: Profile,
    *,
    title: str,
    runs: int,
    rate_hz: float | None,
    min_width: float = 0.1,
    width: int = 1200,
) -> str:
    """A plain flame graph of one release as an SVG document, coloured by module.

    Colours are a hash of each frame's file (or of its name where it has none), so a module
    keeps its colour across graphs and releases. ``min_width`` is in percent of the width.
    """
    _check_arguments(min_width, width, rate_hz, {"runs": runs})
    counts = with_idle(profile)
    total = counts.total
    scale = _Scale(runs, rate_hz)
    frames = layout(counts, StackTable.empty(), total * min_width / 100, MAX_DEPTH)
    drawn: list[tuple[Frame, str, str, bool]] = []
    for frame in frames:
        tip = (
            f"{frame.name} — {scale.words(frame.total)}, {_share(frame.total, total)} of total"
            f"; self {scale.words(frame.self_count)}"
        )
        drawn.append((frame, module_fill(frame), tip, False))
    unit = "samples" if rate_hz is None else "time"
    rate = "" if rate_hz is None else f" at {rate_hz:g} Hz"
    return _document(
        title=title,
        subtitle=f"{_runs(runs)}{rate} · width: {unit} per run · colour: module",
        frames=drawn,
        legend="",
        total=total,
        width=width,
        kind="plain",
    )


def _check_arguments(
    min_width: float, width: int, rate_hz: float | None, runs: Mapping[str, int]
) -> None:
    if rate_hz is not None and not rate_hz > 0:
        raise ValueError(f"rate_hz must be positive or None, not {rate_hz}")
    for name, value in runs.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, not {value}")
    if not 0 <= min_width < 100:
        raise ValueError(f"min_width is a percentage in [0, 100), not {min_width}")
    if width < MIN_WIDTH_PX:
        raise ValueError(f"width must be at least {MIN_WIDTH_PX} px, not {width}")


def _diff_tooltip(
    frame: Frame,
    negate: bool,
    head_scale: _Scale,
    base_scale: _Scale,
    shape_total: int,
    which: str,
) -> str:
    head_count, base_count = (
        (frame.other_total, frame.total) if negate else (frame.total, frame.other_total)
    )
    head_self, base_self = (
        (frame.other_self, frame.self_count) if negate else (frame.self_count, frame.other_self)
    )
    share = f"{_share(frame.total, shape_total)} of {which}"
    if base_count == 0:
        text = f"new in head: {head_scale.words(head_count)}, {share}"
        if head_self:
            text += f"; self {head_scale.words(head_self)}"
    elif head_count == 0:
        text = f"removed in head: base {base_scale.words(base_count)}, {share}"
        if base_self:
            text += f"; self {base_scale.words(base_self)}"
    else:
        change = _percent_change(base_scale.per_run(base_count), head_scale.per_run(head_count))
        text = (
            f"base {base_scale.words(base_count)} → head {head_scale.words(head_count)}"
            f", {change}, {share}"
        )
        if head_self or base_self:
            text += f"; self {base_scale.words(base_self)} → {head_scale.words(head_self)}"
            if head_self and base_self:
                self_before, self_after = (
                    base_scale.per_run(base_self),
                    head_scale.per_run(head_self),
                )
                text += f", {_percent_change(self_before, self_after)}"
    return f"{frame.name} — {text}"


def _percent_change(before: float, after: float) -> str:
    percent = (after - before) / before * 100
    return f"{percent:+.0f}%" if abs(percent) >= 1000 else f"{percent:+.1f}%"


def _share(count: int, total: int) -> str:
    return f"{count / total * 100:.1f}%" if total else "0%"


def _format_amount(value: float, rate_hz: float | None) -> str:
    """A per-run amount in words: seconds at ``rate_hz``, samples without one."""
    if rate_hz is None:
        return "0 samples" if value == 0 else f"{_three_digits(value)} samples"
    seconds = value / rate_hz
    if seconds == 0:
        return "0 s"
    if seconds >= 1:
        return f"{_three_digits(seconds)} s"
    return f"{_three_digits(seconds * 1000)} ms"


def _three_digits(value: float) -> str:
    # Fixed decimals rather than `g`, so 1.50 s and 1.52 s line up in a column of tooltips.
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _runs(runs: int) -> str:
    return "1 run" if runs == 1 else f"{runs} runs"


def _escape(text: str) -> str:
    """Text safe inside an XML element or a double-quoted attribute, and inside HTML."""
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _label(name: str, width: float) -> str:
    """The part of ``name`` that fits ``width`` pixels, ``..``-truncated; flamegraph.js too.

    Nothing when fewer than :data:`MIN_LABEL_CHARS` characters of a longer name would fit.
    """
    fits = int((width - 6) / CHAR_WIDTH)
    if len(name) <= fits:
        return name
    if fits - 2 < MIN_LABEL_CHARS:
        return ""
    return name[: fits - 2] + ".."


def _legend(
    slower: Sequence[str],
    faster: Sequence[str],
    largest: float,
    rate_hz: float | None,
    width: int,
    palette: str,
    *,
    with_new: bool,
) -> str:
    """A stepped red-white-blue scale, labelled with the largest change per run; with
    ``with_new``, the hatch of new functions beside it."""
    steps = 10
    box = 9
    left = width / 2 - (2 * steps + 1) * box / 2
    top = HEADER_HEIGHT - 28
    parts = []
    for step in range(-steps, steps + 1):
        fill = ramp(slower if step > 0 else faster, abs(step) / steps)
        x = left + (step + steps) * box
        parts.append(f'<rect x="{x:.1f}" y="{top}" width="{box}" height="10" fill="{fill}"/>')
    amount = _format_amount(largest, rate_hz)
    parts.append(
        f'<text class="legend" x="{left - 6:.1f}" y="{top + 9}" text-anchor="end">'
        f"faster \N{MINUS SIGN}{amount}</text>"
    )
    slower_words = f"+{amount} slower"
    right = left + (2 * steps + 1) * box + 6
    parts.append(f'<text class="legend" x="{right:.1f}" y="{top + 9}">{slower_words}</text>')
    if with_new:
        x = right + len(slower_words) * CHAR_WIDTH + 18
        parts.append(
            f'<rect x="{x:.1f}" y="{top}" width="{2 * box}" height="10" '
            f'fill="url(#{new_pattern_id(palette)})"/>'
            f'<text class="legend" x="{x + 2 * box + 6:.1f}" y="{top + 9}">'
            "new: not in the base</text>"
        )
    return "".join(parts)


@cache
def _asset(name: str) -> str:
    return files("flamediff.render.flamegraph").joinpath(name).read_text(encoding="utf-8")


def _document(
    *,
    title: str,
    subtitle: str,
    frames: Sequence[tuple[Frame, str, str, bool]],
    legend: str,
    total: int,
    width: int,
    kind: str,
    defs: str = "",
) -> str:
    """The SVG text: header, frames (root at the bottom), footer, style and script."""
    max_depth = max((frame.depth for frame, _, _, _ in frames), default=0)
    height = HEADER_HEIGHT + (max_depth + 1) * FRAME_HEIGHT + FOOTER_HEIGHT
    bottom = HEADER_HEIGHT + max_depth * FRAME_HEIGHT  # y of the root frame
    graph_width = width - 2 * PAD_X
    per_sample = graph_width / total if total else 0.0
    controls = HEADER_HEIGHT - 19
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="flamediff {kind}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' data-frame-height="{FRAME_HEIGHT}" data-char-width="{CHAR_WIDTH}"'
        f' data-min-label="{MIN_LABEL_CHARS}">\n',
        f"<style>{_asset('flamegraph.css')}</style>\n",
        f"<defs>{defs}</defs>\n" if defs else "",
        f'<rect class="background" x="0" y="0" width="{width}" height="{height}"/>\n',
        f'<text class="title" x="{width / 2:.1f}" y="26">{_escape(title)}</text>\n',
        f'<text class="subtitle" x="{width / 2:.1f}" y="45">{_escape(subtitle)}</text>\n',
        f'<text class="control reset hidden" x="{PAD_X}" y="{controls}">Reset Zoom</text>\n',
        f'<text class="control search" x="{width - PAD_X}" y="{controls}">Search</text>\n',
        legend,
        '\n<g class="frames">\n',
    ]
    if not total:
        out.append(f'<text class="empty" x="{width / 2:.1f}" y="{bottom + 12}">no samples</text>\n')
    append = out.append
    for frame, fill, tip, dark in frames:
        left = PAD_X + frame.start * per_sample
        right = PAD_X + (frame.start + frame.total) * per_sample
        x = round(left, 2)
        frame_width = round(right - left, 2)
        y = bottom - frame.depth * FRAME_HEIGHT
        label = _label(frame.name, frame_width)
        text = f'<text x="{x + 3:.2f}" y="{y + 11.5}">{_escape(label)}</text>' if label else ""
        group = '<g class="d">' if dark else "<g>"
        append(
            f"{group}<title>{_escape(tip)}</title>"
            f'<rect x="{x:.2f}" y="{y}" width="{frame_width:.2f}" height="{FRAME_HEIGHT - 1}"'
            f' fill="{fill}"/>{text}</g>\n'
        )
    out.append("</g>\n")
    footer = height - FOOTER_HEIGHT + 22
    out.append(f'<text class="details" x="{PAD_X}" y="{footer}"> </text>\n')
    out.append(f'<text class="matched" x="{width - PAD_X}" y="{footer}"> </text>\n')
    out.append(f"<script><![CDATA[\n{_asset('flamegraph.js')}]]></script>\n</svg>\n")
    return "".join(out)
