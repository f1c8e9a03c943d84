"""The gate as every pipeline command runs it: `gate`, `compare` and `release`.

The options are declared once here and reused by each command's signature, so the three
commands take the same flags with the same meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flamediff.archive import Archive
from flamediff.cli.common import echo, note, write_output
from flamediff.cli.report import (
    REPORT_ROWS,
    Metric,
    Normalisation,
    ReportFormat,
    append_step_summary,
    comparison_of,
    exit_code_of,
    gate_and_record,
    load_pair,
    policy_of,
    read_justification,
    render_report,
    write_reports,
)
from flamediff.config import Settings
from flamediff.errors import AnalysisError

if TYPE_CHECKING:
    import pandas as pd

BlockOption = Annotated[
    float | None,
    typer.Option("--block", help="Block at this slowdown (fraction; default 0.10 = +10%).",
                 show_default=False),
]  # fmt: skip
WarnOption = Annotated[
    float | None,
    typer.Option("--warn", help="Warn at this slowdown (default 0.03).", show_default=False),
]
AlphaOption = Annotated[
    float | None,
    typer.Option("--alpha", help="False discovery rate of the test (default 0.05).",
                 show_default=False),
]  # fmt: skip
MinShareOption = Annotated[
    float | None,
    typer.Option("--min-share", help="Functions below this share of the release never block "
                 "(default 0.01).", show_default=False),
]  # fmt: skip
HotOption = Annotated[
    list[str] | None,
    typer.Option("--hot", help="Glob of hot-path functions; repeat it. Where given, only "
                 "these block; the others warn."),
]  # fmt: skip
JustifyOption = Annotated[
    str | None,
    typer.Option("--justify", help="Accept a blocked release with this written reason; it is "
                 "recorded with the head release and shown in every later report."),
]  # fmt: skip
JustifyFileOption = Annotated[
    Path | None,
    typer.Option("--justify-file", help="The same, with the reason read from a file."),
]
MarkdownOption = Annotated[
    Path | None, typer.Option("--markdown", help="Also write the Markdown report here.")
]


@dataclass(frozen=True, slots=True)
class GateFlags:
    """The gate's command-line flags; None means "from [tool.flamediff] or the default"."""

    block: float | None = None
    warn: float | None = None
    alpha: float | None = None
    min_share: float | None = None
    hot: list[str] | None = None
    justify: str | None = None
    justify_file: Path | None = None
    markdown: Path | None = None
    metric: Metric = Metric.self_time
    normalize: Normalisation | None = None
    no_stats: bool = False
    line_level: bool = False


def run_gate(
    store: Archive,
    settings: Settings,
    base_name: str,
    head_name: str,
    flags: GateFlags,
    *,
    out: Path | None = None,
    side_by_side: bool = False,
) -> int:
    """Compare, decide, record an accepted reason, print and write the reports; the exit code.

    The reason is read first, so an empty one is refused before anything is computed.
    ``side_by_side``: base and head were just captured interleaved, so the whole load's
    absolute change is the code's and may block.
    """
    reason = read_justification(flags.justify, flags.justify_file)
    policy = policy_of(settings, block=flags.block, warn=flags.warn, alpha=flags.alpha,
                       min_share=flags.min_share, hot=flags.hot,
                       block_load=side_by_side)  # fmt: skip
    pair = load_pair(store, base_name, head_name, line_level=flags.line_level)
    comparison = comparison_of(
        pair, settings, metric=flags.metric, normalisation=flags.normalize,
        no_stats=flags.no_stats, alpha=policy.alpha, min_share=policy.min_share,
    )  # fmt: skip
    if not flags.no_stats:
        refuse_blind_gate(comparison, policy.alpha)
    result = gate_and_record(store, pair, comparison, policy, reason)
    text = render_report(comparison, result, ReportFormat.markdown, top=REPORT_ROWS)
    echo(text)
    append_step_summary(text)
    if flags.markdown is not None:
        write_output(flags.markdown, text)
    if out is not None:
        for path in write_reports(out, comparison, result, pair):
            note(f"wrote {path}")
    return exit_code_of(result)


def refuse_blind_gate(comparison: pd.DataFrame, alpha: float) -> None:
    """Refuse to pass a release the test could not have blocked whatever its change.

    With n runs per side the exact test's smallest p-value is 2 / C(2n, n); after
    Benjamini-Hochberg over m functions a lone regression needs m * p_min <= alpha. When even
    that cannot hold, a pass would be a false promise: exit 2 and say how many runs it takes.
    """
    from flamediff.analysis.stats import min_two_sided_p

    n_base, n_head = int(comparison.attrs["n_base"]), int(comparison.attrs["n_head"])
    family = int(comparison.loc[comparison["status"] != "load", "tested"].sum())
    smallest = min_two_sided_p(n_base, n_head)
    if family == 0 or smallest * family <= alpha:
        return
    needed = next(n for n in range(2, 64) if min_two_sided_p(n, n) * family <= alpha)
    raise AnalysisError(
        f"the gate cannot decide: with {n_base} and {n_head} runs the smallest possible "
        f"p-value is {smallest:.3g}, too large to survive the correction over {family} tested "
        f"functions at alpha {alpha:g}; capture at least {needed} runs per release, or pass "
        "--no-stats to gate on thresholds alone (it then warns but never blocks)"
    )


def no_baseline(head_name: str, *, out: Path | None = None) -> int:
    """The first release ever: nothing to compare with, so nothing can block."""
    text = (
        f"### {head_name}: no baseline\n\n"
        f"{head_name} is the first release in the archive; it is the baseline of the next one.\n"
    )
    echo(text)
    append_step_summary(text)
    if out is not None:
        write_output(out / "report.md", text)
    return 0
