"""The comparison, one release's top functions and the archive's releases as JSON documents.

Every renderer takes data and returns ``str``: indented, keys sorted, a trailing newline, so
documents diff well. Names are kept exactly; NaN and infinities are written as null.

- :func:`render_json`: a comparison and the gate's result, :class:`ComparisonJson`.
- :func:`render_top_json`: one release's top functions, :class:`TopJson`.
- :func:`render_releases_json`: the archive's releases and its damaged entries.

JSON schema history (``schema_version``): 1 — first version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from flamediff.render import cells

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import Finding, GateResult, Waiver

SCHEMA_VERSION = 1


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


class SinceJson(TypedDict):
    """What the change since the anchor adds to the gate's verdict (see
    :class:`flamediff.gate.SinceAnchor`): releases from the anchor to the head."""

    anchor: str
    releases: list[str]
    findings: list[FindingJson]


class ReleaseJson(TypedDict):
    name: str
    runs: int


class ComparisonJson(TypedDict):
    """``render_json``'s document. ``rows``: one object per comparison row, keyed by the
    comparison frame's column names (see :mod:`flamediff.analysis.compare`), the whole-load
    row first; NaN and infinite numbers are null (an infinite noise floor: no change
    detectable). ``gate``: null when no gate result was given. ``since``: only where the
    change since the anchor adds to the step-by-step verdict."""

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
    since: NotRequired[SinceJson]


class TopJson(TypedDict):
    """``render_top_json``'s document: rows keyed by the top frame's columns (without ``by``)."""

    schema_version: int
    kind: str
    release: str
    runs: int
    unit: str
    by_self: list[dict[str, Any]]
    by_total: list[dict[str, Any]]


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
            "delta_pct": cells.finite(finding.delta_pct),
            "head_share": cells.finite(finding.head_share),
            "q_value": cells.finite(finding.q_value),
            "noise_floor_pct": cells.finite(finding.noise_floor_pct),
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
                row[key] = cells.finite(value)
        clean.append(row)
    return clean


def _dumps(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_json(comparison: pd.DataFrame, result: GateResult | None = None) -> str:
    """The comparison (and gate result) as a :class:`ComparisonJson` document."""
    meta = cells.meta(comparison)
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
        "rows": _json_rows(cells.records(comparison)),
        "gate": gate_json(result) if result is not None else None,
    }
    since = result.since if result is not None else None
    if since is not None and since.findings:
        document["since"] = {
            "anchor": since.anchor,
            "releases": list(since.releases),
            "findings": _findings_json(since.findings),
        }
    return _dumps(document)


def render_report(
    comparison: pd.DataFrame, result: GateResult | None, *, color: bool, width: int
) -> str:
    """The registry's entry point (:mod:`flamediff.render.registry`)."""
    return render_json(comparison, result)


def render_top_json(top: pd.DataFrame) -> str:
    """One release's top functions as a :class:`TopJson` document."""
    meta = top.attrs
    rows = _json_rows(cells.records(top))
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


def render_releases_json(rows: Sequence[dict[str, object]], damaged: Sequence[str]) -> str:
    """``{"releases": [...], "damaged": [...]}``: rows of :func:`cells.release_row`, and the
    names of the entries that could not be read."""
    return json.dumps({"releases": list(rows), "damaged": list(damaged)}, indent=2, sort_keys=True)
