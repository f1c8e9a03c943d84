"""Two flamediff processes writing to one archive at once: both finish, or one is refused
with a clear message, and the archive passes `flamediff check` afterwards.

Writers overlap for real here: the test holds the archive's lock while the writers start,
so that both reach their commit and wait on it together, then lets them go at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import REPO, SAMPLES

import flamediff.archive.local
from flamediff.archive import LOCK_FILE, TEMP_PREFIX, Archive
from flamediff.cli import main

RUNS = sorted((SAMPLES / "v1").glob("run-*.folded"))[:3]
OTHER_RUNS = sorted((SAMPLES / "v2").glob("run-*.folded"))[:2]


@contextlib.contextmanager
def holding_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK_FILE).open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flamediff", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def writers_waiting(root: Path, count: int, timeout: float = 60) -> None:
    """Wait until ``count`` writers have written their runs and wait for the lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        temps = [p for p in root.glob(f"{TEMP_PREFIX}*") if p.is_dir()]
        if len(temps) == count and all(any(p.glob("run-*.folded.gz")) for p in temps):
            time.sleep(0.3)  # the last run file being finished
            return
        time.sleep(0.02)
    pytest.fail(f"{count} writers did not reach their commit")


def finish(*processes: subprocess.Popen[str]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=60), p.communicate()[1]) for p in processes]


def assert_sound(root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flamediff", "check", "--archive", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [p.name for p in root.glob(f"{TEMP_PREFIX}*")] == []


def counts(root: Path, name: str) -> list[dict[tuple[str, ...], int]]:
    return [dict(profile.counts) for profile in Archive(root).load(name).profiles]


def imported(files: list[Path]) -> list[dict[tuple[str, ...], int]]:
    from flamediff.formats import read_profiles

    return [dict(read_profiles(path)[0][1].counts) for path in files]


def test_two_imports_of_different_releases_both_finish(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with holding_lock(root):
        first = start("import", "a", *map(str, RUNS), "--archive", str(root))
        second = start("import", "b", *map(str, OTHER_RUNS), "--archive", str(root))
        writers_waiting(root, 2)
    results = finish(first, second)
    assert [code for code, _ in results] == [0, 0], results
    archive = Archive(root)
    assert sorted(archive.names()) == ["a", "b"]
    assert counts(root, "a") == imported(RUNS)
    assert counts(root, "b") == imported(OTHER_RUNS)
    sequences = sorted(seq for seq, _ in archive.scan()[0])
    assert sequences == [1, 2]  # each commit saw the other's
    assert_sound(root)


def test_two_imports_of_the_same_release_one_wins_one_is_told(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with holding_lock(root):
        first = start("import", "v1", *map(str, RUNS), "--archive", str(root))
        second = start("import", "v1", *map(str, OTHER_RUNS), "--archive", str(root))
        writers_waiting(root, 2)
    results = finish(first, second)
    assert sorted(code for code, _ in results) == [0, 2], results
    (loser,) = [err for code, err in results if code == 2]
    assert loser.count("\n") == 1
    assert loser.startswith("error: release 'v1' was archived in ")
    assert loser.endswith("by another flamediff meanwhile; pass --force to replace it\n")
    winner = RUNS if results[0][0] == 0 else OTHER_RUNS
    assert counts(root, "v1") == imported(winner)
    assert_sound(root)


def test_two_forced_imports_of_the_same_release_leave_one_whole(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    assert main(["import", "v1", str(RUNS[0]), "--archive", str(root)]) == 0
    with holding_lock(root):
        first = start("import", "v1", *map(str, RUNS), "--force", "--archive", str(root))
        second = start("import", "v1", *map(str, OTHER_RUNS), "--force", "--archive", str(root))
        writers_waiting(root, 2)
    results = finish(first, second)
    assert [code for code, _ in results] == [0, 0], results
    assert counts(root, "v1") in (imported(RUNS), imported(OTHER_RUNS))
    assert Archive(root).names() == ["v1"]
    assert_sound(root)


def test_many_writers_at_once_all_finish(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    processes = [
        start("import", f"r{index}", *map(str, RUNS), "--archive", str(root)) for index in range(4)
    ]
    results = finish(*processes)
    assert [code for code, _ in results] == [0] * 4, results
    archive = Archive(root)
    assert sorted(archive.names()) == [f"r{index}" for index in range(4)]
    assert sorted(seq for seq, _ in archive.scan()[0]) == [1, 2, 3, 4]
    assert_sound(root)


def test_a_held_lock_times_out_with_a_clear_message(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "archive"
    monkeypatch.setattr(flamediff.archive.local, "LOCK_TIMEOUT_SECONDS", 0.3)
    with holding_lock(root):
        code = main(["import", "v1", str(RUNS[0]), "--archive", str(root)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == (
        f"error: {root / LOCK_FILE}: another flamediff has been writing to the archive for "
        "0.3 s; try again when it is done\n"
    )
    assert Archive(root).names() == []
    assert [p.name for p in root.iterdir()] == [LOCK_FILE]


def test_readers_never_wait_for_a_writer(tmp_path: Path, capsys) -> None:
    root = tmp_path / "archive"
    assert main(["import", "v1", *map(str, RUNS), "--archive", str(root)]) == 0
    capsys.readouterr()
    with holding_lock(root):
        assert main(["list", "--format", "json", "--archive", str(root)]) == 0
        assert json.loads(capsys.readouterr().out)["releases"][0]["name"] == "v1"
        assert main(["show", "v1", "--archive", str(root)]) == 0


# ---- captures, with py-spy --------------------------------------------------------------------

LOAD = [sys.executable, str(SAMPLES / "load" / "v1" / "load.py"), "3000"]


def capture(name: str, root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flamediff", "capture", name, "--runs", "2", "--warmup", "0",
         "--archive", str(root), "--", *LOAD],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


@pytest.mark.pyspy
def test_two_captures_into_one_archive(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with holding_lock(root):
        processes = [capture("a", root), capture("b", root), capture("a", root)]
        writers_waiting(root, 3, timeout=120)
    results = finish(*processes)
    codes = [code for code, _ in results]
    assert codes[1] == 0, results[1]
    assert sorted((codes[0], codes[2])) == [0, 2], results
    loser = results[0][1] if codes[0] == 2 else results[2][1]
    assert loser.endswith("by another flamediff meanwhile; pass --force to replace it\n"), loser
    assert "Traceback" not in loser
    assert sorted(Archive(root).names()) == ["a", "b"]
    assert_sound(root)
