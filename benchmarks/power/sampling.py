"""How much each py-spy sampling mode tells about a function on a busy machine.

A function's sample count varies from run to run by more than Poisson's when the sampler
records the load while it waits for a CPU: py-spy samples the wall clock, and a preempted
thread is still "running" to it, so one stack is recorded again and again. What a run tells
about a function is then its *effective* samples: samples over that dispersion. This script
measures both for several modes of py-spy on the power lab's base load (2 CPU seconds by
default), with one CPU hog running, the modes taken in turn so that drift hits all alike:

- the rate (500, 2,000 Hz), blocking (py-spy pauses the load for each sample, its default)
  or ``--nonblocking``;
- ``priority``: the load and py-spy at nice -20 (needs root or CAP_SYS_NICE), so that other
  processes on the machine preempt them less.

Run as ``python -m benchmarks.power.sampling [--runs N] [--units N]`` (``make power-sampling``).
Prints a Markdown table and writes ``benchmarks/power/sampling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.power.lab import HERE, calibrated_units, cpu_hog
from flamediff.capture.pyspy import find_py_spy

RESULTS = HERE / "sampling.json"
PRIORITY = -20


@dataclass(frozen=True, slots=True)
class Mode:
    """One way to run py-spy: its rate, whether it pauses the load, and at which priority."""

    rate_hz: int
    blocking: bool = True
    priority: bool = False

    @property
    def name(self) -> str:
        words = [f"{self.rate_hz} Hz", "blocking" if self.blocking else "non-blocking"]
        return ", ".join(words + (["nice -20"] if self.priority else []))


MODES = (
    Mode(500),
    Mode(500, blocking=False),
    Mode(2000),
    Mode(2000, blocking=False),
    Mode(500, priority=True),
    Mode(2000, blocking=False, priority=True),
)


def _raise_priority() -> None:
    os.setpriority(os.PRIO_PROCESS, 0, PRIORITY)


def run_once(mode: Mode, units: int, py_spy: str) -> tuple[Counter[str], float, float]:
    """One run of the base load under ``mode``: self samples by function, wall and CPU time."""
    before = None if not mode.priority else _raise_priority
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "profile.folded"
        started = time.perf_counter()
        load = subprocess.Popen(
            [sys.executable, str(HERE / "load.py"), "--units", str(units)],
            stdout=subprocess.DEVNULL, preexec_fn=before,
        )  # fmt: skip
        args = [py_spy, "record", "--pid", str(load.pid), "--rate", str(mode.rate_hz)]
        args += ["--format", "raw", "--output", str(output)]
        if not mode.blocking:
            args.append("--nonblocking")
        spy = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=before
        )
        _, status, usage = os.wait4(load.pid, 0)
        load.returncode = os.waitstatus_to_exitcode(status)
        spy.wait()
        wall = time.perf_counter() - started
        counts: Counter[str] = Counter()
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            counts[stack.rsplit(";", 1)[-1].split(" ")[0]] += int(count)
    return counts, wall, usage.ru_utime + usage.ru_stime


def dispersion(runs: Sequence[Counter[str]]) -> tuple[float, dict[str, float]]:
    """The median over the load's functions of their count variance in multiples of
    Poisson's, each run's total samples as its exposure; and each function's."""
    names = sorted({name for run in runs for name in run if name.startswith(("knob", "work"))})
    counts = np.array([[run.get(name, 0) for run in runs] for name in names], dtype=float)
    totals = np.array([sum(run.values()) for run in runs], dtype=float)
    expected = np.outer(counts.sum(axis=1) / totals.sum(), totals)
    pearson = ((counts - expected) ** 2 / expected).sum(axis=1) / (len(runs) - 1)
    return float(np.median(pearson)), dict(zip(names, pearson.round(2).tolist(), strict=True))


def measure(runs: int, units: int) -> list[dict[str, Any]]:
    py_spy = find_py_spy()
    modes = [m for m in MODES if not m.priority or os.geteuid() == 0]
    taken: dict[Mode, list[tuple[Counter[str], float, float]]] = {m: [] for m in modes}
    with cpu_hog():
        for _ in range(runs):
            for mode in modes:
                taken[mode].append(run_once(mode, units, py_spy))
    rows = []
    for mode in modes:
        counts = [run for run, _, _ in taken[mode]]
        median_dispersion, each = dispersion(counts)
        samples = float(np.median([sum(run.values()) for run in counts]))
        rows.append(
            {
                "mode": mode.name,
                "runs": runs,
                "samples_per_run": samples,
                "dispersion": median_dispersion,
                "effective_samples_per_run": samples / max(median_dispersion, 1.0),
                "knob_4_dispersion": each.get("knob_4"),
                "wall_seconds": float(np.median([wall for _, wall, _ in taken[mode]])),
                "cpu_seconds": float(np.median([cpu for _, _, cpu in taken[mode]])),
            }
        )
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| py-spy mode | samples a run | dispersion (x Poisson) | effective samples a run "
        "| load wall / CPU s |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['mode']} | {r['samples_per_run']:,.0f} | {r['dispersion']:.1f} | "
        f"{r['effective_samples_per_run']:,.0f} | "
        f"{r['wall_seconds']:.2f} / {r['cpu_seconds']:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=16, help="runs of each mode")
    parser.add_argument("--units", type=int, default=None, help="loop iterations per run")
    parser.add_argument("--results", type=Path, default=RESULTS)
    arguments = parser.parse_args(argv)
    units = arguments.units or calibrated_units()
    rows = measure(arguments.runs, units)
    document = {"units": units, "cores": os.cpu_count(), "hog": "one process", "modes": rows}
    arguments.results.write_text(json.dumps(document, indent=2) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
