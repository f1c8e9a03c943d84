"""The ``flamediff`` console script. It imports nothing itself, so that a Ctrl-C while the
commands are being imported exits 130 (interrupted) rather than 1 (blocked)."""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from flamediff.cli import main

        code = main()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    raise SystemExit(code)
