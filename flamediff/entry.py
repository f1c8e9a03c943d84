"""The ``flamediff`` console script. It imports nothing heavy itself, so that a Ctrl-C while
the commands are being imported exits 130 (interrupted) rather than 1 (blocked)."""

from __future__ import annotations

import sys

from flamediff import interruption

INTERRUPTED = 130


def run() -> None:
    interruption.watch()
    try:
        from flamediff.cli import main

        code = main()
    except KeyboardInterrupt:
        code = _interrupted()
    except Exception:
        if not interruption.received():
            raise
        code = _interrupted()  # a Ctrl-C inside an extension's import, reported as its error
    raise SystemExit(code)


def _interrupted() -> int:
    sys.stderr.write("interrupted\n")
    return INTERRUPTED
