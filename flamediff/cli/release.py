"""`flamediff release`: the one pipeline step: capture, compare with the previous release,
write the reports, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.archive import Archive
from flamediff.capture.metadata import git_state
from flamediff.cli.capture import capture_beside, capture_one
from flamediff.cli.common import echo, note, wrote
from flamediff.cli.gating import analysis_of, no_baseline, run_gate
from flamediff.cli.options import (
    AnalysisOptions,
    ArchiveOption,
    CaptureOptions,
    CommandArgument,
    GateOptions,
    grouped,
)
from flamediff.cli.scenarios import ScenarioOption, open_scenarios
from flamediff.config import Settings
from flamediff.errors import ConfigError
from flamediff.files import write_output
from flamediff.pipeline.adaptive import first_look
from flamediff.pipeline.comment import read_report
from flamediff.pipeline.remeasure import Remeasure, plan
from flamediff.pipeline.reports import append_step_summary
from flamediff.pipeline.scenarios import (
    ScenarioReport,
    combined_json,
    combined_markdown,
    overall_verdict,
)


@grouped
def release(
    name: Annotated[str, typer.Argument(help="Name of the new release, e.g. v1.5.0.")],
    command: CommandArgument = None,
    *,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for report.md, report.json, flamegraph.svg, delta.png and report.html "
            "(with scenarios: report.md and report.json for the release, and a folder of "
            "those per scenario).",
        ),
    ] = Path("flamediff-report"),
    capture: CaptureOptions,
    gate_flags: GateOptions,
    analysis: AnalysisOptions,
    archive: ArchiveOption = None,
    remeasure: Annotated[
        bool,
        typer.Option(
            "--remeasure/--archived-base",
            help="Capture the previous release again, interleaved with this one, when its "
            "code can still be run (another commit: from a git worktree; another command: "
            "as recorded), so both are measured on the same machine at the same time. Doubles "
            "the capture time. --archived-base compares with the archived runs only.",
        ),
    ] = True,
    scenario: ScenarioOption = None,
) -> None:
    """Capture NAME, compare it with the release before it, write the reports, and gate.

    The first release ever is captured and reported as "no baseline" (exit 0). With
    scenarios, each is captured, compared and gated on its own, and NAME is blocked if any
    of them blocks. Exit 0 pass, 1 blocked, 2 error.
    """
    chosen = open_scenarios(archive, scenario, capture, gate_flags, analysis)
    if len(chosen) == 1 and chosen[0][0].name is None:
        ((only, store),) = chosen
        raise typer.Exit(
            release_stream(
                store, only.settings, name, command, out=out, capture=capture,
                gate_flags=gate_flags, analysis=analysis, remeasure=remeasure,
            )
        )  # fmt: skip
    if command and len(chosen) > 1:
        raise ConfigError("a command after -- is one load: choose its scenario with --scenario")
    reports = []
    for each, store in chosen:
        assert each.name is not None
        heading = f"## Scenario {each.name}\n"
        note(f"scenario {each.name}")
        echo(heading)
        problem = append_step_summary(heading)
        if problem is not None:
            note(problem)
        folder = out / each.name
        release_stream(
            store, each.settings, name, command, out=folder, capture=capture,
            gate_flags=gate_flags, analysis=analysis, remeasure=remeasure,
        )  # fmt: skip
        verdict = read_report(folder).verdict
        reports.append(ScenarioReport(each.name, verdict, (folder / "report.md").read_text()))
    for file_name, text in (
        ("report.md", combined_markdown(name, reports)),
        ("report.json", combined_json(name, reports)),
    ):
        write_output(out / file_name, text)
        wrote(out / file_name)
    verdict = overall_verdict([r.verdict for r in reports])
    each_verdict = ", ".join(f"{r.name} {r.verdict}" for r in reports)
    echo(f"## {name}: {verdict} ({each_verdict})")
    raise typer.Exit(1 if verdict == "block" else 0)


def release_stream(
    store: Archive,
    settings: Settings,
    name: str,
    command: list[str] | None,
    *,
    out: Path,
    capture: CaptureOptions,
    gate_flags: GateOptions,
    analysis: AnalysisOptions,
    remeasure: bool,
) -> int:
    """Capture, compare, report and gate one release stream; the exit code."""
    base = base_of(store, name)
    load = command or settings.load
    if base is None:
        capture_one(store, settings, name, command, capture)
        return no_baseline(name, gate_flags, out=out, store=store)
    how: Remeasure | str = "--archived-base was given"
    if remeasure:
        how = plan(store.info(base), load, git_state(Path.cwd())[0], Path.cwd())
    if isinstance(how, str):
        capture_one(store, settings, name, command, capture)
        why = f"compared with the archived runs of {base}, captured apart: {how}"
        note(why)
        return run_gate(store, settings, base, name, analysis, gate_flags, out=out, notes=(why,))
    look = first_look(settings, analysis_of(analysis))
    remeasured, extended = capture_beside(
        store, settings, name, load, store.info(base), how, capture, look
    )
    why = how.describe(base)
    note(why)
    return run_gate(
        store,
        settings,
        base,
        name,
        analysis,
        gate_flags,
        out=out,
        side_by_side=True,
        base=remeasured,
        notes=(why,) if extended is None else (why, extended),
    )


def base_of(store: Archive, name: str) -> str | None:
    """The release NAME will follow: the newest, or the one before NAME when it is replaced."""
    names = store.names()
    if name in names:
        return store.previous(name)
    return names[-1] if names else None
