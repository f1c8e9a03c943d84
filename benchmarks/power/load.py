"""A real load with knob functions whose share of the time and whose work per call are set.

Run as ``python benchmarks/power/load.py --units N [--regress knob_4=0.20]``. The load does a
fixed amount of work (not a fixed duration), so a function that does more work per call takes
more samples, exactly as a regression in a user's load would. All the work is the same
arithmetic loop, so a function's share of the load is its share of the loop iterations:

- three *knob* functions holding 2%, 4% and 8% of the iterations (``knob_2``, ``knob_4``,
  ``knob_8``); ``--regress knob_4=0.20`` gives ``knob_4`` 20% more iterations per call;
- twelve background functions sharing the other 86%, each 0.75 of the previous one (22% down
  to 0.9%), as a real profile has a few hot functions and a tail.

The functions are called in :data:`ROUNDS` rounds, each doing its share a little at a time,
so a stretch of the run in which the machine is busy hits every function, not one. Each
function is its own code object (compiled from one template under its own name), so py-spy
attributes each one's samples to itself. ``--calibrate`` prints loop iterations per CPU
second instead, to choose ``--units`` for a load of a given length.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

KNOB_SHARES = {"knob_2": 0.02, "knob_4": 0.04, "knob_8": 0.08}
BACKGROUND = 12
DECAY = 0.75
ROUNDS = 200

_TEMPLATE = """
def {name}(count):
    total = 0
    for index in range(count):
        total += index * index % 7
    return total
"""


def shares() -> dict[str, float]:
    """Each function's share of the load's iterations: the knobs', then the background's."""
    weights = [DECAY**index for index in range(BACKGROUND)]
    rest = 1.0 - sum(KNOB_SHARES.values())
    background = {
        f"work_{index:02d}": rest * weight / sum(weights) for index, weight in enumerate(weights)
    }
    return {**KNOB_SHARES, **background}


def _functions(names: Sequence[str]) -> dict[str, Callable[[int], int]]:
    namespace: dict[str, Callable[[int], int]] = {}
    for name in names:
        exec(compile(_TEMPLATE.format(name=name), __file__, "exec"), namespace)
    return {name: namespace[name] for name in names}


def run(units: int, regress: dict[str, float]) -> int:
    """Do ``units`` loop iterations in all (plus the regressions' extra), split by share."""
    share_of = shares()
    functions = _functions(list(share_of))
    per_round = {
        name: round(units * share * (1.0 + regress.get(name, 0.0)) / ROUNDS)
        for name, share in share_of.items()
    }
    checksum = 0
    for _ in range(ROUNDS):
        for name, function in functions.items():
            checksum ^= function(per_round[name])
    return checksum


def calibrate() -> float:
    """Loop iterations per CPU second on this machine, now."""
    function = _functions(["calibration"])["calibration"]
    count = 200_000
    while True:
        started = time.process_time()
        function(count)
        spent = time.process_time() - started
        if spent > 0.2:
            return count / spent
        count *= 2


def _regression(text: str) -> tuple[str, float]:
    name, _, amount = text.partition("=")
    if name not in KNOB_SHARES or not amount:
        raise argparse.ArgumentTypeError(f"expected KNOB=FRACTION with KNOB in {list(KNOB_SHARES)}")
    return name, float(amount)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=20_000_000, help="loop iterations in all")
    parser.add_argument(
        "--regress", type=_regression, action="append", default=[], help="e.g. knob_4=0.20"
    )
    parser.add_argument("--calibrate", action="store_true", help="print iterations per second")
    arguments = parser.parse_args(argv)
    if arguments.calibrate:
        print(f"{calibrate():.0f}")
        return 0
    print(f"checksum {run(arguments.units, dict(arguments.regress)):x}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
