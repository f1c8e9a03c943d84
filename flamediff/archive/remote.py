"""The archive on object storage (``s3://bucket/prefix`` and other fsspec URLs).

An object store has no rename and no lock, so the commit is built on the one atomic step it
has: a put that only succeeds if the object does not exist yet (S3's ``If-None-Match: *``).

Layout under the URL::

    <name>/release.json                      the commit: written last, create-if-absent
    <name>/<attempt>-run-01.folded.gz        run files, under a name no other writer uses
    .sequence/00000007                       capture order, each number claimed once

1. A writer uploads its run files under a fresh attempt id (time and randomness).
2. It claims the next sequence number by creating ``.sequence/<n>``; when another writer
   has it, it takes the next one: two writers never share a number.
3. It creates ``<name>/release.json``, naming its own run files and their SHA-256. Of two
   writers of one name, exactly one succeeds; the other is told the name is taken. With
   ``--force`` the document is overwritten instead, and the run files it named become
   leftovers.
4. Readers list only releases whose ``release.json`` exists, and verify every run file
   against it: a release is never visible half-written.
5. A killed writer leaves run files no ``release.json`` names. ``flamediff check`` lists
   those older than an hour (younger ones may be a writer at work) and ``check --repair``
   removes them; readers never do.

6. A justification rewrites ``release.json`` with ``If-Match`` on the ETag it read: when
   another writer changed it meanwhile, the put is refused and the change is applied again
   to the new document, so no justification is lost (stores without conditional puts: the
   last writer wins).

Credentials are the backend's own (environment, profile, instance role): nothing here
reads, stores or prints them. Parsed runs are cached on the local disk, under
``$XDG_CACHE_HOME/flamediff/runs`` (``~/.cache/flamediff/runs``), named by the run file's
SHA-256, never in the bucket: a run read once is never downloaded again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import io
import json
import os
import random
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from flamediff.archive.cache import RunCache
from flamediff.archive.document import RELEASE_FILE, is_release_name
from flamediff.archive.storage import Attempt, Leftover
from flamediff.errors import ArchiveError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

SEQUENCE_DIR = ".sequence"
# A run file no release.json names is a leftover once it is this old; younger, it may belong
# to a writer still uploading its runs.
LEFTOVER_AGE = dt.timedelta(hours=1)
# Compare-and-swap rounds of a release.json update before giving up.
UPDATE_ATTEMPTS = 12
EXTRAS = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}


def is_url(location: str) -> bool:
    """Whether ``location`` names a remote archive (``scheme://...``), not a local folder."""
    scheme, separator, _ = location.partition("://")
    return bool(separator) and scheme.isalnum() and scheme != "file"


def _file_system(url: str) -> tuple[AbstractFileSystem, str]:
    scheme = url.partition("://")[0]
    try:
        from fsspec.core import url_to_fs

        return url_to_fs(url)  # type: ignore[no-any-return]
    except ImportError:
        extra = EXTRAS.get(scheme, scheme)
        raise ArchiveError(
            f"{url}: {scheme}:// archives need an extra: pip install 'flamediff[{extra}]'"
        ) from None
    except ValueError as error:
        raise ArchiveError(f"{url}: not an archive location flamediff can open ({error})") from None


@contextlib.contextmanager
def store_errors(where: str) -> Iterator[None]:
    """The store's failures as the Storage protocol states them: an OSError naming ``where``.

    A backend raises its own exceptions for the network and the service (botocore's
    EndpointConnectionError when the server is gone, aiohttp's errors): each becomes an
    OSError, so that the archive reports it as the object it could not read or write.
    """
    try:
        yield
    except OSError as error:
        if error.filename is None:
            error.filename = where
        raise
    except Exception as error:  # the backend's own: a failure of the store, not of flamediff
        raise OSError(errno.EIO, str(error) or type(error).__name__, where) from error


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _precondition_failed(error: OSError) -> bool:
    """Whether the store refused a conditional put (HTTP 412) rather than failed."""
    cause = error.__cause__
    while cause is not None:
        response = getattr(cause, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return bool(code == "PreconditionFailed" or status == 412)
        cause = cause.__cause__
    return False


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "flamediff"


@dataclass
class RemoteAttempt:
    """Run files uploaded under ``<name>/<attempt>-``; removed unless committed."""

    storage: RemoteStorage
    name: str
    attempt: str
    written: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def run_cache(self) -> RunCache:
        return self.storage.run_cache(self.name)

    def file_name(self, run_file: str) -> str:
        return f"{self.attempt}-{run_file}"

    @contextlib.contextmanager
    def open_run(self, file: str) -> Iterator[BinaryIO]:
        buffer = io.BytesIO()
        yield buffer
        path = self.storage.path(self.name, file)
        self.written.append(path)
        with store_errors(self.storage.describe(self.name, file)):
            self.storage.fs.pipe_file(path, buffer.getvalue())


class RemoteStorage:
    """Releases under a URL of any fsspec file system; see the module docstring."""

    def __init__(self, url: str, fs: AbstractFileSystem | None = None) -> None:
        self.url = url.rstrip("/")
        if fs is None:
            fs, self.root = _file_system(self.url)
        else:
            self.root = fs._strip_protocol(self.url)
        self.fs = fs

    @property
    def location(self) -> str:
        return self.url

    def path(self, name: str, file: str | None = None) -> str:
        return f"{self.root}/{name}" if file is None else f"{self.root}/{name}/{file}"

    def describe(self, name: str, file: str | None = None) -> str:
        return f"{self.url}/{name}" if file is None else f"{self.url}/{name}/{file}"

    def present(self) -> bool:
        with store_errors(self.url):
            return bool(self.fs.exists(self.root))

    def release_names(self) -> list[str]:
        self.fs.invalidate_cache(self.root)
        with store_errors(self.url):
            found = self.fs.glob(f"{self.root}/*/{RELEASE_FILE}")
        return [path[len(self.root) + 1 :].split("/", 1)[0] for path in found]

    def has_release(self, name: str) -> bool:
        self.fs.invalidate_cache(self.path(name))
        with store_errors(self.describe(name, RELEASE_FILE)):
            return bool(self.fs.exists(self.path(name, RELEASE_FILE)))

    def read(self, name: str, file: str) -> bytes:
        with store_errors(self.describe(name, file)):
            return bytes(self.fs.cat_file(self.path(name, file)))

    def read_many(self, files: Sequence[tuple[str, str]]) -> list[bytes | Exception]:
        paths = [self.path(name, file) for name, file in files]
        if not paths:
            return []
        # One call: an asynchronous file system (s3fs, gcsfs) fetches every path at once.
        with store_errors(self.url):
            fetched = self.fs.cat(paths, on_error="return")
        if not isinstance(fetched, dict):  # one path: fsspec returns its bytes alone
            fetched = {paths[0]: fetched}
        found: list[bytes | Exception] = []
        for path, (name, file) in zip(paths, files, strict=True):
            value = fetched.get(path, FileNotFoundError(path))
            if isinstance(value, bytes):
                found.append(value)
                continue
            if not isinstance(value, BaseException):
                value = OSError(errno.EIO, str(value))
            try:
                with store_errors(self.describe(name, file)):
                    raise value
            except OSError as error:
                found.append(error)
        return found

    def stored_files(self, name: str) -> set[str]:
        prefix = self.path(name)
        self.fs.invalidate_cache(prefix)
        try:
            with store_errors(self.describe(name)):
                listed = self.fs.ls(prefix, detail=False)
        except FileNotFoundError:
            return set()
        return {str(path).rsplit("/", 1)[-1] for path in listed}

    @contextlib.contextmanager
    def attempt(self, name: str) -> Iterator[RemoteAttempt]:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        attempt = RemoteAttempt(self, name, f"{stamp}-{secrets.token_hex(4)}")
        try:
            yield attempt
        finally:
            if not attempt.committed:
                for path in attempt.written:
                    # Where the store is unreachable, they stay: leftovers for `check`.
                    with contextlib.suppress(OSError), store_errors(path):
                        self.fs.rm_file(path)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        # No lock on an object store: the create-if-absent commit and sequence claims
        # make concurrent writers safe on their own.
        yield

    def claim_sequence(self, after: int) -> int:
        number = after + 1
        while True:
            try:
                with store_errors(f"{self.url}/{SEQUENCE_DIR}/{number:08d}"):
                    self.fs.pipe_file(
                        f"{self.root}/{SEQUENCE_DIR}/{number:08d}", b"", mode="create"
                    )
                return number
            except FileExistsError:
                number += 1

    def commit(self, attempt: Attempt, document: bytes, *, replace: bool) -> None:
        if not isinstance(attempt, RemoteAttempt):
            raise TypeError(f"not an attempt of this archive: {attempt!r}")
        path = self.path(attempt.name, RELEASE_FILE)
        with store_errors(self.describe(attempt.name, RELEASE_FILE)):
            self.fs.pipe_file(path, document, mode="overwrite" if replace else "create")
        attempt.committed = True

    def update_document(self, name: str, change: Callable[[bytes], bytes]) -> None:
        path, where = self.path(name, RELEASE_FILE), self.describe(name, RELEASE_FILE)
        if not self._conditional_puts():
            # No compare-and-swap here: the last of two simultaneous writers wins.
            with store_errors(where):
                self.fs.pipe_file(path, change(self.read(name, RELEASE_FILE)))
            return
        for attempt in range(UPDATE_ATTEMPTS):
            with store_errors(where):
                self.fs.invalidate_cache(path)
                # The tag first: if the document changes before it is read, the put below
                # finds another tag and is refused.
                tag = self.fs.info(path)["ETag"]
                document = change(bytes(self.fs.cat_file(path)))
            try:
                with store_errors(where):
                    self.fs.pipe_file(path, document, IfMatch=tag)
                return
            except OSError as error:
                if not _precondition_failed(error):
                    raise
            # Another writer updated it meanwhile: apply the change to theirs.
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
        raise ArchiveError(
            f"{where}: changed by other writers {UPDATE_ATTEMPTS} times in a row; try again"
        )

    def _conditional_puts(self) -> bool:
        """Whether the store refuses a put whose If-Match names another ETag (S3 does)."""
        return "s3" in _protocols(self.fs)

    def leftovers(self, *, remove: bool) -> list[Leftover]:
        found: list[Leftover] = []
        with store_errors(self.url):
            if not self.fs.exists(self.root):
                return found
            self.fs.invalidate_cache(self.root)
            stored = self.fs.find(self.root, detail=True).items()
        now = dt.datetime.now(dt.UTC)
        listed: dict[str, set[str]] = {}
        for path, details in stored:
            relative = path[len(self.root) + 1 :]
            name, _, file = relative.partition("/")
            if name == SEQUENCE_DIR or not file or file == RELEASE_FILE:
                continue
            if name not in listed:
                listed[name] = self._named_files(name)
            if file in listed[name] or not _older_than(details, now - LEFTOVER_AGE):
                continue
            where = f"{self.url}/{relative}"
            if not remove:
                found.append(Leftover(where))
                continue
            try:
                with store_errors(where):
                    self.fs.rm_file(path)
            except OSError as error:
                found.append(Leftover(where, error=(error.strerror or str(error)).lower()))
                continue
            found.append(Leftover(where, removed=True))
        return found

    def _named_files(self, name: str) -> set[str]:
        """The files the release.json of ``name`` names (runs, call counts); every file,
        when unreadable."""
        if not is_release_name(name):
            return set()
        try:
            document = json.loads(self.read(name, RELEASE_FILE))
            calls = [document["calls"]["file"]] if "calls" in document else []
            return {run["file"] for run in document["runs"]} | set(calls)
        except FileNotFoundError:
            return set()  # no release: every run file there is an attempt's
        except (OSError, ValueError, KeyError, TypeError):
            return _EVERYTHING  # damaged: check names it; nothing is removed beside it

    def run_cache(self, name: str) -> RunCache:
        # Named by the run file's SHA-256: found from release.json before any download, and
        # shared by every release and every archive that holds the same run.
        return RunCache(_cache_root() / "runs", by_digest=True)


class _Everything(set[str]):
    def __contains__(self, item: object) -> bool:
        return True


_EVERYTHING = _Everything()


def _older_than(details: dict[str, Any], moment: dt.datetime) -> bool:
    modified = details.get("LastModified") or details.get("mtime") or details.get("created")
    if isinstance(modified, int | float):
        modified = dt.datetime.fromtimestamp(modified, dt.UTC)
    if not isinstance(modified, dt.datetime):
        return False  # age unknown: never taken for a leftover
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=dt.UTC)
    return modified < moment
