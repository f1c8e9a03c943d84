"""Where each frame of a flame graph goes: the layout, with no colour and no SVG.

:func:`layout` takes two profiles' columns (:class:`flamediff.stacks.StackTable`), the one
drawn (``shape``) and the one it is compared with (``other``), and returns the drawn frames
(:class:`Frame`) with both profiles' inclusive and self counts.

- **Empty stacks** (samples with no Python frame) are drawn under an ``<idle>`` frame
  (:func:`with_idle`), the name the analysis tables use, so the root's width equals the
  samples taken.
- **Pruning**: ``min_count`` is in samples; narrower frames are not drawn, but their time still
  counts in their parents, which keep their full width. With ``min_count`` a fraction of the
  total, every level holds at most ``total / min_count`` frames, which bounds the file's size.

The layout needs no tree: a profile's columns hold its stacks sorted, which is exactly the
depth-first order of the alphabetically sorted frame tree, so every frame is a run of
consecutive stacks sharing its path, and its width is a difference of running sums. The graph
is laid out a level at a time, for all the frames of a level at once, with array operations;
only the frames wide enough to draw are split further, so a 100,000-stack profile costs work in
proportion to the rows under drawn frames, in C, not a Python step per frame of every stack.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from flamediff.model import Profile
from flamediff.stacks import StackTable

IDLE_FRAME: Final = "<idle>"
ROOT_FRAME: Final = "all"


class Frame(NamedTuple):
    """One drawn frame; counts are raw samples of the drawn (``shape``) and other profile."""

    depth: int  # 0 is the root
    start: int  # samples of the shape profile left of this frame
    total: int  # inclusive samples of the shape profile
    name: str
    other_total: int  # inclusive samples of the other profile
    self_count: int
    other_self: int


def with_idle(profile: Profile) -> StackTable:
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


def folded_name(deeper: int) -> str:
    """The name of the frame that stands for ``deeper`` levels of frames above ``max_depth``."""
    return f"\N{HORIZONTAL ELLIPSIS} {deeper} deeper frame{'s' if deeper != 1 else ''}"


def layout(
    shape: StackTable, other: StackTable, min_count: float, max_depth: int | None = None
) -> list[Frame]:
    """The frames of ``shape`` at least ``min_count`` samples wide, with ``other``'s counts.

    ``max_depth``: frames deeper than this above the root are folded into one frame per tower
    (:func:`folded_name`), whose inclusive and self counts are everything above it: a
    recursion thousands of frames deep still gives a graph of bounded height.

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
        if max_depth is not None and level >= max_depth:
            folded = _folded(shape, first, end, position, other_position, level,
                             other_first, other_end)  # fmt: skip
            found.append(folded)
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
    frames: list[Frame] = []
    if found:
        columns = {key: np.concatenate([part[key] for part in found]) for key in found[0]}
        order = np.lexsort((columns["level"], columns["end"]))
        names = shape.names
        frames = [
            Frame(
                level + 1,
                start,
                total,
                names[frame] if frame >= 0 else folded_name(-frame),
                other_total,
                own,
                other_own,
            )
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
        frames.append(Frame(0, 0, int(position[-1]), ROOT_FRAME, int(other_position[-1]), 0, 0))
    return frames


def _folded(
    shape: StackTable,
    first: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    position: npt.NDArray[np.int64],
    other_position: npt.NDArray[np.int64],
    level: int,
    other_first: npt.NDArray[np.int64],
    other_end: npt.NDArray[np.int64],
) -> dict[str, npt.NDArray[np.int64]]:
    """One frame per span [first, end) standing for all of its rows' frames from ``level`` up.

    Its frame id is minus the number of levels it folds (see :func:`folded_name`).
    """
    span, rows = _rows_of(first, end)
    deepest = np.zeros(len(first), dtype=np.int64)
    np.maximum.at(deepest, span, shape.depths[rows])
    totals = position[end] - position[first]
    other_totals = other_position[other_end] - other_position[other_first]
    return {
        "end": end,
        "level": np.full(len(first), level, dtype=np.int64),
        "start": position[first],
        "total": totals,
        "frame": -(deepest - level),
        "other_total": other_totals,
        "self": totals,
        "other_self": other_totals,
    }


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
