"""The cells every report shares: numbers, deltas, names and the gate's lines, as words.

The Markdown, terminal and HTML reports show the same rows with the same cells, built here, so
they never disagree. Each cell reads the comparison frame of
:func:`flamediff.analysis.compare.compare`; the colour or mark of a row comes from its one
``verdict`` column ("slower", "faster", "~", "untested"), never recomputed from ``significant``,
``tested`` and ``impact_s``.

Names come from profiles, so they are untrusted: :func:`visible` writes control characters
(ANSI escapes, bidirectional overrides) as their escapes (``\\x1b``) for people, and
:func:`escape_markdown` makes a name literal inside Markdown. This module imports nothing
heavy: rich, pandas and the analysis are imported where a renderer needs them.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Final

from flamediff.gate import Finding, GateResult, Waiver

if TYPE_CHECKING:
    import io

    import pandas as pd
    from rich.console import Console

    from flamediff.model import ReleaseInfo

# Characters with a meaning in (GitHub-flavoured) Markdown inline text or tables. `<`, `>` and
# `&` become entities instead, so no HTML can be injected.
# Line-start markers (`#`, `-`, `1.`) need no escape: a name never starts a line here.
_MARKDOWN_SPECIAL = set("\\`*_[]|~$")
# C0 and C1 controls, DEL, and the bidirectional overrides and isolates: from a frame name or a
# reason they would reach a terminal (or a CI log) raw and move the cursor, recolour, retitle,
# hyperlink or reorder what follows. People see them as their escapes instead.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# What each verdict looks like wherever a colour is drawn: red slower, blue faster (the
# flamegraph's colours, told apart with red-green colour blindness), grey not tested.
VERDICT_KIND: Final = {"slower": "slower", "faster": "faster", "untested": "untested", "~": ""}


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with each control character written as its escape (``\\x1b``), for people."""
    return _INVISIBLE.sub(_escape_control, text) if _INVISIBLE.search(text) else text


def escape_markdown(text: str) -> str:
    """``text`` safe inside a Markdown table cell or paragraph: literal, one line, no HTML."""
    escaped = []
    for char in visible(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")):
        if char == "&":
            escaped.append("&amp;")
        elif char == "<":
            escaped.append("&lt;")
        elif char == ">":
            escaped.append("&gt;")
        elif char in _MARKDOWN_SPECIAL:
            escaped.append("\\" + char)
        else:
            escaped.append(char)
    return "".join(escaped)


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, may
# strip them and then read one): `=HYPERLINK(...)` from a frame name would run on opening.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: a leading ``'`` where it would
    otherwise start a formula (OWASP's advice for CSV injection); other text unchanged."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def finite(value: Any) -> float | None:
    """A float for JSON: None for NaN, infinities and missing values."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def number(value: float) -> str:
    """A time or count with three significant digits and no exponent for everyday sizes."""
    if not math.isfinite(value):
        return "—"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1 or size == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def unit_label(unit: str) -> str:
    return "s" if unit == "s" else " samples"


def with_spread(middle: float, low: float, high: float, unit: str) -> str:
    """``1.23 s ±4%``: the median and the larger half of the interquartile range, relative."""
    if not math.isfinite(middle):
        return "—"
    text = f"{number(middle)}{unit_label(unit)}"
    if middle > 0 and math.isfinite(low) and math.isfinite(high):
        spread = max(high - middle, middle - low) / middle
        text += f" ±{100 * spread:.0f}%"
    return text


def time_cell(row: dict[str, Any], side: str, metric: str, unit: str) -> str:
    """One side's time of a comparison row with its spread; a dash where it is absent."""
    if (side == "base" and row["status"] == "new") or (
        side == "head" and row["status"] == "removed"
    ):
        return "—"
    return with_spread(
        row[f"{side}_{metric}_s"], row[f"{side}_{metric}_lo_s"], row[f"{side}_{metric}_hi_s"], unit
    )


def percent(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f}%" if math.isfinite(value) else "—"


def share(value: float) -> str:
    return f"{100 * value:.1f}%" if math.isfinite(value) else "—"


def pvalue_cell(row: dict[str, Any], main_test: str = "") -> str:
    """``q=0.012`` for a tested function, ``p=...`` for the load (tested alone), else empty.

    A function decided by another test than ``main_test`` (the report's, from
    :func:`main_test`) says which: ``q=0.012 rank`` where the count model did not hold.
    """
    value = row["p_value"] if row["status"] == "load" else row["q_value"]
    if row["verdict"] == "untested" or not math.isfinite(value):
        return ""
    name = "p" if row["status"] == "load" else "q"
    text = f"{name}={value:.3f}" if value >= 0.001 else f"{name}<0.001"
    decided_by = str(row.get("test") or "")
    if row["status"] != "load" and main_test and decided_by and decided_by != main_test:
        text += f" {decided_by}"
    return text


def main_test(info: dict[str, Any]) -> str:
    """The test that decides a report's rows unless a row says otherwise: ``count`` or ``rank``."""
    from flamediff.analysis import counts

    return counts.COUNT_TEST if info["test"] == counts.TEST_NAME else counts.RANK_TEST


def delta_cell(row: dict[str, Any]) -> str:
    """The delta cell: ``+12.3% *`` significant, ``~`` tested but not, plain when untested."""
    if row["status"] == "new":
        return "new"
    if row["status"] == "removed":
        return "removed"
    if row["verdict"] == "~":
        return "~"
    text = percent(float(row["delta_pct"]))
    return f"{text} *" if row["verdict"] in ("slower", "faster") else text


def has_calls(comparison: pd.DataFrame) -> bool:
    """Whether the comparison holds both releases' exact calls (``capture --calls``)."""
    return "base_calls" in comparison.columns and "head_calls" in comparison.columns


def _count(value: float) -> str:
    if value < 10_000:
        return f"{value:,.0f}"
    if value < 1_000_000:
        return f"{value / 1e3:.3g}k"
    return f"{value / 1e6:.3g}M"


def calls_cell(row: dict[str, Any], *, compact: bool = False) -> str:
    """The calls cell: ``1,204 → 3,480``, ``100k (same)``; empty where the tracer saw none.

    ``compact`` (a terminal, where the function's name needs the width): the change alone,
    ``2.89x``, ``=``, ``new`` or ``gone``.
    """
    base, head = finite(row.get("base_calls")), finite(row.get("head_calls"))
    if base is None and head is None:
        return ""
    before, after = base or 0.0, head or 0.0
    if compact:
        if before == after:
            return "="
        if before == 0 or after == 0:
            return "new" if before == 0 else "gone"
        return f"{after / before:.3g}x"
    if before == after:
        return f"{_count(before)} (same)"
    return f"{_count(before)} → {_count(after)}"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts of plain Python values, in order."""
    return [
        dict(zip(frame.columns, values, strict=True))
        for values in zip(*(frame[column].tolist() for column in frame.columns), strict=True)
    ]


def shown(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The rows worth a line in a table: callers with no self time are left to CSV and JSON."""
    return [
        row
        for row in rows
        if row["status"] == "load"
        or row["verdict"] != "untested"
        or row[f"base_{metric}_s"] > 0
        or row[f"head_{metric}_s"] > 0
    ]


def meta(comparison: pd.DataFrame) -> dict[str, Any]:
    from flamediff.analysis.compare import comparison_meta

    return dict(comparison_meta(comparison))


def label(row: dict[str, Any]) -> str:
    """The name of a row for people: the load row in words, control characters escaped."""
    from flamediff.analysis.compare import LOAD_ROW

    return (
        "whole load (all samples)" if row["function"] == LOAD_ROW else visible(str(row["function"]))
    )


def tested_family(comparison: pd.DataFrame) -> int:
    """How many functions the correction was over: the family tested, whatever rows are shown.

    A view cut by ``--top`` or ``--filter`` shows fewer rows than were tested, while its
    q-values keep the whole family's correction; the view records the family before cutting
    (``attrs["tested_functions"]``, see :func:`flamediff.pipeline.reports.viewed`), so the
    footnote names the number the q-values were computed over.
    """
    recorded = comparison.attrs.get("tested_functions")
    if isinstance(recorded, int):
        return recorded
    functions = comparison[comparison["status"] != "load"]
    return int((functions["verdict"] != "untested").sum())


def footnote(info: dict[str, Any], tested: int) -> list[str]:
    """What the numbers are: runs, metric, normalisation, test and the family it corrected."""
    lines = [
        f"n = {info['n_base']} runs of {info['base']}, {info['n_head']} runs of {info['head']}; "
        f"{info['metric']} time per run, median ± half the interquartile range, "
        f"normalised: {info['normalisation']}; the whole load is "
        + (
            "its CPU time, on the same scale."
            if info["normalisation"] == "measured"
            else "absolute."
        ),
    ]
    if info["no_stats"]:
        lines.append("No statistics: nothing was tested, so nothing is marked significant.")
    else:
        lines.append(
            f"`*` significant, `~` not: {info['test']}, {info['correction']} q ≤ "
            f"{info['alpha']:g} over {tested} functions of at least "
            f"{100 * info['min_share']:g}% share; unmarked: not tested."
            + (
                " `rank` after q: the rank test decided that row."
                if main_test(info) == "count"
                else ""
            )
        )
    if info.get("calls"):
        lines.append("calls: the function's exact calls in one traced run of each release.")
    return lines


def _finding_line(finding: Finding, markdown: bool) -> str:
    from flamediff.analysis.compare import LOAD_ROW

    name = "whole load" if finding.function == LOAD_ROW else finding.function
    name = escape_markdown(name) if markdown else visible(name)
    details = []
    if math.isfinite(finding.delta_pct):
        details.append(percent(finding.delta_pct))
    if math.isfinite(finding.q_value):
        details.append(f"q={finding.q_value:.3f}" if finding.q_value >= 0.001 else "q<0.001")
    if math.isfinite(finding.head_share):
        details.append(f"{share(finding.head_share)} of head")
    reason = escape_markdown(finding.reason) if markdown else visible(finding.reason)
    return f"{name} ({', '.join(details)}): {reason}"


def _waiver_line(waiver: Waiver, markdown: bool) -> str:
    text = (
        f"{waiver.pattern} up to +{100 * waiver.max_regression:g}% until "
        f"{waiver.expires.isoformat()}: {waiver.reason}"
    )
    return escape_markdown(text) if markdown else visible(text)


def gate_lines(result: GateResult, markdown: bool) -> list[str]:
    """The verdict and everything behind it, one item a line, without decoration.

    ``markdown``: escaped for Markdown; otherwise plain text (control characters escaped),
    which the terminal prints and the HTML report escapes as HTML.
    """

    def clean(text: str) -> str:
        return escape_markdown(text) if markdown else visible(text)

    lines = [f"verdict: {result.verdict}"]
    if result.verdict == "accepted" and result.justification is not None:
        lines.append(f"accepted: {clean(result.justification)}")
    lines += [f"blocks: {_finding_line(item, markdown)}" for item in result.blocking]
    lines += [f"warns: {_finding_line(item, markdown)}" for item in result.warnings]
    for item in result.waived:
        waiver = _waiver_line(item.waiver, markdown) if item.waiver else ""
        lines.append(f"waived: {_finding_line(item, markdown)} (waiver {waiver})")
    lines += [
        f"expired waiver, no longer applies: {_waiver_line(waiver, markdown)}"
        for waiver in result.expired_waivers
    ]
    lines += [f"capture: {clean(text)}" for text in result.capture_warnings]
    lines += [f"note: {clean(text)}" for text in result.notes]
    return lines


def console_to_string(color: bool, width: int) -> tuple[Console, io.StringIO]:
    """A rich console that renders into a buffer: names are never read as rich markup."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )
    return console, buffer


def release_row(info: ReleaseInfo) -> dict[str, object]:
    """One release of the archive as the listing's row: the same keys in every format."""
    walls = sorted(run.wall_seconds for run in info.runs if run.wall_seconds is not None)
    return {
        "name": info.name,
        "created": info.created,
        "runs": len(info.runs),
        "samples": info.total_samples,
        "median_wall_seconds": walls[len(walls) // 2] if walls else None,
        "rate_hz": info.rate_hz,
        "git_commit": info.git_commit,
        "git_dirty": info.git_dirty,
        "source": info.source,
        "accepted": [justification.base for justification in info.justifications],
    }


_LEVEL_WORD: Final = {"block": "blocks", "warn": "warns", "waived": "waived"}


def since_lines(result: GateResult, markdown: bool) -> list[str]:
    """The "since <anchor>" section: a title, a sentence, then one item a line for what the
    change since the anchor adds to the step-by-step verdict; empty when it adds nothing."""
    since = result.since
    if since is None or not since.findings:
        return []
    clean = escape_markdown if markdown else visible
    anchor = clean(since.anchor)
    return [
        f"since {anchor}: {len(since.releases) - 1} releases to {clean(since.releases[-1])}",
        f"What the step-by-step comparison did not show, measured since {anchor} with a trend "
        "test across every release in between:",
        *(f"{_LEVEL_WORD[f.level]}: {_finding_line(f, markdown)}" for f in since.findings),
    ]
