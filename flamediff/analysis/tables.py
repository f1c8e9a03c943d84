"""Per-run function tables: how many samples each function took in each run of a release.

Input contract: the release's profiles are already normalised, so every frame string is the
function's identity (``parse_order (shop/orders.py)``). Empty stacks may remain; they count in
the run's samples and are reported as the pseudo-function :data:`IDLE`.

Two counts per function and run:

``self_samples``
    samples whose leaf (last) frame is the function: time spent in its own code.
``total_samples``
    samples whose stack contains the function anywhere, counted once per stack even when the
    function recurses: time spent in it or anything it called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from flamediff.model import Release, Stack

IDLE = "<idle>"

RUN_TABLE_COLUMNS = (
    "run",
    "function",
    "self_samples",
    "total_samples",
    "run_samples",
    "wall_seconds",
)

TOP_COLUMNS = (
    "by",
    "rank",
    "function",
    "self_s",
    "self_lo_s",
    "self_hi_s",
    "total_s",
    "total_lo_s",
    "total_hi_s",
    "self_share",
    "total_share",
)


@dataclass(frozen=True, slots=True)
class FunctionCounts:
    """The sample counts of one release as matrices: one row per function, one column per run.

    ``self_samples`` and ``total_samples`` have shape (len(functions), runs); ``run_samples``
    and ``wall_seconds`` (NaN where unknown) have shape (runs,). Functions are sorted by name.
    """

    functions: tuple[str, ...]
    self_samples: npt.NDArray[np.int64]
    total_samples: npt.NDArray[np.int64]
    run_samples: npt.NDArray[np.int64]
    wall_seconds: npt.NDArray[np.float64]

    @property
    def runs(self) -> int:
        return int(self.run_samples.shape[0])

    def reindex(self, functions: tuple[str, ...]) -> FunctionCounts:
        """The same counts over another list of functions; functions not seen count zero."""
        position = {name: row for row, name in enumerate(self.functions)}
        rows = np.array([position.get(name, -1) for name in functions], dtype=np.int64)
        found = rows >= 0

        def take(matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            out = np.zeros((len(functions), self.runs), dtype=np.int64)
            out[found] = matrix[rows[found]]
            return out

        return FunctionCounts(
            functions,
            take(self.self_samples),
            take(self.total_samples),
            self.run_samples,
            self.wall_seconds,
        )


def function_counts(release: Release) -> FunctionCounts:
    """Count self and total samples of every function in every run of ``release``."""
    return function_counts_of([release])[0]


def function_counts_of(releases: Sequence[Release]) -> list[FunctionCounts]:
    """:func:`function_counts` of each release, sharing the work on the stacks they share.

    The runs of a release, and releases next to each other, share most of their stacks, so
    each distinct stack is taken apart once (its leaf, and its functions each counted once, so
    that a recursive function's time counts once per sample), and every run's counts then go
    through that index with NumPy: counting frame by frame in every run took a second on 16
    runs of 20,000 stacks.
    """
    stack_row: dict[Stack, int] = {}
    # Per release, per run: the rows of the run's stacks and their counts.
    runs_of: list[list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]] = []
    for release in releases:
        runs = []
        for profile in release.profiles:
            stack_counts = profile.counts
            runs.append(
                (
                    np.array(
                        [stack_row.setdefault(stack, len(stack_row)) for stack in stack_counts],
                        dtype=np.int64,
                    ),
                    np.fromiter(stack_counts.values(), dtype=np.int64, count=len(stack_counts)),
                )
            )
        runs_of.append(runs)
    stacks = list(stack_row)  # in row order
    # Each stack's functions, once each (the empty stack, with no Python frame, is IDLE),
    # numbered in order of first sight in C and renumbered by name once all are known. A
    # batch of stacks at a time: the sets of 100,000 stacks at once take 50 MB.
    seen = _Numbering()
    function_parts: list[npt.NDArray[np.int32]] = [np.zeros(0, dtype=np.int32)]
    size_parts: list[npt.NDArray[np.int32]] = [np.zeros(0, dtype=np.int32)]
    for start in range(0, len(stacks), _BATCH):
        batch = [
            dict.fromkeys(stack) if stack else _IDLE_ONLY
            for stack in stacks[start : start + _BATCH]
        ]
        sizes = np.fromiter(map(len, batch), dtype=np.int32, count=len(batch))
        function_parts.append(
            np.fromiter(
                map(seen.__getitem__, chain.from_iterable(batch)),
                dtype=np.int32,
                count=int(sizes.sum()),
            )
        )
        size_parts.append(sizes)
    member_function = np.concatenate(function_parts)
    member_stack = np.repeat(np.arange(len(stacks), dtype=np.int32), np.concatenate(size_parts))
    leaf_function = np.fromiter(
        (seen[stack[-1]] if stack else seen[IDLE] for stack in stacks),
        dtype=np.int32,
        count=len(stacks),
    )
    names = sorted(seen)
    by_name = np.empty(len(seen), dtype=np.int32)
    by_name[[seen[name] for name in names]] = np.arange(len(names), dtype=np.int32)
    member_function, leaf_function = by_name[member_function], by_name[leaf_function]

    # bincount adds in float64: exact while no sum can reach 2**53, which a run would need
    # 2**53 samples divided by its deepest stack to do.
    deepest = max(map(len, stacks), default=1) or 1
    result = []
    for release, runs in zip(releases, runs_of, strict=True):
        self_matrix = np.zeros((len(names), len(runs)), dtype=np.int64)
        total_matrix = np.zeros((len(names), len(runs)), dtype=np.int64)
        for run, (present, counts) in enumerate(runs):
            in_float = int(counts.sum()) * deepest < _EXACT_FLOAT_SUM
            weights = np.zeros(len(stacks), dtype=np.float64 if in_float else np.int64)
            weights[present] = counts
            self_matrix[:, run] = _weighted_counts(leaf_function, weights, len(names))
            total_matrix[:, run] = _weighted_counts(
                member_function, weights[member_stack], len(names)
            )
        # The release's functions: those in any of its stacks, even one counted 0 times.
        own: npt.NDArray[np.bool_] = np.asarray(total_matrix.any(axis=1))
        for present, counts in runs:
            if not counts.all():
                own[member_function[np.isin(member_stack, present[counts == 0])]] = True
        own_rows = np.flatnonzero(own)
        walls = [
            run.wall_seconds if run.wall_seconds is not None else np.nan
            for run in release.info.runs
        ]
        # Run metadata may be missing or shorter than the profiles (hand-made releases).
        walls = (walls + [np.nan] * len(runs))[: len(runs)]
        result.append(
            FunctionCounts(
                tuple(names[row] for row in own_rows),
                self_matrix[own_rows],
                total_matrix[own_rows],
                np.array([int(counts.sum()) for _, counts in runs], dtype=np.int64),
                np.array(walls, dtype=np.float64),
            )
        )
    return result


_IDLE_ONLY = {IDLE: None}
# Stacks taken apart at a time: a few megabytes of sets.
_BATCH = 4096


class _Numbering(dict[str, int]):
    """Name -> 0, 1, 2... in order of first lookup; a lookup of a known name runs in C."""

    def __missing__(self, name: str) -> int:
        number = self[name] = len(self)
        return number


_EXACT_FLOAT_SUM = 2**53


def _weighted_counts(
    index: npt.NDArray[np.int32],
    weights: npt.NDArray[np.number[Any]],
    size: int,
) -> npt.NDArray[np.int64]:
    """``out[i]`` = sum of ``weights`` where ``index`` is ``i``, in exact integers.

    Float weights are summed by bincount, which the caller only asks for when every sum stays
    below 2**53 (exact in float64); integer weights by np.add.at, ten times slower.
    """
    if weights.dtype == np.float64:
        return np.rint(np.bincount(index, weights=weights, minlength=size)).astype(np.int64)
    exact = np.zeros(size, dtype=np.int64)
    np.add.at(exact, index, weights)
    return exact


def run_table(release: Release) -> pd.DataFrame:
    """The long per-run function table of ``release``.

    Columns out, one row per (run, function) where the function has at least one sample:

    - ``run`` (int): the run's index, 0-based, in the release's run order.
    - ``function`` (str): the function's identity; :data:`IDLE` for empty stacks.
    - ``self_samples`` (int): samples with the function as leaf.
    - ``total_samples`` (int): samples with the function anywhere in the stack, once per stack.
    - ``run_samples`` (int): all samples of the run, empty stacks included.
    - ``wall_seconds`` (float): the run's wall time, NaN when unknown.
    """
    counts = function_counts(release)
    runs, rows = np.meshgrid(np.arange(counts.runs), np.arange(len(counts.functions)))
    present = counts.total_samples > 0
    table = pd.DataFrame(
        {
            "run": runs[present].astype(np.int64),
            "function": np.array(counts.functions, dtype=object)[rows[present]],
            "self_samples": counts.self_samples[present],
            "total_samples": counts.total_samples[present],
            "run_samples": counts.run_samples[runs[present]],
            "wall_seconds": counts.wall_seconds[runs[present]],
        },
        columns=list(RUN_TABLE_COLUMNS),
    )
    return table.sort_values(["run", "function"], ignore_index=True)


def seconds_per_sample(release: Release) -> float:
    """1 / rate, or 1.0 (values stay in samples) when the sampling rate is unknown."""
    rate = release.info.rate_hz
    return 1.0 / rate if rate else 1.0


def top_functions(release: Release, n: int) -> pd.DataFrame:
    """The ``n`` functions with the most self time and the ``n`` with the most total time.

    Columns out, ``n`` rows with ``by == "self"`` then ``n`` with ``by == "total"`` (fewer when
    the release has fewer functions):

    - ``by`` ("self" | "total"): the ranking this row belongs to.
    - ``rank`` (int): 1 for the largest.
    - ``function`` (str).
    - ``self_s``, ``total_s`` (float): median over runs of the time per run, in seconds (in
      samples when the release's rate is unknown).
    - ``self_lo_s``, ``self_hi_s``, ``total_lo_s``, ``total_hi_s`` (float): the interquartile
      range over runs of the same.
    - ``self_share``, ``total_share`` (float): median over runs of the fraction of the run's
      samples.

    ``attrs``: ``release`` (name), ``runs`` (count), ``unit`` ("s", or "samples" when the
    rate is unknown).
    """
    counts = function_counts(release)
    meta = {
        "release": release.name,
        "runs": counts.runs,
        "unit": "s" if release.info.rate_hz else "samples",
    }
    if counts.runs == 0 or not counts.functions:
        empty = pd.DataFrame({name: [] for name in TOP_COLUMNS})
        empty.attrs.update(meta)
        return empty
    scale = seconds_per_sample(release)
    run_samples = np.maximum(counts.run_samples, 1)
    columns: dict[str, npt.NDArray[np.float64]] = {}
    for metric, matrix in (("self", counts.self_samples), ("total", counts.total_samples)):
        low, middle, high = np.percentile(matrix * scale, [25, 50, 75], axis=1)
        columns[f"{metric}_s"] = middle
        columns[f"{metric}_lo_s"] = low
        columns[f"{metric}_hi_s"] = high
        columns[f"{metric}_share"] = np.median(matrix / run_samples, axis=1)
    table = pd.DataFrame({"function": list(counts.functions), **columns})
    parts = []
    for by in ("self", "total"):
        # Ties are broken by name so the output is stable from one run of the tool to the next.
        ranked = table[table[f"{by}_s"] > 0]
        ranked = ranked.sort_values([f"{by}_s", "function"], ascending=[False, True]).head(n)
        ranked.insert(0, "rank", np.arange(1, len(ranked) + 1, dtype=np.int64))
        ranked.insert(0, "by", by)
        parts.append(ranked)
    top = pd.concat(parts, ignore_index=True)[list(TOP_COLUMNS)]
    top.attrs.update(meta)
    return top
