"""`flamediff release`: the one pipeline step: capture, compare with the previous release,
write the reports, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.capture import capture_one
from flamediff.cli.common import open_archive
from flamediff.cli.gating import no_baseline, run_gate
from flamediff.cli.options import (
    AnalysisOptions,
    ArchiveOption,
    CaptureOptions,
    CommandArgument,
    GateOptions,
    grouped,
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
            help="Folder for report.md, report.json, flamegraph.svg, delta.png and report.html.",
        ),
    ] = Path("flamediff-report"),
    capture: CaptureOptions,
    gate_flags: GateOptions,
    analysis: AnalysisOptions,
    archive: ArchiveOption = None,
) -> None:
    """Capture NAME, compare it with the release before it, write the reports, and gate.

    The first release ever is captured and reported as "no baseline" (exit 0).
    Exit 0 pass, 1 blocked, 2 error.
    """
    store, settings = open_archive(archive, capture, gate_flags, analysis)
    capture_one(store, settings, name, command, capture)
    base = store.previous(name)
    if base is None:
        raise typer.Exit(no_baseline(name, gate_flags, out=out))
    raise typer.Exit(run_gate(store, settings, base, name, analysis, gate_flags, out=out))
