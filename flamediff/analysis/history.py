"""The history of the whole load and of chosen functions across releases.

:func:`history` answers "in which release did this function climb?": for every release and
every chosen function, the median, minimum and maximum over the release's runs of the
function's time per run. Its frame has one row per (series, release), the whole load's series
first, then the functions, each in release order. Columns:

``series`` (str)
    :data:`LOAD_ROW` for the whole load, else the function's identity.
``pattern`` (str)
    the argument that chose the function (the first one matching it); :data:`LOAD_ROW` for
    the whole load.
``release`` (str), ``position`` (int)
    the release's name, and its 0-based index in the sequence given (capture order).
``runs`` (int), ``runs_seen`` (int)
    the release's number of runs, and how many of them hold at least one sample of the
    function (0: the function did not exist, or never ran, in that release).
``median_s``, ``min_s``, ``max_s`` (float)
    over the release's runs, of the function's self (or total, see ``metric``) time per run,
    in seconds (in samples when a release's sampling rate is unknown, see ``attrs["unit"]``).
    A run without the function counts as 0. The whole load holds all samples of the run.
``share`` (float)
    median over runs of the function's samples over the run's samples; 1.0 for the load.
``change_pct`` (float)
    change of ``median_s`` from the previous release, in percent; NaN for the first release
    and where the previous median is 0.
``beyond_runs`` (bool)
    every run of this release is slower than every run of the previous one (``min_s`` above
    the previous ``max_s``), or every run faster: a step run-to-run noise does not explain.
    Where a function climbed: the release with ``beyond_runs`` and the largest
    ``change_pct``.

Values are absolute, not normalised as :func:`flamediff.analysis.compare.compare` does: a
machine slower on the day of one capture moves every series of that release together, and
the whole-load series shows by how much. ``share`` is free of that drift.

``attrs``: ``metric`` ("self" | "total"), ``unit`` ("s" | "samples"), ``releases`` (names in
order), ``functions`` (the functions' identities in series order), ``patterns`` (the
arguments as given).
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from flamediff.analysis.compare import LOAD_ROW
from flamediff.analysis.tables import FunctionCounts, function_counts_of, seconds_per_sample
from flamediff.errors import AnalysisError
from flamediff.model import FrameName, Release
from flamediff.vocabulary import Metric

COLUMNS = (
    "series",
    "pattern",
    "release",
    "position",
    "runs",
    "runs_seen",
    "median_s",
    "min_s",
    "max_s",
    "share",
    "change_pct",
    "beyond_runs",
)

# How many near names an unmatched argument suggests.
_SUGGESTIONS = 3


def matches(function: str, pattern: str) -> bool:
    """Whether ``pattern`` chooses ``function``.

    True when the pattern is the function's identity, or a glob (fnmatch, case sensitive)
    matching either the identity (``apply_* (shop/pricing.py)``) or the bare function name
    without its file (``apply_discounts``, ``render_*``): the file is what people leave out.
    """
    if function == pattern or fnmatch.fnmatchcase(function, pattern):
        return True
    return fnmatch.fnmatchcase(FrameName.parse(function).function, pattern)


def history(
    releases: Sequence[Release], functions: Sequence[str], *, metric: Metric = Metric.SELF
) -> pd.DataFrame:
    """The whole load and the functions chosen by ``functions`` in every release, in order.

    ``releases``: normalised releases (see :mod:`flamediff.analysis.tables`), oldest first.
    ``functions``: identities or globs (see :func:`matches`); each may choose several
    functions, each one its own series. An argument that chooses no function of any release
    raises AnalysisError naming the closest functions. See the module docstring for the frame.
    """
    if metric not in ("self", "total"):
        raise AnalysisError(f"metric must be 'self' or 'total', not {metric!r}")
    if not releases:
        raise AnalysisError("no release to show the history of")
    # Counted together: releases next to each other share most of their stacks.
    counts = function_counts_of(releases)
    for release, release_counts in zip(releases, counts, strict=True):
        if release_counts.runs == 0:
            raise AnalysisError(f"release {release.name} has no runs")
    known = sorted(set().union(*(c.functions for c in counts)))
    chosen: dict[str, str] = {}
    for pattern in functions:
        found = [name for name in known if matches(name, pattern)]
        if not found:
            close = _closest(pattern, known)
            hint = f"; did you mean {', '.join(repr(name) for name in close)}?" if close else ""
            raise AnalysisError(f"no function matches {pattern!r} in any release{hint}")
        for name in found:
            chosen.setdefault(name, pattern)

    unit: Literal["s", "samples"] = (
        "s" if all(release.info.rate_hz for release in releases) else "samples"
    )
    rows: list[pd.DataFrame] = [
        _series(releases, counts, LOAD_ROW, LOAD_ROW, metric, unit),
        *(_series(releases, counts, name, chosen[name], metric, unit) for name in chosen),
    ]
    frame = pd.concat(rows, ignore_index=True)[list(COLUMNS)]
    frame.attrs.update(
        {
            "metric": metric,
            "unit": unit,
            "releases": [release.name for release in releases],
            "functions": list(chosen),
            "patterns": list(functions),
        }
    )
    return frame


def _closest(pattern: str, known: Sequence[str]) -> list[str]:
    """The identities nearest to ``pattern``, by their bare name or their whole identity."""
    by_bare = {FrameName.parse(name).function: name for name in reversed(known)}
    near = difflib.get_close_matches(pattern, [*by_bare, *known], n=_SUGGESTIONS, cutoff=0.6)
    return list(dict.fromkeys(by_bare.get(name, name) for name in near))


def _series(
    releases: Sequence[Release],
    counts: Sequence[FunctionCounts],
    function: str,
    pattern: str,
    metric: Metric,
    unit: Literal["s", "samples"],
) -> pd.DataFrame:
    """One series: a row per release of ``function`` (or of the whole load)."""
    medians, lows, highs, shares, seen = [], [], [], [], []
    for release, release_counts in zip(releases, counts, strict=True):
        run_samples = release_counts.run_samples
        if function == LOAD_ROW:
            samples = run_samples
        else:
            matrix = (
                release_counts.self_samples if metric == "self" else release_counts.total_samples
            )
            try:
                row = release_counts.functions.index(function)
            except ValueError:
                samples = np.zeros(release_counts.runs, dtype=np.int64)
            else:
                samples = matrix[row]
        # Seconds only when every release has a rate: a mix of units would not compare.
        values = samples * (seconds_per_sample(release) if unit == "s" else 1.0)
        medians.append(float(np.median(values)))
        lows.append(float(values.min()))
        highs.append(float(values.max()))
        shares.append(float(np.median(samples / np.maximum(run_samples, 1))))
        seen.append(int((samples > 0).sum()))
    changes, beyond = [math.nan], [False]
    for index in range(1, len(releases)):
        before = medians[index - 1]
        changes.append(100.0 * (medians[index] - before) / before if before > 0 else math.nan)
        beyond.append(lows[index] > highs[index - 1] or highs[index] < lows[index - 1])
    return pd.DataFrame(
        {
            "series": function,
            "pattern": pattern,
            "release": [release.name for release in releases],
            "position": np.arange(len(releases), dtype=np.int64),
            "runs": [release_counts.runs for release_counts in counts],
            "runs_seen": seen,
            "median_s": medians,
            "min_s": lows,
            "max_s": highs,
            "share": shares,
            "change_pct": changes,
            "beyond_runs": beyond,
        },
        columns=list(COLUMNS),
    )
