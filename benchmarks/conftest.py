"""Inputs of the benchmarks: generated once per machine, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import data
from flamediff.model import Profile, Release
from flamediff.processors import normalise


@pytest.fixture(scope="session")
def pair_paths() -> tuple[Path, Path]:
    return data.pair()


@pytest.fixture(scope="session")
def pair_profiles(pair_paths: tuple[Path, Path]) -> tuple[Profile, Profile]:
    base, head = pair_paths
    return data.read_one(base), data.read_one(head)


@pytest.fixture(scope="session")
def pair_normalised(pair_profiles: tuple[Profile, Profile]) -> tuple[Profile, Profile]:
    base, head = pair_profiles
    return normalise(base), normalise(head)


@pytest.fixture(scope="session")
def releases() -> tuple[Release, Release]:
    """Base and head of 8 runs each, normalised as the CLI reads them for analysis."""
    files = data.release_files()
    return (
        data.as_release("base", [normalise(data.read_one(p)) for p in files["base"]]),
        data.as_release("head", [normalise(data.read_one(p)) for p in files["head"]]),
    )
