"""Fixtures the report renderers' tests share: a comparison with one regression, its gate."""

from datetime import date

import pytest
from comparisons import TODAY, release, runs

from flamediff.analysis.compare import compare
from flamediff.gate import GatePolicy, Waiver, evaluate


@pytest.fixture(scope="module")
def comparison():
    base = release("v1", runs(1000, 1))
    head = release("v2", runs(1500, 2))
    return compare(base, head)


@pytest.fixture(scope="module")
def result(comparison):
    waiver = Waiver("nothing*", 0.5, "old", date(2026, 1, 1))
    return evaluate(comparison, GatePolicy(today=TODAY, waivers=(waiver,)), justification="ok")
