"""The archive in a local folder: :class:`FolderStorage`, the first :class:`Storage`.

Layout (``.flamediff/`` by default)::

    .flamediff/
      .lock                      flock'd while a release is committed or amended
      .tmp-<pid>-<random>/       an attempt: a release being written, renamed into place
      v1.4.0/
        release.json             metadata, see flamediff.archive.document
        run-01.folded.gz         one gzip'd folded profile per run, exactly as captured
        ...
        .cache/                  derived, safe to delete (flamediff.archive.cache)

Nothing is ever visible half-written: a release is assembled in a temporary folder inside the
archive and renamed to its name in one step, under the lock. Temporary folders left by a
process that was killed are removed by the next writer. ``release.json`` itself is replaced
atomically (:func:`flamediff.files.write_atomically`) when a justification is added.
``--force`` swaps the new release with the old one in one step where the system can (Linux);
elsewhere the old one is first moved aside under a marked name, and put back by the next
writer if its own writer died before the new one took its place.

Nothing here follows a symbolic link inside the archive: a release folder, run file,
``release.json``, ``.lock``, ``.cache`` folder or cache entry that is a link is refused
with an error naming it, and cleaning up removes a link, never what it points to. A link
could otherwise lead a reader, a writer or ``check --repair`` out of the archive. (The
archive's own folder may be a link: that is where the user chose to keep it.)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flamediff.archive.cache import RunCache
from flamediff.archive.document import RELEASE_FILE, is_release_name
from flamediff.archive.storage import Attempt, Leftover
from flamediff.errors import ArchiveError
from flamediff.files import (
    TEMP_PREFIX,
    read_not_following,
    refuse_link,
    sync_directory,
    temporary_name,
    write_atomically,
)

LOCK_FILE = ".lock"
LOCK_TIMEOUT_SECONDS = 30.0
CACHE_DIR = ".cache"
# Marks a release moved aside while a forced replacement swaps the new one in.
_REPLACED = "replaced"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step; False where the system cannot (then nothing happened).

    Linux's ``renameat2(RENAME_EXCHANGE)``: a forced replacement then has no moment at which
    neither the old release nor the new one is in place, whenever the writer is killed.
    """
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_cwd, rename_exchange = -100, 2
    if renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # kernel or file system lacks it
        return False
    raise OSError(code, os.strerror(code), str(second))


@dataclass(frozen=True, slots=True)
class FolderAttempt:
    """A temporary folder at the top of the archive, filled with run files."""

    name: str
    folder: Path

    @property
    def run_cache(self) -> RunCache:
        return RunCache(self.folder / CACHE_DIR)

    def file_name(self, run_file: str) -> str:
        return run_file  # the folder itself is the attempt's own

    @contextlib.contextmanager
    def open_run(self, file: str) -> Iterator[BinaryIO]:
        with (self.folder / file).open("wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())


class FolderStorage:
    """Releases as folders of one local folder; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def location(self) -> str:
        return str(self.root)

    def describe(self, name: str, file: str | None = None) -> str:
        return str(self.root / name if file is None else self.root / name / file)

    def present(self) -> bool:
        return self.root.is_dir()

    def release_names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir() and not entry.name.startswith(".")
        ]

    def has_release(self, name: str) -> bool:
        return (self.root / name).is_dir()

    def _release_folder(self, name: str) -> Path:
        folder = self.root / name
        if folder.is_symlink():
            raise refuse_link(folder)
        return folder

    def read(self, name: str, file: str) -> bytes:
        path = self._release_folder(name) / file
        try:
            return read_not_following(path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise refuse_link(path) from None
            raise

    def read_many(self, files: Sequence[tuple[str, str]]) -> list[bytes | Exception]:
        found: list[bytes | Exception] = []
        for name, file in files:
            try:
                found.append(self.read(name, file))
            except (OSError, ArchiveError) as error:
                found.append(error)
        return found

    def stored_files(self, name: str) -> set[str]:
        folder = self._release_folder(name)
        return {entry.name for entry in folder.iterdir()} if folder.is_dir() else set()

    @contextlib.contextmanager
    def attempt(self, name: str) -> Iterator[FolderAttempt]:
        temp = self.root / temporary_name()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.leftovers(remove=True)
            temp.mkdir()
            yield FolderAttempt(name, temp)
        finally:
            if temp.exists():
                shutil.rmtree(temp, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock on the archive, held while a change is made visible."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_FILE
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise refuse_link(path) from None
            raise ArchiveError(f"{path}: cannot write: {error.strerror or error}") from None
        with os.fdopen(descriptor, "r+b") as handle:
            deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise ArchiveError(
                            f"{path}: another flamediff has been writing to the archive for "
                            f"{LOCK_TIMEOUT_SECONDS:g} s; try again when it is done"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def claim_sequence(self, after: int) -> int:
        return after + 1  # the lock is held: no other commit runs

    def commit(self, attempt: Attempt, document: bytes, *, replace: bool) -> None:
        if not isinstance(attempt, FolderAttempt):
            raise TypeError(f"not an attempt of this archive: {attempt!r}")
        final = self.root / attempt.name
        if final.exists() and not replace:
            raise FileExistsError(errno.EEXIST, "release exists", str(final))
        # Run files and release.json are synced as they are written, and their folder
        # with release.json: what is renamed into place below is complete on disk.
        write_atomically(attempt.folder / RELEASE_FILE, document, durable=True)
        if final.exists() and _exchange(attempt.folder, final):
            # The new release and the old one swapped places in one step; the temporary
            # folder, now holding the old one, goes with the attempt.
            shutil.rmtree(attempt.folder, ignore_errors=True)
        elif final.exists():
            # Two renames, not one: the old release is moved aside under a name that says
            # what it is, so that a writer killed between them leaves it to be put back
            # (leftovers) rather than deleted with the other leftovers.
            trash = (
                self.root
                / f"{TEMP_PREFIX}{os.getpid()}-{_REPLACED}-{secrets.token_hex(4)}-{attempt.name}"
            )
            try:
                final.rename(trash)
                attempt.folder.rename(final)
            finally:
                if not attempt.folder.exists():
                    shutil.rmtree(trash, ignore_errors=True)
                elif trash.exists():  # interrupted between the two renames: undo the first
                    trash.rename(final)
        else:
            attempt.folder.rename(final)
        sync_directory(self.root)

    def update_document(self, name: str, change: Callable[[bytes], bytes]) -> None:
        with self.lock():
            document = change(self.read(name, RELEASE_FILE))
            write_atomically(self.root / name / RELEASE_FILE, document, durable=True)

    def leftovers(self, *, remove: bool) -> list[Leftover]:
        """Temporary folders and files of writers that no longer run; removed if ``remove``.

        They lie at the top of the archive (a release being written) or inside a release (a
        ``release.json`` being replaced). A release a dead writer had moved aside to replace
        it is put back when nothing took its place. A link is removed as a link: nothing
        outside the archive is ever touched, and folders that are links are not looked into.
        """
        found: list[Leftover] = []
        if not self.root.is_dir():
            return found
        entries = list(self.root.iterdir())
        entries += [
            inner
            for folder in entries
            if _real_folder(folder) and not folder.name.startswith(".")
            for inner in folder.iterdir()
        ]
        for entry in entries:
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            owner, _, rest = entry.name[len(TEMP_PREFIX) :].partition("-")
            if owner.isdigit() and _pid_alive(int(owner)):
                continue
            if not remove:
                found.append(Leftover(str(entry)))
                continue
            if rest.startswith(f"{_REPLACED}-") and entry.parent == self.root:
                name = rest.split("-", 2)[-1]
                with self.lock():
                    if (
                        is_release_name(name)
                        and _real_folder(entry)
                        and not _exists(self.root / name)
                    ):
                        try:
                            entry.rename(self.root / name)
                        except OSError as error:
                            found.append(Leftover(str(entry), error=_reason(error)))
                            continue
                        found.append(
                            Leftover(str(entry), removed=True, restored_as=str(self.root / name))
                        )
                        continue
            found.append(_remove(entry))
        return found

    def run_cache(self, name: str) -> RunCache:
        folder = self._release_folder(name) / CACHE_DIR
        if folder.is_symlink():
            raise refuse_link(folder)
        return RunCache(folder)


def _real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _exists(path: Path) -> bool:
    """Whether anything is at ``path``, a dangling link included."""
    return path.exists() or path.is_symlink()


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _remove(entry: Path) -> Leftover:
    """Remove a leftover (a link as a link) and say whether it is really gone."""
    problem = "still there"
    try:
        if _real_folder(entry):
            shutil.rmtree(entry)  # removes links inside as links, never follows them
        else:
            entry.unlink(missing_ok=True)
    except OSError as error:
        problem = _reason(error)
    if _exists(entry):
        return Leftover(str(entry), error=problem)
    return Leftover(str(entry), removed=True)
