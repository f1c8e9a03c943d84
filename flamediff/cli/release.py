"""`flamediff release`: the one pipeline step: capture, compare with the previous release,
write the reports, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.archive import Archive
from flamediff.capture.metadata import git_state
from flamediff.cli.capture import capture_beside, capture_one
from flamediff.cli.common import note, open_archive
from flamediff.cli.gating import no_baseline, run_gate
from flamediff.cli.options import (
    AnalysisOptions,
    ArchiveOption,
    CaptureOptions,
    CommandArgument,
    GateOptions,
    grouped,
)
from flamediff.pipeline.remeasure import Remeasure, plan


@grouped
def release(
    name: Annotated[str, typer.Argument(help="Name of the new release, e.g. v1.5.0.")],
    command: CommandArgument = None,
    *,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for report.md, report.json, flamegraph.svg, delta.png and report.html.",
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
) -> None:
    """Capture NAME, compare it with the release before it, write the reports, and gate.

    The first release ever is captured and reported as "no baseline" (exit 0).
    Exit 0 pass, 1 blocked, 2 error.
    """
    store, settings = open_archive(archive, capture, gate_flags, analysis)
    base = base_of(store, name)
    load = command or settings.load
    if base is None:
        capture_one(store, settings, name, command, capture)
        raise typer.Exit(no_baseline(name, gate_flags, out=out))
    how: Remeasure | str = "--archived-base was given"
    if remeasure:
        how = plan(store.info(base), load, git_state(Path.cwd())[0], Path.cwd())
    if isinstance(how, str):
        capture_one(store, settings, name, command, capture)
        why = f"compared with the archived runs of {base}, captured apart: {how}"
        note(why)
        code = run_gate(store, settings, base, name, analysis, gate_flags, out=out, notes=(why,))
        raise typer.Exit(code)
    remeasured = capture_beside(store, settings, name, load, store.info(base), how, capture)
    why = how.describe(base)
    note(why)
    raise typer.Exit(
        run_gate(
            store,
            settings,
            base,
            name,
            analysis,
            gate_flags,
            out=out,
            side_by_side=True,
            base=remeasured,
            notes=(why,),
        )
    )


def base_of(store: Archive, name: str) -> str | None:
    """The release NAME will follow: the newest, or the one before NAME when it is replaced."""
    names = store.names()
    if name in names:
        return store.previous(name)
    return names[-1] if names else None
