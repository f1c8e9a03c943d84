"""Writing files so that no reader ever sees half of one: the project's one atomic writer.

Reports and the archive both write through :func:`write_atomically`: the bytes go to a
temporary file beside the target, which then replaces it in one step. The temporary file is
named ``.tmp-<pid>-<random>-<name>``, so that one left by a process killed half-way can be
told from a live writer's and removed (see :mod:`flamediff.archive.local`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from flamediff.errors import ArchiveError, FlamediffError

# Names of files and folders still being written; what follows is the writer's pid.
TEMP_PREFIX = ".tmp-"


def temporary_name(name: str = "") -> str:
    """A fresh name for a file or folder being written by this process."""
    suffix = f"-{name}" if name else ""
    return f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def write_atomically(path: Path, content: str | bytes, *, durable: bool = False) -> None:
    """Replace ``path`` with ``content`` in one step; raise OSError when that cannot be done.

    ``durable``: the bytes and the new name are synced to disk before this returns, so that a
    power cut leaves the old file or the new one (the archive's records need it; reports,
    which can be written again, do not pay for it). A symlink at ``path`` is replaced, never
    followed.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    folder = path.parent if str(path.parent) else Path()
    temp = folder / temporary_name(path.name)
    try:
        # O_EXCL: the temporary name is never an existing file or a link planted there.
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        temp.replace(path)
        if durable:
            sync_directory(folder)
    finally:
        # Only still there when interrupted or failed before the replace.
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def read_not_following(path: Path) -> bytes:
    """The bytes of the file ``path``; OSError with ``errno.ELOOP`` when it is a symbolic link.

    Only the last part of the path is checked: the caller vouches for the folders above it.
    """
    handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(handle, "rb") as stream:
        return stream.read()


def refuse_link(path: Path) -> ArchiveError:
    """The error for a symbolic link found where an archive keeps its own files."""
    return ArchiveError(
        f"{path}: a symbolic link; flamediff does not follow links inside an archive "
        "(replace it with the file or folder itself)"
    )


def sync_directory(folder: Path) -> None:
    """Make the names in ``folder`` (files created, renamed into it) survive a power cut.

    A file's own fsync makes its bytes durable, not its name: until its folder is synced too,
    a crash can leave a release renamed into place with run files missing, or not there at all.
    Where a file system cannot sync a folder, it keeps its names by other means: skip it.
    """
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def write_output(path: Path, content: str | bytes) -> None:
    """Write a report atomically, creating its folder; a failure is one line for the user."""
    try:
        if str(path.parent):
            path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, content)
    except OSError as error:
        raise FlamediffError(f"{path}: cannot write: {error.strerror}") from None
