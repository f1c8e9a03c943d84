"""The error tree. Library code raises these; only the CLI turns them into exit codes.

Exit codes: 0 ok, 1 the gate blocked a release, 2 bad input or environment (every error here).
"""

from __future__ import annotations

from pathlib import Path


class FlamediffError(Exception):
    """An error the user can act on; its message is printed as one line, without a traceback."""

    exit_code = 2


class InputError(FlamediffError):
    """A file the user gave cannot be read as what it claims to be."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")


class InputWarning(UserWarning):
    """A file was read, but not exactly as written; the CLI prints it as a ``note:`` line."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ArchiveError(FlamediffError):
    """The archive is missing, damaged, locked, or asked for a release it does not hold."""


class CaptureError(FlamediffError):
    """The load could not be captured: missing command, failing run, py-spy not permitted."""


class ConfigError(FlamediffError):
    """A setting in ``[tool.flamediff]`` or on the command line is invalid."""


class AnalysisError(FlamediffError):
    """The data cannot support the requested comparison (e.g. too few runs for the test)."""
