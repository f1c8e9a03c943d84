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
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from flamediff.model import Release

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
    ``cpu_seconds`` and ``probe_seconds`` (shape (runs,), NaN where unknown; None when no run
    knows them) are the load's CPU time and the calibration probe's time of each run.
    """

    functions: tuple[str, ...]
    self_samples: npt.NDArray[np.int64]
    total_samples: npt.NDArray[np.int64]
    run_samples: npt.NDArray[np.int64]
    wall_seconds: npt.NDArray[np.float64]
    cpu_seconds: npt.NDArray[np.float64] | None = None
    probe_seconds: npt.NDArray[np.float64] | None = None

    @property
    def measured(self) -> bool:
        """Whether every run knows its CPU time and probe time (see RunInfo)."""
        return all(
            values is not None
            and values.size == self.runs
            and bool(np.isfinite(values).all())
            and bool((values > 0).all())
            for values in (self.cpu_seconds, self.probe_seconds)
        )

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
            self.cpu_seconds,
            self.probe_seconds,
        )


def function_counts(release: Release) -> FunctionCounts:
    """Count self and total samples of every function in every run of ``release``."""
    return function_counts_of([release])[0]


def function_counts_of(releases: Sequence[Release]) -> list[FunctionCounts]:
    """:func:`function_counts` of each release, over one numbering of the functions.

    Every run is read in columns (:class:`flamediff.stacks.StackTable`): a function's self
    samples are a weighted count of the stacks' leaf ids, its total samples a weighted count of
    the distinct ids of each stack. Finding those is a sort of each stack's ids, done for
    thousands of stacks at once as the rows of a matrix, so no Python code runs per frame.
    """
    tables_of = [[profile.table for profile in release.profiles] for release in releases]
    # Functions are frame names, plus IDLE for the empty stack, sorted.
    functions = tuple(
        sorted({IDLE}.union(*(table.names for tables in tables_of for table in tables)))
    )
    position = {name: row for row, name in enumerate(functions)}
    idle = position[IDLE]

    result = []
    for release, tables in zip(releases, tables_of, strict=True):
        self_matrix = np.zeros((len(functions), len(tables)), dtype=np.int64)
        total_matrix = np.zeros((len(functions), len(tables)), dtype=np.int64)
        # The release's functions: those in any of its stacks, even one counted 0 times.
        own = np.zeros(len(functions), dtype=np.bool_)
        for run, table in enumerate(tables):
            # The row of each of the table's frame ids, and of -1 (the empty stack's leaf).
            function_of = np.fromiter(
                map(position.__getitem__, (*table.names, IDLE)),
                dtype=np.int32,
                count=len(table.names) + 1,
            )
            frames = function_of[table.frames]
            leaves = table.leaves()
            # bincount adds in float64: exact while no sum can reach 2**53, which a run would
            # need 2**53 samples divided by its deepest stack to do.
            exact = table.total * max(int(table.depths.max(initial=1)), 1) < _EXACT_FLOAT_SUM
            counts = table.counts.astype(np.float64) if exact else table.counts
            self_matrix[:, run] = _weighted_counts(function_of[leaves], counts, len(functions))
            members, stack_of = _distinct_members(frames, table.offsets)
            total = _weighted_counts(members, counts[stack_of], len(functions))
            empty = leaves < 0
            total[idle] += int(table.counts[empty].sum())
            total_matrix[:, run] = total
            used = np.bincount(table.frames, minlength=len(table.names)) > 0
            own[function_of[:-1][used]] = True
            own[idle] |= bool(empty.any())
        own_rows = np.flatnonzero(own)
        result.append(
            FunctionCounts(
                tuple(functions[row] for row in own_rows),
                self_matrix[own_rows],
                total_matrix[own_rows],
                np.array([table.total for table in tables], dtype=np.int64),
                _per_run(release, "wall_seconds", len(tables)),
                _per_run(release, "cpu_seconds", len(tables)),
                _per_run(release, "probe_seconds", len(tables)),
            )
        )
    return result


def _per_run(release: Release, field: str, runs: int) -> npt.NDArray[np.float64]:
    """One measurement of every run, NaN where unknown.

    Run metadata may be missing or shorter than the profiles (hand-made releases).
    """
    known = [getattr(run, field) for run in release.info.runs][:runs]
    values = [np.nan if value is None else value for value in known]
    return np.array(values + [np.nan] * (runs - len(values)), dtype=np.float64)


# Frames sorted at a time, as rows of a matrix padded to the deepest stack among them: a few
# megabytes, however deep a few stacks are.
_CHUNK_FRAMES = 1 << 20


def _distinct_members(
    frames: npt.NDArray[np.int32], offsets: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Each stack's distinct ids, and the stack each belongs to (a recursive call counts once).

    Stacks are grouped by depth in powers of two and each group's rows laid out as a matrix
    one power wide, padded by repeating each row's last id (padding at most doubles it); each
    row is then sorted, and an id equal to the one before it dropped.
    """
    depths = np.diff(offsets)
    members: list[npt.NDArray[np.int32]] = [np.zeros(0, dtype=np.int32)]
    owners: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    group = np.zeros(len(depths), dtype=np.int64)
    deep = depths > 1
    group[deep] = np.ceil(np.log2(depths[deep])).astype(np.int64)
    group[depths == 0] = -1  # the empty stack has no member
    for level in np.unique(group[group >= 0]).tolist():
        width = 1 << level
        stacks = np.flatnonzero(group == level)
        step = max(1, _CHUNK_FRAMES // width)
        for start in range(0, len(stacks), step):
            rows = stacks[start : start + step]
            last = offsets[rows + 1][:, None] - 1
            matrix = frames[np.minimum(offsets[rows][:, None] + np.arange(width), last)]
            matrix.sort(axis=1)
            keep = np.empty(matrix.shape, dtype=np.bool_)
            keep[:, 0] = True
            np.not_equal(matrix[:, 1:], matrix[:, :-1], out=keep[:, 1:])
            members.append(matrix[keep])
            owners.append(np.repeat(rows, keep.sum(axis=1)))
    return np.concatenate(members), np.concatenate(owners)


_EXACT_FLOAT_SUM = 2**53


def _weighted_counts(
    index: npt.NDArray[np.integer[Any]],
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
