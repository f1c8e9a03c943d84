"""Tables of a history frame (:func:`flamediff.analysis.history.history`): terminal, CSV, JSON.

Every renderer takes the frame and returns ``str``; none writes a file or prints.

Names are untrusted: the terminal table shows control characters as escapes (``\\x1b``) and
rich markup (``[bold]``) literally; JSON keeps every name exactly, and CSV too, but for a
leading ``'`` on a cell a spreadsheet would read as a formula (:mod:`flamediff.render.csv`).

- :func:`render_history_terminal`: one row per release, oldest first, one column for the
  whole load and one per function. A cell holds the median time per run over the release's
  runs, the fastest and slowest run under it (``absent`` where no run saw the function),
  and ``▲``/``▼`` with the change where every
  run is slower/faster than every run of the release before (``beyond_runs``): the release
  in which a function climbed stands out.
- :func:`render_history_csv`: every column of the frame, one row per (series, release).
- :func:`render_history_json`: ``{"schema_version", "metric", "unit", "releases",
  "functions", "rows"}``, rows with the frame's columns; NaN is written as null.

JSON schema history: 1 — first version.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from flamediff.render.cells import console_to_string, visible

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1


def _scale(largest: float, unit: str) -> tuple[float, str]:
    """A factor and unit so a column reads without exponents: s, ms or samples."""
    if unit != "s":
        return 1.0, " samples"
    return (1.0, " s") if largest >= 1.0 else (1000.0, " ms")


def _amount(value: float, factor: float, unit: str) -> str:
    if not math.isfinite(value):
        return "—"
    scaled = value * factor
    if scaled == 0:
        return f"0{unit}"
    digits = 0 if abs(scaled) >= 100 else (1 if abs(scaled) >= 10 else 2)
    return f"{scaled:,.{digits}f}{unit}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [str(column) for column in frame.columns]
    return [
        dict(zip(columns, values, strict=True))
        for values in zip(*(frame[column].tolist() for column in frame.columns), strict=True)
    ]


def render_history_terminal(frame: pd.DataFrame, *, color: bool = True, width: int = 100) -> str:
    """The history as a rich table, a row per release; see the module docstring."""
    from flamediff.analysis.compare import LOAD_ROW

    metric, unit = str(frame.attrs.get("metric", "self")), str(frame.attrs.get("unit", "s"))
    rows = _records(frame)
    series = list(dict.fromkeys(str(row["series"]) for row in rows))
    releases = list(dict.fromkeys(str(row["release"]) for row in rows))
    cells = {(str(row["series"]), str(row["release"])): row for row in rows}
    table = Table(
        title=f"{metric} time per run across releases",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("release", overflow="fold")
    scales = {}
    for name in series:
        largest = max((float(row["max_s"]) for row in rows if row["series"] == name), default=0.0)
        scales[name] = _scale(largest if math.isfinite(largest) else 0.0, unit)
        header = "whole load" if name == LOAD_ROW else visible(name)
        table.add_column(header, justify="right", overflow="fold")
    for release in releases:
        line: list[Text | str] = [Text(visible(release))]
        for name in series:
            row = cells.get((name, release))
            line.append(_cell(row, *scales[name]) if row else Text("—"))
        table.add_row(*line)
    console, buffer = console_to_string(color, width)
    console.print(table)
    console.print(
        Text(
            "median over the release's runs; under it, the fastest and the slowest run. "
            "▲/▼: every run slower/faster than every run of the release before.",
            style="dim",
        )
    )
    if unit != "s":
        console.print(Text("in samples: a release's sampling rate is unknown", style="dim"))
    return buffer.getvalue()


def _cell(row: dict[str, Any], factor: float, unit: str) -> Text:
    if not row["runs_seen"]:
        return Text("—\nabsent", style="dim")
    text = Text(_amount(float(row["median_s"]), factor, unit))
    change = float(row["change_pct"])
    if row["beyond_runs"] and math.isfinite(change):
        rising = change > 0
        text.append(
            f" {'▲' if rising else '▼'}{change:+.0f}%", style="bold red" if rising else "bold blue"
        )
    elif row["beyond_runs"]:
        text.append(" ▲new", style="bold red")
    low, high = float(row["min_s"]), float(row["max_s"])
    spread = f"{_amount(low, factor, '')}\N{EN DASH}{_amount(high, factor, unit)}"
    text.append(f"\n{spread}", style="dim")
    return text


def render_history_csv(frame: pd.DataFrame) -> str:
    """Every column of the frame, with a header; NaN as an empty field."""
    from flamediff.render.csv import frame_csv

    return frame_csv(frame)


def render_history_json(frame: pd.DataFrame) -> str:
    """The frame as JSON (see the module docstring), sorted keys, indented, newline-ended."""
    rows = [
        {
            key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in row.items()
        }
        for row in _records(frame)
    ]
    document = {
        "schema_version": SCHEMA_VERSION,
        "metric": frame.attrs.get("metric"),
        "unit": frame.attrs.get("unit"),
        "releases": list(frame.attrs.get("releases", [])),
        "functions": list(frame.attrs.get("functions", [])),
        "rows": rows,
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
