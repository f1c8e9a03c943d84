"""When and how the base is run again beside the head."""

import subprocess
import sys
from pathlib import Path

import pytest
from builders import git

from flamediff.model import ReleaseInfo
from flamediff.pipeline.remeasure import Remeasure, checkout, plan, relocate

PYTHON = sys.executable


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository whose load.py prints "v1" at its first commit and "v2" at its second."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "load.py").write_text("print('v1')\n")
    git(folder, "add", "load.py")
    git(folder, "commit", "-qm", "v1")
    first = git(folder, "rev-parse", "HEAD")
    (folder / "load.py").write_text("print('v2')\n")
    git(folder, "commit", "-qam", "v2")
    return folder, first, git(folder, "rev-parse", "HEAD")


def base_info(**fields) -> ReleaseInfo:
    return ReleaseInfo(**{"name": "v1", "created": "2026-01-01T00:00:00Z", **fields})


def test_an_earlier_commit_runs_from_a_checkout_of_it(repository) -> None:
    folder, first, second = repository
    command = (PYTHON, str(folder / "load.py"))
    base = base_info(command=command, git_commit=first, git_dirty=False)
    how = plan(base, command, second, folder)
    assert isinstance(how, Remeasure)
    assert how.commit == first
    with checkout(how) as (moved, cwd):
        assert cwd is not None
        assert moved == (PYTHON, str(cwd / "load.py"))
        printed = subprocess.run(moved, cwd=cwd, capture_output=True, text=True, check=True)
        assert printed.stdout.strip() == "v1"
    assert not cwd.exists()
    assert "checkout" not in git(folder, "worktree", "list")


def test_the_same_commit_with_another_command_runs_the_base_s_command_as_recorded(
    repository,
) -> None:
    folder, _, second = repository
    base = base_info(command=(PYTHON, "old-venv-load.py"), git_commit=second, git_dirty=False)
    how = plan(base, (PYTHON, "load.py"), second, folder)
    assert how == Remeasure((PYTHON, "old-venv-load.py"), None, None)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"source": "import"}, "was imported"),
        ({"command": ("no-such-python-here", "x")}, "is not on this machine"),
        ({"git_commit": "same"}, "share their commit and command"),
        ({"git_commit": "0" * 40, "git_dirty": True}, "uncommitted changes"),
        ({"git_commit": "0" * 40, "git_dirty": False}, "is not in this repository"),
    ],
)
def test_no_re_measure_when_the_base_s_code_cannot_be_told_apart_or_run(
    repository, fields, why
) -> None:
    folder, _, _ = repository
    command = (PYTHON, "load.py")
    base = base_info(**{"command": command, **fields})
    how = plan(base, command, "same", folder)
    assert isinstance(how, str)
    assert why in how


def test_paths_outside_the_checkout_stay_put(tmp_path: Path) -> None:
    repository, checkout_folder = tmp_path / "repo", tmp_path / "co"
    (checkout_folder / "bench").mkdir(parents=True)
    (checkout_folder / "bench" / "load.py").write_text("")
    command = [
        str(repository / ".venv" / "bin" / "python"),  # untracked: not in the checkout
        str(repository / "bench" / "load.py"),
        "/usr/share/data.txt",
        "--orders=5",
    ]
    assert relocate(command, repository, checkout_folder) == (
        str(repository / ".venv" / "bin" / "python"),
        str(checkout_folder / "bench" / "load.py"),
        "/usr/share/data.txt",
        "--orders=5",
    )
