"""Measure flamediff against the tools it is compared with, on the same generated input, in one run.

The anchors of the performance issue, each beside flamediff's own figure and the target:

- ``difffolded.pl A B | flamegraph.pl`` (FlameGraph, Perl) and inferno's renderer (Rust, through
  PyPI's ``pyinferno``) against ``flamediff diff BASE HEAD --svg out.svg --format markdown`` on
  two archived releases of one run of 100,000 unique stacks each (about 150 MB of text each);
- ``gzip`` of the 150 MB file against ``flamediff import`` of it;
- ``flamediff diff`` with statistics on two releases of 8 runs x 20,000 stacks;
- the SVG's size, ``flamediff --help`` and ``flamediff list`` on a 100-release archive.

Every command runs as a child process, measured by ``wait4``: wall time, CPU time (user + system,
which a busy machine inflates far less than wall time) and peak resident memory. Ratios compare
figures taken minutes apart in the same run, never with another day's.

FlameGraph's scripts are not shipped with flamediff: give their folder with ``--flamegraph DIR``
or ``$FLAMEGRAPH_DIR`` (a checkout of github.com/brendangregg/FlameGraph). Without them, or
without ``pyinferno``, that anchor is reported as unavailable and the rest still runs.

Usage::

    python -m benchmarks.anchors [--flamegraph DIR] [--stacks 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import data
from flamediff.formats import write_diff_folded

PYTHON = sys.executable
FLAMEDIFF = [PYTHON, "-m", "flamediff"]


def flamediff(*args: str | int | Path) -> list[str]:
    return [*FLAMEDIFF, *map(str, args)]


OUT = data.DATA / "anchors"


@dataclass(frozen=True, slots=True)
class Measure:
    """One command's cost: seconds of wall and CPU time, peak RSS in MB."""

    wall_s: float
    cpu_s: float
    rss_mb: float

    @staticmethod
    def best(measures: Sequence[Measure]) -> Measure:
        # The least disturbed repetition: other processes only ever add time.
        return min(measures, key=lambda measure: measure.cpu_s)


def run(
    command: Sequence[str], *, stdout: Path | None = None, stdin: Path | None = None
) -> Measure:
    """Run ``command`` to completion and measure it alone (not the processes before it)."""
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    inp = stdin.open("rb") if stdin else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stdin=inp, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
        if stdin:
            inp.close()  # type: ignore[union-attr]
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {errors[-2000:]}")
    # ru_maxrss is in KiB on Linux.
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def repeat(times: int, command: Sequence[str], **kwargs: Path) -> Measure:
    return Measure.best([run(command, **kwargs) for _ in range(times)])


def find_flamegraph(folder: Path | None) -> tuple[Path, Path] | None:
    candidates = [folder] if folder else []
    if os.environ.get("FLAMEGRAPH_DIR"):
        candidates.append(Path(os.environ["FLAMEGRAPH_DIR"]))
    for where in candidates:
        scripts = where / "difffolded.pl", where / "flamegraph.pl"
        if all(script.is_file() for script in scripts):
            return scripts
    found = shutil.which("difffolded.pl"), shutil.which("flamegraph.pl")
    if found[0] and found[1]:
        return Path(found[0]), Path(found[1])
    return None


# The render alone, as the anchor was taken: reading the lines is not inferno's work.
_INFERNO = """
import sys, time, resource
from pyinferno import flamegraph_from_lines
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
cpu = time.process_time(); wall = time.perf_counter()
svg = flamegraph_from_lines(lines, "diff")
print(time.perf_counter() - wall, time.process_time() - cpu, len(svg))
"""

_NAIVE_PARSE = """
import sys, time
cpu = time.process_time(); wall = time.perf_counter()
for path in sys.argv[1:]:
    counts = {}
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            stack, _, count = line.rpartition(" ")
            counts[stack] = counts.get(stack, 0) + int(count)
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


def timed_inside(code: str, *args: str) -> tuple[float, float, list[str]]:
    """Wall and CPU seconds a Python snippet measured around its own core, and the rest."""
    result = subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True, check=True)
    wall, cpu, *rest = result.stdout.split()
    return float(wall), float(cpu), rest


def build_release_archive(archive: Path, runs: int, stacks: int, seed: int) -> None:
    files = data.release_files(runs, stacks, seed)
    for side in ("base", "head"):
        if not (archive / side).is_dir():
            run(flamediff("import", side, *files[side], "--rate", 100, "--archive", archive))


def build_many_releases(archive: Path, releases: int) -> None:
    from flamediff.archive import Archive
    from flamediff.model import Profile, ReleaseInfo, RunInfo

    store = Archive(archive)
    if len(store.names()) >= releases:
        return
    profile = Profile({("main (app.py:1)", "work (app.py:5)"): 7, ("main (app.py:1)",): 2})
    for index in range(len(store.names()), releases):
        name = f"v{index:03d}"
        with store.writer(name) as writer:
            for _ in range(8):
                writer.add_run(profile, RunInfo(profile.total, 1.0, 0))
            writer.commit(ReleaseInfo(name=name, created="2026-01-01T00:00:00Z", rate_hz=100.0))


@dataclass(frozen=True, slots=True)
class Row:
    step: str
    anchor: str
    anchor_measure: Measure | None
    flamediff_measure: Measure | None
    target: str
    verdict: str


def _cell(measure: Measure | None) -> str:
    if measure is None:
        return "unavailable"
    # inferno is timed inside its process, around the render alone: its RSS is not its own.
    rss = "-" if math.isnan(measure.rss_mb) else f"{measure.rss_mb:.0f} MB"
    return f"{measure.wall_s:.2f} s ({measure.cpu_s:.2f} s CPU), {rss}"


def markdown(rows: Sequence[Row], notes: Sequence[str]) -> str:
    lines = [
        "| step | anchor | anchor: wall (CPU), peak RSS | flamediff: wall (CPU), peak RSS "
        "| target | measured |",
        "|:--|:--|--:|--:|:--|:--|",
    ]
    for row in rows:
        lines.append(
            f"| {row.step} | {row.anchor} | {_cell(row.anchor_measure)} "
            f"| {_cell(row.flamediff_measure)} | {row.target} | {row.verdict} |"
        )
    return "\n".join([*lines, "", *notes]) + "\n"


def _ratio(anchor: Measure, ours: Measure) -> str:
    return f"{anchor.cpu_s / ours.cpu_s:.1f}x (CPU), {anchor.wall_s / ours.wall_s:.1f}x (wall)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.anchors", description=__doc__)
    parser.add_argument("--flamegraph", type=Path, help="folder with FlameGraph's Perl scripts")
    parser.add_argument("--stacks", type=int, default=data.ANCHOR_STACKS)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step; the best counts")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    base_file, head_file = data.pair(args.stacks, data.ANCHOR_SEED)
    size_mb = base_file.stat().st_size / 1e6
    rows: list[Row] = []
    notes = [
        f"Input: `python -m benchmarks.generate pair --stacks {args.stacks} "
        f"--seed {data.ANCHOR_SEED}`: two folded files of {args.stacks:,} unique stacks, "
        f"{size_mb:.0f} MB each; `releases --runs {data.RELEASE_RUNS} "
        f"--stacks {data.RELEASE_STACKS} --seed {data.RELEASE_SEED}` for the statistics row.",
        f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
        f"best of {args.repeat} per step. CPU = user + system time of the process.",
    ]

    # --- import: flamediff import of the 150 MB file, against gzip -6 of the same file ---
    archive = out / "archive"
    shutil.rmtree(archive, ignore_errors=True)
    gzip = repeat(args.repeat, ["gzip", "-6", "-c", str(base_file)])
    imports = []
    for side, path in (("base", base_file), ("head", head_file)):
        imports.append(run(flamediff("import", side, path, "--rate", 100, "--archive", archive)))
    ours = imports[0]
    rows.append(
        Row(
            f"import one {size_mb:.0f} MB folded file",
            "`gzip -6` of the same file",
            gzip,
            ours,
            "no slower than gzip",
            f"{_ratio(gzip, ours)} faster",
        )
    )

    # --- the diff of the 100k pair ---
    svg = out / "flamediff.svg"
    diff = flamediff("diff", "base", "head", "--no-stats", "--svg", svg, "--format", "markdown")
    ours = repeat(args.repeat, [*diff, "--archive", str(archive)], stdout=out / "flamediff.md")
    perl: Measure | None = None
    scripts = find_flamegraph(args.flamegraph)
    if scripts is not None:
        difffolded, flamegraph = scripts
        diff_folded = out / "perl.diff.folded"
        perl_diff = ["perl", str(difffolded), str(base_file), str(head_file)]
        first = repeat(args.repeat, perl_diff, stdout=diff_folded)
        second = repeat(
            args.repeat, ["perl", str(flamegraph), str(diff_folded)], stdout=out / "perl.svg"
        )
        peak = max(first.rss_mb, second.rss_mb)
        perl = Measure(first.wall_s + second.wall_s, first.cpu_s + second.cpu_s, peak)
        notes.append(
            f"Perl pipeline: difffolded.pl {_cell(first)}; flamegraph.pl {_cell(second)} "
            "(run one after the other through a file; peak RSS is the larger of the two)."
        )
    rows.append(
        Row(
            f"diff + SVG + Markdown, 1 run x {args.stacks:,} stacks per release",
            "`difffolded.pl A B`, then `flamegraph.pl`",
            perl,
            ours,
            ">= 5x faster, less memory",
            _ratio(perl, ours) + " faster" if perl else "anchor unavailable",
        )
    )
    inferno: Measure | None = None
    # inferno renders what difffolded.pl writes: the raw stacks of both files, one line each.
    folded_for_inferno = out / "pair.diff.folded"
    if not folded_for_inferno.is_file():
        raw_diff = write_diff_folded(data.read_one(base_file), data.read_one(head_file))
        folded_for_inferno.write_text(raw_diff, encoding="utf-8")
    try:
        wall, cpu, _ = timed_inside(_INFERNO, str(folded_for_inferno))
        inferno = Measure(wall, cpu, float("nan"))
    except subprocess.CalledProcessError:
        notes.append("inferno: pyinferno is not installed (`pip install pyinferno`).")
    rows.append(
        Row(
            "the same",
            "inferno's render alone (pyinferno)",
            inferno,
            ours,
            "within 2x",
            f"{ours.cpu_s / inferno.cpu_s:.1f}x inferno's CPU time" if inferno else "unavailable",
        )
    )
    wall, cpu, _ = timed_inside(_NAIVE_PARSE, str(base_file), str(head_file))
    notes.append(
        f"For scale: a naive Python parse of both files into dicts of text takes {wall:.2f} s "
        f"({cpu:.2f} s CPU) here; flamediff's import of one file, {imports[0].cpu_s:.2f} s CPU, "
        "includes parsing it into frames, checking it, sorting and compressing it."
    )
    svg_mb = svg.stat().st_size / 1e6
    perl_svg = f" (flamegraph.pl: {(out / 'perl.svg').stat().st_size / 1e6:.1f} MB)" if perl else ""
    rows.append(
        Row(
            "SVG size (default `--minwidth 0.1`)",
            "flamegraph.pl's SVG" if perl else "-",
            None,
            None,
            "a few MB at most",
            f"{svg_mb:.2f} MB{perl_svg}",
        )
    )

    # --- 8 runs x 20k stacks per release, with statistics ---
    releases = data.DATA / f"archive-{data.RELEASE_RUNS}x{data.RELEASE_STACKS}"
    build_release_archive(releases, data.RELEASE_RUNS, data.RELEASE_STACKS, data.RELEASE_SEED)
    diff = flamediff("diff", "--svg", out / "releases.svg", "--format", "markdown")
    ours = repeat(args.repeat, [*diff, "--archive", str(releases)], stdout=out / "releases.md")
    rows.append(
        Row(
            f"diff with statistics, {data.RELEASE_RUNS} runs x {data.RELEASE_STACKS:,} stacks",
            "-",
            None,
            ours,
            "under a few seconds",
            f"{ours.wall_s:.1f} s",
        )
    )

    # --- interactive commands ---
    many = data.DATA / "archive-100-releases"
    build_many_releases(many, 100)
    help_measure = repeat(max(args.repeat, 3), flamediff("--help"))
    list_measure = repeat(max(args.repeat, 3), flamediff("list", "--archive", many))
    for step, measure in (
        ("`flamediff --help`", help_measure),
        ("`flamediff list`, 100 releases", list_measure),
    ):
        rows.append(Row(step, "-", None, measure, "interactive", f"{measure.wall_s * 1000:.0f} ms"))

    text = markdown(rows, notes)
    (out / "anchors.md").write_text(text, encoding="utf-8")
    (out / "anchors.json").write_text(
        json.dumps([asdict(row) for row in rows], indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
