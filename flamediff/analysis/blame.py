"""Where a function's change of time came from: its delta split by call path.

A function that blocks is often the victim, not the cause: its code is unchanged, but a
rewritten caller calls it three times as often, or from a new place. The per-function table
cannot say so; the stacks can. :func:`blame` splits the function's time, run by run, by the
path that reached it, and returns the paths ordered by how much of the change each carries.

For self time the path is the chain of callers above the function (the last
:data:`CALLERS` of them, nearest last): the code that decides how often the function runs.
For total time it is the chain of callees below it down to where the time was spent (the
first :data:`CALLERS`): the code the function's inclusive time moved into.

Values are per run in the comparison's unit, divided by the comparison's scale factors, so
they add up to the function's change as the table shows it (means over runs, which add up,
where the table shows medians, which need not).

The frame returned (one row per path, largest ``impact_s`` in the direction of the change
first) has the columns ``path`` (tuple of function names, the blamed function included),
``base_s``, ``head_s``, ``impact_s`` and ``status`` ("new path" | "gone" | "changed").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd

from flamediff.model import Profile, Release, Stack
from flamediff.vocabulary import Metric

# Callers (for self time) or callees (for total time) kept in a path: the caller and its
# caller name the code that changed in the cases seen, and longer paths split one cause
# over many rows.
CALLERS = 2

BLAME_COLUMNS = ("path", "base_s", "head_s", "impact_s", "status")


def _paths_of(profile: Profile, function: str, metric: Metric) -> dict[Stack, int]:
    """Samples of ``function`` in one run, by the path that reached it."""
    paths: dict[Stack, int] = defaultdict(int)
    for stack, count in profile:
        if not stack:
            continue
        if metric == Metric.SELF:
            if stack[-1] == function:
                paths[(*stack[-1 - CALLERS : -1], function)] += count
        elif function in stack:
            at = stack.index(function)
            paths[(function, *stack[at + 1 : at + 1 + CALLERS])] += count
    return paths


def _per_run(
    release: Release, function: str, metric: Metric, scale: Sequence[float], per_sample: float
) -> dict[Stack, float]:
    """Mean over runs of each path's normalised time."""
    totals: dict[Stack, float] = defaultdict(float)
    runs = len(release.profiles)
    for profile, factor in zip(release.profiles, scale, strict=True):
        for path, count in _paths_of(profile, function, metric).items():
            totals[path] += count * per_sample / factor / runs
    return totals


def blame(
    base: Release,
    head: Release,
    function: str,
    *,
    metric: Metric = Metric.SELF,
    base_scale: Sequence[float] | None = None,
    head_scale: Sequence[float] | None = None,
    base_per_sample: float = 1.0,
    head_per_sample: float = 1.0,
) -> pd.DataFrame:
    """``function``'s change split by call path; see the module docstring.

    ``*_scale`` are the comparison's per-run scale factors (``scale_factors_base`` /
    ``scale_factors_head`` of its attrs; 1 when None), ``*_per_sample`` the seconds per
    sample of each release (1 to work in samples).
    """
    before = _per_run(
        base, function, metric, base_scale or [1.0] * len(base.profiles), base_per_sample
    )
    after = _per_run(
        head, function, metric, head_scale or [1.0] * len(head.profiles), head_per_sample
    )
    paths = sorted(set(before) | set(after))
    frame = pd.DataFrame(
        {
            "path": paths,
            "base_s": [before.get(path, 0.0) for path in paths],
            "head_s": [after.get(path, 0.0) for path in paths],
        },
        columns=list(BLAME_COLUMNS[:3]),
    )
    frame["impact_s"] = frame["head_s"] - frame["base_s"]
    frame["status"] = np.select(
        [frame["base_s"] == 0, frame["head_s"] == 0], ["new path", "gone"], "changed"
    )
    direction = 1.0 if frame["impact_s"].sum() >= 0 else -1.0
    order = (direction * frame["impact_s"]).sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def short_name(function: str) -> str:
    """A function's name without its file: paths read as code, not as file lists."""
    name, sep, _ = function.rpartition(" (")
    return name if sep and function.endswith(")") else function


def blame_text(paths: pd.DataFrame, unit: str = "s") -> str | None:
    """One line naming the path that carries most of the change, or None when none does.

    Reads like ``+0.19 s per run via parse -> _tokenize -> Version.__init__ (new path),
    84% of the change``.
    """
    if paths.empty:
        return None
    change = float(paths["impact_s"].sum())
    top = paths.iloc[0]
    impact = float(top["impact_s"])
    if change == 0.0 or impact == 0.0 or (impact > 0) != (change > 0):
        return None
    route = " -> ".join(short_name(name) for name in top["path"])
    status = top["status"]
    detail = " (new path)" if status == "new path" else ""
    if status == "changed" and top["base_s"] > 0:
        detail = f" ({100.0 * impact / float(top['base_s']):+.0f}% on that path)"
    shown = f"{impact:+.3g} {'s' if unit == 's' else 'samples'} per run via {route}{detail}"
    if len(paths) > 1:
        shown += f", {min(100.0, 100.0 * impact / change):.0f}% of the change"
    return shown
