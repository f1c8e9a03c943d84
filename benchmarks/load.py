"""flamediff's own load, for ``make profile-self``: the benchmarks' hot paths, once each, in order.

A fixed amount of work (not a fixed duration), so that code that got slower takes more samples
and shows up in the diff exactly as a regression in a user's load would. The inputs are the
benchmarks' generated files (see benchmarks/data.py), made before the first run.

Run as ``python -m benchmarks.load``; ``--prepare`` only generates the inputs.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import data
from flamediff.analysis.compare import CompareOptions, compare
from flamediff.archive import Archive
from flamediff.formats import read_profiles, write_diff_folded
from flamediff.model import RunInfo, merge
from flamediff.processors import normalise
from flamediff.render.flamegraph import render_diff_svg, render_flamegraph_svg


def prepare() -> tuple[tuple[Path, Path], dict[str, list[Path]]]:
    return data.pair(), data.release_files()


def work() -> None:
    (base_file, head_file), files = prepare()
    # Parse: the two folded files of the pair, then every run of both releases.
    base, head = (read_profiles(path)[0][1] for path in (base_file, head_file))
    runs = {side: [read_profiles(path)[0][1] for path in files[side]] for side in files}
    # Archive: write the pair as a release and read it back, through the run cache.
    with tempfile.TemporaryDirectory() as folder:
        archive = Archive(Path(folder))
        with archive.writer("base") as writer:
            writer.add_run(base, RunInfo(base.total))
            writer.commit(data.as_release("base", [base]).info)
        archive.load("base")
    # Aggregate and statistics: normalise every run, compare the releases with the test.
    base_release, head_release = (
        data.as_release(side, [normalise(profile) for profile in runs[side]])
        for side in ("base", "head")
    )
    compare(base_release, head_release, CompareOptions())
    # Render: the differential graph of the pair and the plain graph of a release.
    base, head = normalise(base), normalise(head)
    render_diff_svg(
        base, head, base_name="base", head_name="head", base_runs=1, head_runs=1, rate_hz=100.0
    )
    render_flamegraph_svg(
        merge(head_release.profiles), title="head", runs=len(head_release.profiles), rate_hz=100.0
    )
    write_diff_folded(base, head)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--prepare", action="store_true", help="only generate the inputs")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare()
    else:
        work()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
