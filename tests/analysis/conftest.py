"""Builders for analysis tests: releases from folded-like lines."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import builders
import pytest
from builders import profile

from flamediff.model import Profile, Release


def release(name: str, runs: Sequence[Sequence[str]], rate_hz: float | None = 100.0) -> Release:
    """A release whose runs are given as folded lines, one sequence per run."""
    return builders.release(name, [profile(*lines) for lines in runs], rate_hz)


@pytest.fixture
def make_release() -> Callable[..., Release]:
    return release


@pytest.fixture
def make_profile() -> Callable[..., Profile]:
    return profile
