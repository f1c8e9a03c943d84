"""A whole-load block or warning says which functions carry the change."""

import numpy as np
from builders import profile, release

from flamediff.analysis.compare import CompareOptions, compare
from flamediff.pipeline.judge import load_blame


def runs(lines, seed):
    rng = np.random.default_rng(seed)
    return [
        profile(
            *(
                f"{stack} {rng.poisson(int(weight))}"
                for stack, _, weight in (line.rpartition(" ") for line in lines)
            )
        )
        for _ in range(8)
    ]


def test_the_load_s_change_is_named_by_the_functions_that_carry_it() -> None:
    base = release("v1", runs(["main;encode 400", "main;check 300"], seed=1))
    head = release("v2", runs(["main;encode 400", "main;check 330", "main;check;scan 500"], 2))
    comparison = compare(base, head, CompareOptions(normalisation="absolute"))
    text = load_blame(comparison, "s")
    assert text is not None
    assert text.startswith("most of it in scan +")
    assert "(not sampled in the base)" in text
    assert "encode" not in text.split(", ")[0]


def test_nothing_to_name_when_the_load_did_not_move() -> None:
    base = release("v1", runs(["main;encode 400"], seed=3))
    comparison = compare(base, base, CompareOptions(normalisation="absolute"))
    assert load_blame(comparison, "s") is None
