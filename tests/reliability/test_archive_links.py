"""Nothing leads flamediff out of its archive: symbolic links inside it are refused, by name.

A release folder, run file, ``.lock``, ``.cache`` folder or cache entry that is a link could
make a reader read, a writer write, or ``check --repair`` delete what lies outside the
archive. Each is refused with one line naming the link, and what it points to is never
touched. ``check`` reports only what it really did.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

import flamediff.archive.local
from flamediff.archive import CACHE_DIR, LOCK_FILE, TEMP_PREFIX, Archive, utc_now
from flamediff.archive.document import validate_release_name
from flamediff.cli import main
from flamediff.errors import ArchiveError
from flamediff.model import Profile, ReleaseInfo, RunInfo

RUN = Profile({("main (a.py:1)", "work (a.py:2)"): 7})
DEAD = 2**22 + 4321  # above the default pid_max: never a live process
LINK = "a symbolic link; flamediff does not follow links inside an archive"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def write(archive: Archive, name: str) -> None:
    with archive.writer(name) as writer:
        writer.add_run(RUN, RunInfo(RUN.total, 1.0, 0))
        writer.commit(ReleaseInfo(name=name, created=utc_now(), rate_hz=100.0))


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    store = Archive(tmp_path / "archive")
    write(store, "v1")
    return store


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the archive, holding a release and what looks like leftovers."""
    folder = tmp_path / "outside"
    write(Archive(folder), "elsewhere")
    (folder / "elsewhere" / f"{TEMP_PREFIX}{DEAD}-release.json").write_text("precious")
    (folder / f"{TEMP_PREFIX}{DEAD}-abcd").mkdir()
    return folder


def test_a_release_folder_that_is_a_link_is_refused_and_check_repair_stays_inside(
    archive: Archive, outside: Path
) -> None:
    before = snapshot(outside)
    link = archive.root / "v2"
    link.symlink_to(outside / "elsewhere", target_is_directory=True)
    code, out, err = run("list", "--format", "json", "--archive", str(archive.root))
    assert code == 0
    assert json.loads(out)["damaged"] == ["v2"]
    assert err == f"warning: v2: {link}: {LINK} (replace it with the file or folder itself)\n"
    code, _, err = run("show", "v2", "--archive", str(archive.root))
    assert (code, err.count("\n")) == (2, 1)
    assert err.startswith(f"error: {link}: {LINK}")
    code, _, err = run("check", "--repair", "--archive", str(archive.root))
    assert code == 2
    assert f"damaged: {link}: {LINK}" in err
    assert "removed" not in err
    assert snapshot(outside) == before  # nothing outside was read into, written or deleted
    assert link.is_symlink()


def test_a_run_file_that_is_a_link_is_refused(archive: Archive, outside: Path) -> None:
    run_file = archive.root / "v1" / "run-01.folded.gz"
    target = outside / "elsewhere" / "run-01.folded.gz"
    assert run_file.read_bytes() == target.read_bytes()  # the same profile: only the link tells
    run_file.unlink()
    run_file.symlink_to(target)
    for args in (["show", "v1"], ["export", "v1"], ["check"]):
        code, _, err = run(*args, "--archive", str(archive.root))
        assert code == 2, args
        assert f"{run_file}: {LINK}" in err, args


def test_a_lock_that_is_a_link_is_refused_and_its_target_never_created(
    archive: Archive, tmp_path: Path
) -> None:
    target = tmp_path / "not-the-archive.lock"
    (archive.root / LOCK_FILE).unlink()
    (archive.root / LOCK_FILE).symlink_to(target)
    new = tmp_path / "new.folded"
    new.write_text("main (a.py:1) 3\n")
    code, _, err = run("import", "v2", str(new), "--archive", str(archive.root))
    assert (code, err) == (
        2,
        f"error: {archive.root / LOCK_FILE}: {LINK} (replace it with the file or folder itself)\n",
    )
    assert not target.exists()
    assert archive.names() == ["v1"]


def test_a_cache_folder_that_is_a_link_is_refused_and_never_written(
    archive: Archive, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere-cache"
    target.mkdir()
    shutil.rmtree(archive.root / "v1" / CACHE_DIR)
    (archive.root / "v1" / CACHE_DIR).symlink_to(target, target_is_directory=True)
    for args in (["show", "v1"], ["check"], ["check", "--repair"]):
        code, _, err = run(*args, "--archive", str(archive.root))
        assert code == 2, args
        assert f"{archive.root / 'v1' / CACHE_DIR}: {LINK}" in err, args
    assert list(target.iterdir()) == []


def test_a_cache_entry_that_is_a_link_is_refused_and_repair_removes_only_the_link(
    archive: Archive, tmp_path: Path
) -> None:
    entry = archive.root / "v1" / CACHE_DIR / "run-01.normalised.stacks"
    target = tmp_path / "elsewhere.stacks"
    target.write_bytes(entry.read_bytes())
    entry.unlink()
    entry.symlink_to(target)
    code, _, err = run("show", "v1", "--archive", str(archive.root))
    assert (code, err.count("\n")) == (2, 1)
    assert err.startswith(f"error: {entry}: {LINK}")
    code, _, err = run("check", "--archive", str(archive.root))
    assert code == 2
    assert f"damaged: {entry}: {LINK}" in err
    code, _, err = run("check", "--repair", "--archive", str(archive.root))
    assert code == 0, err
    assert f"removed damaged cache entry {entry}" in err
    assert not entry.is_symlink()
    assert target.exists()
    assert run("show", "v1", "--archive", str(archive.root))[0] == 0


def test_check_says_a_removal_failed_when_it_failed(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = archive.root / f"{TEMP_PREFIX}{DEAD}-abcd"
    stale.mkdir()

    def refuse(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(flamediff.archive.local.shutil, "rmtree", refuse)
    code, _, err = run("check", "--repair", "--archive", str(archive.root))
    assert code == 2
    assert f"could not remove leftover {stale}: permission denied" in err
    assert "removed leftover" not in err
    assert stale.is_dir()


def test_a_release_name_with_a_trailing_newline_is_invalid(archive: Archive) -> None:
    for name in ("v2\n", "v2\r\n", "\nv2"):
        with pytest.raises(ArchiveError, match="invalid release name"):
            validate_release_name(name)
    # A folder of that name put there by hand: warned about, quoted, never a broken row.
    shutil.copytree(archive.root / "v1", archive.root / "v1\n")
    code, out, err = run("list", "--archive", str(archive.root))
    assert code == 0
    assert out.splitlines()[1:] == [line for line in out.splitlines()[1:] if line.startswith("v1")]
    assert len(out.splitlines()) == 2
    assert err == (
        f"warning: 'v1\\n': {archive.root}: holds 'v1\\n', not a valid release name; ignored\n"
    )
    assert (archive.root / "v1\n").is_dir()
