"""Compare a pytest-benchmark run with the previous one saved on this machine, as flamediff gates.

The policy is flamediff's own (see flamediff.analysis.compare and flamediff.gate), applied to
flamediff's benchmarks instead of a profile's functions:

- each benchmark's rounds are its runs: medians before and after, and the exact, tie-aware
  two-sided Mann-Whitney p-value of the rounds, Benjamini-Hochberg corrected over the
  benchmarks compared;
- the machine's drift is taken out first (a machine 20% slower today makes every benchmark 20%
  slower; a regression moves only the benchmarks that run the changed code): every ratio is
  divided by the ratio of the reference benchmark, a fixed workload that no change to flamediff
  touches (``benchmarks/test_machine.py``), or, for runs saved without it, by the median of the
  ratios over the benchmarks, which holds only while most of them are unchanged.
  ``--absolute`` gates the raw times instead;
- a benchmark *blocks* when it is significantly slower (q <= alpha) by more than the threshold
  (10% by default). Exit status 1 when one does, 0 otherwise, 2 on bad input.

Usage::

    python -m benchmarks.compare                   # the two newest runs of this machine
    python -m benchmarks.compare BEFORE.json AFTER.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.test_machine import REFERENCE
from flamediff.analysis import stats

STORAGE = Path(__file__).resolve().parent / ".data" / "history"


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    before_s: float
    after_s: float
    raw_delta_pct: float
    delta_pct: float
    p_value: float
    q_value: float
    blocks: bool


def saved_runs(storage: Path) -> list[Path]:
    """Saved runs of every machine folder under ``storage``, oldest first by counter."""
    return sorted(storage.glob("*/[0-9][0-9][0-9][0-9]_*.json"), key=lambda p: (p.parent, p.name))


def rounds_of(path: Path) -> dict[str, list[float]]:
    """Per-round seconds of every benchmark in a pytest-benchmark JSON file."""
    document = json.loads(path.read_text(encoding="utf-8"))
    result: dict[str, list[float]] = {}
    for bench in document["benchmarks"]:
        rounds = bench["stats"].get("data")
        if not rounds:
            raise SystemExit(f"{path}: saved without per-round data (use --benchmark-save-data)")
        result[bench["name"]] = [float(value) for value in rounds]
    return result


def compare(
    before: dict[str, list[float]],
    after: dict[str, list[float]],
    *,
    threshold_pct: float = 10.0,
    alpha: float = 0.05,
    absolute: bool = False,
) -> tuple[list[Row], float]:
    """The rows of the table, by name, and the machine factor divided out (1.0 if absolute).

    The reference benchmark, when both runs have it, sets the factor and is not a row.
    """
    names = sorted((before.keys() & after.keys()) - {REFERENCE})
    ratios = [np.median(after[name]) / np.median(before[name]) for name in names]
    if absolute:
        factor = 1.0
    elif REFERENCE in before and REFERENCE in after:
        factor = float(np.median(after[REFERENCE]) / np.median(before[REFERENCE]))
    else:
        # As flamediff's median-ratio: needs a majority of unchanged benchmarks to mean anything.
        factor = 1.0 if len(names) < 3 else float(np.median(ratios))
    pvalues = []
    for name in names:
        old = np.array([before[name]], dtype=np.float64)
        new = np.array([after[name]], dtype=np.float64) / factor
        pvalues.append(float(stats.mann_whitney_p(old, new)[0]))
    qvalues = stats.benjamini_hochberg(np.array(pvalues, dtype=np.float64))
    rows = []
    for name, ratio, pvalue, qvalue in zip(names, ratios, pvalues, qvalues, strict=True):
        delta = 100.0 * (ratio / factor - 1.0)
        rows.append(
            Row(
                name=name.removeprefix("test_"),
                before_s=float(np.median(before[name])),
                after_s=float(np.median(after[name])),
                raw_delta_pct=100.0 * (ratio - 1.0),
                delta_pct=delta,
                p_value=pvalue,
                q_value=float(qvalue),
                blocks=bool(qvalue <= alpha and delta > threshold_pct),
            )
        )
    return rows, factor


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def _verdict(row: Row, alpha: float) -> str:
    if row.blocks:
        return "SLOWER (blocks)"
    if row.q_value <= alpha:
        return "slower" if row.delta_pct > 0 else "faster"
    return "~"


def table(
    rows: Sequence[Row], factor: float, *, alpha: float, absolute: bool, reference: bool
) -> str:
    header = ("benchmark", "before", "after", "raw", "delta", "p", "q", "verdict")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.name,
                _duration(row.before_s),
                _duration(row.after_s),
                f"{row.raw_delta_pct:+.1f}%",
                f"{row.delta_pct:+.1f}%",
                f"{row.p_value:.3g}",
                f"{row.q_value:.3g}" if math.isfinite(row.q_value) else "-",
                _verdict(row, alpha),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(
            cell.ljust(widths[i]) if i in (0, 7) else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
    if absolute:
        text.append("delta: raw change of the median round (--absolute)")
    else:
        source = "the reference benchmark's ratio" if reference else "median of the raw ratios"
        text.append(
            f"delta: change of the median round after dividing out the machine factor "
            f"{factor:.3f} ({source}); raw: before it"
        )
    return "\n".join(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, help="BEFORE.json AFTER.json")
    parser.add_argument("--storage", type=Path, default=STORAGE)
    parser.add_argument("--threshold", type=float, default=10.0, help="percent; default 10")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--absolute", action="store_true", help="gate raw times, no machine factor")
    args = parser.parse_args(argv)
    if args.files and len(args.files) != 2:
        parser.error("give two files, BEFORE and AFTER, or none")
    files = list(args.files) or saved_runs(args.storage)[-2:]
    if len(files) < 2:
        print(f"no previous run saved in {args.storage}: nothing to compare yet")
        return 0
    before_path, after_path = files
    before, after = rounds_of(before_path), rounds_of(after_path)
    rows, factor = compare(
        before, after, threshold_pct=args.threshold, alpha=args.alpha, absolute=args.absolute
    )
    print(f"before: {before_path.name}\nafter:  {after_path.name}\n")
    reference = REFERENCE in before and REFERENCE in after
    print(table(rows, factor, alpha=args.alpha, absolute=args.absolute, reference=reference))
    only_after, only_before = after.keys() - before.keys(), before.keys() - after.keys()
    if only_after:
        print(f"new, not compared: {', '.join(sorted(only_after))}")
    if only_before:
        print(f"gone, not compared: {', '.join(sorted(only_before))}")
    blocked = [row.name for row in rows if row.blocks]
    if blocked:
        print(
            f"\nblocked: {', '.join(blocked)} slower by more than {args.threshold:g}% "
            f"(q <= {args.alpha:g})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
