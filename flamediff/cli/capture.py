"""`flamediff capture`: run the load under the profiler several times and archive the runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated

import typer

from flamediff.archive import Archive
from flamediff.capture.runners import CaptureSettings, make_runner
from flamediff.capture.session import ProgressCallback
from flamediff.cli.common import interrupt_on_sigterm, note
from flamediff.cli.options import ArchiveOption, CaptureOptions, CommandArgument, grouped
from flamediff.cli.progress import progress_reporter
from flamediff.cli.scenarios import ScenarioOption, open_scenarios
from flamediff.config import Settings
from flamediff.errors import ConfigError
from flamediff.model import Release, ReleaseInfo
from flamediff.pipeline.adaptive import FirstLook
from flamediff.pipeline.capture import (
    Captured,
    capture_beside_base,
    capture_release,
    capture_settings,
)
from flamediff.pipeline.remeasure import Remeasure


def how_to_capture(settings: Settings, options: CaptureOptions) -> CaptureSettings:
    return capture_settings(
        settings, profiler=options.profiler, subprocesses=options.subprocesses,
        native=options.native,
    )  # fmt: skip


@contextmanager
def _capturing(name: str, title: str) -> Iterator[ProgressCallback]:
    """Progress on stderr, SIGTERM as Ctrl-C, and a word when an interruption archived nothing."""
    try:
        with interrupt_on_sigterm(), progress_reporter(title) as report:
            yield report
    except KeyboardInterrupt:
        note(f"interrupted: nothing of {name} was archived")
        raise


def capture_one(
    store: Archive, settings: Settings, name: str, command: list[str] | None,
    options: CaptureOptions,
) -> Captured:  # fmt: skip
    """Capture and archive one release, showing progress; Ctrl-C archives nothing."""
    how = how_to_capture(settings, options)
    with _capturing(name, f"capturing {name}") as report:
        captured = capture_release(
            store, name, command or settings.load, how, force=options.force,
            runner_factory=make_runner, on_progress=report,
        )  # fmt: skip
    note(captured.summary())
    return captured


def capture_beside(
    store: Archive, settings: Settings, name: str, command: Sequence[str], base: ReleaseInfo,
    remeasure: Remeasure, options: CaptureOptions, look: FirstLook | None = None,
) -> tuple[Release, str | None]:  # fmt: skip
    """Capture NAME interleaved with the base run again; archive NAME. Returns the base as
    measured, and why the capture grew past its first runs (None if it did not)."""
    how = how_to_capture(settings, options)
    with _capturing(name, f"capturing {name} beside {base.name}") as report:
        captured, remeasured = capture_beside_base(
            store, name, command, base, remeasure, how, force=options.force,
            runner_factory=make_runner, on_progress=report, look=look,
        )  # fmt: skip
    note(captured.summary())
    if captured.extended is not None:
        note(captured.extended)
    return remeasured, captured.extended


@grouped
def capture(
    release: Annotated[str, typer.Argument(help="Name of the release, e.g. v1.4.0.")],
    command: CommandArgument = None,
    *,
    options: CaptureOptions,
    archive: ArchiveOption = None,
    scenario: ScenarioOption = None,
) -> None:
    """Run the load under py-spy RUNS times and archive the profiles as RELEASE.

    With scenarios, each scenario's load is captured into its own archive. Nothing is
    archived unless every run succeeds; Ctrl-C leaves the archive as it was.
    """
    chosen = open_scenarios(archive, scenario, options)
    if command and len(chosen) > 1:
        raise ConfigError("a command after -- is one load: choose its scenario with --scenario")
    for each, store in chosen:
        if each.name is not None:
            note(f"scenario {each.name}")
        capture_one(store, each.settings, release, command, options)
