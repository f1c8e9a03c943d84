"""`flamediff bisect`: the first commit between two where a function or the load got slower."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.common import echo, interrupt_on_sigterm, note
from flamediff.cli.options import (
    CaptureOptions,
    CommandArgument,
    LineLevelOption,
    MetricOption,
    apply_to,
    grouped,
)
from flamediff.cli.progress import progress_reporter
from flamediff.errors import ConfigError
from flamediff.vocabulary import Metric


@grouped
def bisect(
    good: Annotated[str, typer.Argument(help="A commit before the slowdown (e.g. v1.4.0).")],
    bad: Annotated[str, typer.Argument(help="A later commit that is slower (e.g. HEAD).")],
    command: CommandArgument = None,
    *,
    function: Annotated[
        str | None,
        typer.Option(
            "--function",
            help="Look for the commit that slowed this function (identity, glob or bare "
            "name, e.g. 'apply_discounts*'). Default: anything the gate would block, the "
            "whole load included.",
            show_default=False,
        ),
    ] = None,
    metric: MetricOption = Metric.SELF,
    line_level: LineLevelOption = False,
    options: CaptureOptions,
) -> None:
    """Find the first commit between GOOD and BAD (first-parent history) where a function or
    the whole load got significantly slower.

    Each commit tested is checked out into a temporary git worktree and its load captured
    beside BAD's, interleaved, then judged with the gate's statistics and settings: about
    log2(commits) comparisons of 2 x RUNS runs each. Run it inside the repository; the load's
    relative paths are taken from the same folder of each checkout. Exit 0 with the answer,
    2 on an error.
    """
    from flamediff.capture.runners import make_runner
    from flamediff.cli.capture import how_to_capture
    from flamediff.cli.scenarios import one_stream, selected
    from flamediff.config import load_settings
    from flamediff.pipeline.bisect import Step, report
    from flamediff.pipeline.bisect import bisect as run_bisect
    from flamediff.pipeline.judge import Analysis
    from flamediff.pipeline.remeasure import repository_root

    settings = load_settings()
    if selected() is not None or not command:
        settings = one_stream(settings)
    settings = apply_to(settings, options)
    repository = repository_root(Path.cwd())
    if repository is None:
        raise ConfigError("bisect runs inside a git work tree: cd into the repository")
    subfolder = Path.cwd().resolve().relative_to(repository.resolve())

    def on_step(step: Step) -> None:
        verdict = "before the slowdown" if step.good else "already slower"
        note(f"{step.commit.short} {step.commit.subject}: {verdict} ({step.findings})")

    with interrupt_on_sigterm(), progress_reporter(f"bisecting {good}..{bad}") as on_progress:
        bisection = run_bisect(
            repository, good, bad, command or settings.load, settings,
            how_to_capture(settings, options),
            analysis=Analysis(metric=metric, line_level=line_level), pattern=function,
            subfolder=subfolder, runner_factory=make_runner, on_step=on_step,
            on_progress=on_progress,
        )  # fmt: skip
    echo(report(bisection, bad=bad, pattern=function))
