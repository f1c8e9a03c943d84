"""A runner that replays stored profiles instead of running anything.

It lets tests, docs and teams without ptrace permission drive the same capture code paths
(interleaving, archiving, progress) with profiles captured elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from flamediff.capture.runners import CaptureSettings, RunnerFactory
from flamediff.capture.session import CapturedRun, Runner
from flamediff.errors import CaptureError
from flamediff.model import ProfilerInfo, RunInfo


class ReplayRunner:
    """Returns the profiles of ``paths`` one per call, cycling when they run out.

    ``command`` is what the replayed runs stand for (recorded as the release's command).
    """

    def __init__(
        self,
        label: str,
        paths: Sequence[Path],
        rate_hz: float | None = None,
        command: Sequence[str] = (),
    ) -> None:
        if not paths:
            raise CaptureError(f"{label}: nothing to replay")
        self.label = label
        self.paths = list(paths)
        self.rate_hz = rate_hz
        self.command = tuple(command)
        self._next = 0

    @classmethod
    def factory(cls, paths_of: Callable[[Sequence[str]], Sequence[Path]]) -> RunnerFactory:
        """A runner factory (see :mod:`flamediff.capture.runners`) replaying ``paths_of(cmd)``."""

        def build(
            command: Sequence[str], label: str, settings: CaptureSettings, cwd: Path | None
        ) -> Runner:
            return cls(label, paths_of(command), settings.rate_hz, command)

        return build

    def describe(self) -> ProfilerInfo:
        return ProfilerInfo("replay", None, (("files", str(len(self.paths))),))

    def run(self) -> CapturedRun:
        from flamediff.formats import read_profiles

        path = self.paths[self._next % len(self.paths)]
        self._next += 1
        profile = read_profiles(path)[0][1]
        wall = profile.total / self.rate_hz if self.rate_hz else None
        return CapturedRun(profile, RunInfo(profile.total, wall, 0))
