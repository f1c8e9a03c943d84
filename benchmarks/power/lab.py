"""The power lab: how often ``flamediff compare`` catches a known regression on a busy machine.

Real captures, not a model of them. The load (:mod:`benchmarks.power.load`) has knob functions
holding 2%, 4% and 8% of a 2-second load; a head variant does more work per call in one knob.
A CPU hog (a process spinning on one core) runs during every capture, as on a shared CI
machine, besides whatever else the machine is doing.

The steps, each a subcommand (``make power`` runs pool, the noise fit of
:mod:`benchmarks.power.noise`, analyse and live, in that order):

``capture`` (``pool``: only if the pool is missing)
    the *pool*: many real py-spy runs of the base and of each head variant, interleaved
    (b h1 h2 b h3 h4 b h5, repeated), captured once with flamediff's default runner (500 Hz)
    into a folder. ``POWER_POOL`` (or ``--cycles``) sets the number of cycles.
``analyse``
    resamples compares offline from the pool: 8 of the pool's cycles drawn without
    replacement, and from each a base run and the head variant's run (for A/A, two distinct
    base runs, one to each side), so that the two sides of a compare were captured side by
    side as ``compare`` captures them; compared with default options and gated with the
    policy ``compare`` uses. Detection is the regressed knob blocking, a false block any block
    of base against base. Thousands of compares take seconds. Each method (the test
    deciding the rows) is measured on the same draws. Prints the table, writes JSON.
``live``
    a few end-to-end ``flamediff compare`` runs (capture, archive, gate; exit code) with the
    hog running, to check that the offline numbers hold; each archived pair (kept in the
    pool's ``live`` folder) is also judged by every method (``judge-live`` only judges).
    ``POWER_LIVE`` (or ``--live``) sets the number of pairs (A/A and knob_4 at +20%).

Run as ``python -m benchmarks.power.lab {capture,analyse,live,noise} --pool DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.power import load as knob_load
from flamediff.analysis.compare import LOAD_ROW, CompareOptions, compare, compare_counts
from flamediff.analysis.tables import FunctionCounts, function_counts_of
from flamediff.formats import read_profiles
from flamediff.formats.collapsed import write_collapsed
from flamediff.gate import GatePolicy, evaluate, undecided
from flamediff.model import Release, ReleaseInfo, RunInfo

HERE = Path(__file__).resolve().parent
DEFAULT_POOL = HERE / ".pool"
RESULTS = HERE / "results.json"
LOAD_SECONDS = 2.0
RATE_HZ = 500.0
RUNS = 8
# (variant name, knob, regression): the base and the head variants of the pool.
HEADS = (
    ("knob_4+10", "knob_4", 0.10),
    ("knob_4+20", "knob_4", 0.20),
    ("knob_4+50", "knob_4", 0.50),
    ("knob_2+20", "knob_2", 0.20),
    ("knob_8+20", "knob_8", 0.20),
)
BASE = "base"
# `auto`: the count model with `compare`'s adaptive capture: a first look at `runs` a side,
# and twice the runs where it leaves a hot function undecided (flamediff.pipeline.adaptive).
AUTO = "auto"
# `archived`: the count model on a base and a head captured apart (other cycles of the pool),
# judged as `release --archived-base` judges: the machine's speed from the probes, the whole
# load only warned about.
ARCHIVED = "archived"
METHODS = ("rank", "count", AUTO, ARCHIVED)


def knob_function(knob: str) -> str:
    """The knob's identity as flamediff names it."""
    return f"{knob} (benchmarks/power/load.py)"


def cycle() -> list[str]:
    """One cycle of the pool's capture order: a base run before every two head runs."""
    order: list[str] = []
    for index in range(0, len(HEADS), 2):
        order.append(BASE)
        order.extend(name for name, _, _ in HEADS[index : index + 2])
    return order


def load_command(units: int, variant: str) -> list[str]:
    command = [sys.executable, str(HERE / "load.py"), "--units", str(units)]
    for name, knob, regression in HEADS:
        if name == variant:
            command += ["--regress", f"{knob}={regression}"]
    return command


@contextlib.contextmanager
def cpu_hog() -> Iterator[None]:
    """A background process spinning on one core for the duration of the block."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        hog.terminate()
        hog.wait()


def calibrated_units() -> int:
    """Loop iterations that make a load of :data:`LOAD_SECONDS` CPU seconds on this machine."""
    output = subprocess.run(
        [sys.executable, str(HERE / "load.py"), "--calibrate"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(float(output) * LOAD_SECONDS)


# ---- capture -----------------------------------------------------------------------------


def capture_pool(
    pool: Path, cycles: int, units: int | None = None, profilers: Sequence[str] = ("py-spy",)
) -> None:
    """Capture ``cycles`` cycles of interleaved runs into ``pool`` (runs/*.folded, pool.json).

    ``units``: loop iterations per run; by default calibrated to :data:`LOAD_SECONDS` of CPU,
    which a busy machine can miss by a factor of two (the pool records the CPU time each run
    really took). With several ``profilers``, each gets its own pool in ``pool/<profiler>``,
    and they take turns cycle by cycle, so that every profiler meets the same machine.
    """
    from flamediff.capture.runners import CaptureSettings, make_runner

    units = units or calibrated_units()
    folders = {name: pool if len(profilers) == 1 else pool / name for name in profilers}
    variants = [BASE, *(name for name, _, _ in HEADS)]
    settings = {name: CaptureSettings(profiler=name, rate_hz=RATE_HZ) for name in profilers}
    runners = {
        name: {v: make_runner(load_command(units, v), v, settings[name]) for v in variants}
        for name in profilers
    }
    manifests: dict[str, dict[str, Any]] = {
        name: {
            "units": units,
            "load_seconds": LOAD_SECONDS,
            "rate_hz": RATE_HZ,
            "profiler": name,
            "hog": "one process spinning on one core",
            "cores": os.cpu_count(),
            "load_average_before": os.getloadavg()[0],
            "runs": [],
        }
        for name in profilers
    }
    for folder in folders.values():
        (folder / "runs").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with cpu_hog():
        for name in profilers:
            runners[name][BASE].run()  # warm-up: file caches, py-spy's first attach
        for number in range(cycles):
            for name in profilers:
                runs = manifests[name]["runs"]
                for variant in cycle():
                    index = len(runs)
                    captured = runners[name][variant].run()
                    file = f"{index:04d}-{variant}.folded"
                    (folders[name] / "runs" / file).write_text(write_collapsed(captured.profile))
                    runs.append(
                        {
                            "file": file,
                            "variant": variant,
                            "samples": captured.info.samples,
                            "wall_seconds": captured.info.wall_seconds,
                            "cpu_seconds": captured.info.cpu_seconds,
                            "probe_seconds": captured.info.probe_seconds,
                        }
                    )
            spent = time.monotonic() - started
            print(f"  cycle {number + 1}/{cycles}, {spent:.0f} s", file=sys.stderr)
    for name, manifest in manifests.items():
        manifest["capture_seconds"] = round(time.monotonic() - started, 1)
        manifest["load_average_after"] = os.getloadavg()[0]
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        (folders[name] / "pool.json").write_text(text)


# ---- the pool as counts --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pool:
    """Every run of the pool as counts over one list of functions, by variant.

    ``cycles[variant]`` is the capture cycle of each of the variant's runs (columns).
    """

    counts: dict[str, FunctionCounts]
    manifest: dict[str, Any]
    cycles: dict[str, np.ndarray]

    @property
    def functions(self) -> tuple[str, ...]:
        return next(iter(self.counts.values())).functions


def read_pool(pool: Path) -> Pool:
    from flamediff.processors import normalise

    manifest = json.loads((pool / "pool.json").read_text())
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for run in manifest["runs"]:
        by_variant.setdefault(run["variant"], []).append(run)
    releases = []
    for variant, runs in by_variant.items():
        profiles = tuple(
            normalise(read_profiles(pool / "runs" / run["file"])[0][1]) for run in runs
        )
        info = ReleaseInfo(
            name=variant,
            created="1970-01-01T00:00:00Z",
            rate_hz=manifest["rate_hz"],
            runs=tuple(
                # CPU time and probe: what `compare` measures the machine's speed by (pools
                # captured before they were recorded have neither).
                RunInfo(
                    p.total,
                    run["wall_seconds"],
                    0,
                    cpu_seconds=run.get("cpu_seconds"),
                    probe_seconds=run.get("probe_seconds"),
                )
                for p, run in zip(profiles, runs, strict=True)
            ),
        )
        releases.append(Release(info, profiles))
    counts = function_counts_of(releases)
    per_cycle = len(cycle())
    cycles = {
        v: np.array([int(run["file"][:4]) // per_cycle for run in runs])
        for v, runs in by_variant.items()
    }
    return Pool(dict(zip(by_variant, counts, strict=True)), manifest, cycles)


def draw(pool: Pool, head: str, runs: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Columns of ``runs`` base runs and ``runs`` head runs from as many distinct cycles.

    For ``head`` = :data:`BASE` (A/A), two distinct base runs of each cycle, one per side.
    """
    base_cycles = pool.cycles[BASE]
    head_cycles = pool.cycles[head]
    shared = np.intersect1d(base_cycles, head_cycles)
    if head == BASE:
        shared = np.array([c for c in shared if (base_cycles == c).sum() >= 2])
    chosen = rng.choice(shared, size=runs, replace=False)
    base_columns, head_columns = [], []
    for one in chosen:
        if head == BASE:
            first, second = rng.choice(np.flatnonzero(base_cycles == one), 2, replace=False)
            base_columns.append(first)
            head_columns.append(second)
        else:
            base_columns.append(rng.choice(np.flatnonzero(base_cycles == one)))
            head_columns.append(rng.choice(np.flatnonzero(head_cycles == one)))
    return np.array(base_columns), np.array(head_columns)


def pick(counts: FunctionCounts, runs: Sequence[int] | np.ndarray) -> FunctionCounts:
    columns = np.asarray(runs)
    return FunctionCounts(
        counts.functions,
        counts.self_samples[:, columns],
        counts.total_samples[:, columns],
        counts.run_samples[columns],
        counts.wall_seconds[columns],
        None if counts.cpu_seconds is None else counts.cpu_seconds[columns],
        None if counts.probe_seconds is None else counts.probe_seconds[columns],
    )


# ---- analyse -------------------------------------------------------------------------------


def options_of(method: str) -> CompareOptions:
    # `compare` captures side by side: CPU time, no probe factor; captures apart use the probe.
    test = "count" if method in (AUTO, ARCHIVED) else method
    return CompareOptions(test=test, side_by_side=method != ARCHIVED)  # type: ignore[arg-type]


def judge(
    base: FunctionCounts, head: FunctionCounts, method: str, per_sample: float
) -> tuple[set[str], Any]:
    comparison = compare_counts(
        base,
        head,
        options_of(method),
        base_seconds_per_sample=per_sample,
        head_seconds_per_sample=per_sample,
    )
    # `compare` captures side by side, so its gate may block on the whole load too.
    result = evaluate(comparison, GatePolicy(block_load=method != ARCHIVED))
    return {finding.function for finding in result.blocking}, comparison


def rates(pool: Pool, trials: int, seed: int, runs: int = RUNS) -> dict[str, Any]:
    """Detection and false-block rates over ``trials`` resampled compares per cell and method.

    Per cell and method: ``rate`` (A/A: any block; else the knob blocks), and to say why:
    ``significant`` (the knob's q <= alpha and its delta beyond the block threshold, i.e. it
    would block but for the noise floor), ``load_blocks`` (the whole-load row blocked),
    ``other_blocks`` (another function blocked), ``knob_floor_pct`` (median noise floor).
    A/A runs twice as many trials: the rate to bound is small.
    """
    rng = np.random.default_rng(seed)
    per_sample = 1.0 / pool.manifest["rate_hz"]
    policy = GatePolicy(block_load=True)
    cells: list[dict[str, Any]] = []
    plan = [("A/A", BASE, "knob_4", 0.0, 2 * trials)]
    plan += [(name, name, knob, regression, trials) for name, knob, regression in HEADS]
    for variant, head_name, knob, regression, count in plan:
        base, head = pool.counts[BASE], pool.counts[head_name]
        target = knob_function(knob)
        cycles = len(set(pool.cycles[BASE].tolist()))
        methods = [m for m in METHODS if m not in (AUTO, ARCHIVED) or 2 * runs <= cycles]
        tally = {
            m: {"rate": 0, "significant": 0, "load_blocks": 0, "other_blocks": 0, "extended": 0}
            for m in methods
        }
        floors: dict[str, list[float]] = {m: [] for m in methods}
        for _ in range(count):
            drawn = draw(pool, head_name, 2 * runs if AUTO in methods else runs, rng)
            base_runs, head_runs = drawn[0][:runs], drawn[1][:runs]
            # For ARCHIVED, the head from other cycles than the base: captured apart.
            apart = drawn[0][:runs], drawn[1][-runs:]
            for method in methods:
                sides = apart if method == ARCHIVED else (base_runs, head_runs)
                blocking, comparison = judge(
                    pick(base, sides[0]), pick(head, sides[1]), method, per_sample
                )
                if method == AUTO and undecided(comparison, policy):
                    tally[method]["extended"] += 1
                    blocking, comparison = judge(
                        pick(base, drawn[0]), pick(head, drawn[1]), method, per_sample
                    )
                row = comparison[comparison["function"] == target].iloc[0]
                hit = target in blocking if variant != "A/A" else bool(blocking)
                tally[method]["rate"] += hit
                tally[method]["significant"] += bool(
                    row["q_value"] <= policy.alpha and row["delta_pct"] > 100 * policy.block
                )
                tally[method]["load_blocks"] += LOAD_ROW in blocking
                tally[method]["other_blocks"] += bool(blocking - {target, LOAD_ROW})
                floors[method].append(float(row["noise_floor_pct"]))
        for method in methods:
            cells.append(
                {
                    "variant": variant,
                    "share": knob_load.KNOB_SHARES[knob] if variant != "A/A" else None,
                    "regression": regression,
                    "method": method,
                    "trials": count,
                    **{key: value / count for key, value in tally[method].items()},
                    "knob_floor_pct": float(np.median(floors[method])),
                }
            )
    return {"runs_per_side": runs, "cells": cells}


def runs_needed(
    share: float,
    regression: float,
    samples_per_run: float,
    dispersion: float,
    *,
    family: int = 15,
    alpha: float = 0.05,
    power: float = 0.9,
) -> int:
    """Runs per side for a lone regressed function to reach q <= alpha with ``power``.

    Under the count model a run's log normalised value of a function holding ``share`` of
    ``samples_per_run`` samples has variance ``dispersion / (share * samples_per_run)``; the
    two-sided z-test of the log fold change at alpha / family (Benjamini-Hochberg's bar for
    the only function that changed) needs n per side with
    ``n = 2 var (z_{1-a/2} + z_power)^2 / log(1 + regression)^2``.
    """
    from statistics import NormalDist

    normal = NormalDist()
    z = normal.inv_cdf(1.0 - alpha / family / 2.0) + normal.inv_cdf(power)
    variance = dispersion / (share * samples_per_run)
    return math.ceil(2.0 * variance * z**2 / math.log1p(regression) ** 2)


def plan_table(dispersion: float, samples_per_run: float) -> str:
    """Markdown: runs per side needed, on this machine and on a quiet one (Poisson)."""
    lines = [
        "| capture | share | +20% | +50% |",
        "|---|---:|---:|---:|",
    ]
    captures = [
        (f"busy (this pool): {samples_per_run:.0f} samples/run, {dispersion:.1f}x Poisson",
         samples_per_run, dispersion),
        ("quiet: 2 s at 500 Hz (1,000 samples/run), Poisson", 1000.0, 1.0),
        ("quiet: 2 s at 2,000 Hz or 8 s at 500 Hz (4,000/run)", 4000.0, 1.0),
    ]  # fmt: skip
    for name, samples, index in captures:
        for share in (0.04, 0.08):
            cells = [str(runs_needed(share, r, samples, index)) for r in (0.2, 0.5)]
            lines.append(f"| {name} | {100 * share:.0f}% | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def pool_summary(pool: Pool) -> dict[str, Any]:
    """What the pool's runs are like: runs per variant, samples and wall time per run."""
    runs = pool.manifest["runs"]
    samples = np.array([run["samples"] for run in runs], dtype=float)
    walls = np.array([run["wall_seconds"] for run in runs], dtype=float)
    base = pool.counts[BASE]
    knob = base.functions.index(knob_function("knob_4"))
    knob_counts = base.self_samples[knob]
    return {
        "runs": {name: counts.runs for name, counts in pool.counts.items()},
        "samples_per_run": {
            "median": float(np.median(samples)),
            "min": float(samples.min()),
            "max": float(samples.max()),
        },
        "wall_seconds": {
            "median": float(np.median(walls)),
            "min": float(walls.min()),
            "max": float(walls.max()),
        },
        "knob_4_base_samples": {
            "median": float(np.median(knob_counts)),
            "min": int(knob_counts.min()),
            "max": int(knob_counts.max()),
        },
        "capture_seconds": pool.manifest.get("capture_seconds"),
        "units": pool.manifest["units"],
    }


def table(cells: list[dict[str, Any]], runs: int) -> str:
    """Markdown: one row per variant; per method the block rate and, in brackets, how often
    the knob was significant beyond the block threshold (would block but for its floor)."""
    header = ["variant", "share", "regression"]
    methods = list(dict.fromkeys(cell["method"] for cell in cells))
    header += [f"{m}: blocks (significant), floor" for m in methods]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for variant in dict.fromkeys(cell["variant"] for cell in cells):
        row = [cell for cell in cells if cell["variant"] == variant]
        first = row[0]
        share = "-" if first["share"] is None else f"{100 * first['share']:.0f}%"
        regression = "A/A" if variant == "A/A" else f"+{100 * first['regression']:.0f}%"
        shown = [
            f"{100 * c['rate']:.1f}% ({100 * c['significant']:.0f}%), {c['knob_floor_pct']:.0f}%"
            + (f", {100 * c['extended']:.0f}% grew" if c["method"] == AUTO else "")
            for c in row
        ]
        lines.append("| " + " | ".join([variant, share, regression, *shown]) + " |")
    trials = ", ".join(sorted({str(cell["trials"]) for cell in cells}))
    return "\n".join(lines) + (
        f"\n\n{runs} + {runs} runs per compare, drawn from the pool's cycles; {trials} compares "
        "per cell. A/A: any block; otherwise the knob blocks. Grew: how often auto took twice "
        "the runs. Floor: the knob's median noise "
        "floor.\n"
    )


def analyse(
    pool_folder: Path, trials: int, seed: int, results: Path, runs_per_side: Sequence[int]
) -> dict[str, Any]:
    pool = read_pool(pool_folder)
    started = time.monotonic()
    summary = pool_summary(pool)
    print(json.dumps(summary, indent=1))
    measured_by_runs: dict[str, Any] = {}
    for runs in runs_per_side:
        measured = rates(pool, trials, seed, runs)
        measured_by_runs[str(runs)] = {**measured, "seed": seed}
        print(table(measured["cells"], measured["runs_per_side"]))
    # Read only now: the live step may have written its part while this one ran.
    document = _read_results(results)
    document["pool"] = summary
    document["offline"] = measured_by_runs
    document["offline_seconds"] = round(time.monotonic() - started, 1)
    model = pool_folder.parent / "noise_model.json"
    if model.is_file():
        fitted = json.loads(model.read_text())["simulation"]
        plan = plan_table(fitted["dispersion"], fitted["samples_per_run"])
        document["runs_needed"] = plan
        print("Runs per side for 90% detection (a lone change, 15 functions tested):")
        print(plan)
    _write_results(results, document)
    return document


def _read_results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_results(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


# ---- live ----------------------------------------------------------------------------------


def live(
    trials: int,
    results: Path,
    pool: Path,
    variants: Sequence[str] = (BASE, "knob_4+20"),
    units: int | None = None,
) -> dict[str, Any]:
    """``trials`` end-to-end compares of each variant against the base (A/A for the base
    itself; by default A/A and knob_4 at +20%), then judge them.

    The archives are kept in ``pool``/live, so that a later run only judges them again
    (``flamediff compare``'s exit code, time and whether it took more runs are recorded).
    """
    folder = pool / "live"
    flamediff = Path(sys.executable).with_name("flamediff")
    units = units or calibrated_units()
    with cpu_hog():
        for trial in range(trials):
            for variant in variants:
                archive = folder / f"{trial:02d}-{variant}"
                if (archive / "exit.json").is_file():
                    continue
                command = [
                    str(flamediff), "compare", "base", "head", "--archive", str(archive),
                    "--force",
                    "--base-cmd", " ".join(load_command(units, BASE)),
                    "--head-cmd", " ".join(load_command(units, variant)),
                ]  # fmt: skip
                started = time.monotonic()
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode not in (0, 1):
                    raise SystemExit(f"flamediff compare failed: {done.stderr}")
                (archive / "exit.json").write_text(
                    json.dumps(
                        {
                            "exit_code": done.returncode,
                            "seconds": round(time.monotonic() - started, 1),
                            "grew": "runs a side, not" in done.stderr,
                        }
                    )
                )
    return judge_live(folder, results)


def judge_live(folder: Path, results: Path) -> dict[str, Any]:
    """Judge every archived live compare with every method."""
    from flamediff.archive import Archive

    outcomes: list[dict[str, Any]] = []
    for archive in sorted(path for path in folder.glob("*") if (path / "exit.json").is_file()):
        variant = archive.name.split("-", 1)[1]
        knob = next((k for name, k, _ in HEADS if name == variant), None)
        store = Archive(archive)
        pair = [store.load(name, normalised=True) for name in ("base", "head")]
        outcome: dict[str, Any] = {
            "variant": variant,
            **json.loads((archive / "exit.json").read_text()),
        }
        for method in METHODS:
            comparison = compare(pair[0], pair[1], options_of(method))
            blocking = {
                f.function for f in evaluate(comparison, GatePolicy(block_load=True)).blocking
            }
            outcome[method] = {
                "blocked": sorted(blocking),
                "caught": knob is not None and knob_function(knob) in blocking,
            }
        outcomes.append(outcome)
        print(json.dumps(outcome))
    document = _read_results(results)
    document["live"] = outcomes
    _write_results(results, document)
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "step", choices=("capture", "pool", "analyse", "live", "judge-live", "all"),
        help="pool: capture only if the pool is missing; all: pool, analyse, live",
    )  # fmt: skip
    parser.add_argument("--pool", type=Path, default=DEFAULT_POOL)
    parser.add_argument("--cycles", type=int, default=int(os.environ.get("POWER_POOL", "20")))
    parser.add_argument("--units", type=int, default=None, help="loop iterations per run")
    parser.add_argument(
        "--profilers", default="py-spy",
        help="capture: comma-separated; several take turns cycle by cycle, a pool each",
    )  # fmt: skip
    parser.add_argument(
        "--variants", default=f"{BASE},knob_4+20", help="live: the heads, comma-separated"
    )
    parser.add_argument("--trials", type=int, default=500, help="offline compares per cell")
    parser.add_argument("--live", type=int, default=int(os.environ.get("POWER_LIVE", "2")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--runs", type=int, nargs="+", default=[RUNS, 2 * RUNS], help="runs per side, per table"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    arguments = parser.parse_args(argv)
    if arguments.step == "capture" or (
        arguments.step in ("pool", "all") and not (arguments.pool / "pool.json").is_file()
    ):
        profilers = arguments.profilers.split(",")
        capture_pool(arguments.pool, arguments.cycles, arguments.units, profilers)
    if arguments.step in ("analyse", "all"):
        analyse(arguments.pool, arguments.trials, arguments.seed, arguments.results, arguments.runs)
    if arguments.step == "judge-live":
        judge_live(arguments.pool / "live", arguments.results)
    if arguments.step in ("live", "all") and arguments.live > 0:
        live(
            arguments.live, arguments.results, arguments.pool,
            arguments.variants.split(","), arguments.units,
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
