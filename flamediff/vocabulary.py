"""The words flamediff's options and outputs are made of, each declared once, and the defaults.

The library takes these enums, the CLI offers their values as choices, and the config file
is checked against them. They are ``StrEnum``s, so each member equals its text
(``Metric.SELF == "self"``) and reads back from JSON or TOML unchanged. This module imports
nothing heavy: the CLI reads it at start-up.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Metric(StrEnum):
    """Which time of a function is compared, tested and gated."""

    SELF = "self"  # its own code: a regression lands on the function that changed
    TOTAL = "total"  # inclusive: it and everything it called, so callers move too


class Normalisation(StrEnum):
    """How each run's times are scaled before runs are compared (see analysis.compare)."""

    AUTO = "auto"  # measured where every run was measured, median-ratio otherwise, said so
    MEASURED = "measured"  # the load's CPU time and a calibration probe, per run
    MEDIAN_RATIO = "median-ratio"
    SHARE = "share"
    ABSOLUTE = "absolute"


class SortKey(StrEnum):
    """The order of the function rows of a comparison."""

    IMPACT = "impact"
    DELTA = "delta"
    SHARE = "share"
    Q = "q"
    NAME = "name"


class TableFormat(StrEnum):
    """The formats of the tables of `list`, `show` and `history`."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


# ---- defaults: the one place each is set -----------------------------------------------

RUNS: Final = 8
# `compare` and `release` capture up to this many times `runs` a side where the first look
# leaves a hot function undecided (flamediff.pipeline.adaptive): a clear case costs nothing
# more, an unclear one at most this factor.
MAX_RUNS_FACTOR: Final = 2
WARMUP: Final = 1
# 500 Hz rather than py-spy's 100 Hz: five times the samples per run shrink every
# function's sampling noise by sqrt(5) ~ 2.2x, for about 5% slowdown of the load (measured on
# the sample load: 1.00 s plain, 1.05 s at 500 Hz, 1.16 s at 1000 Hz).
RATE_HZ: Final = 500.0
PROFILER: Final = "py-spy"
BLOCK: Final = 0.10
WARN: Final = 0.03
ALPHA: Final = 0.05
MIN_SHARE: Final = 0.01
METRIC: Final = Metric.SELF
NORMALISATION: Final = Normalisation.AUTO
SORT: Final = SortKey.IMPACT
# Fewer runs per release than this cannot be tested: at 4 vs 4 the smallest exact p-value is
# 0.0286; below that none reaches 0.05.
MIN_RUNS: Final = 4
# Frames narrower than this percent of the graph are not drawn: at most 1,000 a level.
MIN_WIDTH_PCT: Final = 0.1
# Function rows in the reports people read (terminal, Markdown, HTML); JSON and CSV keep all.
REPORT_ROWS: Final = 20
