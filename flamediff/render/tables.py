"""Tables of a comparison (and the gate's verdict) and of one release's top functions.

Every renderer takes data and returns ``str``; none writes a file or prints. Inputs are the
comparison frame of :func:`flamediff.analysis.compare.compare` (its ``attrs`` carry the run
counts, metric, unit and test) with an optional :class:`flamediff.gate.GateResult`, or the
frame of :func:`flamediff.analysis.tables.top_functions`.

- :func:`render_markdown`: a benchstat-style table for a pull-request comment. ``*`` marks a
  significant change, ``~`` a tested function whose change is not significant (benchstat hides
  the number then, so nobody reads noise); a footnote states n, alpha and the test; then the
  verdict, the accepted reason and the waivers used. Function names are escaped: ``|``,
  backticks, ``<script>`` and ``&`` can neither break the table nor inject HTML.
- :func:`render_terminal`: the same as a rich table, red where slower and blue where faster
  (the flamegraph's colours, and distinguishable with red-green colour blindness);
  ``color=False`` for logs.
- :func:`render_json`: a stable, documented schema (:class:`ComparisonJson`,
  ``schema_version`` 1); NaN and infinities are written as null.
- :func:`render_csv`: every column of the comparison frame, one row per function.
- :func:`render_top_terminal`, :func:`render_top_json`, :func:`render_top_csv`: one release's
  top functions by self and by total time.

Names come from profiles, so they are untrusted: the terminal and Markdown renderers show
control characters (ANSI escapes, bidirectional overrides) as their escapes (``\\x1b``), rich
markup (``[bold]``) prints literally, and JSON and CSV keep every name exactly.

JSON schema history: 1 — first version.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flamediff.gate import Finding, GateResult, Waiver

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1

# Characters with a meaning in (GitHub-flavoured) Markdown inline text or tables. `<`, `>` and
# `&` become entities instead, so no HTML can be injected.
# Line-start markers (`#`, `-`, `1.`) need no escape: a name never starts a line here.
_MARKDOWN_SPECIAL = set("\\`*_[]|~$")
# C0 and C1 controls, DEL, and the bidirectional overrides and isolates: from a frame name or a
# reason they would reach a terminal (or a CI log) raw and move the cursor, recolour, retitle,
# hyperlink or reorder what follows. People see them as their escapes instead.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class WaiverJson(TypedDict):
    pattern: str
    max_regression: float
    reason: str
    expires: str


class FindingJson(TypedDict):
    function: str
    level: str
    reason: str
    delta_pct: float | None
    head_share: float | None
    q_value: float | None
    noise_floor_pct: float | None
    waiver: WaiverJson | None


class GateJson(TypedDict):
    verdict: str
    blocking: list[FindingJson]
    warnings: list[FindingJson]
    waived: list[FindingJson]
    expired_waivers: list[WaiverJson]
    capture_warnings: list[str]
    justification: str | None
    notes: list[str]


class ReleaseJson(TypedDict):
    name: str
    runs: int


class ComparisonJson(TypedDict):
    """``render_json``'s document. ``rows``: one object per comparison row, keyed by the
    comparison frame's column names (see :mod:`flamediff.analysis.compare`), the whole-load
    row first; NaN and infinite numbers are null (an infinite noise floor: no change
    detectable). ``gate``: null when no gate result was given."""

    schema_version: int
    kind: str
    base: ReleaseJson
    head: ReleaseJson
    metric: str
    normalisation: str
    unit: str
    alpha: float
    min_share: float
    test: str
    correction: str
    scale_factors: dict[str, list[float]]
    filtered: bool
    rows: list[dict[str, Any]]
    gate: GateJson | None


class TopJson(TypedDict):
    """``render_top_json``'s document: rows keyed by the top frame's columns (without ``by``)."""

    schema_version: int
    kind: str
    release: str
    runs: int
    unit: str
    by_self: list[dict[str, Any]]
    by_total: list[dict[str, Any]]


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


def _finite(value: Any) -> float | None:
    """A float for JSON: None for NaN, infinities and missing values."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _number(value: float) -> str:
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


def _unit_label(unit: str) -> str:
    return "s" if unit == "s" else " samples"


def _with_spread(middle: float, low: float, high: float, unit: str) -> str:
    """``1.23 s ±4%``: the median and the larger half of the interquartile range, relative."""
    if not math.isfinite(middle):
        return "—"
    text = f"{_number(middle)}{_unit_label(unit)}"
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
    return _with_spread(
        row[f"{side}_{metric}_s"], row[f"{side}_{metric}_lo_s"], row[f"{side}_{metric}_hi_s"], unit
    )


def _percent(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f}%" if math.isfinite(value) else "—"


def _share(value: float) -> str:
    return f"{100 * value:.1f}%" if math.isfinite(value) else "—"


def _pvalue(row: dict[str, Any]) -> str:
    value = row["p_value"] if row["status"] == "load" else row["q_value"]
    if not row["tested"] or not math.isfinite(value):
        return ""
    name = "p" if row["status"] == "load" else "q"
    return f"{name}={value:.3f}" if value >= 0.001 else f"{name}<0.001"


def _delta(row: dict[str, Any]) -> str:
    """The delta cell: ``+12.3% *`` significant, ``~`` tested but not, plain when untested."""
    if row["status"] == "new":
        return "new"
    if row["status"] == "removed":
        return "removed"
    if row["tested"] and not row["significant"]:
        return "~"
    text = _percent(float(row["delta_pct"]))
    return f"{text} *" if row["significant"] else text


def _rows(comparison: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        dict(zip(comparison.columns, values, strict=True))
        for values in zip(
            *(comparison[column].tolist() for column in comparison.columns), strict=True
        )
    ]


def _shown(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The rows worth a line in a table: callers with no self time are left to CSV and JSON."""
    return [
        row
        for row in rows
        if row["status"] == "load"
        or row["tested"]
        or row[f"base_{metric}_s"] > 0
        or row[f"head_{metric}_s"] > 0
    ]


def _meta(comparison: pd.DataFrame) -> dict[str, Any]:
    from flamediff.analysis.compare import comparison_meta

    return dict(comparison_meta(comparison))


def _label(row: dict[str, Any]) -> str:
    from flamediff.analysis.compare import LOAD_ROW

    return (
        "whole load (all samples)" if row["function"] == LOAD_ROW else visible(str(row["function"]))
    )


def _footnote(meta: dict[str, Any], tested: int) -> list[str]:
    lines = [
        f"n = {meta['n_base']} runs of {meta['base']}, {meta['n_head']} runs of {meta['head']}; "
        f"{meta['metric']} time per run, median ± half the interquartile range, "
        f"normalised: {meta['normalisation']}; the whole load is absolute.",
    ]
    if meta["no_stats"]:
        lines.append("No statistics: nothing was tested, so nothing is marked significant.")
    else:
        lines.append(
            f"`*` significant, `~` not: {meta['test']}, {meta['correction']} q ≤ "
            f"{meta['alpha']:g} over {tested} functions of at least "
            f"{100 * meta['min_share']:g}% share; unmarked: not tested."
        )
    return lines


def _finding_line(finding: Finding, markdown: bool) -> str:
    from flamediff.analysis.compare import LOAD_ROW

    name = "whole load" if finding.function == LOAD_ROW else finding.function
    name = escape_markdown(name) if markdown else visible(name)
    details = []
    if math.isfinite(finding.delta_pct):
        details.append(_percent(finding.delta_pct))
    if math.isfinite(finding.q_value):
        details.append(f"q={finding.q_value:.3f}" if finding.q_value >= 0.001 else "q<0.001")
    if math.isfinite(finding.head_share):
        details.append(f"{_share(finding.head_share)} of head")
    reason = escape_markdown(finding.reason) if markdown else visible(finding.reason)
    return f"{name} ({', '.join(details)}): {reason}"


def _waiver_line(waiver: Waiver, markdown: bool) -> str:
    text = (
        f"{waiver.pattern} up to +{100 * waiver.max_regression:g}% until "
        f"{waiver.expires.isoformat()}: {waiver.reason}"
    )
    return escape_markdown(text) if markdown else visible(text)


def _gate_lines(result: GateResult, markdown: bool) -> list[str]:
    """The verdict and everything behind it, one item a line, without decoration."""

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


def render_markdown(comparison: pd.DataFrame, result: GateResult | None = None) -> str:
    """The comparison as a Markdown table, its footnote, then the gate's verdict if given."""
    meta = _meta(comparison)
    unit = str(meta["unit"])
    metric = str(meta["metric"])
    rows = _shown(_rows(comparison), metric)
    base_name, head_name = escape_markdown(str(meta["base"])), escape_markdown(str(meta["head"]))
    lines = [
        f"### {base_name} → {head_name}: {metric} time per run",
        "",
        f"| function | {base_name} | {head_name} | delta | share of head | q |",
        "|:--|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        cells = [
            escape_markdown(_label(row)),
            time_cell(row, "base", metric, unit),
            time_cell(row, "head", metric, unit),
            # `*` and `~` stand alone in their cell, where Markdown gives them no meaning.
            _delta(row),
            _share(float(row["head_share"])),
            _pvalue(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    tested = sum(1 for row in rows if row["tested"] and row["status"] != "load")
    lines.append("")
    lines += [line + "  " for line in _footnote(meta, tested)[:-1]]
    lines.append(_footnote(meta, tested)[-1])
    if result is not None:
        gate = _gate_lines(result, markdown=True)
        lines += ["", f"**{gate[0]}**", ""]
        lines += [f"- {line}" for line in gate[1:]]
    return "\n".join(lines).rstrip("\n") + "\n"


def console_to_string(color: bool, width: int) -> tuple[Console, io.StringIO]:
    """A rich console that renders into a buffer: names are never read as rich markup."""
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


_VERDICT_STYLES = {"pass": "bold green", "warn": "bold yellow", "block": "bold red"}


def render_terminal(
    comparison: pd.DataFrame,
    result: GateResult | None = None,
    *,
    color: bool = True,
    width: int = 100,
) -> str:
    """The comparison as a rich table (ANSI colours unless ``color`` is false), then the verdict.

    Red: significantly slower; blue: significantly faster; dim: not tested.
    """
    meta = _meta(comparison)
    unit = str(meta["unit"])
    metric = str(meta["metric"])
    console, buffer = console_to_string(color, width)
    table = Table(
        title=f"{meta['base']} → {meta['head']}: {metric} time per run",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column("function", overflow="fold", ratio=1)
    table.add_column(str(meta["base"]), justify="right", no_wrap=True)
    table.add_column(str(meta["head"]), justify="right", no_wrap=True)
    table.add_column("delta", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("q", justify="right", no_wrap=True)
    rows = _shown(_rows(comparison), metric)
    for row in rows:
        style = ""
        if row["significant"]:
            style = "red" if row["impact_s"] > 0 else "blue"
        elif not row["tested"]:
            style = "dim"
        table.add_row(
            Text(_label(row), style="bold" if row["status"] == "load" else ""),
            time_cell(row, "base", metric, unit),
            time_cell(row, "head", metric, unit),
            Text(_delta(row), style=style),
            _share(float(row["head_share"])),
            _pvalue(row),
        )
    console.print(table)
    tested = sum(1 for row in rows if row["tested"] and row["status"] != "load")
    for line in _footnote(meta, tested):
        console.print(Text(line, style="dim"))
    if result is not None:
        gate = _gate_lines(result, markdown=False)
        console.print()
        console.print(Text(gate[0], style=_VERDICT_STYLES.get(result.verdict, "bold")))
        for line in gate[1:]:
            style = "red" if line.startswith("blocks:") else ""
            console.print(Text(f"  {line}", style=style))
    return buffer.getvalue()


def _waiver_json(waiver: Waiver | None) -> WaiverJson | None:
    if waiver is None:
        return None
    return {
        "pattern": waiver.pattern,
        "max_regression": waiver.max_regression,
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat(),
    }


def _findings_json(findings: Iterable[Finding]) -> list[FindingJson]:
    return [
        {
            "function": finding.function,
            "level": finding.level,
            "reason": finding.reason,
            "delta_pct": _finite(finding.delta_pct),
            "head_share": _finite(finding.head_share),
            "q_value": _finite(finding.q_value),
            "noise_floor_pct": _finite(finding.noise_floor_pct),
            "waiver": _waiver_json(finding.waiver),
        }
        for finding in findings
    ]


def gate_json(result: GateResult) -> GateJson:
    """The gate result as plain JSON data (the ``gate`` member of :class:`ComparisonJson`)."""
    expired = [_waiver_json(waiver) for waiver in result.expired_waivers]
    return {
        "verdict": result.verdict,
        "blocking": _findings_json(result.blocking),
        "warnings": _findings_json(result.warnings),
        "waived": _findings_json(result.waived),
        "expired_waivers": [waiver for waiver in expired if waiver is not None],
        "capture_warnings": list(result.capture_warnings),
        "justification": result.justification,
        "notes": list(result.notes),
    }


def _json_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    clean: list[dict[str, Any]] = []
    for record in records:
        row: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, bool | str) or value is None:
                row[key] = value
            elif isinstance(value, int):
                row[key] = int(value)
            else:
                row[key] = _finite(value)
        clean.append(row)
    return clean


def _dumps(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_json(comparison: pd.DataFrame, result: GateResult | None = None) -> str:
    """The comparison (and gate result) as a :class:`ComparisonJson` document."""
    meta = _meta(comparison)
    document: ComparisonJson = {
        "schema_version": SCHEMA_VERSION,
        "kind": "flamediff.comparison",
        "base": {"name": str(meta["base"]), "runs": int(meta["n_base"])},
        "head": {"name": str(meta["head"]), "runs": int(meta["n_head"])},
        "metric": str(meta["metric"]),
        "normalisation": str(meta["normalisation"]),
        "unit": str(meta["unit"]),
        "alpha": float(meta["alpha"]),
        "min_share": float(meta["min_share"]),
        "test": str(meta["test"]),
        "correction": str(meta["correction"]),
        "scale_factors": {
            "base": [float(value) for value in meta["scale_factors_base"]],
            "head": [float(value) for value in meta["scale_factors_head"]],
        },
        "filtered": bool(meta["filtered"]),
        "rows": _json_rows(_rows(comparison)),
        "gate": gate_json(result) if result is not None else None,
    }
    return _dumps(document)


def render_csv(comparison: pd.DataFrame) -> str:
    """Every column of the comparison frame as CSV with a header; empty cells for NaN."""
    return str(comparison.to_csv(index=False, lineterminator="\n"))


def render_top_terminal(top: pd.DataFrame, *, color: bool = True, width: int = 100) -> str:
    """One release's top functions by self and by total time, as two rich tables."""
    meta = top.attrs
    unit = str(meta.get("unit", "s"))
    console, buffer = console_to_string(color, width)
    rows = _rows(top)
    for by in ("self", "total"):
        table = Table(
            title=f"{meta.get('release', '')}: top functions by {by} time "
            f"(median of {meta.get('runs', '?')} runs)",
            box=box.SIMPLE_HEAD,
            title_justify="left",
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("function", overflow="fold", ratio=1)
        table.add_column(f"{by} per run", justify="right", no_wrap=True)
        table.add_column("share", justify="right", no_wrap=True)
        other = "total" if by == "self" else "self"
        table.add_column(f"{other} per run", justify="right", no_wrap=True)
        for row in rows:
            if row["by"] != by:
                continue
            table.add_row(
                str(row["rank"]),
                Text(visible(str(row["function"]))),
                _with_spread(row[f"{by}_s"], row[f"{by}_lo_s"], row[f"{by}_hi_s"], unit),
                _share(float(row[f"{by}_share"])),
                f"{_number(row[f'{other}_s'])}{_unit_label(unit)}",
            )
        console.print(table)
    return buffer.getvalue()


def render_top_json(top: pd.DataFrame) -> str:
    """One release's top functions as a :class:`TopJson` document."""
    meta = top.attrs
    rows = _json_rows(_rows(top))
    document: TopJson = {
        "schema_version": SCHEMA_VERSION,
        "kind": "flamediff.top",
        "release": str(meta.get("release", "")),
        "runs": int(meta.get("runs", 0)),
        "unit": str(meta.get("unit", "s")),
        "by_self": [
            {key: value for key, value in row.items() if key != "by"}
            for row in rows
            if row["by"] == "self"
        ],
        "by_total": [
            {key: value for key, value in row.items() if key != "by"}
            for row in rows
            if row["by"] == "total"
        ],
    }
    return _dumps(document)


def render_top_csv(top: pd.DataFrame) -> str:
    """One release's top functions as CSV, both rankings, with the ``by`` column."""
    return str(top.to_csv(index=False, lineterminator="\n"))


def render_since(result: GateResult, output_format: str = "markdown") -> str:
    """The "since <anchor>" section: what the change since the anchor adds to the verdict.

    Markdown, or (``output_format="json"``) the ``since`` member of the JSON report: anchor,
    releases and findings. Empty when the anchor adds nothing to the step-by-step verdict.
    """
    since = result.since
    if since is None or not since.findings:
        return ""
    if output_format == "json":
        document = {
            "anchor": since.anchor,
            "releases": list(since.releases),
            "findings": _findings_json(since.findings),
        }
        return _dumps(document)
    anchor, head = escape_markdown(since.anchor), escape_markdown(since.releases[-1])
    lines = [
        f"#### since {anchor}: {len(since.releases) - 1} releases to {head}",
        "",
        f"Each step passed on its own; measured since {anchor}, with a trend test across every "
        "release in between:",
        "",
    ]
    lines += [f"- {finding.level}s: {_finding_line(finding, True)}" for finding in since.findings]
    return "\n".join(lines) + "\n"
