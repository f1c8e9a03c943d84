"""What a release records about where and how it was captured."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path


def git_state(folder: Path) -> tuple[str | None, bool | None]:
    """(commit sha, dirty) of the git work tree holding ``folder``; (None, None) outside one."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", *args], cwd=folder, capture_output=True, text=True, timeout=30,
                check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit.strip(), bool(status.strip()) if status is not None else None


def host_name() -> str:
    return platform.node() or "unknown"


def python_version_of(command: Sequence[str]) -> str | None:
    """The version of the Python the load runs on, when the command starts with one."""
    if not command or not Path(command[0]).name.startswith("python"):
        return platform.python_version()
    try:
        result = subprocess.run(
            [command[0], "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None
