"""What `diff`, `gate`, `compare` and `release` share: picking the pair, comparing, gating,
and writing the reports where people read them.

Heavy libraries (pandas, scipy, matplotlib) are imported inside the functions, so that
importing the CLI stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from flamediff.archive import Archive, utc_now
from flamediff.cli.common import load_for_analysis, note, terminal_width, use_colour, write_output
from flamediff.config import Settings
from flamediff.errors import ConfigError
from flamediff.model import Justification, Release

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GatePolicy, GateResult


# Function rows in the reports people read (terminal, Markdown, HTML); JSON and CSV keep all.
REPORT_ROWS = 20


class ReportFormat(StrEnum):
    table = "table"
    markdown = "markdown"
    json = "json"
    csv = "csv"


class Metric(StrEnum):
    self_time = "self"
    total_time = "total"


class Normalisation(StrEnum):
    median_ratio = "median-ratio"
    share = "share"
    absolute = "absolute"


class SortKey(StrEnum):
    impact = "impact"
    delta = "delta"
    share = "share"
    q = "q"
    name = "name"


BaseArgument = Annotated[
    str | None,
    typer.Argument(help="Base release. Default: the release captured before HEAD."),
]
HeadArgument = Annotated[
    str | None, typer.Argument(help="Head release. Default: the newest release.")
]
MetricOption = Annotated[
    Metric,
    typer.Option(
        "--metric",
        help="self: time in the function's own code, so a regression lands on the function "
        "that changed; total: inclusive time, which also moves every caller.",
    ),
]
NormaliseOption = Annotated[
    Normalisation | None,
    typer.Option(
        "--normalize",
        help="median-ratio (default): scale each run by the median ratio over the functions "
        "that did not change, so a slower machine is not blamed on the code; share: fraction "
        "of each run; absolute: seconds per run, right only for side-by-side captures "
        "(`flamediff compare`).",
        show_default=False,
    ),
]
NoStatsOption = Annotated[
    bool,
    typer.Option(
        "--no-stats",
        help="Compare with fewer runs than the test needs: deltas only, nothing is "
        "significant, and the gate can warn but never block.",
    ),
]


@dataclass(frozen=True, slots=True)
class Pair:
    base: Release
    head: Release


def resolve_names(archive: Archive, base: str | None, head: str | None) -> tuple[str | None, str]:
    """(base, head) names; base is None when head is the first release ever."""
    head_name = head if head is not None else archive.latest()
    archive.info(head_name)  # a precise error for an unknown head
    if base is None:
        return archive.previous(head_name), head_name
    archive.info(base)
    if base == head_name:
        raise ConfigError(f"base and head are the same release {base!r}")
    return base, head_name


def load_pair(archive: Archive, base: str, head: str, *, line_level: bool) -> Pair:
    return Pair(
        load_for_analysis(archive, base, line_level=line_level),
        load_for_analysis(archive, head, line_level=line_level),
    )


def comparison_of(
    pair: Pair,
    settings: Settings,
    *,
    metric: Metric = Metric.self_time,
    normalisation: Normalisation | None = None,
    no_stats: bool = False,
    alpha: float | None = None,
    min_share: float | None = None,
) -> pd.DataFrame:
    """The full comparison frame (no view applied): what the gate and every report read."""
    from flamediff.analysis.compare import CompareOptions, compare

    options = CompareOptions(
        metric=metric.value,
        normalisation=(normalisation or Normalisation(settings_normalisation(settings))).value,
        alpha=settings.alpha if alpha is None else alpha,
        min_share=settings.min_share if min_share is None else min_share,
        no_stats=no_stats,
    )
    return compare(pair.base, pair.head, options)


def settings_normalisation(settings: Settings) -> str:
    value = settings.normalize
    if value not in {n.value for n in Normalisation}:
        raise ConfigError(
            f"tool.flamediff.normalize must be median-ratio, share or absolute, not {value!r}"
        )
    return value


def policy_of(
    settings: Settings,
    *,
    block: float | None = None,
    warn: float | None = None,
    alpha: float | None = None,
    min_share: float | None = None,
    hot: list[str] | None = None,
    today: date | None = None,
    block_load: bool = False,
) -> GatePolicy:
    from flamediff.gate import GatePolicy, Waiver

    return GatePolicy(
        block_load=block_load,
        block=settings.block if block is None else block,
        warn=settings.warn if warn is None else warn,
        alpha=settings.alpha if alpha is None else alpha,
        min_share=settings.min_share if min_share is None else min_share,
        hot=tuple(hot) if hot else settings.hot,
        waivers=tuple(
            Waiver(w.function, w.max_regression, w.reason, w.expires) for w in settings.waivers
        ),
        today=today or date.today(),
    )


def recorded_justification(head: Release, base_name: str) -> str | None:
    """The latest reason recorded for accepting ``head`` against ``base_name``."""
    reasons = [j.reason for j in head.info.justifications if j.base == base_name]
    return reasons[-1] if reasons else None


def read_justification(text: str | None, path: Path | None) -> str | None:
    """The reason given with --justify or --justify-file; an empty one is refused."""
    if text is not None and path is not None:
        raise ConfigError("give --justify or --justify-file, not both")
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: cannot read the justification: {error}") from None
    if text is None:
        return None
    reason = " ".join(text.split())
    if not reason:
        raise ConfigError("the justification is empty: write why this regression is acceptable")
    return reason


def gate_and_record(
    archive: Archive,
    pair: Pair,
    comparison: pd.DataFrame,
    policy: GatePolicy,
    new_reason: str | None,
) -> GateResult:
    """Evaluate the gate; a new reason that accepts a block is recorded with the head."""
    from flamediff.gate import evaluate

    earlier = recorded_justification(pair.head, pair.base.name)
    result = evaluate(comparison, policy, justification=new_reason or earlier)
    if new_reason is not None:
        if result.verdict == "accepted":
            archive.add_justification(
                pair.head.name, Justification(pair.base.name, new_reason, utc_now())
            )
            note(f"accepted {pair.head.name} against {pair.base.name}; the reason is recorded")
        else:
            note("nothing blocked, so there was nothing to accept: the reason was not recorded")
    return result


def render_report(
    comparison: pd.DataFrame,
    result: GateResult | None,
    output_format: ReportFormat,
    *,
    sort: SortKey = SortKey.impact,
    top: int | None = None,
    pattern: str | None = None,
) -> str:
    """The comparison, viewed (sorted, cut, filtered), in the requested format."""
    from flamediff.analysis.compare import view
    from flamediff.render import tables

    shown = view(comparison, sort=sort.value, top=top, pattern=pattern)
    if output_format is ReportFormat.markdown:
        return tables.render_markdown(shown, result)
    if output_format is ReportFormat.json:
        return tables.render_json(shown, result)
    if output_format is ReportFormat.csv:
        return tables.render_csv(shown)
    return tables.render_terminal(shown, result, color=use_colour(), width=terminal_width())


def append_step_summary(markdown: str) -> None:
    """GitHub Actions shows $GITHUB_STEP_SUMMARY on the run's page; append, never replace."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as error:
        note(f"warning: cannot append to $GITHUB_STEP_SUMMARY ({target}): {error.strerror}")


def exit_code_of(result: GateResult) -> int:
    return 1 if result.blocked else 0


def write_reports(
    folder: Path, comparison: pd.DataFrame, result: GateResult | None, pair: Pair
) -> list[Path]:
    """The release reports: Markdown and JSON, plus the pictures where they can be drawn.

    People read the top of the table (as many rows as the terminal report shows); machines get
    every function in report.json.
    """
    from flamediff.analysis.compare import view
    from flamediff.render import tables

    written = []
    shown = view(comparison, top=REPORT_ROWS)
    markdown = tables.render_markdown(shown, result)
    extras = write_pictures(folder, pair, comparison, result)
    if extras:
        # Relative links, so the folder can be moved, zipped or attached as a whole.
        links = "\n".join(
            f"- [{_PICTURE_TITLES.get(path.name, path.name)}]({path.name})" for path in extras
        )
        markdown = f"{markdown.rstrip()}\n\n{links}\n"
    for name, text in (
        ("report.md", markdown),
        ("report.json", tables.render_json(comparison, result)),
    ):
        write_output(folder / name, text)
        written.append(folder / name)
    return written + extras


_PICTURE_TITLES = {
    "flamegraph.svg": "Differential flame graph (SVG: open it in a browser to zoom and search)",
    "delta.png": "Largest changes (chart)",
    "report.html": "The whole report as one page (HTML)",
}


def diff_svg(
    pair: Pair,
    comparison: pd.DataFrame,
    *,
    negate: bool = False,
    min_width: float = 0.1,
    colour_by: Literal["self", "total"] = "self",
) -> str:
    """The differential flame graph of the pair, normalised as the comparison was."""
    from flamediff.model import merge
    from flamediff.render.flamegraph import render_diff_svg

    return render_diff_svg(
        merge(pair.base.profiles),
        merge(pair.head.profiles),
        base_name=pair.base.name,
        head_name=pair.head.name,
        base_runs=len(pair.base.profiles),
        head_runs=len(pair.head.profiles),
        rate_hz=pair.head.info.rate_hz,
        normalize=comparison.attrs.get("normalisation") != "absolute",
        negate=negate,
        min_width=min_width,
        colour_by=colour_by,
        significant=significance(comparison, colour_by),
    )


def significance(comparison: pd.DataFrame, colour_by: str) -> dict[str, bool]:
    """The test's verdict per tested function, when it tested what the picture colours."""
    if comparison.attrs.get("metric") != colour_by:
        return {}
    tested = comparison[comparison["tested"].astype(bool)]
    verdicts = zip(tested["function"].astype(str), tested["significant"].astype(bool), strict=True)
    return dict(verdicts)


def write_pictures(
    folder: Path, pair: Pair, comparison: pd.DataFrame, result: GateResult | None = None
) -> list[Path]:
    """The differential flame graph, the chart of the largest changes, and the HTML page."""
    from flamediff.analysis.compare import view
    from flamediff.render.charts import render_delta_chart
    from flamediff.render.html import render_html_report

    svg = diff_svg(pair, comparison)
    chart = render_delta_chart(comparison)
    page = render_html_report(view(comparison, top=REPORT_ROWS), result, svg=svg, chart_png=chart)
    written = []
    for name, content in (("flamegraph.svg", svg), ("delta.png", chart), ("report.html", page)):
        write_output(folder / name, content)
        written.append(folder / name)
    return written
