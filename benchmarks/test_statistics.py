"""Statistics: the per-function comparison of two releases of 8 runs, tested and corrected."""

from __future__ import annotations

from flamediff.analysis.compare import CompareOptions, compare
from flamediff.model import Release


def test_compare_with_statistics(benchmark, releases: tuple[Release, Release]) -> None:
    comparison = benchmark(compare, *releases, CompareOptions())
    assert comparison["tested"].any()
