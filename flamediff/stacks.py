"""Profiles in columns: every stack as integer frame ids, for the work done on every frame.

A :class:`flamediff.model.Profile` maps tuples of frame names to counts, which reads well and
costs a Python object per frame. Counting functions and laying out a flame graph touch every
frame of every stack: on 100,000 stacks of depth 10 to 60 that is 3.5 million frames, seconds
of interpreter work. A :class:`StackTable` holds the same multiset as arrays, so that work is
done by NumPy:

``names``
    the distinct frame names, sorted; a frame's id is its name's position.
``frames``
    the frame ids of every stack, root first, stacks back to back (int32).
``offsets``
    stack ``i`` is ``frames[offsets[i]:offsets[i + 1]]`` (int64, one more than the stacks).
``counts``
    the samples of each stack (int64, zero allowed, never negative).

Stacks are distinct and sorted, and since ids follow the sorted names, sorting by ids is
sorting by names: a stack comes right before the stacks that extend it, and the stacks under
any frame are consecutive rows. That is the depth-first order of the alphabetically sorted
frame tree, which is what a flame graph draws and what the analysis counts over.

The empty stack (a sample with no Python frame) is a row of depth 0, sorted first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise
from typing import TYPE_CHECKING

import numpy as np

from flamediff.model import Stack

if TYPE_CHECKING:
    import numpy.typing as npt


@dataclass(frozen=True, slots=True, eq=False)
class StackTable:
    """A profile's stacks and counts in columns; see the module docstring for the invariants."""

    names: tuple[str, ...]
    frames: npt.NDArray[np.int32]
    offsets: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def depths(self) -> npt.NDArray[np.int64]:
        return np.diff(self.offsets)

    @classmethod
    def empty(cls) -> StackTable:
        return cls(
            (),
            np.zeros(0, dtype=np.int32),
            np.zeros(1, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        )

    @classmethod
    def from_counts(cls, counts: Mapping[Stack, int]) -> StackTable:
        """The table of a ``{stack: count}`` mapping; every stack is kept, even at count 0."""
        stacks = sorted(counts)
        names = tuple(sorted(set(chain.from_iterable(stacks))))
        number = {name: index for index, name in enumerate(names)}
        depths = np.fromiter(map(len, stacks), dtype=np.int64, count=len(stacks))
        offsets = np.zeros(len(stacks) + 1, dtype=np.int64)
        np.cumsum(depths, out=offsets[1:])
        frames = np.fromiter(
            map(number.__getitem__, chain.from_iterable(stacks)),
            dtype=np.int32,
            count=int(offsets[-1]),
        )
        values = np.fromiter(map(counts.__getitem__, stacks), dtype=np.int64, count=len(stacks))
        return cls(names, frames, offsets, values)

    def to_counts(self) -> dict[Stack, int]:
        """The ``{stack: count}`` mapping this table holds."""
        named = np.array(self.names, dtype=object)[self.frames]
        bounds = self.offsets.tolist()
        return dict(
            zip(
                (tuple(named[start:end]) for start, end in pairwise(bounds)),
                self.counts.tolist(),
                strict=True,
            )
        )

    def stack(self, row: int) -> Stack:
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        return tuple(self.names[frame] for frame in self.frames[start:end].tolist())

    def leaves(self) -> npt.NDArray[np.int32]:
        """Each stack's last frame, -1 for the empty stack."""
        leaf = np.full(len(self), -1, dtype=np.int32)
        filled = self.offsets[1:] > self.offsets[:-1]
        leaf[filled] = self.frames[self.offsets[1:][filled] - 1]
        return leaf

    def renamed(self, names: tuple[str, ...]) -> StackTable:
        """The same stacks with ids into ``names``, a sorted superset of this table's names.

        The new ids keep the order of the old ones, so the rows stay sorted.
        """
        if names == self.names:
            return self
        position = {name: index for index, name in enumerate(names)}
        lookup = np.fromiter(
            map(position.__getitem__, self.names), dtype=np.int32, count=len(self.names)
        )
        return StackTable(names, lookup[self.frames], self.offsets, self.counts)


def common_names(tables: Sequence[StackTable]) -> tuple[str, ...]:
    """The sorted union of the tables' frame names."""
    first = tables[0].names if tables else ()
    if all(table.names == first for table in tables):
        return first
    return tuple(sorted(set().union(*(table.names for table in tables))))


def union(tables: Sequence[StackTable]) -> tuple[StackTable, npt.NDArray[np.int64]]:
    """Every stack of any of ``tables`` once, sorted, and its count in each table.

    Returns the union (its ``counts`` the sum over the tables) and a matrix of shape
    (stacks, tables): column ``k`` holds the counts of ``tables[k]``, 0 where it lacks the stack.

    Each stack becomes a bytes key, its ids as big-endian unsigned integers offset by one, so
    that comparing keys compares stacks: byte order is id order, and a stack's key is a
    prefix of its extensions'. Distinct keys are found by hashing, and sorting them is a merge
    of already sorted runs.
    """
    if not tables:
        return StackTable.empty(), np.zeros((0, 0), dtype=np.int64)
    names = common_names(tables)
    if len(tables) == 1:
        table = tables[0].renamed(names)
        return table, table.counts.reshape(-1, 1).copy()
    row_of: dict[bytes, int] = {}
    rows_per_table = []
    for table in tables:
        renamed = table.renamed(names)
        rows_per_table.append(
            np.fromiter(
                (row_of.setdefault(key, len(row_of)) for key in _keys(renamed)),
                dtype=np.int64,
                count=len(renamed),
            )
        )
    keys = sorted(row_of)
    order = np.fromiter(map(row_of.__getitem__, keys), dtype=np.int64, count=len(keys))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys), dtype=np.int64)
    matrix = np.zeros((len(keys), len(tables)), dtype=np.int64)
    for column, (table, rows) in enumerate(zip(tables, rows_per_table, strict=True)):
        matrix[rank[rows], column] = table.counts
    depths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys)) // 4
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(depths, out=offsets[1:])
    frames = np.frombuffer(b"".join(keys), dtype=">u4").astype(np.int32) - 1
    return StackTable(names, frames, offsets, matrix.sum(axis=1)), matrix


def merge(tables: Sequence[StackTable]) -> StackTable:
    """The sum of several tables: the runs of a release seen as one."""
    return union(tables)[0]


def _keys(table: StackTable) -> list[bytes]:
    data = (table.frames.astype(np.int64) + 1).astype(">u4").tobytes()
    bounds = (table.offsets * 4).tolist()
    return [data[start:end] for start, end in pairwise(bounds)]
