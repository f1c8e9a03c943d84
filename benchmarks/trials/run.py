"""Run every trial end to end, then score flamediff against the ground truth: `make trials`.

For each trial (definitions.py): one venv per version under .trials/, ground truth per
version (truth.py: timeit and cProfile, the versions interleaved so that the machine's drift
falls on both), then flamediff as a user runs it, through .venv/bin/flamediff only:
`flamediff release` of every version in order into one archive, and `flamediff compare`
(interleaved) of each pair. Reports, SVG and a PNG of it go to docs/trials/<trial>/; the
scores to benchmarks/trials/results.json and docs/trials/summary.md.

Settings, from the environment (defaults in brackets):
  TRIALS_RUNS [8], TRIALS_WARMUP [1], TRIALS_RATE [500]    flamediff's capture settings
  TRIALS_CALLS [1]                                           capture with --calls (0: without)
  TRIALS_TIMEIT_ROUNDS [3], TRIALS_TIMEIT_REPEAT [2]       processes per version x timed calls
  TRIALS_PROFILE_PASSES [3]                                 cProfile passes per version
  TRIALS_ONLY [all]                                          comma-separated trial names
  TRIALS_SCORE_ONLY [unset]                                  re-score the last captures
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.trials import score, srcdiff
from benchmarks.trials.definitions import TRIALS, Pair, Trial

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = ROOT / ".trials"
DOCS = ROOT / "docs" / "trials"
FLAMEDIFF = ROOT / ".venv" / "bin" / "flamediff"
RESULTS = HERE / "results.json"
CHROMIUM = Path("/usr/bin/chromium")
# Only these files of a report folder are kept in the repository: the rest (HTML, chart)
# can be regenerated and would make every re-run a large diff. report.json is trimmed.
KEPT = ("report.md", "flamegraph.svg", "terminal.txt")
# report.json lists every function ever sampled (about 0.5 MB here); the copy in docs/ keeps
# the rows a reader or the scorer looks at: tested ones, and any above this share.
KEEP_SHARE = 0.001


def setting(name: str, default: int) -> int:
    return int(os.environ.get(f"TRIALS_{name}", default))


def settings() -> dict[str, int]:
    return {
        "runs": setting("RUNS", 8),
        "warmup": setting("WARMUP", 1),
        "rate": setting("RATE", 500),
        "timeit_rounds": setting("TIMEIT_ROUNDS", 3),
        "timeit_repeat": setting("TIMEIT_REPEAT", 2),
        "profile_passes": setting("PROFILE_PASSES", 3),
        "calls": setting("CALLS", 1),
    }


def log(message: str) -> None:
    print(f"[trials {time.strftime('%H:%M:%S')}] {message}", flush=True)


def venv_python(trial: Trial, version: str) -> Path:
    """The venv of one version, created and installed once (a stamp marks it complete)."""
    folder = CACHE / "venvs" / f"{trial.name}-{version}"
    python = folder / "bin" / "python"
    stamp = folder / ".installed"
    pins = [f"{trial.requirement}=={version}", *trial.extra.get(version, ())]
    if stamp.exists() and stamp.read_text() == "\n".join(pins):
        return python
    log(f"venv {folder.name}: {' '.join(pins)}")
    # The base interpreter of flamediff's own venv: the trial's loads run on the same Python.
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--clear", folder], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-compile", *pins], check=True)
    stamp.write_text("\n".join(pins))
    return python


def site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def load_path(trial: Trial) -> Path:
    return HERE / "loads" / trial.load


def truth_call(python: Path, trial: Trial, *flags: str) -> dict[str, Any]:
    command: list[str | Path] = [python, HERE / "truth.py", load_path(trial), *flags]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    document: dict[str, Any] = json.loads(out.stdout)
    return document


def ground_truth(trial: Trial, pythons: dict[str, Path], config: dict[str, int]) -> dict[str, Any]:
    """Per version: CPU and wall seconds of the load, and cProfile's per-function medians.

    The versions take turns (ABBA...), process by process, so that a busy spell of the shared
    machine lands on all of them alike.
    """
    versions = list(trial.versions)
    timings: dict[str, dict[str, list[float]]] = {v: {"cpu_s": [], "wall_s": []} for v in versions}
    for round_index in range(config["timeit_rounds"]):
        order = versions if round_index % 2 == 0 else versions[::-1]
        for version in order:
            log(f"timeit {trial.name} {version} (round {round_index + 1})")
            document = truth_call(pythons[version], trial, "--timeit", str(config["timeit_repeat"]))
            for key in ("cpu_s", "wall_s"):
                timings[version][key].extend(document[key])
    passes: dict[str, list[dict[str, dict[str, float]]]] = {v: [] for v in versions}
    for pass_index in range(config["profile_passes"]):
        order = versions if pass_index % 2 == 0 else versions[::-1]
        for version in order:
            log(f"cProfile {trial.name} {version} (pass {pass_index + 1})")
            passes[version].append(truth_call(pythons[version], trial, "--profile")["functions"])
    truth: dict[str, Any] = {}
    for version in versions:
        functions: dict[str, dict[str, Any]] = {}
        for key in set().union(*passes[version]):
            values = [one.get(key) for one in passes[version]]
            present = [value for value in values if value is not None]
            functions[key] = {
                field: statistics.median(
                    value[field] if value is not None else 0.0 for value in values
                )
                for field in ("self_s", "tottime_s", "cumtime_s")
            }
            functions[key]["calls"] = max(value["calls"] for value in present)
            # Every pass, for the scorer's consistency test: a median can hide one busy spell.
            functions[key]["self_passes"] = [
                value["self_s"] if value is not None else 0.0 for value in values
            ]
        truth[version] = {
            "cpu_s": timings[version]["cpu_s"],
            "wall_s": timings[version]["wall_s"],
            "functions": functions,
        }
    return truth


def flamediff(args: list[str | Path], transcript: Path) -> int:
    """Run flamediff as a user does; keep what it printed; return its exit code."""
    command = [str(FLAMEDIFF), *map(str, args)]
    log(" ".join(command[1:4]) + " ...")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    transcript.parent.mkdir(parents=True, exist_ok=True)
    transcript.write_text(
        f"$ flamediff {' '.join(command[1:])}\n\n{done.stdout}{done.stderr}"
        f"\nexit code {done.returncode}\n"
    )
    return done.returncode


def capture_options(config: dict[str, int]) -> list[str]:
    options = [
        "--runs",
        str(config["runs"]),
        "--warmup",
        str(config["warmup"]),
        "--rate",
        str(config["rate"]),
    ]
    return [*options, "--calls"] if config.get("calls") else options


def traced_run_costs(trial: Trial) -> dict[str, dict[str, float | None]]:
    """What the traced run (--calls) cost each archived release: its wall time beside the
    median wall time of a sampled run."""
    from flamediff.archive import Archive

    costs: dict[str, dict[str, float | None]] = {}
    for folder in (trial.name, f"{trial.name}-compare"):
        archive = Archive(CACHE / "archives" / folder)
        if not archive.storage.present():
            continue
        for info in archive.infos():
            calls = archive.calls(info.name)
            walls = [run.wall_seconds for run in info.runs if run.wall_seconds is not None]
            costs[f"{folder}/{info.name}"] = {
                "traced_s": None if calls is None else calls.wall_seconds,
                "median_run_s": statistics.median(walls) if walls else None,
                "calls": None if calls is None else sum(calls.edges.values()),
            }
    return costs


def run_flamediff(trial: Trial, pythons: dict[str, Path], config: dict[str, int]) -> dict[str, Any]:
    """`release` of every version in order, and `compare` of every pair; exit codes by folder."""
    out = CACHE / "out" / trial.name
    shutil.rmtree(out, ignore_errors=True)
    archive = CACHE / "archives" / trial.name
    shutil.rmtree(archive, ignore_errors=True)
    load = load_path(trial)
    exits: dict[str, int] = {}
    for version in trial.versions:
        folder = out / f"release-{version}"
        exits[folder.name] = flamediff(
            [
                "release",
                version,
                "--archive",
                archive,
                "--out",
                folder,
                *capture_options(config),
                "--",
                pythons[version],
                load,
            ],
            folder / "terminal.txt",
        )
    compare_archive = CACHE / "archives" / f"{trial.name}-compare"
    shutil.rmtree(compare_archive, ignore_errors=True)
    for pair in trial.pairs:
        folder = out / f"compare-{pair.base}-{pair.head}"
        exits[folder.name] = flamediff(
            [
                "compare",
                pair.base,
                pair.head,
                "--base-cmd",
                f"{pythons[pair.base]} {load}",
                "--head-cmd",
                f"{pythons[pair.head]} {load}",
                "--archive",
                compare_archive,
                "--out",
                folder,
                *capture_options(config),
            ],
            folder / "terminal.txt",
        )
    return exits


def screenshot(svg: Path, png: Path) -> None:
    if not CHROMIUM.exists():
        log(f"no {CHROMIUM}: {png.name} not drawn")
        return
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--screenshot={png}",
            "--window-size=1400,900",
            svg.as_uri(),
        ],
        check=False,
        capture_output=True,
        timeout=120,
    )


def publish(trial: Trial, pair: Pair, mode: str) -> Path:
    """Copy one comparison's reports into docs/trials/<trial>/<mode>-<base>-<head>/."""
    name = f"release-{pair.head}" if mode == "release" else f"compare-{pair.base}-{pair.head}"
    source = CACHE / "out" / trial.name / name
    target = DOCS / trial.name / f"{mode}-{pair.base}-{pair.head}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in KEPT:
        if (source / name).exists():
            shutil.copyfile(source / name, target / name)
    if (source / "report.json").exists():
        report = json.loads((source / "report.json").read_text())
        report["rows"] = [
            row
            for row in report["rows"]
            if row["status"] == "load"
            or row["tested"]
            or max(row["base_share"] or 0.0, row["head_share"] or 0.0) >= KEEP_SHARE
        ]
        (target / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    if (target / "flamegraph.svg").exists():
        screenshot(target / "flamegraph.svg", target / "flamegraph.png")
    return target


def source_diffs(trial: Trial, pythons: dict[str, Path]) -> dict[str, dict[str, list[str]]]:
    functions = {
        version: srcdiff.package_functions(site_packages(python), list(trial.packages))
        for version, python in pythons.items()
    }
    return {
        f"{pair.base}->{pair.head}": srcdiff.changed_functions(
            functions[pair.base], functions[pair.head]
        )
        for pair in trial.pairs
    }


def run_trial(trial: Trial, config: dict[str, int]) -> None:
    """Everything for one trial except scoring; inputs for the scorer under .trials/out/."""
    pythons = {version: venv_python(trial, version) for version in trial.versions}
    out = CACHE / "out" / trial.name
    truth = ground_truth(trial, pythons, config)
    exits = run_flamediff(trial, pythons, config)
    costs = traced_run_costs(trial)
    for name, cost in costs.items():
        log(f"{name}: {cost}")
    diffs = source_diffs(trial, pythons)
    out.mkdir(parents=True, exist_ok=True)
    (out / "trial.json").write_text(
        json.dumps(
            {
                "config": config,
                "truth": truth,
                "exits": exits,
                "source_diff": diffs,
                "traced_runs": costs,
            },
            indent=1,
            sort_keys=True,
        )
        + "\n"
    )


def main() -> None:
    config = settings()
    only = {name for name in os.environ.get("TRIALS_ONLY", "").split(",") if name}
    trials = [trial for trial in TRIALS if not only or trial.name in only]
    if not FLAMEDIFF.exists():
        sys.exit(f"{FLAMEDIFF} is missing: run `make venv` first")
    for trial in trials:
        if not os.environ.get("TRIALS_SCORE_ONLY"):
            log(f"trial {trial.name}: {' -> '.join(trial.versions)}")
            run_trial(trial, config)
        if (CACHE / "out" / trial.name / "trial.json").exists():
            for pair in trial.pairs:
                for mode in score.MODES:
                    publish(trial, pair, mode)
    # Every trial that has captures is scored, so TRIALS_ONLY re-runs one and keeps the rest.
    results = score.score_all(TRIALS, CACHE / "out", DOCS)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    (DOCS / "summary.md").write_text(score.render_markdown(results))
    print(score.render_table(results))


if __name__ == "__main__":
    main()
