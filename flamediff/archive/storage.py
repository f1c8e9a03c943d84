"""What the archive needs of the place its releases are kept: the :class:`Storage` protocol.

A release is a set of objects under its name: run files and, written last, ``release.json``.
:class:`flamediff.archive.Archive` does everything else (naming, ordering, checking, caching)
over these few operations, so that a backend only has to store bytes and make one commit
atomic. It is designed for the weakest store it must fit, an object store with no rename and
no lock:

- a writer fills an *attempt*: its run files under a prefix no other writer uses;
- :meth:`Storage.commit` makes the attempt the release in one step. A folder renames the
  attempt into place under a lock; an object store writes ``release.json`` last with a
  create-if-absent put, so that of two writers of one name exactly one wins;
- readers see a release only once its ``release.json`` exists, and verify its run files
  against it;
- whatever a dead writer left behind is found by :meth:`Storage.leftovers`, and
  removed only when asked (``flamediff check --repair``, and a local folder's next writer).

Errors: a missing object raises FileNotFoundError, a commit that finds the name taken (and
may not replace it) raises FileExistsError, anything else the store cannot do raises OSError.
The archive turns them into messages naming the object by :meth:`Storage.describe`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from flamediff.archive.cache import RunCache


@dataclass(frozen=True, slots=True)
class Leftover:
    """What a writer that died left in the archive, and what was done about it.

    ``removed``: it is gone (False when only listed, or when removing it failed, then
    ``error`` says why). ``restored_as``: a release moved aside, put back under its name.
    """

    path: str
    removed: bool = False
    restored_as: str | None = None
    error: str | None = None


class Attempt(Protocol):
    """A release being written: run files go here until the commit makes them the release."""

    @property
    def name(self) -> str:
        """The release this attempt will become."""
        ...

    @property
    def run_cache(self) -> RunCache:
        """Where derived caches of these run files go on the local disk, if anywhere."""
        ...

    def file_name(self, run_file: str) -> str:
        """The name under which this attempt stores ``run_file`` (``run-01.folded.gz``), as
        ``release.json`` will record it: unique to the attempt where the store needs it."""
        ...

    def open_run(self, file: str) -> AbstractContextManager[BinaryIO]:
        """A stream to write run file ``file``; stored, durably, when the block ends."""
        ...


class Storage(Protocol):
    """Releases kept somewhere: a local folder, a bucket. See the module docstring."""

    @property
    def location(self) -> str:
        """Where the archive is, as a person would write it: a path or a URL."""
        ...

    def describe(self, name: str, file: str | None = None) -> str:
        """How messages name release ``name``, or one of its files."""
        ...

    def present(self) -> bool:
        """Whether there is an archive here at all (it may hold no release yet)."""
        ...

    def release_names(self) -> list[str]:
        """The names under which something is stored, readable or not, in no order."""
        ...

    def has_release(self, name: str) -> bool:
        """Whether something is stored under ``name``."""
        ...

    def read(self, name: str, file: str) -> bytes:
        """The bytes of ``file`` of release ``name``."""
        ...

    def read_many(self, files: Sequence[tuple[str, str]]) -> list[bytes | Exception]:
        """The bytes of each ``(release, file)`` of ``files``, or the error reading it (what
        :meth:`read` would raise): fetched at once where the store is remote, so that their
        latencies overlap."""
        ...

    def stored_files(self, name: str) -> set[str]:
        """The names of the files stored under ``name`` (one listing, nothing downloaded)."""
        ...

    def attempt(self, name: str) -> AbstractContextManager[Attempt]:
        """A fresh attempt at release ``name``; whatever is not committed is gone after it."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Held while the archive computes and makes a change visible.

        A store that cannot lock returns a context that does nothing and relies on the
        create-if-absent commit alone.
        """
        ...

    def claim_sequence(self, after: int) -> int:
        """A capture-order number above ``after`` that no other commit gets (under the lock)."""
        ...

    def commit(self, attempt: Attempt, document: bytes, *, replace: bool) -> None:
        """Make ``attempt`` release ``attempt.name`` with ``document`` as its ``release.json``.

        Atomic: readers see the old state or the new one. FileExistsError when the name is
        taken and ``replace`` is false.
        """
        ...

    def update_document(self, name: str, change: Callable[[bytes], bytes]) -> None:
        """Replace the ``release.json`` of release ``name`` by ``change`` of it, atomically.

        No change is lost when several writers update one document at once: a folder
        applies each under its lock; an object store writes only if the document is still
        the one ``change`` was given (a compare-and-swap on its ETag), and otherwise calls
        ``change`` again on the new one.
        """
        ...

    def leftovers(self, *, remove: bool) -> list[Leftover]:
        """What writers that no longer run left behind; with ``remove``, removed (or put
        back). Each says only what was really done."""
        ...

    def run_cache(self, name: str) -> RunCache:
        """The local cache of the parsed runs of release ``name`` (its folder None: no cache)."""
        ...
