"""The machine's own speed: a fixed workload that no change to flamediff can make faster.

``benchmarks.compare`` divides every benchmark's change by this one's, so that a day on which
the machine runs 20% slower does not read as a 20% regression. The median of all benchmarks'
ratios does the same only while most benchmarks are unchanged: after a change that speeds up
half of them, it would call the other half slower.

The workload is the kind of work flamediff does, in the same proportions, but written here
and frozen: splitting folded lines and counting frames in dicts (the interpreter), then
sorting and counting integer arrays (NumPy). Never change it: its history is the reference.
"""

from __future__ import annotations

import random
import string
import zlib

import numpy as np

REFERENCE = "test_machine_reference"


def reference_work() -> int:
    rng = random.Random(20261127)
    words = ["".join(rng.choices(string.ascii_lowercase, k=12)) for _ in range(2_000)]
    lines = [";".join(rng.choices(words, k=30)) + f" {rng.randint(1, 99)}" for _ in range(4_000)]
    counts: dict[str, int] = {}
    for line in lines:
        stack, _, count = line.rpartition(" ")
        for frame in stack.split(";"):
            counts[frame] = counts.get(frame, 0) + int(count)
    ids = np.array([zlib.crc32(word.encode()) % 4_096 for word in words * 200], dtype=np.int64)
    ids.sort()
    return len(counts) + int(np.bincount(ids).max())


def test_machine_reference(benchmark) -> None:
    assert benchmark(reference_work) > 0
