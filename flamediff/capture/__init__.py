"""Running the load: real py-spy captures, and a replay of stored files for tests.

A runner produces one run per call; ``capture_runs`` and ``capture_interleaved`` drive runners
through warm-up and counted runs and report progress through a callback, so the CLI decides
how progress looks (a rich bar on a terminal, one line per run in a pipeline log).
"""

from flamediff.capture.session import (
    CapturedRun,
    Progress,
    Runner,
    capture_interleaved,
    capture_runs,
    interleaved_order,
)

__all__ = [
    "CapturedRun",
    "Progress",
    "Runner",
    "capture_interleaved",
    "capture_runs",
    "interleaved_order",
]
