"""`flamediff compare`: capture base and head alternately in one job, then gate.

Comparing against a profile captured on another day or machine is the largest source of false
alarms; re-measuring the base beside the head, interleaved, makes drift hit both alike.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from flamediff.capture import capture_interleaved
from flamediff.capture.pyspy import PySpyRunner
from flamediff.cli.capture import (
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
    run_gate,
)
from flamediff.cli.progress import progress_reporter
from flamediff.cli.report import Metric, MetricOption, NormaliseOption, NoStatsOption
from flamediff.errors import ConfigError


def split_command(text: str, option: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise ConfigError(f"{option}: {error}") from None
    if not words:
        raise ConfigError(f"{option} is empty")
    return words


def compare(
    base: Annotated[str, typer.Argument(help="Name to archive the base's runs under.")],
    head: Annotated[str, typer.Argument(help="Name to archive the head's runs under.")],
    base_cmd: Annotated[
        str,
        typer.Option(
            "--base-cmd",
            help="The load of the base, e.g. "
            "'python old/bench/load.py' (one string, split like a shell).",
        ),
    ],
    head_cmd: Annotated[str, typer.Option("--head-cmd", help="The load of the head.")],
    runs: RunsOption = None,
    warmup: WarmupOption = None,
    rate: RateOption = None,
    subprocesses: SubprocessesOption = False,
    native: NativeOption = False,
    force: ForceOption = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the reports into this folder.")
    ] = None,
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
    """Capture BASE and HEAD interleaved (ABBA ...) on this machine, archive both, and gate.

    Exit 0 pass, 1 blocked, 2 error: the same as `flamediff gate`.
    """
    store, settings = open_archive(archive)
    counted, warm = check_counts(settings, runs, warmup)
    if base == head:
        raise ConfigError("base and head need different names")
    for name in (base, head):
        store.ensure_absent(name, force=force)
    sampling = check_rate(rate) or settings.rate
    runners = [
        PySpyRunner(split_command(text, option), rate_hz=sampling, subprocesses=subprocesses,
                    native=native, label=name)
        for name, text, option in ((base, base_cmd, "--base-cmd"), (head, head_cmd, "--head-cmd"))
    ]  # fmt: skip
    try:
        with interrupt_on_sigterm(), progress_reporter(f"{base} vs {head}") as report:
            base_runs, head_runs = capture_interleaved(
                runners[0], runners[1], runs=counted, warmup=warm, on_progress=report
            )
            archive_runs(store, base, release_info(base, runners[0]), base_runs, force=force)
            archive_runs(store, head, release_info(head, runners[1]), head_runs, force=force)
    except KeyboardInterrupt:
        note(f"interrupted: neither {base} nor {head} was archived")
        raise
    note(summary(base, base_runs))
    note(summary(head, head_runs))
    flags = GateFlags(block, warn, alpha, min_share, hot, justify, justify_file, markdown,
                      metric, normalize, no_stats, line_level)  # fmt: skip
    raise typer.Exit(run_gate(store, settings, base, head, flags, out=out, side_by_side=True))
