"""The comparison as Markdown: a benchstat-style table for a pull-request comment.

:func:`render_markdown` takes the comparison frame of
:func:`flamediff.analysis.compare.compare` (its ``attrs`` carry the run counts, metric, unit and
test) with an optional :class:`flamediff.gate.GateResult`, and returns ``str``. ``*`` marks a
significant change, ``~`` a tested function whose change is not significant (benchstat hides
the number then, so nobody reads noise); a footnote states n, alpha and the test; then the
verdict, the accepted reason and the waivers used. Function names are escaped: ``|``,
backticks, ``<script>`` and ``&`` can neither break the table nor inject HTML.

Markdown is for files, pull requests and $GITHUB_STEP_SUMMARY; a terminal gets the table of
:mod:`flamediff.render.terminal`, which shows names as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flamediff.render import cells

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GateResult


def render_markdown(comparison: pd.DataFrame, result: GateResult | None = None) -> str:
    """The comparison as a Markdown table, its footnote, then the gate's verdict if given."""
    meta = cells.meta(comparison)
    unit = str(meta["unit"])
    metric = str(meta["metric"])
    rows = cells.shown(cells.records(comparison), metric)
    base_name = cells.escape_markdown(str(meta["base"]))
    head_name = cells.escape_markdown(str(meta["head"]))
    with_calls = cells.has_calls(comparison)
    lines = [
        f"### {base_name} → {head_name}: {metric} time per run",
        "",
        f"| function | {base_name} | {head_name} | delta | share of head | q |"
        + (" calls |" if with_calls else ""),
        "|:--|--:|--:|--:|--:|--:|" + ("--:|" if with_calls else ""),
    ]
    for row in rows:
        line = [
            cells.escape_markdown(cells.label(row)),
            cells.time_cell(row, "base", metric, unit),
            cells.time_cell(row, "head", metric, unit),
            # `*` and `~` stand alone in their cell, where Markdown gives them no meaning.
            cells.delta_cell(row),
            cells.share(float(row["head_share"])),
            cells.pvalue_cell(row, cells.main_test(meta)),
            *([cells.calls_cell(row)] if with_calls else []),
        ]
        lines.append("| " + " | ".join(line) + " |")
    tested = cells.tested_family(comparison)
    footnote = cells.footnote(meta, tested)
    lines.append("")
    lines += [line + "  " for line in footnote[:-1]]
    lines.append(footnote[-1])
    if result is not None:
        gate = cells.gate_lines(result, markdown=True)
        lines += ["", f"**{gate[0]}**", ""]
        lines += [f"- {line}" for line in gate[1:]]
        since = cells.since_lines(result, markdown=True)
        if since:
            lines += ["", f"#### {since[0]}", "", since[1], ""] + [f"- {x}" for x in since[2:]]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_report(
    comparison: pd.DataFrame, result: GateResult | None, *, color: bool, width: int
) -> str:
    """The registry's entry point (:mod:`flamediff.render.registry`)."""
    return render_markdown(comparison, result)
