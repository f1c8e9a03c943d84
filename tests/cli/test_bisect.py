"""`flamediff bisect`: the first slower commit, found by measuring commits beside BAD."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from builders import git, run_cli, sample_runs

from flamediff.capture import runners
from flamediff.capture.replay import ReplayRunner
from flamediff.capture.runners import CaptureSettings
from flamediff.capture.session import Runner


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Six commits; the sample shop's v2 (apply_discounts 5x slower) lands in the fourth.

    Each checkout's `version.txt` says which captured runs its load replays, so the runs
    measured are those of the code checked out, as with py-spy.
    """
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    commits = []
    for index, version in enumerate(["v1", "v1", "v1", "v2", "v2", "v2"]):
        (repo / "version.txt").write_text(version)
        (repo / "notes.txt").write_text(f"change {index}\n")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", f"change {index} ({version})")
        commits.append(git(repo, "rev-parse", "HEAD"))

    def replay_checkout(
        command: Sequence[str], label: str, settings: CaptureSettings, cwd: Path | None
    ) -> Runner:
        assert cwd is not None
        assert cwd != repo, "every side runs from a checkout"
        version = (cwd / "version.txt").read_text()
        return ReplayRunner(label, sample_runs(version), settings.rate_hz, command)

    monkeypatch.setitem(runners.PROFILERS, "py-spy", replay_checkout)
    monkeypatch.chdir(repo)
    return commits


def test_bisect_finds_the_first_slower_commit(capsys, history) -> None:
    good, bad = history[0], history[-1]
    code, stdout, err = run_cli(capsys, "bisect", good, bad, "--", "python", "load.py")
    assert code == 0, err
    assert stdout.startswith(f"first slower commit on the load: {history[3]} change 3 (v2)\n")
    assert f"last commit before it: {history[2]} change 2 (v1)" in stdout
    # GOOD against BAD first, then halving the five commits after GOOD: commits 2 and 3.
    tested = [line.split()[1] for line in stdout.splitlines() if line.startswith("- ")]
    assert tested == [good[:12], history[2][:12], history[3][:12]]
    assert "(BAD is slower: apply_discounts (shop/pricing.py) +" in stdout
    assert "already slower (BAD is not significantly slower)" in stdout
    # Every temporary checkout is gone.
    assert len(git(Path.cwd(), "worktree", "list").splitlines()) == 1


def test_bisect_on_a_function_that_did_not_change_finds_nothing(capsys, history) -> None:
    code, stdout, err = run_cli(
        capsys, "bisect", history[0], history[-1], "--function", "compute_tax*", "--",
        "python", "load.py",
    )  # fmt: skip
    assert code == 0, err
    assert stdout.startswith(
        f"{history[-1]} is not significantly slower than {history[0][:12]} on functions "
        "matching compute_tax*: nothing to bisect"
    )


def test_bisect_on_the_function_that_changed(capsys, history) -> None:
    code, stdout, err = run_cli(
        capsys, "bisect", history[1], history[-1], "--function", "apply_discounts", "--",
        "python", "load.py",
    )  # fmt: skip
    assert code == 0, err
    assert stdout.startswith(
        f"first slower commit on functions matching apply_discounts: {history[3]}"
    )


@pytest.mark.parametrize(
    ("good", "bad", "message"),
    [
        ("nope", "HEAD", "'nope' is not a commit"),
        ("HEAD", "HEAD~2", "is not an ancestor of HEAD~2"),
        ("HEAD", "HEAD", "GOOD and BAD are the same commit"),
    ],
)
def test_bad_commits_exit_2(capsys, history, good, bad, message) -> None:
    code, _, err = run_cli(capsys, "bisect", good, bad, "--", "python", "load.py")
    assert code == 2
    assert message in err


def test_bisect_needs_a_repository(capsys, tmp_path, monkeypatch) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    code, _, err = run_cli(capsys, "bisect", "a", "b", "--", "python", "load.py")
    assert (code, err) == (2, "error: bisect runs inside a git work tree: cd into the repository\n")
