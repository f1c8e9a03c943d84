"""What `gate`, `compare` and `release` print and write once the pair is archived."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flamediff.archive import Archive
from flamediff.cli.common import echo, note, terminal_width, use_colour, wrote
from flamediff.cli.options import AnalysisOptions, GateOptions
from flamediff.config import Settings
from flamediff.files import write_output
from flamediff.model import Release
from flamediff.pipeline.judge import Analysis, judge, read_justification
from flamediff.pipeline.pair import Pair, analysed, load_for_analysis, load_pair
from flamediff.pipeline.reports import (
    append_step_summary,
    gate_report,
    no_baseline_report,
    write_no_baseline_reports,
    write_reports,
)
from flamediff.render.registry import ReportFormat


def analysis_of(options: AnalysisOptions) -> Analysis:
    return Analysis(metric=options.metric, no_stats=options.no_stats, line_level=options.line_level)


def run_gate(
    store: Archive,
    settings: Settings,
    base_name: str,
    head_name: str,
    analysis: AnalysisOptions,
    gate: GateOptions,
    *,
    out: Path | None = None,
    side_by_side: bool = False,
    base: Release | None = None,
    notes: tuple[str, ...] = (),
) -> int:
    """Compare, decide, record an accepted reason, print and write the reports; the exit code.

    ``base``: the base as captured in this job (re-measured beside the head) instead of the
    archived one; ``notes`` are added to the gate's. The reason is read first, so an empty
    one is refused before anything is computed.
    """
    reason = read_justification(gate.justify, gate.justify_file)
    # Comparing, blaming and drawing take seconds after a capture: say what is happening.
    note(f"comparing {head_name} with {base_name} ...")
    line_level = analysis.line_level
    if base is None:
        pair = load_pair(store, base_name, head_name, line_level=line_level)
    else:
        head = load_for_analysis(store, head_name, line_level=line_level)
        pair = Pair(analysed(base, line_level=line_level), head)
    judgement = judge(
        store, pair, settings, analysis_of(analysis), justification=reason,
        side_by_side=side_by_side,
    )  # fmt: skip
    if notes:
        result = replace(judgement.result, notes=(*notes, *judgement.result.notes))
        judgement = replace(judgement, result=result)
    if reason is not None:
        if judgement.recorded:
            note(f"accepted {head_name} against {base_name}; the reason is recorded")
        else:
            note("nothing blocked, so there was nothing to accept: the reason was not recorded")
    shown = gate_report(judgement, ReportFormat.TABLE, color=use_colour(), width=terminal_width())
    _publish(shown, gate_report(judgement), gate.markdown)
    if out is not None:
        note(f"writing the reports to {out} ...")
        for path in write_reports(out, judgement):
            wrote(path)
    return 1 if judgement.result.blocked else 0


def no_baseline(
    head_name: str, gate: GateOptions, *, out: Path | None = None, store: Archive | None = None
) -> int:
    """The first release ever: nothing to compare with, so nothing can block. With ``out``
    (and the archive holding the release), the report folder gets its usual files."""
    text = no_baseline_report(head_name)
    _publish(no_baseline_report(head_name, markdown=False), text, gate.markdown)
    if out is not None:
        if store is None:
            write_output(out / "report.md", text)
        else:
            for path in write_no_baseline_reports(out, load_for_analysis(store, head_name)):
                wrote(path)
    return 0


def _publish(shown: str, markdown: str, path: Path | None) -> None:
    """``shown`` to stdout, for a person or a log; ``markdown`` to the step summary and file."""
    echo(shown)
    problem = append_step_summary(markdown)
    if problem is not None:
        note(problem)
    if path is not None:
        write_output(path, markdown)
