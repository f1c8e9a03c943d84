"""`make bench`'s gate: the machine's drift is divided out by a reference, not by the changes."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.compare import compare
from benchmarks.test_machine import REFERENCE

ROUNDS = 12


def rounds(seconds: float, seed: int) -> list[float]:
    """Rounds of a benchmark taking ``seconds``, with 2% of noise."""
    rng = np.random.default_rng(seed)
    return list(seconds * (1 + 0.02 * rng.standard_normal(ROUNDS)))


def run(times: dict[str, float], seed: int) -> dict[str, list[float]]:
    return {
        name: rounds(seconds, seed + index) for index, (name, seconds) in enumerate(times.items())
    }


NAMES = [f"test_step_{index}" for index in range(8)]


def verdicts(before: dict[str, float], after: dict[str, float]) -> dict[str, tuple[float, bool]]:
    rows, _ = compare(run(before, 1), run(after, 100))
    return {row.name: (row.delta_pct, row.blocks) for row in rows}


def test_a_slower_machine_slows_everything_and_blocks_nothing() -> None:
    before = {REFERENCE: 0.1, **dict.fromkeys(NAMES, 0.05)}
    after = {name: seconds * 1.3 for name, seconds in before.items()}
    found = verdicts(before, after)
    assert REFERENCE.removeprefix("test_") not in found
    assert all(abs(delta) < 5 and not blocks for delta, blocks in found.values())


def test_speeding_up_most_steps_does_not_make_the_others_look_slower() -> None:
    before = {REFERENCE: 0.1, **dict.fromkeys(NAMES, 0.05)}
    after = {**before, **dict.fromkeys(NAMES[:5], 0.025)}
    found = verdicts(before, after)
    unchanged = [found[name.removeprefix("test_")] for name in NAMES[5:]]
    assert all(abs(delta) < 5 and not blocks for delta, blocks in unchanged)
    # Without the reference, the median of the ratios calls them twice as slow.
    without = {name: seconds for name, seconds in before.items() if name != REFERENCE}
    rows, factor = compare(run(without, 1), run({n: after[n] for n in without}, 100))
    assert factor == pytest.approx(0.5, rel=0.05)
    assert all(row.blocks for row in rows if row.name in {n[5:] for n in NAMES[5:]})


def test_a_real_regression_blocks_on_a_slower_machine() -> None:
    before = {REFERENCE: 0.1, **dict.fromkeys(NAMES, 0.05)}
    after = {name: seconds * 1.2 for name, seconds in before.items()}
    after[NAMES[0]] = 0.05 * 1.2 * 1.3
    found = verdicts(before, after)
    assert found[NAMES[0].removeprefix("test_")][1]
    assert found[NAMES[0].removeprefix("test_")][0] == pytest.approx(30, abs=3)
    assert not any(blocks for name, (_, blocks) in found.items() if name != "step_0")
