"""`flamediff capture`: run the load under py-spy several times and archive the runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.archive import Archive, utc_now
from flamediff.capture import CapturedRun, capture_runs
from flamediff.capture.metadata import git_state, host_name
from flamediff.capture.pyspy import PySpyRunner, python_version_of
from flamediff.cli.common import ArchiveOption, interrupt_on_sigterm, note, open_archive
from flamediff.cli.progress import progress_reporter
from flamediff.config import Settings
from flamediff.errors import ConfigError
from flamediff.model import ReleaseInfo

RunsOption = Annotated[
    int | None,
    typer.Option(
        "--runs", help="Counted runs (default 8): one run is a coin flip; the test needs >= 5."
    ),
]
WarmupOption = Annotated[
    int | None, typer.Option("--warmup", help="Runs made first and thrown away (default 1).")
]
RateOption = Annotated[
    float | None,
    typer.Option(
        "--rate",
        help="Samples per second (default 500). More samples shrink each function's noise "
        "floor; 500 Hz costs the load about 5%.",
    ),
]
SubprocessesOption = Annotated[
    bool, typer.Option("--subprocesses", help="Also profile child processes of the load.")
]
NativeOption = Annotated[bool, typer.Option("--native", help="Include native (C/C++/Rust) frames.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace a release of the same name.")]
CommandArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="The load: `-- python load.py ARGS`. Default: `load` in [tool.flamediff].",
        show_default=False,
    ),
]


def check_counts(settings: Settings, runs: int | None, warmup: int | None) -> tuple[int, int]:
    counted = settings.runs if runs is None else runs
    warm = settings.warmup if warmup is None else warmup
    if counted < 1:
        raise ConfigError(f"--runs must be at least 1, not {counted}")
    if warm < 0:
        raise ConfigError(f"--warmup cannot be negative, not {warm}")
    return counted, warm


def check_rate(rate: float | None) -> float | None:
    """A sampling rate must be a positive, finite number of samples per second."""
    if rate is not None and not (0 < rate < float("inf")):
        raise ConfigError(f"--rate must be a positive number of samples per second, not {rate}")
    return rate


def release_info(name: str, runner: PySpyRunner, source: str = "capture") -> ReleaseInfo:
    commit, dirty = git_state(Path.cwd())
    return ReleaseInfo(
        name=name,
        created=utc_now(),
        rate_hz=runner.rate_hz,
        command=tuple(runner.command),
        git_commit=commit,
        git_dirty=dirty,
        python_version=python_version_of(runner.command),
        profiler=runner.describe(),
        host=host_name(),
        source=source,
    )


def archive_runs(
    archive: Archive, name: str, info: ReleaseInfo, runs: list[CapturedRun], *, force: bool
) -> None:
    with archive.writer(name, force=force) as writer:
        for run in runs:
            writer.add_run(run.profile, run.info)
        writer.commit(info)


def summary(name: str, runs: list[CapturedRun]) -> str:
    samples = sum(run.info.samples for run in runs)
    walls = sorted(r.info.wall_seconds for r in runs if r.info.wall_seconds is not None)
    wall = f", median wall {walls[len(walls) // 2]:.2f} s" if walls else ""
    return f"archived {name}: {len(runs)} runs, {samples} samples{wall}"


def capture(
    release: Annotated[str, typer.Argument(help="Name of the release, e.g. v1.4.0.")],
    command: CommandArgument = None,
    runs: RunsOption = None,
    warmup: WarmupOption = None,
    rate: RateOption = None,
    subprocesses: SubprocessesOption = False,
    native: NativeOption = False,
    force: ForceOption = False,
    archive: ArchiveOption = None,
) -> None:
    """Run the load under py-spy RUNS times and archive the profiles as RELEASE.

    Nothing is archived unless every run succeeds; Ctrl-C leaves the archive as it was.
    """
    store, settings = open_archive(archive)
    capture_release(store, settings, release, command, runs=runs, warmup=warmup, rate=rate,
                    subprocesses=subprocesses, native=native, force=force)  # fmt: skip


def capture_release(
    store: Archive,
    settings: Settings,
    name: str,
    command: list[str] | None,
    *,
    runs: int | None,
    warmup: int | None,
    rate: float | None,
    subprocesses: bool,
    native: bool,
    force: bool,
) -> None:
    """Capture and archive one release; flags left None come from the settings."""
    counted, warm = check_counts(settings, runs, warmup)
    store.ensure_absent(name, force=force)
    runner = PySpyRunner(
        command or settings.load,
        rate_hz=check_rate(rate) or settings.rate,
        subprocesses=subprocesses,
        native=native,
        label=name,
    )
    try:
        with interrupt_on_sigterm(), progress_reporter(f"capturing {name}") as report:
            captured = capture_runs(runner, runs=counted, warmup=warm, on_progress=report)
            archive_runs(store, name, release_info(name, runner), captured, force=force)
    except KeyboardInterrupt:
        note(f"interrupted: nothing of {name} was archived")
        raise
    note(summary(name, captured))
