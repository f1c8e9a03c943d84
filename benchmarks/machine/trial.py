"""Separate the machine from the code on real py-spy captures, each normalisation measured.

Each scenario captures a base and a head of the sample load *apart* (one after the other, as
`release` does against an archived base), one of them with CPU-bound processes running beside
it, then compares them with every normalisation and holds the result against what is known:

- ``a-a busy head``: the same load; the head captured with the hogs. Truth: nothing changed.
- ``+30% everywhere, busy head``: the head processes 30% more orders, so every per-order
  function does 30% more work and the set-up (``build_catalog``) does the same work. A
  change that touches most functions: median of ratios takes it for a slower machine.
- ``+30% everywhere, busy base``: the same, the hogs beside the base instead.

For each normalisation it prints the load's change, the median change of the per-order
functions (truth 0% or +30%), the change of the unchanged set-up function, and how many
rows were called significant against the truth. Writes ``benchmarks/machine/results.json``.

Usage::

    python -m benchmarks.machine.trial [--runs 8] [--orders 20000] [--hogs 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOAD = REPO / "sample_profiles" / "load" / "v1" / "load.py"
FLAMEDIFF = [sys.executable, "-m", "flamediff"]
NORMALISATIONS = ("measured", "median-ratio", "share", "absolute")
# Functions run once per order: they scale with the order count. build_catalog runs once.
SETUP = "build_catalog"


def _spin() -> None:
    while True:
        pass


@contextmanager
def hogs(count: int) -> Iterator[None]:
    """``count`` processes spinning on a CPU each, for as long as the block runs."""
    workers = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(count)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def flamediff(*args: str) -> str:
    result = subprocess.run(
        [*FLAMEDIFF, *args], capture_output=True, text=True, check=False, cwd=REPO
    )
    if result.returncode not in (0, 1):
        raise SystemExit(f"flamediff {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def capture(archive: Path, name: str, orders: int, runs: int, busy: int) -> None:
    command = [sys.executable, str(LOAD), str(orders)]
    with hogs(busy):
        flamediff("capture", name, "--runs", str(runs), "--archive", str(archive), "--", *command)


def judge(archive: Path, base: str, head: str, truth_pct: float) -> dict[str, dict[str, float]]:
    judged = {}
    for normalisation in NORMALISATIONS:
        options = ["--format", "json", "--normalise", normalisation, "--archive", str(archive)]
        report = json.loads(flamediff("diff", base, head, *options))
        rows = report["rows"]
        load = next(row for row in rows if row["status"] == "load")
        changed = [row for row in rows if row["status"] == "changed"]
        functions = [row for row in changed if row["tested"]]
        per_order = [
            row["delta_pct"]
            for row in functions
            if SETUP not in row["function"] and "<" not in row["function"]
        ]
        setup = [row for row in changed if row["function"].startswith(SETUP)]
        wrong = [
            row["function"]
            for row in functions
            if row["significant"]
            and (
                (SETUP in row["function"] or truth_pct == 0.0)
                or ((row["delta_pct"] or 0.0) < 0 and truth_pct > 0)
            )
        ]
        judged[normalisation] = {
            "verdict": report["gate"]["verdict"],
            "load_pct": load["delta_pct"],
            "per_order_median_pct": statistics.median(per_order) if per_order else float("nan"),
            "setup_pct": (setup[0]["delta_pct"] if setup else None) or float("nan"),
            "significant_wrong": len(wrong),
            "significant": sum(1 for row in functions if row["significant"]),
        }
    return judged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--hogs", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    args = parser.parse_args()
    more = round(args.orders * 1.3)
    scenarios = (
        ("a-a busy head", args.orders, 0, args.orders, args.hogs, 0.0),
        ("+30% everywhere, busy head", args.orders, 0, more, args.hogs, 30.0),
        ("+30% everywhere, busy base", args.orders, args.hogs, more, 0, 30.0),
    )
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for index, (title, base_orders, base_busy, head_orders, head_busy, truth) in enumerate(
            scenarios
        ):
            archive = Path(folder) / f"archive-{index}"
            capture(archive, "base", base_orders, args.runs, base_busy)
            capture(archive, "head", head_orders, args.runs, head_busy)
            results[title] = {"truth_pct": truth, **judge(archive, "base", "head", truth)}
            print(f"\n{title} (truth: per-order functions {truth:+.0f}%, {SETUP} +0%)")
            header = f"{'normalisation':14} {'load':>8} {'per-order':>10} {SETUP:>14} {'wrong':>6}"
            print(f"  {header} verdict")
            for normalisation in NORMALISATIONS:
                row = results[title][normalisation]
                assert isinstance(row, dict)
                print(
                    f"  {normalisation:14} {row['load_pct']:+7.1f}% "
                    f"{row['per_order_median_pct']:+9.1f}% {row['setup_pct']:+13.1f}% "
                    f"{row['significant_wrong']:>3}/{row['significant']}  {row['verdict']}"
                )
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps({"runs": args.runs, "orders": args.orders, "hogs": args.hogs,
                               "scenarios": results}, indent=2) + "\n")  # fmt: skip
    print(f"\nwrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
