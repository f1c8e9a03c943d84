"""The generated inputs every benchmark, the self-profile load and the anchors share.

Files are generated once into ``benchmarks/.data/`` (gitignored) and reused: their names carry
the seed and sizes, and the generator is deterministic, so a file that exists is the right one.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.generate import write_pair, write_releases
from flamediff.formats import read_profiles
from flamediff.model import Profile, Release, ReleaseInfo, RunInfo

DATA = Path(__file__).resolve().parent / ".data"

# The anchors' size: 100,000 unique stacks per profile, about 150 MB of text each.
ANCHOR_STACKS = 100_000
ANCHOR_SEED = 1
# The pytest-benchmark suite runs every hot path several times: a fifth of the anchors' size
# keeps a round near a second while every cost that grows with the input still shows.
PAIR_STACKS = 20_000
PAIR_SEED = 1
# Releases as flamediff captures them: 8 runs, for the statistics.
RELEASE_RUNS = 8
RELEASE_STACKS = 20_000
BENCH_RELEASE_STACKS = 5_000
RELEASE_SEED = 2
RATE_HZ = 100.0


def pair(stacks: int = PAIR_STACKS, seed: int = PAIR_SEED) -> tuple[Path, Path]:
    """Paths of the generated base and head folded files of one run each."""
    return write_pair(DATA / f"pair-{stacks}-s{seed}", stacks, seed)


def release_files(
    runs: int = RELEASE_RUNS, stacks: int = BENCH_RELEASE_STACKS, seed: int = RELEASE_SEED
) -> dict[str, list[Path]]:
    """Paths of the generated runs of the base and head releases."""
    return write_releases(DATA / f"releases-{runs}x{stacks}-s{seed}", runs, stacks, seed)


def read_one(path: Path) -> Profile:
    return read_profiles(path)[0][1]


def as_release(name: str, profiles: list[Profile], rate_hz: float = RATE_HZ) -> Release:
    """A release of ``profiles`` as if captured at ``rate_hz``, one run each."""
    runs = tuple(RunInfo(p.total, p.total / rate_hz, 0) for p in profiles)
    info = ReleaseInfo(name=name, created="2026-01-01T00:00:00Z", rate_hz=rate_hz, runs=runs)
    return Release(info, tuple(profiles))
