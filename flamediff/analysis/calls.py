"""How often a function was called, exactly, in each release: the evidence sampling lacks.

A release's call counts (``capture --calls``: one run under a deterministic tracer) say how
many times each caller called each function. Set beside the sampled change of the function's
time they tell the two stories apart that a sampled table cannot: "called 2.9x as often,
same time per call" (a caller changed; the function is the victim) and "called as often,
+40% time per call" (the function's own code got slower).

Functions are matched by name: py-spy names code ``qualified name (file)``, with the file cut
to the end of its path, and the tracer records the qualified name and the whole path, so a
sampled function is the traced code of the same name whose path ends with its file.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flamediff.model import CallCounts, Code, FrameName

if TYPE_CHECKING:
    import pandas as pd

# Below this change in calls (as a fraction) a function is "called as often": a load whose
# inputs are fixed makes the same calls run after run, give or take a retry or a cache miss.
SAME_CALLS = 0.02


@dataclass(frozen=True, slots=True)
class CallChange:
    """A function's calls in one traced run of each release, in all and by caller (the
    caller's qualified name), callers ordered by how much their calls changed."""

    function: str
    base_calls: int
    head_calls: int
    by_caller: tuple[tuple[str, int, int], ...]

    @property
    def ratio(self) -> float:
        return self.head_calls / self.base_calls if self.base_calls else math.inf


def _same_file(path: str, short: str | None) -> bool:
    if short is None:
        return True
    path, short = path.replace("\\", "/"), short.replace("\\", "/")
    return path == short or path.endswith("/" + short)


def calls_into(calls: CallCounts, function: str) -> dict[str, int]:
    """The calls of ``function`` (a sampled frame name) by caller's qualified name; the
    interpreter itself (no caller) is ``<interpreter>``."""
    frame = FrameName.parse(function)
    found: dict[str, int] = defaultdict(int)
    for (caller, callee), count in calls.edges.items():
        if callee[0] == frame.function and _same_file(callee[1], frame.file):
            found[_caller_name(caller)] += count
    return dict(found)


def _caller_name(caller: Code | None) -> str:
    return "<interpreter>" if caller is None else caller[0]


def call_change(base: CallCounts, head: CallCounts, function: str) -> CallChange:
    """``function``'s calls in both releases, in all and by caller."""
    before, after = calls_into(base, function), calls_into(head, function)
    callers = sorted(
        set(before) | set(after),
        key=lambda name: (-abs(after.get(name, 0) - before.get(name, 0)), name),
    )
    return CallChange(
        function,
        sum(before.values()),
        sum(after.values()),
        tuple((name, before.get(name, 0), after.get(name, 0)) for name in callers),
    )


def calls_text(change: CallChange, delta_pct: float | None = None) -> str | None:
    """One clause on how often the function ran, or None when neither traced run called it.

    ``delta_pct``: the table's change of the function's time, in percent; with it the
    clause says how the time per call changed, which is the table's change less the change
    in calls. Reads like ``called 2.9x as often (1,204 -> 3,480 calls; +2,276 from
    _tokenize, a new caller), -1% time per call``.
    """
    base, head = change.base_calls, change.head_calls
    if base == 0 and head == 0:
        return None
    if base == 0:
        text = f"not called in the base's traced run, {head:,} calls in the head's"
    elif head == 0:
        return f"not called in the head's traced run ({base:,} calls in the base's)"
    elif abs(change.ratio - 1.0) < SAME_CALLS:
        text = f"called as often ({base:,} -> {head:,} calls)"
    else:
        text = f"called {change.ratio:.2g}x as often ({base:,} -> {head:,} calls"
        moved = _caller_clause(change)
        text += f"; {moved})" if moved else ")"
    if base and head and delta_pct is not None and math.isfinite(delta_pct):
        per_call = 100.0 * ((1.0 + delta_pct / 100.0) / change.ratio - 1.0)
        text += f", {per_call:+.0f}% time per call"
    elif base == 0:
        moved = _caller_clause(change)
        text += f" ({moved})" if moved else ""
    return text


def _caller_clause(change: CallChange) -> str | None:
    """The caller whose calls changed most, when it carries most of the change."""
    total = change.head_calls - change.base_calls
    if not change.by_caller or total == 0:
        return None
    caller, before, after = change.by_caller[0]
    moved = after - before
    if moved == 0 or (moved > 0) != (total > 0) or abs(moved) < abs(total) / 2:
        return None
    if before == 0:
        return f"{moved:+,} from {caller}, a new caller"
    if after == 0:
        return f"{moved:+,} from {caller}, which no longer calls it"
    return f"{moved:+,} from {caller}"


def _totals_by_name(calls: CallCounts) -> dict[str, list[tuple[str, int]]]:
    """Calls of each traced code, all callers added, indexed by qualified name."""
    totals: dict[Code, int] = defaultdict(int)
    for (_, callee), count in calls.edges.items():
        totals[callee] += count
    index: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (name, file), count in totals.items():
        index[name].append((file, count))
    return index


def _calls_of(index: dict[str, list[tuple[str, int]]], function: str) -> float:
    frame = FrameName.parse(function)
    found = [count for file, count in index.get(frame.function, ()) if _same_file(file, frame.file)]
    return float(sum(found)) if found else math.nan


def with_calls(comparison: pd.DataFrame, base: CallCounts, head: CallCounts) -> pd.DataFrame:
    """The comparison with ``base_calls`` and ``head_calls``: each function's calls in one
    traced run of each release (NaN where the tracer saw no code of that name, and for the
    whole-load row)."""
    frame = comparison.copy()
    frame.attrs["calls"] = True
    for side, calls in (("base", base), ("head", head)):
        index = _totals_by_name(calls)
        frame[f"{side}_calls"] = [
            math.nan if status == "load" else _calls_of(index, str(function))
            for function, status in zip(frame["function"], frame["status"], strict=True)
        ]
    return frame
