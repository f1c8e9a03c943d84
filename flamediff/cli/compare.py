"""`flamediff compare`: capture base and head alternately in one job, then gate.

Comparing against a profile captured on another day or machine is the largest source of false
alarms; re-measuring the base beside the head, interleaved, makes drift hit both alike.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from flamediff.capture.runners import make_runner
from flamediff.cli.capture import how_to_capture
from flamediff.cli.common import interrupt_on_sigterm, note, open_archive
from flamediff.cli.gating import analysis_of, run_gate
from flamediff.cli.options import (
    AnalysisOptions,
    ArchiveOption,
    CaptureOptions,
    GateOptions,
    grouped,
)
from flamediff.cli.progress import progress_reporter
from flamediff.errors import ConfigError
from flamediff.pipeline.adaptive import first_look
from flamediff.pipeline.capture import capture_side_by_side


def split_command(text: str, option: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise ConfigError(f"{option}: {error}") from None
    if not words:
        raise ConfigError(f"{option} is empty")
    return words


@grouped
def compare(
    base: Annotated[str, typer.Argument(help="Name to archive the base's runs under.")],
    head: Annotated[str, typer.Argument(help="Name to archive the head's runs under.")],
    *,
    base_cmd: Annotated[
        str,
        typer.Option(
            "--base-cmd",
            help="The load of the base, e.g. "
            "'python old/bench/load.py' (one string, split like a shell).",
        ),
    ],
    head_cmd: Annotated[str, typer.Option("--head-cmd", help="The load of the head.")],
    capture: CaptureOptions,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the reports into this folder.")
    ] = None,
    gate_flags: GateOptions,
    analysis: AnalysisOptions,
    archive: ArchiveOption = None,
) -> None:
    """Capture BASE and HEAD interleaved (ABBA ...) on this machine, archive both, and gate.

    Exit 0 pass, 1 blocked, 2 error: the same as `flamediff gate`.
    """
    store, settings = open_archive(archive, capture, gate_flags, analysis)
    if base == head:
        raise ConfigError("base and head need different names")
    commands = split_command(base_cmd, "--base-cmd"), split_command(head_cmd, "--head-cmd")
    try:
        with interrupt_on_sigterm(), progress_reporter(f"{base} vs {head}") as report:
            captured = capture_side_by_side(
                store, (base, commands[0]), (head, commands[1]),
                how_to_capture(settings, capture), force=capture.force,
                runner_factory=make_runner, on_progress=report,
                look=first_look(settings, analysis_of(analysis)),
            )  # fmt: skip
    except KeyboardInterrupt:
        note(f"interrupted: neither {base} nor {head} was archived")
        raise
    for side in captured:
        note(side.summary())
    extended = captured[1].extended
    if extended is not None:
        note(extended)
    raise typer.Exit(
        run_gate(
            store, settings, base, head, analysis, gate_flags, out=out, side_by_side=True,
            notes=() if extended is None else (extended,),
        )
    )  # fmt: skip
