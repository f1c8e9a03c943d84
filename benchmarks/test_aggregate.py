"""Aggregate: normalise stacks, put them in columns, count self and total samples per function."""

from __future__ import annotations

from flamediff.analysis.tables import function_counts
from flamediff.model import Profile, Release, merge
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


def test_merge_runs(benchmark, releases: tuple[Release, Release]) -> None:
    """A release's runs summed into one profile, as its flame graph draws them."""
    profiles = releases[1].profiles
    for profile in profiles:
        assert profile.table is not None  # in columns, as runs read from the archive are
    merged = benchmark(merge, profiles)
    assert merged.total == sum(profile.total for profile in profiles)
