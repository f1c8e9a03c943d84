"""Re-measure the base beside the head, so that the machine is the same for both.

An archived base was captured on another day, on another runner: no factor recovers that
exactly (see benchmarks/machine). When the base's code can still be run, ``release``
captures it again, interleaved with the head (ABBA), and compares the two captures of the
same job; the archived base is used only when that is impossible, and the report says why.

The base's code can be run again when

- its commit differs from the head's (both recorded, the base's work tree clean): that commit
  is checked out into a temporary ``git worktree`` and the base's command runs there, with
  paths into the repository moved into the checkout and the checkout first on
  ``PYTHONPATH`` (an editable install would otherwise import the head's package);
- or the two share a commit (or neither has one) but ran different commands: a venv per
  version, say. The base's command then runs as it was recorded.

Otherwise nothing tells the two releases' code apart, and re-running the base would run the
head's code twice.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flamediff.errors import CaptureError
from flamediff.model import ReleaseInfo


@dataclass(frozen=True, slots=True)
class Remeasure:
    """How to run the base again: its ``command``, from a checkout of ``commit`` (None: as is)."""

    command: tuple[str, ...]
    commit: str | None
    repository: Path | None

    def describe(self, base: str) -> str:
        where = f"from a checkout of {self.commit[:12]}" if self.commit else "with its own command"
        return f"{base} re-measured beside the head in this job ({where}, interleaved)"


def repository_root(folder: Path) -> Path | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True,
            text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def plan(
    base: ReleaseInfo,
    head_command: Sequence[str],
    head_commit: str | None,
    folder: Path,
) -> Remeasure | str:
    """How to re-measure ``base`` beside a head run as ``head_command`` at ``head_commit``
    from ``folder``, or why it cannot be done."""
    if base.source != "capture" or not base.command:
        return f"{base.name} was imported, not captured: there is no command to run again"
    program = base.command[0]
    if shutil.which(program) is None and not Path(program).is_file():
        return f"{base.name}'s command {program} is not on this machine"
    same_commit = base.git_commit == head_commit
    if same_commit:
        if tuple(base.command) == tuple(head_command):
            return (
                f"{base.name} and the head share their commit and command: nothing tells their "
                "code apart"
            )
        return Remeasure(tuple(base.command), None, None)
    if base.git_commit is None or head_commit is None:
        return f"{base.name} or the head was captured outside a git work tree"
    if base.git_dirty:
        return f"{base.name} was captured from uncommitted changes, which no commit holds"
    repository = repository_root(folder)
    if repository is None:
        return "the head is not captured inside a git work tree"
    known = subprocess.run(
        ["git", "cat-file", "-e", f"{base.git_commit}^{{commit}}"],
        cwd=repository, capture_output=True, check=False,
    )  # fmt: skip
    if known.returncode != 0:
        return f"{base.name}'s commit {base.git_commit[:12]} is not in this repository"
    return Remeasure(tuple(base.command), base.git_commit, repository)


def relocate(command: Sequence[str], repository: Path, checkout: Path) -> tuple[str, ...]:
    """The command with every path into ``repository`` that the checkout also holds moved
    into ``checkout`` (an interpreter in an untracked venv stays where it is)."""
    moved = []
    for argument in command:
        path = Path(argument)
        if path.is_absolute():
            try:
                inside = path.relative_to(repository)
            except ValueError:
                moved.append(argument)
                continue
            target = checkout / inside
            moved.append(str(target) if target.exists() else argument)
        else:
            moved.append(argument)
    return tuple(moved)


@contextmanager
def checkout(remeasure: Remeasure) -> Iterator[tuple[tuple[str, ...], Path | None]]:
    """(command, folder to run it in) for the base; a checkout lives as long as the block."""
    if remeasure.commit is None or remeasure.repository is None:
        yield remeasure.command, None
        return
    with tempfile.TemporaryDirectory(prefix="flamediff-base-") as parent:
        folder = Path(parent) / "checkout"
        added = subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(folder), remeasure.commit],
            cwd=remeasure.repository, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if added.returncode != 0:
            raise CaptureError(
                f"cannot check out {remeasure.commit[:12]} to re-measure the base: "
                f"{added.stderr.strip() or 'git worktree add failed'}"
            )
        try:
            yield relocate(remeasure.command, remeasure.repository, folder), folder
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(folder)],
                cwd=remeasure.repository, capture_output=True, check=False,
            )  # fmt: skip
