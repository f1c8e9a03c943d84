"""Aggregate: normalise stacks, then count self and total samples per function and run."""

from __future__ import annotations

from flamediff.analysis.tables import function_counts
from flamediff.model import Profile, Release
from flamediff.processors import normalise


def test_normalise(benchmark, pair_profiles: tuple[Profile, Profile]) -> None:
    normalised = benchmark(normalise, pair_profiles[0])
    assert normalised.total == pair_profiles[0].total


def test_function_counts(benchmark, releases: tuple[Release, Release]) -> None:
    counts = benchmark(function_counts, releases[0])
    assert counts.runs == len(releases[0].profiles)
