"""Fixtures every test shares: stable terminal width and a headless matplotlib."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis's per-example deadline is a timing assertion; on a busy shared machine a first
# example that imports or compiles something overruns it with nothing wrong.
settings.register_profile("flamediff", deadline=None)
settings.load_profile("flamediff")

# Tests import small builders from tests/builders.py as `builders`.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _stable_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FLAMEDIFF_ARCHIVE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    # Config discovery walks up from the working directory; keep the repo's own
    # pyproject.toml out of every test unless it chdirs on purpose.
    monkeypatch.chdir(tmp_path)
    os.environ.pop("FORCE_COLOR", None)
