"""Builders for analysis tests: releases from folded-like lines."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from flamediff.model import Profile, Release, ReleaseInfo, RunInfo


def profile(*lines: str) -> Profile:
    """``profile("main;a 3", " 2")``: stacks root first, count last; " 2" is an empty stack."""
    pairs = []
    for line in lines:
        stack, _, count = line.rpartition(" ")
        pairs.append((tuple(stack.split(";")) if stack else (), int(count)))
    return Profile.from_pairs(pairs)


def release(name: str, runs: Sequence[Sequence[str]], rate_hz: float | None = 100.0) -> Release:
    profiles = tuple(profile(*lines) for lines in runs)
    info = ReleaseInfo(
        name=name,
        created="2026-01-01T00:00:00Z",
        rate_hz=rate_hz,
        runs=tuple(RunInfo(p.total, p.total / rate_hz if rate_hz else None) for p in profiles),
    )
    return Release(info, profiles)


@pytest.fixture
def make_release() -> Callable[..., Release]:
    return release


@pytest.fixture
def make_profile() -> Callable[..., Profile]:
    return profile
