"""A runner that replays stored profiles instead of running anything.

It lets tests, docs and teams without ptrace permission drive the same capture code paths
(interleaving, archiving, progress) with profiles captured elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flamediff.capture.session import CapturedRun
from flamediff.errors import CaptureError
from flamediff.model import RunInfo


class ReplayRunner:
    """Returns the profiles of ``paths`` one per call, cycling when they run out."""

    def __init__(self, label: str, paths: Sequence[Path], rate_hz: float | None = None) -> None:
        if not paths:
            raise CaptureError(f"{label}: nothing to replay")
        self.label = label
        self.paths = list(paths)
        self.rate_hz = rate_hz
        self._next = 0

    def run(self) -> CapturedRun:
        from flamediff.formats import read_profiles

        path = self.paths[self._next % len(self.paths)]
        self._next += 1
        profile = read_profiles(path)[0][1]
        wall = profile.total / self.rate_hz if self.rate_hz else None
        return CapturedRun(profile, RunInfo(profile.total, wall, 0))
