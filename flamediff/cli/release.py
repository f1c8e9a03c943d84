"""`flamediff release`: the one pipeline step: capture, compare with the previous release,
write the reports, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.capture import capture_runs
from flamediff.capture.pyspy import PySpyRunner
from flamediff.cli.capture import (
    CommandArgument,
    ForceOption,
    NativeOption,
    RateOption,
    RunsOption,
    SubprocessesOption,
    WarmupOption,
    archive_runs,
    check_counts,
    check_rate,
    release_info,
    summary,
)
from flamediff.cli.common import (
    ArchiveOption,
    LineLevelOption,
    interrupt_on_sigterm,
    note,
    open_archive,
)
from flamediff.cli.gating import (
    AlphaOption,
    BlockOption,
    GateFlags,
    HotOption,
    JustifyFileOption,
    JustifyOption,
    MarkdownOption,
    MinShareOption,
    WarnOption,
    no_baseline,
    run_gate,
)
from flamediff.cli.progress import progress_reporter
from flamediff.cli.report import Metric, MetricOption, NormaliseOption, NoStatsOption


def release(
    name: Annotated[str, typer.Argument(help="Name of the new release, e.g. v1.5.0.")],
    command: CommandArgument = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for report.md, report.json, flamegraph.svg, delta.png and report.html.",
        ),
    ] = Path("flamediff-report"),
    runs: RunsOption = None,
    warmup: WarmupOption = None,
    rate: RateOption = None,
    subprocesses: SubprocessesOption = False,
    native: NativeOption = False,
    force: ForceOption = False,
    block: BlockOption = None,
    warn: WarnOption = None,
    alpha: AlphaOption = None,
    min_share: MinShareOption = None,
    hot: HotOption = None,
    justify: JustifyOption = None,
    justify_file: JustifyFileOption = None,
    markdown: MarkdownOption = None,
    metric: MetricOption = Metric.self_time,
    normalize: NormaliseOption = None,
    no_stats: NoStatsOption = False,
    line_level: LineLevelOption = False,
    archive: ArchiveOption = None,
) -> None:
    """Capture NAME, compare it with the release before it, write the reports, and gate.

    The first release ever is captured and reported as "no baseline" (exit 0).
    Exit 0 pass, 1 blocked, 2 error.
    """
    store, settings = open_archive(archive)
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
    base = store.previous(name)
    if base is None:
        raise typer.Exit(no_baseline(name, out=out))
    flags = GateFlags(block, warn, alpha, min_share, hot, justify, justify_file, markdown,
                      metric, normalize, no_stats, line_level)  # fmt: skip
    raise typer.Exit(run_gate(store, settings, base, name, flags, out=out))
