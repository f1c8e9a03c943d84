"""`flamediff release`: the one pipeline step: capture, compare with the previous release,
write the reports, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.capture import (
    CommandArgument,
    ForceOption,
    NativeOption,
    RateOption,
    RunsOption,
    SubprocessesOption,
    WarmupOption,
    capture_release,
)
from flamediff.cli.common import ArchiveOption, LineLevelOption, open_archive
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
    capture_release(store, settings, name, command, runs=runs, warmup=warmup, rate=rate,
                    subprocesses=subprocesses, native=native, force=force)  # fmt: skip
    base = store.previous(name)
    if base is None:
        raise typer.Exit(no_baseline(name, out=out))
    flags = GateFlags(block, warn, alpha, min_share, hot, justify, justify_file, markdown,
                      metric, normalize, no_stats, line_level)  # fmt: skip
    raise typer.Exit(run_gate(store, settings, base, name, flags, out=out))
