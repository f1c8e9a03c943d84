"""Which release the creep is measured from: tagged (shipped) and accepted releases."""

from pathlib import Path

import pytest
from builders import git

from flamediff.errors import ConfigError
from flamediff.model import Justification, ReleaseInfo
from flamediff.pipeline.creep import anchor_name, tagged_commits


def info(name: str, commit: str | None = None, justified: bool = False) -> ReleaseInfo:
    reasons = (Justification("x", "accepted", "2026-01-01T00:00:00Z"),) if justified else ()
    return ReleaseInfo(name, "2026-01-01T00:00:00Z", git_commit=commit, justifications=reasons)


HISTORY = [info(f"r{i}", commit=f"{i:040d}") for i in range(15)]


def test_the_last_tagged_release_is_the_anchor() -> None:
    tagged = frozenset({HISTORY[4].git_commit, HISTORY[9].git_commit})
    assert anchor_name(HISTORY, "r14", tagged=tagged) == "r9"
    assert anchor_name(HISTORY, "r14", "tag", tagged=tagged) == "r9"
    # Without tags: ten back.
    assert anchor_name(HISTORY, "r14") == "r4"


def test_the_later_of_a_tag_and_a_justification_wins() -> None:
    history = list(HISTORY)
    history[11] = info("r11", commit=history[11].git_commit, justified=True)
    tagged = frozenset({history[9].git_commit})
    assert anchor_name(history, "r14", tagged=tagged) == "r11"
    assert anchor_name(history, "r14", "tag", tagged=tagged) == "r9"


def test_asking_for_a_tag_where_none_was_captured_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no release before r14 was captured at a tagged"):
        anchor_name(HISTORY, "r14", "tag")


def test_tagged_commits_reads_lightweight_and_annotated_tags(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    first = git(tmp_path, "rev-parse", "HEAD")
    git(tmp_path, "tag", "v1")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "two")
    second = git(tmp_path, "rev-parse", "HEAD")
    git(tmp_path, "tag", "-a", "v2", "-m", "release two")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "three")
    tagged = tagged_commits(tmp_path)
    assert {first, second} <= tagged
    assert git(tmp_path, "rev-parse", "HEAD") not in tagged
    assert tagged_commits(tmp_path / "nowhere") == frozenset()
