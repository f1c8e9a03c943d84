"""A writer stopped at any point never loses a release nor shows half of one.

A forked child writes to the archive (a new release, a forced replacement, a recorded
justification) and is stopped after its k-th executed line of the archive's code on the local
backend (the flamediff/archive/ package and flamediff/files.py, its atomic writer), for
every k: with SIGKILL (`kill -9`, the OOM killer, a cancelled CI job) or with
KeyboardInterrupt (Ctrl-C, and SIGTERM, which the CLI turns into one). Line by line covers
every gap between two file-system steps the archive takes. After each stop the archive shows
the state before the write or the state after it, whole; after the next writer, or
`flamediff check --repair`, no leftover remains.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import flamediff.archive
import flamediff.archive.local
import flamediff.files
from flamediff.archive import TEMP_PREFIX, Archive, utc_now
from flamediff.cli import main
from flamediff.model import Justification, Profile, ReleaseInfo, RunInfo

ARCHIVE_SOURCES = frozenset(
    {str(path) for path in Path(flamediff.archive.__file__).parent.glob("*.py")}
    | {flamediff.files.__file__}
)
OLD = (Profile({("main (a.py:1)", "old (a.py:2)"): 5}), Profile({("main (a.py:1)",): 3}))
NEW = (Profile({("main (a.py:1)", "new (a.py:3)"): 7}),)
KILLED, INTERRUPTED = -signal.SIGKILL, 130


def write(archive: Archive, name: str, runs: tuple[Profile, ...], *, force: bool = False) -> None:
    """What `capture` and `import` do once their runs are in hand."""
    with archive.writer(name, force=force) as writer:
        for profile in runs:
            writer.add_run(profile, RunInfo(profile.total, 1.0, 0))
        writer.commit(ReleaseInfo(name=name, created=utc_now(), rate_hz=100.0))


def counts(archive: Archive, name: str) -> tuple[dict[tuple[str, ...], int], ...]:
    return tuple(dict(profile.counts) for profile in archive.load(name).profiles)


def as_counts(runs: tuple[Profile, ...]) -> tuple[dict[tuple[str, ...], int], ...]:
    return tuple(dict(profile.counts) for profile in runs)


def leftovers(root: Path) -> list[str]:
    """Temporary files or folders of a writer, at the top of the archive or in a release."""
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob(f"{TEMP_PREFIX}*")
        if ".cache" not in path.parts
    )


def stopped(action: Callable[[], object], stop_at: int | None, how: str) -> tuple[int, int]:
    """Run ``action`` in a forked child, stopped at its ``stop_at``-th line of the archive.

    Returns the child's exit (0 done, 130 interrupted, -9 killed, 1 any other exception)
    and how many lines of the archive's code it executed.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            os.close(read_end)
            executed = 0

            def line(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
                nonlocal executed
                if event == "line":
                    executed += 1
                    if executed == stop_at:
                        if how == "kill":
                            os.kill(os.getpid(), signal.SIGKILL)
                        raise KeyboardInterrupt
                return line

            def call(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
                return line if frame.f_code.co_filename in ARCHIVE_SOURCES else None

            sys.settrace(call)
            try:
                action()
                code = 0
            except KeyboardInterrupt:
                code = INTERRUPTED
            finally:
                sys.settrace(None)
            os.write(write_end, str(executed).encode())
        finally:
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as stream:
        executed = int(stream.read() or 0)
    return (-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)), executed


def each_stop(action: Callable[[], object], how: str, check: Callable[[int, int], None]) -> int:
    """Stop ``action`` at each of its lines in turn; ``check(k, exit)`` after each stop."""
    code, total = stopped(action, None, how)
    assert code == 0
    assert total > 20  # the tracer saw the archive at work
    for k in range(1, total + 1):
        code, _ = stopped(action, k, how)
        assert code in ((KILLED, 0) if how == "kill" else (INTERRUPTED, 0)), (k, code)
        check(k, code)
    return total


def assert_clean_after_next_writer(archive: Archive) -> None:
    # What every writer does first (Archive.writer), and `flamediff check --repair` too.
    archive.clean_leftovers()
    assert leftovers(archive.root) == []
    assert archive.check() == []


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    store = Archive(tmp_path / "archive")
    write(store, "v1", OLD)
    return store


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_a_new_release_appears_whole_or_not_at_all(archive: Archive, how: str) -> None:
    def check(k: int, code: int) -> None:
        assert archive.names() in (["v1"], ["v1", "v2"]), k
        assert counts(archive, "v1") == as_counts(OLD), k
        if "v2" in archive.names():
            assert counts(archive, "v2") == as_counts(NEW), k
        if how == "interrupt":
            assert leftovers(archive.root) == [], k  # Ctrl-C cleans up before it exits
        assert_clean_after_next_writer(archive)
        shutil.rmtree(archive.root / "v2", ignore_errors=True)

    each_stop(lambda: write(archive, "v2", NEW), how, check)


@pytest.mark.parametrize("how", ["kill", "interrupt"])
@pytest.mark.parametrize("swap", ["exchange", "two-renames"])
def test_a_forced_replacement_keeps_the_old_release_or_the_new_one(
    archive: Archive, how: str, swap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if swap == "two-renames":  # where the system cannot swap two folders in one step
        monkeypatch.setattr(flamediff.archive.local, "_exchange", lambda first, second: False)

    def check(k: int, code: int) -> None:
        if swap == "exchange":
            assert archive.names() == ["v1"], k
        else:  # killed between the renames, the old release waits aside for the next writer
            assert archive.names() in (["v1"], []), k
        if archive.names():
            assert counts(archive, "v1") in (as_counts(OLD), as_counts(NEW)), k
        assert_clean_after_next_writer(archive)
        assert archive.names() == ["v1"], k  # cleaning up never drops a release
        if counts(archive, "v1") != as_counts(OLD):
            write(archive, "v1", OLD, force=True)

    each_stop(lambda: write(archive, "v1", NEW, force=True), how, check)


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_a_justification_is_recorded_whole_or_not_at_all(archive: Archive, how: str) -> None:
    path = archive.root / "v1" / "release.json"
    before = path.read_bytes()
    reason = Justification("v0", "accepted: the cache is twice as large", "2026-01-02T00:00:00Z")

    def check(k: int, code: int) -> None:
        reasons = archive.info("v1").justifications  # release.json always parses
        assert reasons in ((), (reason,)), k
        assert_clean_after_next_writer(archive)
        path.write_bytes(before)

    each_stop(lambda: archive.add_justification("v1", reason), how, check)


# ---- the same through the command line -------------------------------------------------------


def test_import_killed_while_committing_is_invisible_then_cleaned(
    archive: Archive, tmp_path: Path
) -> None:
    new = tmp_path / "new.folded"
    new.write_text("main (a.py:1);new (a.py:3) 7\n", encoding="utf-8")
    args = ["import", "v2", str(new), "--archive", str(archive.root)]

    def quiet_import() -> int:
        with Path(os.devnull).open("w") as sink:
            os.dup2(sink.fileno(), 2)
            return main(args)

    main(["list", "--archive", str(archive.root)])  # load the CLI's modules before forking
    _, total = stopped(quiet_import, None, "kill")
    shutil.rmtree(archive.root / "v2")
    for k in range(total // 2, total + 1, max(1, total // 12)):
        code, _ = stopped(quiet_import, k, "kill")
        assert code in (KILLED, 0)
        assert archive.names() in (["v1"], ["v1", "v2"])
        assert main(["check", "--repair", "--archive", str(archive.root)]) == 0
        assert leftovers(archive.root) == []
        shutil.rmtree(archive.root / "v2", ignore_errors=True)


def test_check_removes_leftovers_of_dead_writers_and_keeps_those_of_live_ones(
    archive: Archive, capsys
) -> None:
    dead = 2**22 + 4321  # above the default pid_max: never a live process
    (archive.root / f"{TEMP_PREFIX}{dead}-abcd").mkdir()
    (archive.root / f"{TEMP_PREFIX}{dead}-abcd" / "run-01.folded.gz").write_bytes(b"partial")
    (archive.root / "v1" / f"{TEMP_PREFIX}{dead}-release.json").write_text("{", encoding="utf-8")
    live = archive.root / f"{TEMP_PREFIX}{os.getpid()}-beef"
    live.mkdir()
    before = leftovers(archive.root)
    assert main(["check", "--archive", str(archive.root)]) == 0  # only reads
    err = capsys.readouterr().err
    stale = archive.root / f"{TEMP_PREFIX}{dead}-abcd"
    assert f"leftover {stale} of an interrupted writer; `flamediff check --repair` removes" in err
    assert "removed" not in err
    assert leftovers(archive.root) == before
    assert main(["check", "--repair", "--archive", str(archive.root)]) == 0
    err = capsys.readouterr().err
    assert f"removed leftover {stale} of an interrupted" in err
    assert leftovers(archive.root) == [live.name]


def test_check_puts_back_a_release_a_dead_writer_had_moved_aside(archive: Archive, capsys) -> None:
    dead = 2**22 + 4321
    aside = archive.root / f"{TEMP_PREFIX}{dead}-replaced-0123abcd-v1"
    (archive.root / "v1").rename(aside)
    assert archive.names() == []
    assert main(["check", "--repair", "--archive", str(archive.root)]) == 0
    assert f"put back {archive.root / 'v1'}, moved aside by an interrupted --force" in (
        capsys.readouterr().err
    )
    assert counts(archive, "v1") == as_counts(OLD)


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("gzip.GzipFile.write", OSError(errno.ENOSPC, "No space left on device")),
        ("os.fsync", OSError(errno.EIO, "Input/output error")),
    ],
    ids=["disk-full", "io-error"],
)
def test_a_failing_disk_fails_the_import_in_one_line_and_archives_nothing(
    archive: Archive, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, target, error
) -> None:
    new = tmp_path / "new.folded"
    new.write_text("main (a.py:1);new (a.py:3) 7\n", encoding="utf-8")

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(target, fail)
    code = main(["import", "v2", str(new), "--archive", str(archive.root)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {archive.root}"), err
    assert err.endswith(f": cannot write: {error.strerror}\n"), err
    assert archive.names() == ["v1"]
    assert leftovers(archive.root) == []
