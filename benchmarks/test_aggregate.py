"""Aggregate: normalise stacks, put them in columns, count self and total samples per function."""

from __future__ import annotations

from flamediff.analysis.tables import function_counts
from flamediff.model import Profile, Release
from flamediff.processors import normalise
from flamediff.stacks import StackTable


def test_normalise(benchmark, pair_profiles: tuple[Profile, Profile]) -> None:
    normalised = benchmark(normalise, pair_profiles[0])
    assert normalised.total == pair_profiles[0].total


def test_stack_table(benchmark, pair_normalised: tuple[Profile, Profile]) -> None:
    """What writing a run pays to cache it in columns."""
    table = benchmark(StackTable.from_counts, pair_normalised[0].counts)
    assert table.total == pair_normalised[0].total


def test_function_counts(benchmark, releases: tuple[Release, Release]) -> None:
    counts = benchmark(function_counts, releases[0])
    assert counts.runs == len(releases[0].profiles)
