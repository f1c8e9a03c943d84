"""A calibration probe: how fast this machine runs Python right now.

A fixed workload of interpreter-bound work (the kind a Python load does: dictionary and
string operations, calls, loops) is timed in flamediff's own process just before and just
after every run of the load. Its time is thread CPU time, so a process that waits for a CPU
on a busy machine does not inflate it (the load's own CPU time accounts for that); what moves
it is the speed of a CPU while it runs: frequency scaling, a sibling hyperthread or another
process competing for the caches. Between two captures made apart, the ratio of their probe
times is the machine's change of speed, measured instead of guessed from the profiles.

The probe runs on flamediff's interpreter, not the load's, so that a load moving to a faster
Python is a change of the load the comparison shows, not a change of machine it removes.
"""

from __future__ import annotations

import statistics
import time

# Rounds of the workload per probe; the median is kept, so one interrupted round is ignored.
PROBE_ROUNDS = 5
# Iterations of one round: about 5 ms on a 2020s x86 core, so a probe before and after each
# run costs about 50 ms, against runs of seconds.
ROUND_ITERATIONS = 8_000


def _workload(iterations: int) -> int:
    table: dict[str, int] = {}
    checksum = 0
    for index in range(iterations):
        key = f"k{index % 97}:{index % 13}"
        table[key] = table.get(key, 0) + index
        checksum ^= len(key) + (table[key] & 0xFFFF)
        words = key.split(":")
        checksum += sum(len(word) for word in words)
    return checksum


def probe_seconds(rounds: int = PROBE_ROUNDS, iterations: int = ROUND_ITERATIONS) -> float:
    """The median thread CPU time of ``rounds`` rounds of the fixed workload, in seconds."""
    times = []
    for _ in range(rounds):
        started = time.thread_time()
        _workload(iterations)
        times.append(time.thread_time() - started)
    return statistics.median(times)
