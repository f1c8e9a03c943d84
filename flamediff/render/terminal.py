"""Tables for a person at a terminal: a comparison, one release's top functions, the archive.

Every renderer takes data and returns ``str`` (ANSI colours unless ``color`` is false, for
logs); none prints. Names are shown as they are, with control characters written as their
escapes (``\\x1b``) and rich markup (``[bold]``) printed literally.

- :func:`render_terminal`: the comparison as a rich table, red where slower and blue where
  faster (the flamegraph's colours, and distinguishable with red-green colour blindness), from
  the comparison's ``verdict`` column, then the gate's verdict.
- :func:`render_top_terminal`: one release's top functions by self and by total time.
- :func:`render_releases_terminal`: the releases of the archive, one line each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from flamediff.render import cells

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GateResult

_VERDICT_STYLES: Final = {"pass": "bold green", "warn": "bold yellow", "block": "bold red"}
_DELTA_STYLES: Final = {"slower": "red", "faster": "blue", "untested": "dim", "~": ""}


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
    from rich import box
    from rich.table import Table
    from rich.text import Text

    meta = cells.meta(comparison)
    unit = str(meta["unit"])
    metric = str(meta["metric"])
    console, buffer = cells.console_to_string(color, width)
    table = Table(
        title=f"{meta['base']} → {meta['head']}: {metric} time per run",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column("function", overflow="fold", ratio=1)
    table.add_column(cells.visible(str(meta["base"])), justify="right", no_wrap=True)
    table.add_column(cells.visible(str(meta["head"])), justify="right", no_wrap=True)
    table.add_column("delta", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("q", justify="right", no_wrap=True)
    with_calls = cells.has_calls(comparison)
    if with_calls:
        table.add_column("calls", justify="right", no_wrap=True)
    rows = cells.shown(cells.records(comparison), metric)
    for row in rows:
        table.add_row(
            Text(cells.label(row), style="bold" if row["status"] == "load" else ""),
            cells.time_cell(row, "base", metric, unit),
            cells.time_cell(row, "head", metric, unit),
            Text(cells.delta_cell(row), style=_DELTA_STYLES.get(str(row["verdict"]), "")),
            cells.share(float(row["head_share"])),
            cells.pvalue_cell(row, cells.main_test(meta)),
            *([cells.calls_cell(row, compact=True)] if with_calls else []),
        )
    console.print(table)
    tested = cells.tested_family(comparison)
    for line in cells.footnote(meta, tested):
        console.print(Text(line, style="dim"))
    if result is not None:
        gate = cells.gate_lines(result, markdown=False)
        console.print()
        console.print(Text(gate[0], style=_VERDICT_STYLES.get(result.verdict, "bold")))
        for line in gate[1:]:
            style = "red" if line.startswith("blocks:") else ""
            console.print(Text(f"  {line}", style=style))
        since = cells.since_lines(result, markdown=False)
        if since:
            console.print()
            console.print(Text(since[0], style="bold"))
            console.print(Text(since[1]))
            for line in since[2:]:
                console.print(Text(f"  {line}", style="red" if line.startswith("blocks:") else ""))
    return buffer.getvalue()


def render_report(
    comparison: pd.DataFrame, result: GateResult | None, *, color: bool, width: int
) -> str:
    """The registry's entry point (:mod:`flamediff.render.registry`)."""
    return render_terminal(comparison, result, color=color, width=width)


def render_top_terminal(top: pd.DataFrame, *, color: bool = True, width: int = 100) -> str:
    """One release's top functions by self and by total time, as two rich tables.

    ``top``: the frame of :func:`flamediff.analysis.tables.top_functions`.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    meta = top.attrs
    unit = str(meta.get("unit", "s"))
    console, buffer = cells.console_to_string(color, width)
    rows = cells.records(top)
    for by in ("self", "total"):
        table = Table(
            title=f"{cells.visible(str(meta.get('release', '')))}: top functions by {by} time "
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
                Text(cells.visible(str(row["function"]))),
                cells.with_spread(row[f"{by}_s"], row[f"{by}_lo_s"], row[f"{by}_hi_s"], unit),
                cells.share(float(row[f"{by}_share"])),
                f"{cells.number(row[f'{other}_s'])}{cells.unit_label(unit)}",
            )
        console.print(table)
    return buffer.getvalue()


def render_releases_terminal(rows: Sequence[dict[str, object]]) -> str:
    """The archive's releases (rows of :func:`flamediff.render.cells.release_row`), aligned.

    A commit is cut to ten characters, with ``*`` when the tree was dirty.
    """
    header = ("release", "created (UTC)", "runs", "samples", "wall/run", "commit")
    lines = [header]
    for row in rows:
        commit = str(row["git_commit"] or "-")[:10] + ("*" if row["git_dirty"] else "")
        wall = row["median_wall_seconds"]
        lines.append(
            (
                cells.visible(str(row["name"])),
                str(row["created"]).replace("T", " ").removesuffix("Z"),
                str(row["runs"]),
                str(row["samples"]),
                f"{wall:.2f} s" if isinstance(wall, float) else "-",
                cells.visible(commit),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {2, 3, 4}
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    )
