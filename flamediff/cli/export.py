"""`flamediff export`: a release as a file other tools open."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.common import open_archive, wrote
from flamediff.cli.options import ArchiveOption
from flamediff.files import write_output
from flamediff.model import merge


class ExportFormat(StrEnum):
    speedscope = "speedscope"
    folded = "folded"
    pprof = "pprof"


def export(
    release: Annotated[str, typer.Argument(help="Release to export.")],
    output_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="speedscope: one profile per run, opens in "
            "speedscope.app; folded: all runs summed, for flamegraph.pl or inferno; pprof: "
            "gzipped profile.proto with a run label per sample, for pprof (-diff_base), "
            "Pyroscope, Perfetto or speedscope.",
        ),
    ] = ExportFormat.speedscope,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")] = Path("-"),
    archive: ArchiveOption = None,
) -> None:
    """Write RELEASE as speedscope JSON, folded stacks or pprof, exactly as captured."""
    from flamediff.formats import write_collapsed, write_speedscope
    from flamediff.formats.pprof import write_pprof

    store, _ = open_archive(archive)
    loaded = store.load(release)
    content: str | bytes
    if output_format is ExportFormat.pprof:
        runs = [(str(i + 1), p) for i, p in enumerate(loaded.profiles)]
        content = write_pprof(
            runs, release=release, rate_hz=loaded.info.rate_hz, created=loaded.info.created
        )
    elif output_format is ExportFormat.speedscope:
        runs = [(f"{release} run {i + 1}", p) for i, p in enumerate(loaded.profiles)]
        content = write_speedscope(runs, name=release, rate_hz=loaded.info.rate_hz)
    else:
        content = write_collapsed(merge(loaded.profiles))
    if str(output) == "-":
        import sys

        if isinstance(content, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(content)
    else:
        write_output(output, content)
        wrote(output)
