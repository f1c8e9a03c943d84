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

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flamediff.stacks import StackTable

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


class Profile:
    """A multiset of stacks. Counts are non-negative integers; stacks are root first.

    Immutable. A profile holds its stacks as a ``{stack: count}`` mapping, as a
    :class:`flamediff.stacks.StackTable` (columns of integer frame ids), or both: each form is
    built from the other on first use and kept. Analysis reads the table, where the work on
    every frame of every stack is done by NumPy; everything else reads ``counts``.
    """

    __slots__ = ("_counts", "_table")
    _counts: Mapping[Stack, int] | None
    _table: StackTable | None

    def __init__(self, counts: Mapping[Stack, int] | None = None) -> None:
        object.__setattr__(self, "_counts", MappingProxyType(dict(counts or {})))
        object.__setattr__(self, "_table", None)

    @classmethod
    def from_table(cls, table: StackTable) -> Profile:
        """A profile of the stacks in ``table``; the mapping is only built if asked for."""
        profile = cls.__new__(cls)
        object.__setattr__(profile, "_counts", None)
        object.__setattr__(profile, "_table", table)
        return profile

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[Stack, int]]) -> Profile:
        """Build a profile from (stack, count) pairs, adding counts of repeated stacks."""
        counts: dict[Stack, int] = {}
        for stack, count in pairs:
            if count:
                counts[stack] = counts.get(stack, 0) + count
        return cls(counts)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Profile is immutable: cannot set {name!r}")

    @property
    def counts(self) -> Mapping[Stack, int]:
        if self._counts is None:
            assert self._table is not None
            object.__setattr__(self, "_counts", MappingProxyType(self._table.to_counts()))
        assert self._counts is not None
        return self._counts

    @property
    def table(self) -> StackTable:
        """The profile in columns (see :mod:`flamediff.stacks`)."""
        if self._table is None:
            from flamediff.stacks import StackTable

            object.__setattr__(self, "_table", StackTable.from_counts(self.counts))
        assert self._table is not None
        return self._table

    @property
    def has_table(self) -> bool:
        """Whether the columns are already built, so that reading them costs nothing."""
        return self._table is not None

    @property
    def total(self) -> int:
        if self._counts is None and self._table is not None:
            return self._table.total
        return sum(self.counts.values())

    def __len__(self) -> int:
        if self._counts is None and self._table is not None:
            return len(self._table)
        return len(self.counts)

    def __iter__(self) -> Iterator[tuple[Stack, int]]:
        return iter(self.counts.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self.counts == other.counts

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Profile({dict(self.counts)!r})"

    def map_stacks(self, transform: Callable[[Stack], Stack]) -> Profile:
        """Apply ``transform`` to every stack, merging stacks that become equal."""
        return Profile.from_pairs((transform(stack), count) for stack, count in self)


def merge(profiles: Iterable[Profile]) -> Profile:
    """The sum of several profiles (the runs of a release seen as one).

    Profiles that already hold their columns (runs read from the archive) are added as
    columns: building the mapping of 100,000 stacks costs more than the whole sum.
    """
    profiles = list(profiles)
    if len(profiles) == 1:
        return profiles[0]
    if profiles and all(profile.has_table for profile in profiles):
        from flamediff.stacks import merge as merge_tables

        return Profile.from_table(merge_tables([profile.table for profile in profiles]))
    return Profile.from_pairs(pair for profile in profiles for pair in profile)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What is known of one run of the load besides its stacks.

    ``cpu_seconds`` is the CPU time (user + system) the load itself used, where the runner
    could measure it: against ``wall_seconds`` it tells how much of the run the load waited
    for a CPU on a busy machine. ``probe_seconds`` is the time of a fixed calibration
    workload timed beside the run: how fast the machine was while the run was captured.
    """

    samples: int
    wall_seconds: float | None = None
    exit_status: int | None = None
    cpu_seconds: float | None = None
    probe_seconds: float | None = None
    sha256: str | None = None  # of the archived run file (archive format 2)


@dataclass(frozen=True, slots=True)
class Justification:
    """A written reason for accepting a release the gate blocked.

    ``releases``: the fingerprints of the base and the head it was written against (see
    :meth:`ReleaseInfo.fingerprint`); it stops applying when either changes, such as a base
    re-imported with ``--force``. None for justifications recorded before fingerprints.
    """

    base: str
    reason: str
    accepted_at: str
    releases: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ProfilerInfo:
    """The profiler that captured a release, as its runner describes itself.

    ``options`` are the settings that change what the profile holds (rate, native frames,
    subprocesses), as text, so a report can say whether two releases were captured alike.
    """

    name: str
    version: str | None = None
    options: tuple[tuple[str, str], ...] = ()


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
    profiler: ProfilerInfo | None = None
    host: str | None = None
    source: str = "capture"
    runs: tuple[RunInfo, ...] = ()
    justifications: tuple[Justification, ...] = ()
    calls_sha256: str | None = None  # of the archived call counts (capture --calls)

    @property
    def total_samples(self) -> int:
        return sum(run.samples for run in self.runs)

    def fingerprint(self) -> str | None:
        """What the release's runs are: the SHA-256 of its run files' SHA-256s, in order, or
        None when they were not recorded (format 1)."""
        digests = [run.sha256 for run in self.runs]
        if not digests or any(digest is None for digest in digests):
            return None
        return hashlib.sha256(":".join(d for d in digests if d).encode("ascii")).hexdigest()


# Code as the load's interpreter named it: (qualified name, file). py-spy names the same
# code ``qualified name (file)``, with the file shortened to the end of its path.
Code = tuple[str, str]


@dataclass(frozen=True, slots=True)
class CallCounts:
    """Exact calls in one run of the load under a deterministic tracer.

    ``edges`` maps (caller, callee) to the number of calls; the caller is None for code the
    interpreter entered with no Python frame above it. Samples say where time went; these
    say how often each path ran, which no sampling noise blurs. ``processes``: the Python
    processes counted; ``wall_seconds``: how long the traced run took (the tracer's cost).
    """

    edges: Mapping[tuple[Code | None, Code], int]
    processes: int = 1
    wall_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """A release with the profiles of its runs, in run order, and its call counts when a
    traced run was made (see :class:`CallCounts`)."""

    info: ReleaseInfo
    profiles: tuple[Profile, ...]
    calls: CallCounts | None = None

    @property
    def name(self) -> str:
        return self.info.name
