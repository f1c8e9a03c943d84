"""What the CLI tests share: the sample releases archived, and runs replayed for capture."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from builders import import_release, sample_runs

from flamediff.capture import runners
from flamediff.capture.replay import ReplayRunner


@pytest.fixture
def archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An archive holding the sample releases v1 and v2 (8 runs each, 500 Hz)."""
    root = tmp_path / "archive"
    for name in ("v1", "v2"):
        import_release(capsys, root, name, sample_runs(name))
    return root


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Sequence[Path]]], None]:
    """Make every capture replay stored runs: ``replay({"load-v1": files, ...})``.

    A load command is matched by its last word, so `-- python load-v1` replays ``files``. The
    commands then run through the CLI exactly as with py-spy, without ptrace permission.
    """

    def install(files_of: dict[str, Sequence[Path]]) -> None:
        def paths_of(command: Sequence[str]) -> Sequence[Path]:
            return files_of[command[-1]]

        monkeypatch.setitem(runners.PROFILERS, "py-spy", ReplayRunner.factory(paths_of))

    return install
