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
  grew, which stays visible when the leaf that grew is too narrow to see. Tooltips give both
  inclusive and self time. Red is slower, blue faster; saturation is the change relative to
  the largest change among drawn frames. By self time, the own time of frames too narrow to
  draw (``min_width``) is coloured nowhere: their parents' self time does not include it.
- **Sampling noise fades to white**: a change is weighed by how many Poisson standard errors
  it spans (z). Under one standard error it is white; the colour ramps up to full at three.
  So 0 -> 1 sample stays white and 0 -> 9 samples in one run is fully coloured. Run-to-run
  drift of the machine is larger than this; ``normalize=True`` removes its uniform part, and
  ``significant`` (the run-to-run test of the comparison) mutes the rest.
- **Empty stacks** (samples with no Python frame) are drawn under an ``<idle>`` frame, the
  name the analysis tables use, so the root's width equals the samples taken.
- **Pruning**: ``min_width`` is a percentage of the whole graph's width (of all samples), not
  pixels, so the same profile prunes the same frames at any ``width``. Narrower frames are not
  drawn, but their time still counts in their parents, which keep their full width. Every
  level then holds at most ``100 / min_width`` frames, which bounds the file's size.

Interactivity (``flamegraph.js``): click a frame to zoom, "Reset Zoom", Ctrl-F or "Search"
(a regular expression; case-insensitive when typed all in lower case) highlights matches and
shows their share. The URL fragment ``#search=REGEX&zoom=a;b;c`` (a path of frame names below
the root, each URL-encoded) does the same, for links. Without scripts (an ``<img>``, GitHub's
Markdown) the graph still reads: labels sit inside wide frames, truncated with ``..``.

The layout needs no tree: a profile's columns (:class:`flamediff.stacks.StackTable`) hold its
stacks sorted, which is exactly the depth-first order of the alphabetically sorted frame tree,
so every frame is a run of consecutive stacks sharing its path, and its width is a difference
of running sums. The graph is laid out a level at a time, for all the frames of a level at
once, with array operations; only the frames wide enough to draw are split further, so a
100,000-stack profile costs work in proportion to the rows under drawn frames, in C, not a
Python step per frame of every stack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from hashlib import blake2b
from importlib.resources import files
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from flamediff.model import FrameName, Profile
from flamediff.stacks import StackTable, common_names
from flamediff.vocabulary import Metric

ColourBy = Metric
COLOUR_BY: Final = tuple(Metric)

IDLE_FRAME: Final = "<idle>"
ROOT_FRAME: Final = "all"

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

# Diverging ColorBrewer schemes, both rated colour-blind safe; stops go from "unchanged" to
# "largest change". orange-purple is for readers who see red as dark (protanopia).
_PALETTES: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "red-blue": (
        ("#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"),
        ("#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac"),
    ),
    "orange-purple": (
        ("#f7f7f7", "#fee0b6", "#fdb863", "#e08214", "#b35806"),
        ("#f7f7f7", "#d8daeb", "#b2abd2", "#8073ac", "#542788"),
    ),
}
PALETTES: Final = tuple(_PALETTES)

# Past this share of the scale, fills are dark enough that labels switch to white.
_DARK_FROM: Final = 0.72
# Changes under NOISE_LOW standard errors are white; colour is full from NOISE_HIGH.
NOISE_LOW: Final = 1.0
NOISE_HIGH: Final = 3.0
# The most colour a change the statistics call noise may get: visible on hover, never loud;
# and the least a significant one gets, however much larger the largest change is.
UNSETTLED_STRENGTH: Final = 0.2
SETTLED_STRENGTH: Final = 0.5

_IDLE_FILL: Final = "#c8c8c8"
_ROOT_FILL: Final = "#d9d9d9"

# Characters XML 1.0 forbids even escaped, and lone surrogates, which UTF-8 cannot encode.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _Frame(NamedTuple):
    """One drawn frame; counts are raw samples of the drawn (``shape``) and other profile."""

    depth: int  # 0 is the root
    start: int  # samples of the shape profile left of this frame
    total: int  # inclusive samples of the shape profile
    name: str
    other_total: int  # inclusive samples of the other profile
    self_count: int
    other_self: int


@dataclass(frozen=True, slots=True)
class _Scale:
    """Turns sample counts into per-run amounts and words."""

    runs: int
    rate_hz: float | None
    factor: float = 1.0  # normalisation of the base to the head's total

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
    significant: Mapping[str, bool] | None = None,
) -> str:
    """A differential flame graph of ``head`` against ``base`` as an SVG document.

    Widths come from the head (``negate``: the base); colours from the change of each frame's
    self time per run (``colour_by="total"``: of its inclusive time), red slower and blue
    faster (see the module docstring).
    ``normalize`` scales the base to the head's total first: use it when the whole load ran
    faster or slower (another machine, another input size), otherwise everything is red or
    blue and the change that matters drowns. ``min_width`` is in percent of the graph's width;
    ``palette`` is one of ``PALETTES``. ``significant``: the run-to-run test's verdict per function
    (the comparison's); a frame of a function found not significant is drawn at most
    :data:`UNSETTLED_STRENGTH` of full colour, one found significant at least
    :data:`SETTLED_STRENGTH`, so the picture agrees with the table: it neither shouts about a
    change the table calls noise nor hides a real one next to a larger one.
    """
    _check_arguments(min_width, width, rate_hz, {"base_runs": base_runs, "head_runs": head_runs})
    verdicts = significant or {}
    if palette not in _PALETTES:
        raise ValueError(f"unknown palette {palette!r}; choose one of {', '.join(PALETTES)}")
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be 'self' or 'total', not {colour_by!r}")
    base_counts, head_counts = _with_idle(base), _with_idle(head)
    names = common_names([base_counts, head_counts])
    base_counts, head_counts = base_counts.renamed(names), head_counts.renamed(names)
    base_total, head_total = base_counts.total, head_counts.total
    factor = 1.0
    if normalize and base_total and head_total:
        factor = (head_total / head_runs) / (base_total / base_runs)
    head_scale = _Scale(head_runs, rate_hz)
    base_scale = _Scale(base_runs, rate_hz, factor)
    shape, other = (base_counts, head_counts) if negate else (head_counts, base_counts)
    shape_total = base_total if negate else head_total
    frames = _layout(shape, other, shape_total * min_width / 100)

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
        noise = math.sqrt(head_count / head_runs**2 + base_count * (factor / base_runs) ** 2)
        changes.append((change, _significance(change, noise)))
    largest = max((abs(change) for change, _ in changes), default=0.0)

    which = "base" if negate else "head"
    slower, faster = _PALETTES[palette]
    drawn: list[tuple[_Frame, str, str, bool]] = []
    for frame, (change, weight) in zip(frames, changes, strict=True):
        strength = weight * abs(change) / largest if largest else 0.0
        verdict = verdicts.get(frame.name)
        if verdict is False:
            strength = min(strength, UNSETTLED_STRENGTH)
        elif verdict is True and weight > 0:
            strength = max(strength, SETTLED_STRENGTH)
        fill = _ramp(slower if change > 0 else faster, strength)
        tip = _diff_tooltip(frame, negate, head_scale, base_scale, shape_total, which)
        drawn.append((frame, fill, tip, strength >= _DARK_FROM))

    unit = "samples" if rate_hz is None else "time"
    subtitle = (
        f"{base_name} ({_runs(base_runs)}) → {head_name} ({_runs(head_runs)})"
        f" · width: {which} {unit} per run"
        f" · colour: change of {'self' if colour_by == 'self' else 'inclusive'} {unit} per run"
        + (", base scaled to the head's total" if normalize else "")
    )
    legend = _legend(slower, faster, largest, rate_hz, width)
    return _document(
        title=f"Differential flame graph: {base_name} → {head_name}",
        subtitle=subtitle,
        frames=drawn,
        legend=legend,
        total=shape_total,
        width=width,
        kind="diff",
    )


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
    counts = _with_idle(profile)
    total = counts.total
    scale = _Scale(runs, rate_hz)
    frames = _layout(counts, StackTable.empty(), total * min_width / 100)
    drawn: list[tuple[_Frame, str, str, bool]] = []
    for frame in frames:
        tip = (
            f"{frame.name} — {scale.words(frame.total)}, {_share(frame.total, total)} of total"
            f"; self {scale.words(frame.self_count)}"
        )
        drawn.append((frame, _module_fill(frame), tip, False))
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


def _with_idle(profile: Profile) -> StackTable:
    """The profile's columns with the empty stack drawn as an ``<idle>`` frame."""
    table = profile.table
    if len(table) == 0 or table.offsets[1] != 0:
        return table  # no empty stack (it sorts first): nothing to move
    idle_count = int(table.counts[0])
    names = tuple(sorted({*table.names, IDLE_FRAME}))
    rest = StackTable(table.names, table.frames, table.offsets[1:], table.counts[1:]).renamed(names)
    if not idle_count:
        return rest
    idle = names.index(IDLE_FRAME)
    # `(<idle>,)` sorts after every stack whose root sorts before it, and right before the
    # stacks that extend it.
    roots = rest.frames[rest.offsets[:-1]]
    at = int(np.searchsorted(roots, idle, side="left"))
    counts = rest.counts.copy()
    if at < len(rest) and roots[at] == idle and rest.offsets[at + 1] - rest.offsets[at] == 1:
        counts[at] += idle_count
        return StackTable(names, rest.frames, rest.offsets, counts)
    start = int(rest.offsets[at])
    frames = np.insert(rest.frames, start, np.int32(idle))
    offsets = np.insert(rest.offsets, at + 1, start + 1)
    offsets[at + 2 :] += 1
    return StackTable(names, frames, offsets, np.insert(counts, at, idle_count))


def _layout(shape: StackTable, other: StackTable, min_count: float) -> list[_Frame]:
    """The frames of ``shape`` at least ``min_count`` samples wide, with ``other``'s counts.

    Both tables number frames alike (one list of names). Top down, one level of the graph at a
    time: the stacks under a drawn frame are consecutive rows (see the module docstring), and
    its children are the runs of those rows with one frame id at the next level, so a level's
    frames are found for every drawn parent at once by a handful of array operations. A
    frame's rows in ``other`` are those under the same path, found by bisection among its
    parent's. Stacks only in ``other`` have no width but still add to the ``other`` totals of
    their drawn ancestors. Frames come out in the order a left-to-right sweep would close them
    (by the row their span ends at, shallowest first), the root last.
    """
    # Zero-width frames (code only in `other`) are never drawn, whatever min_width says.
    min_count = max(min_count, 1)
    # Samples of all rows before row i, so that any span's width is one subtraction.
    position = np.zeros(len(shape) + 1, dtype=np.int64)
    np.cumsum(shape.counts, out=position[1:])
    other_position = np.zeros(len(other) + 1, dtype=np.int64)
    np.cumsum(other.counts, out=other_position[1:])
    depths, other_depths = shape.depths, other.depths
    # The drawn frames of the level being looked at, as spans [first, end) of rows of each
    # table; the root's span is every row.
    first, end = np.array([0]), np.array([len(shape)])
    other_first, other_end = np.array([0]), np.array([len(other)])
    found: list[dict[str, npt.NDArray[np.int64]]] = []
    level = 0
    while len(first):
        # A parent's own stack (its self time) is the first row of its span, not a child.
        first = first + _starts_at_depth(depths, first, end, level)
        other_first = other_first + _starts_at_depth(other_depths, other_first, other_end, level)
        wide = position[end] - position[first] >= min_count
        first, end = first[wide], end[wide]
        other_first, other_end = other_first[wide], other_end[wide]
        if not len(first):
            break
        span, rows = _rows_of(first, end)
        column = shape.frames[shape.offsets[rows] + level]
        # A child starts where the frame at this level changes, or a new parent's span does.
        starts = np.flatnonzero(
            np.concatenate(([True], (column[1:] != column[:-1]) | (span[1:] != span[:-1])))
        )
        child_first = rows[starts]
        child_end = np.append(rows[starts[1:] - 1], rows[-1]) + 1
        totals = position[child_end] - position[child_first]
        drawn = totals >= min_count
        starts, child_first, child_end = starts[drawn], child_first[drawn], child_end[drawn]
        totals = totals[drawn]
        frame, parent = column[starts], span[starts]
        # The same paths in `other`: within each parent's rows, sorted by frame id, so one
        # bisection over keys (parent, frame) finds every child's rows there.
        other_span, other_rows = _rows_of(other_first, other_end)
        other_column = other.frames[other.offsets[other_rows] + level]
        width = len(shape.names) + 1
        other_keys = other_span * width + other_column
        keys = parent * width + frame
        low = np.searchsorted(other_keys, keys, side="left")
        high = np.searchsorted(other_keys, keys, side="right")
        present = high > low
        child_other_first = _take(other_rows, low, present)
        child_other_end = _take(other_rows, high - 1, present) + present
        own = depths[child_first] == level + 1
        other_own = present & (_take(other_depths, child_other_first, present) == level + 1)
        found.append(
            {
                "end": child_end,
                "level": np.full(len(frame), level, dtype=np.int64),
                "start": position[child_first],
                "total": totals,
                "frame": frame.astype(np.int64),
                "other_total": other_position[child_other_end] - other_position[child_other_first],
                "self": np.where(own, shape.counts[child_first], 0),
                "other_self": _take(other.counts, child_other_first, other_own),
            }
        )
        first, end, other_first, other_end = (
            child_first,
            child_end,
            child_other_first,
            child_other_end,
        )
        level += 1
    frames: list[_Frame] = []
    if found:
        columns = {key: np.concatenate([part[key] for part in found]) for key in found[0]}
        order = np.lexsort((columns["level"], columns["end"]))
        names = shape.names
        frames = [
            _Frame(level + 1, start, total, names[frame], other_total, own, other_own)
            for level, start, total, frame, other_total, own, other_own in zip(
                *(
                    columns[key][order].tolist()
                    for key in (
                        "level", "start", "total", "frame", "other_total", "self", "other_self"
                    )
                ),
                strict=True,
            )
        ]  # fmt: skip
    if position[-1] > 0:
        frames.append(_Frame(0, 0, int(position[-1]), ROOT_FRAME, int(other_position[-1]), 0, 0))
    return frames


def _take(
    values: npt.NDArray[np.int64], index: npt.NDArray[np.int64], where: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """``values[index]`` where ``where`` holds, else 0 (``index`` may be out of range there)."""
    if not len(values):
        return np.zeros(len(index), dtype=np.int64)
    taken: npt.NDArray[np.int64] = values[np.clip(index, 0, len(values) - 1)]
    return np.where(where, taken, 0)


def _starts_at_depth(
    depths: npt.NDArray[np.int64],
    first: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    depth: int,
) -> npt.NDArray[np.int64]:
    """1 for each span [first, end) of rows (of these ``depths``) whose first is ``depth`` deep."""
    if not len(depths):
        return np.zeros(len(first), dtype=np.int64)
    starts = (first < end) & (depths[np.minimum(first, len(depths) - 1)] == depth)
    return np.asarray(starts, dtype=np.int64)


def _rows_of(
    first: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every row of the spans [first, end), in order, and the index of the span of each."""
    lengths = end - first
    span = np.repeat(np.arange(len(first), dtype=np.int64), lengths)
    before = np.cumsum(lengths) - lengths
    rows = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(first - before, lengths)
    return span, rows


def _significance(change: float, noise: float) -> float:
    """How far ``change`` stands out of sampling noise: 0 white, 1 full colour."""
    if noise <= 0:
        return 1.0 if change else 0.0
    sigmas = abs(change) / noise
    return min(1.0, max(0.0, (sigmas - NOISE_LOW) / (NOISE_HIGH - NOISE_LOW)))


def _ramp(stops: Sequence[str], strength: float) -> str:
    """The colour at ``strength`` in [0, 1] along ``stops``, linearly between them."""
    position = min(max(strength, 0.0), 1.0) * (len(stops) - 1)
    index = min(int(position), len(stops) - 2)
    fraction = position - index
    low, high = _rgb(stops[index]), _rgb(stops[index + 1])
    mixed = (round(a + (b - a) * fraction) for a, b in zip(low, high, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


@cache
def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@cache
def _hash_fill(key: str) -> str:
    # Warm flame colours from a stable hash (not Python's salted hash()): red to yellow, never
    # so dark that black labels become hard to read.
    first, second, third = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=3).digest()
    red = 205 + 50 * third // 255
    green = 90 + 140 * first // 255
    blue = 20 + 45 * second // 255
    return f"#{red:02x}{green:02x}{blue:02x}"


def _module_fill(frame: _Frame) -> str:
    if frame.depth == 0:
        return _ROOT_FILL
    if frame.name == IDLE_FRAME and frame.depth == 1:
        return _IDLE_FILL
    parsed = FrameName.parse(frame.name)
    return _hash_fill(parsed.file if parsed.file is not None else parsed.function)


def _diff_tooltip(
    frame: _Frame,
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
    """The part of ``name`` that fits ``width`` pixels, ``..``-truncated; flamegraph.js too."""
    fits = int((width - 6) / CHAR_WIDTH)
    if fits < 3:
        return ""
    return name if len(name) <= fits else name[: fits - 2] + ".."


def _legend(
    slower: Sequence[str], faster: Sequence[str], largest: float, rate_hz: float | None, width: int
) -> str:
    """A stepped red-white-blue scale, labelled with the largest change per run."""
    steps = 10
    box = 9
    left = width / 2 - (2 * steps + 1) * box / 2
    top = HEADER_HEIGHT - 28
    parts = []
    for step in range(-steps, steps + 1):
        fill = _ramp(slower if step > 0 else faster, abs(step) / steps)
        x = left + (step + steps) * box
        parts.append(f'<rect x="{x:.1f}" y="{top}" width="{box}" height="10" fill="{fill}"/>')
    amount = _format_amount(largest, rate_hz)
    parts.append(
        f'<text class="legend" x="{left - 6:.1f}" y="{top + 9}" text-anchor="end">'
        f"faster \N{MINUS SIGN}{amount}</text>"
    )
    parts.append(
        f'<text class="legend" x="{left + (2 * steps + 1) * box + 6:.1f}" y="{top + 9}">'
        f"+{amount} slower</text>"
    )
    return "".join(parts)


@cache
def _asset(name: str) -> str:
    return files("flamediff.render").joinpath(name).read_text(encoding="utf-8")


def _document(
    *,
    title: str,
    subtitle: str,
    frames: Sequence[tuple[_Frame, str, str, bool]],
    legend: str,
    total: int,
    width: int,
    kind: str,
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
        f' data-frame-height="{FRAME_HEIGHT}" data-char-width="{CHAR_WIDTH}">\n',
        f"<style>{_asset('flamegraph.css')}</style>\n",
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
