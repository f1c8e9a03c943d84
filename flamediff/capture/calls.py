"""One extra run of the load under a deterministic tracer: exact calls per caller -> callee.

Sampling tells where time went, blurred by noise; a traced run tells how often each path
ran, exactly. Set beside each other they separate "called 2.9x as often, same cost per
call" (the caller changed) from "called as often, 40% slower per call" (the function did).

The tracer (``inload/sitecustomize.py``) is put first on the load's ``PYTHONPATH``, so it
counts in every Python process the load starts, through launchers and shell scripts, in the
load's own interpreter whatever flamediff runs on. The traced run is made after the sampled
runs and never sampled: a profile hook slows calls several times over, which would distort
the timings but not the counts.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from flamediff.capture.pyspy import (
    die_with_parent,
    ended,
    last_line,
    load_environment,
    resolve_command,
)
from flamediff.errors import CaptureError, InputError
from flamediff.formats.calls import merge_calls, parse_calls
from flamediff.model import CallCounts

TRACER = Path(__file__).with_name("inload")
OUTPUT_VARIABLE = "FLAMEDIFF_CALLS_DIR"


def tracing_environment(cwd: Path | None, output: Path) -> dict[str, str]:
    """The load's environment with the tracer first on its path, writing into ``output``."""
    environment = load_environment(cwd) or dict(os.environ)
    path = [str(TRACER)]
    if environment.get("PYTHONPATH"):
        path.append(environment["PYTHONPATH"])
    return {**environment, "PYTHONPATH": os.pathsep.join(path), OUTPUT_VARIABLE: str(output)}


def count_calls(command: Sequence[str], cwd: Path | None = None) -> CallCounts:
    """Run ``command`` once (in ``cwd``) under the tracer and return its calls.

    Raises CaptureError when the load fails, or when no Python process of it was counted
    (an interpreter started with ``-S`` or ``-I`` reads no ``sitecustomize``).
    """
    program = resolve_command(command)
    shown = " ".join(program)
    with tempfile.TemporaryDirectory(prefix="flamediff-calls-") as folder:
        output = Path(folder) / "counts"
        output.mkdir()
        log = Path(folder) / "load.log"
        started = time.perf_counter()
        with log.open("wb") as log_stream:
            try:
                status = subprocess.run(
                    program,
                    stdin=subprocess.DEVNULL,
                    stdout=log_stream,
                    stderr=subprocess.STDOUT,
                    cwd=cwd,
                    env=tracing_environment(cwd, output),
                    preexec_fn=die_with_parent(),
                    check=False,
                ).returncode
            except OSError as error:
                raise CaptureError(f"cannot start {program[0]}: {error.strerror}") from None
        wall = round(time.perf_counter() - started, 4)
        if status != 0:
            detail = last_line(log)
            raise CaptureError(
                f"the call-counting run of `{shown}` {ended(status)}"
                + (f" ({detail})" if detail else "")
                + "; nothing was archived"
            )
        files = sorted(output.glob("calls-*.json"))
        if not files:
            raise CaptureError(
                f"the call-counting run of `{shown}` counted no Python process: an interpreter "
                "started with -S or -I reads no sitecustomize; drop --calls or those flags"
            )
        try:
            parts = [parse_calls(file.read_bytes(), str(file)) for file in files]
        except (OSError, InputError) as error:
            raise CaptureError(f"the call-counting run of `{shown}`: {error}") from None
    return merge_calls(parts, wall_seconds=wall)
