"""The in-memory model of sampled profiles and releases. No I/O, no pandas.

A *stack* is a tuple of frame names, root first, exactly as the profiler wrote them
(py-spy: ``func (pkg/module.py:123)``). A *profile* is a multiset of stacks: each distinct
stack mapped to the number of samples that saw it. A *release* is a name, its metadata and
the profiles of its runs (one profile per run of the load).

Empty stacks are legal: py-spy writes them for samples that caught no Python frame (``--idle``
and some native-only moments). They are kept here as the empty tuple so totals stay equal to
the number of samples taken; processors decide what analysis sees of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

Stack = tuple[str, ...]

# `func (path/file.py:123)` -> groups: function, file, line. Frames of other shapes (native,
# thread and process roots, hand-written folded files) simply do not match.
_PY_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True, slots=True)
class FrameName:
    """A frame name split into its parts; ``file`` and ``line`` are None where absent."""

    function: str
    file: str | None
    line: int | None

    @classmethod
    def parse(cls, name: str) -> FrameName:
        match = _PY_FRAME.match(name)
        if match is None:
            return cls(name, None, None)
        line = match["line"]
        return cls(match["func"], match["file"], int(line) if line else None)

    def without_line(self) -> str:
        """The frame's identity across releases: ``func (file)``, line numbers dropped."""
        return self.function if self.file is None else f"{self.function} ({self.file})"


@dataclass(frozen=True, slots=True)
class Profile:
    """A multiset of stacks. Counts are positive integers; stacks are root first."""

    counts: Mapping[Stack, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", MappingProxyType(dict(self.counts)))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[Stack, int]]) -> Profile:
        """Build a profile from (stack, count) pairs, adding counts of repeated stacks."""
        counts: dict[Stack, int] = {}
        for stack, count in pairs:
            if count:
                counts[stack] = counts.get(stack, 0) + count
        return cls(counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __len__(self) -> int:
        return len(self.counts)

    def __iter__(self) -> Iterator[tuple[Stack, int]]:
        return iter(self.counts.items())

    def map_stacks(self, transform: Callable[[Stack], Stack]) -> Profile:
        """Apply ``transform`` to every stack, merging stacks that become equal."""
        return Profile.from_pairs((transform(stack), count) for stack, count in self)


def merge(profiles: Iterable[Profile]) -> Profile:
    """The sum of several profiles (the runs of a release seen as one)."""
    return Profile.from_pairs(pair for profile in profiles for pair in profile)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What is known of one run of the load besides its stacks."""

    samples: int
    wall_seconds: float | None = None
    exit_status: int | None = None


@dataclass(frozen=True, slots=True)
class Justification:
    """A written reason for accepting a release the gate blocked."""

    base: str
    reason: str
    accepted_at: str


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """The metadata of a release, as stored in its ``release.json``."""

    name: str
    created: str
    rate_hz: float | None = None
    command: tuple[str, ...] | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    python_version: str | None = None
    py_spy_version: str | None = None
    host: str | None = None
    source: str = "capture"
    runs: tuple[RunInfo, ...] = ()
    justifications: tuple[Justification, ...] = ()

    @property
    def total_samples(self) -> int:
        return sum(run.samples for run in self.runs)


@dataclass(frozen=True, slots=True)
class Release:
    """A release with the profiles of its runs, in run order."""

    info: ReleaseInfo
    profiles: tuple[Profile, ...]

    @property
    def name(self) -> str:
        return self.info.name
