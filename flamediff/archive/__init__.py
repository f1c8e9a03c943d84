"""The release archive: releases stored whole, read in capture order, checked when read.

:class:`Archive` is the one interface the rest of flamediff uses. It works over a
:class:`~flamediff.archive.storage.Storage`, which only stores bytes and makes a commit
atomic; the parts are:

- :mod:`~flamediff.archive.document`: the ``release.json`` schema and its format history;
- :mod:`~flamediff.archive.storage`: the storage protocol and its commit contract;
- :mod:`~flamediff.archive.local`: a local folder (the default, ``.flamediff/``);
- :mod:`~flamediff.archive.cache`: parsed runs cached on the local disk.

Run files are gzip level 1. On a run of 154 MB of sorted folded text, level 1 writes 24 MB in
0.64 s of CPU, level 3 writes 20 MB in 0.93 s, and level 6 writes 16 MB in 3.0 s.
``import`` of a large profile and every ``capture`` pay for that time, and disk space is cheap
next to it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from flamediff.archive.cache import RunCache, digest
from flamediff.archive.document import (
    FORMAT_VERSION,
    RELEASE_FILE,
    CallsDocument,
    ReleaseDocument,
    RunDocument,
    document_to_info,
    dump_document,
    info_to_document,
    is_release_name,
    parse_document,
    run_file_name,
    utc_now,
    validate_release_name,
    with_justification,
)
from flamediff.archive.local import CACHE_DIR, LOCK_FILE, FolderStorage
from flamediff.archive.storage import Attempt, Leftover, Storage
from flamediff.errors import ArchiveError, FlamediffError
from flamediff.files import TEMP_PREFIX
from flamediff.formats.calls import dump_calls
from flamediff.model import (
    CallCounts,
    Justification,
    Profile,
    Release,
    ReleaseInfo,
    RunInfo,
)

if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = [
    "CACHE_DIR",
    "FORMAT_VERSION",
    "LOCK_FILE",
    "RELEASE_FILE",
    "TEMP_PREFIX",
    "Archive",
    "Damaged",
    "FolderStorage",
    "Inspection",
    "Leftover",
    "ReleaseWriter",
    "Storage",
    "open_storage",
    "run_file_name",
    "utc_now",
    "validate_release_name",
]

RUN_GZIP_LEVEL = 1
CALLS_FILE = "calls.json.gz"
# Times a load reads a release again when it was replaced (import --force) while being read.
REREADS = 5


def open_storage(location: str | Path) -> Storage:
    """The storage at ``location``: a URL (``s3://bucket/prefix``, see
    :mod:`flamediff.archive.remote`), a ``file://`` URL or a local folder."""
    from flamediff.archive.remote import RemoteStorage, is_url

    text = str(location)
    if is_url(text):
        return RemoteStorage(text)
    return FolderStorage(Path(text.removeprefix("file://")))


@dataclass(frozen=True, slots=True)
class Damaged:
    """A release in the archive that cannot be read, and why."""

    name: str
    reason: str


class Archive:
    """Releases over a storage. Reading never locks; writing commits under the storage's lock.

    ``Archive(path)`` is the archive in a local folder; ``Archive(storage)`` any other.
    """

    def __init__(self, where: Path | str | Storage) -> None:
        self.storage: Storage = open_storage(where) if isinstance(where, str | Path) else where
        # The release.json of each release read so far: a command reads one release several
        # times (to load it, to fingerprint it, to name it in a report), and on a bucket each
        # read is a request. Dropped whenever this archive writes; scan() always reads anew.
        self._documents: dict[str, ReleaseDocument] = {}

    @property
    def location(self) -> str:
        """Where the archive is, for messages: a path or a URL."""
        return self.storage.location

    @property
    def root(self) -> Path:
        """The folder of an archive kept in a local folder (tools and tests work on its files)."""
        if not isinstance(self.storage, FolderStorage):
            raise ArchiveError(f"{self.location}: not an archive in a local folder")
        return self.storage.root

    # ---- reading ----------------------------------------------------------------------

    def _document(self, name: str, *, known: bool = True) -> ReleaseDocument:
        """The release.json of ``name``, read anew. ``known``: the release is listed, so a
        missing document is damage; otherwise it is a release that does not exist."""
        try:
            data: bytes | Exception = self.storage.read(name, RELEASE_FILE)
        except OSError as error:
            data = error
        return self._parsed_document(name, data, known=known)

    def _parsed_document(
        self, name: str, data: bytes | Exception, *, known: bool
    ) -> ReleaseDocument:
        """The release.json of ``name`` from what reading it gave, or the precise error."""
        where = self.storage.describe(name, RELEASE_FILE)
        if isinstance(data, FileNotFoundError):
            if not known and not self.storage.has_release(name):
                latest = ", ".join(self.names()[-5:]) or "none"
                raise ArchiveError(f"no release {name!r} in {self.location} (latest: {latest})")
            raise ArchiveError(f"{where}: missing; the release folder is damaged")
        if isinstance(data, OSError):
            raise ArchiveError(f"{where}: cannot read: {data.strerror or data}")
        if isinstance(data, Exception):
            raise data
        document = parse_document(data, where, name)
        self._documents[name] = document
        return document

    def _release_document(self, name: str) -> ReleaseDocument:
        """The release.json of release ``name``, as read before in this archive if it was;
        the precise error when there is no such release."""
        validate_release_name(name)
        document = self._documents.get(name)
        return document if document is not None else self._document(name, known=False)

    def scan(self) -> tuple[list[tuple[int, ReleaseInfo]], list[Damaged]]:
        """Every readable release with its sequence number, in capture order, and the rest."""
        good: list[tuple[int, str, ReleaseInfo]] = []
        damaged: list[Damaged] = []
        names: list[str] = []
        for name in self.storage.release_names():
            if is_release_name(name):
                names.append(name)
                continue
            # Put there by hand: shown quoted, so that a newline cannot break a listing.
            shown = repr(name)
            reason = f"{self.location}: holds {shown}, not a valid release name; ignored"
            damaged.append(Damaged(shown, reason))
        # Read together: on a bucket, one round trip for the whole history, not one each.
        fetched = self.storage.read_many([(name, RELEASE_FILE) for name in names])
        for name, data in zip(names, fetched, strict=True):
            try:
                doc = self._parsed_document(name, data, known=True)
                good.append((doc["sequence"], doc["created"], document_to_info(doc)))
            except ArchiveError as error:
                damaged.append(Damaged(name, str(error)))
        good.sort(key=lambda item: (item[0], item[1], item[2].name))
        return [(seq, info) for seq, _, info in good], sorted(damaged, key=lambda d: d.name)

    def infos(self) -> list[ReleaseInfo]:
        """Readable releases in capture order."""
        return [info for _, info in self.scan()[0]]

    def names(self) -> list[str]:
        return [info.name for info in self.infos()]

    def info(self, name: str) -> ReleaseInfo:
        return document_to_info(self._release_document(name))

    def load(self, name: str, *, normalised: bool = False, line_level: bool = False) -> Release:
        """The release with every run's profile, exactly as stored.

        A run file that is not the one archived (another SHA-256 than ``release.json``
        records, or, in format 1, another number of samples) was damaged or swapped after the
        capture: it is refused, naming the file, rather than compared as if it were the run
        captured.

        ``normalised``: every run as analysis reads it, through
        :func:`flamediff.processors.normalise` with ``line_level``, from the cache when an
        entry valid for this run file and this normaliser exists.

        A release replaced by another writer (``import --force``) while it is read is read
        again, whole: a run file that does not match counts as damage only if
        ``release.json`` is still the one the reader started from.
        """
        doc = self._release_document(name)
        for attempt in range(1, REREADS + 1):
            try:
                return self._load_runs(name, doc, normalised, line_level)
            except ArchiveError:
                if attempt == REREADS:
                    raise
                time.sleep(0.01 * attempt)
                try:
                    fresh = self._document(name)
                except ArchiveError:
                    continue  # gone for a moment: a replacement is being swapped in
                if fresh == doc:
                    raise  # release.json is the one read: the run files are damaged
                doc = fresh
        raise AssertionError("unreachable")

    def _load_runs(
        self, name: str, doc: ReleaseDocument, normalised: bool, line_level: bool
    ) -> Release:
        cache = self.storage.run_cache(name)
        runs = doc["runs"]
        profiles: list[Profile | None] = [None] * len(runs)
        if cache.by_digest:
            # The cache knows each run by the SHA-256 release.json records: what was read
            # before is not downloaded again. One listing still proves the run files exist.
            for index, run in enumerate(runs):
                recorded = run.get("sha256")
                if recorded is not None:
                    profiles[index] = self._cached(cache, run, recorded, normalised, line_level)
            if any(profile is not None for profile in profiles):
                stored = self.storage.stored_files(name)
                for run in runs:
                    if run["file"] not in stored:
                        where = self.storage.describe(name, run["file"])
                        raise ArchiveError(f"{where}: run file missing; the release is damaged")
        missing = [index for index, profile in enumerate(profiles) if profile is None]
        read = self._run_files(name, [runs[index] for index in missing])
        for index, (run_digest, source) in zip(missing, read, strict=True):
            run = runs[index]
            profile = self._cached(cache, run, run_digest, normalised, line_level)
            if profile is None:
                profile = self._parse(name, run, source)
                cache.store_parsed(run["file"], run_digest, profile)
                if normalised:
                    profile = self._normalised(cache, run, run_digest, profile, line_level)
            profiles[index] = profile
        return Release(document_to_info(doc), tuple(p for p in profiles if p is not None))

    @staticmethod
    def _cached(
        cache: RunCache, run: RunDocument, run_digest: str, normalised: bool, line_level: bool
    ) -> Profile | None:
        """The run from the cache, as asked for (normalised or parsed), or None."""
        file, samples = run["file"], run["samples"]
        if normalised:
            found = cache.normalised(file, run_digest, line_level=line_level, samples=samples)
            if found is not None:
                return found
        profile = cache.parsed(file, run_digest, samples)
        if profile is None or not normalised:
            return profile
        return Archive._normalised(cache, run, run_digest, profile, line_level)

    @staticmethod
    def _normalised(
        cache: RunCache, run: RunDocument, run_digest: str, profile: Profile, line_level: bool
    ) -> Profile:
        from flamediff.processors import normalise

        profile = normalise(profile, line_level=line_level)
        cache.store_normalised(run["file"], run_digest, profile, line_level=line_level)
        return profile

    def read_run_files(self, name: str) -> list[bytes]:
        """The run files of ``name`` exactly as stored, in order, each checked against the
        SHA-256 ``release.json`` records (what a copy of the archive carries over)."""
        runs = self._release_document(name)["runs"]
        return [source for _, source in self._run_files(name, runs)]

    def _run_files(self, name: str, runs: list[RunDocument]) -> list[tuple[str, bytes]]:
        """The SHA-256 and the bytes of each run file, fetched together, each refused if not
        the one archived."""
        fetched = self.storage.read_many([(name, run["file"]) for run in runs])
        return [self._checked(name, run, got) for run, got in zip(runs, fetched, strict=True)]

    def _run_file(self, name: str, run: RunDocument) -> tuple[str, bytes]:
        """The SHA-256 and the bytes of a run file, refused if not the one archived."""
        return self._run_files(name, [run])[0]

    def _checked(self, name: str, run: RunDocument, got: bytes | Exception) -> tuple[str, bytes]:
        where = self.storage.describe(name, run["file"])
        if isinstance(got, FileNotFoundError | IsADirectoryError):
            raise ArchiveError(f"{where}: run file missing; the release is damaged")
        if isinstance(got, OSError):
            raise ArchiveError(f"{where}: cannot read: {got.strerror or got}")
        if isinstance(got, Exception):
            raise got
        run_digest = digest(got)
        recorded = run.get("sha256")
        if recorded is not None and run_digest != recorded:
            raise ArchiveError(
                f"{where}: not the run file archived (its SHA-256 differs from the one "
                "release.json records)"
            )
        return run_digest, got

    def calls(self, name: str) -> CallCounts | None:
        """The exact call counts archived with ``name`` (``capture --calls``), or None when
        it has none. Refused, naming the file, when it is not the one archived."""
        from flamediff.errors import InputError
        from flamediff.formats.calls import parse_calls

        entry = self._release_document(name).get("calls")
        if entry is None:
            return None
        try:
            return parse_calls(self._calls_bytes(name, entry), self._calls_where(name, entry))
        except InputError as error:
            raise ArchiveError(str(error)) from None

    def read_calls_file(self, name: str) -> bytes | None:
        """The call-count file of ``name`` exactly as stored, checked against the SHA-256
        release.json records, or None when it has none (what a copy carries over)."""
        entry = self._release_document(name).get("calls")
        return None if entry is None else self._calls_bytes(name, entry)

    def _calls_where(self, name: str, entry: CallsDocument) -> str:
        return self.storage.describe(name, entry["file"])

    def _calls_bytes(self, name: str, entry: CallsDocument) -> bytes:
        where = self._calls_where(name, entry)
        got = self.storage.read_many([(name, entry["file"])])[0]
        if isinstance(got, FileNotFoundError | IsADirectoryError):
            raise ArchiveError(f"{where}: call counts missing; the release is damaged")
        if isinstance(got, OSError):
            raise ArchiveError(f"{where}: cannot read: {got.strerror or got}")
        if isinstance(got, Exception):
            raise got
        if digest(got) != entry["sha256"]:
            raise ArchiveError(
                f"{where}: not the call counts archived (its SHA-256 differs from the one "
                "release.json records)"
            )
        return got

    def _parse(self, name: str, run: RunDocument, source: bytes) -> Profile:
        """A run file's profile, parsed, checked against release.json."""
        from flamediff.formats import read_profile_bytes

        file, samples = run["file"], run["samples"]
        where = self.storage.describe(name, file)
        found = read_profile_bytes(source, where, name=file)
        if len(found) != 1:
            raise ArchiveError(f"{where}: expected one profile, found {len(found)}")
        profile = found[0][1]
        if profile.total != samples:
            raise ArchiveError(
                f"{where}: holds {profile.total} samples, release.json says {samples}"
            )
        return profile

    def previous(self, name: str) -> str | None:
        """The release captured just before ``name``, or None for the first one."""
        names = self.names()
        if name not in names:
            self.info(name)  # raises the precise error
        index = names.index(name)
        return names[index - 1] if index > 0 else None

    def latest(self) -> str:
        names = self.names()
        if not names:
            raise ArchiveError(f"the archive {self.location} holds no release yet")
        return names[-1]

    # ---- writing ----------------------------------------------------------------------

    def leftovers(self) -> list[Leftover]:
        """What writers that no longer run left behind, untouched."""
        return self.storage.leftovers(remove=False)

    def clean_leftovers(self) -> list[Leftover]:
        """Remove what writers that no longer run left behind; each says what was done."""
        return self.storage.leftovers(remove=True)

    def ensure_absent(self, name: str, *, force: bool) -> None:
        """Refuse early when a release of that name exists and ``force`` is not given."""
        validate_release_name(name)
        if self.storage.has_release(name) and not force:
            raise ArchiveError(
                f"release {name!r} already exists in {self.location}; pass --force to replace it"
            )

    @contextlib.contextmanager
    def writer(self, name: str, *, force: bool = False) -> Iterator[ReleaseWriter]:
        """An attempt to fill with runs; on ``commit`` it becomes the release.

        Whatever happens before the commit (an error, Ctrl-C, SIGTERM), the attempt is
        removed and the archive is left exactly as it was.
        """
        self.ensure_absent(name, force=force)
        try:
            with self.storage.attempt(name) as attempt:
                yield ReleaseWriter(self, attempt, force)
        except OSError as error:  # a full disk, a read-only archive: nothing was archived
            where = error.filename or self.location
            raise ArchiveError(f"{where}: cannot write: {error.strerror or error}") from None

    def _commit(self, writer: ReleaseWriter, info: ReleaseInfo) -> None:
        name = writer.attempt.name
        taken = ArchiveError(
            f"release {name!r} was archived in {self.location} by another flamediff "
            "meanwhile; pass --force to replace it"
        )
        with self.storage.lock():
            if self.storage.has_release(name) and not writer.force:
                raise taken
            sequences = [seq for seq, _ in self.scan()[0]]
            sequence = self.storage.claim_sequence(max(sequences, default=0))
            document = info_to_document(
                info, sequence, writer.digests, writer.files, writer.calls_file
            )
            try:
                self._documents.pop(name, None)
                self.storage.commit(writer.attempt, dump_document(document), replace=writer.force)
            except FileExistsError:
                raise taken from None

    def add_justification(self, name: str, justification: Justification) -> None:
        """Record a written reason for accepting ``name`` against a base release."""
        validate_release_name(name)
        where = self.storage.describe(name, RELEASE_FILE)

        def justified(data: bytes) -> bytes:
            return dump_document(
                with_justification(parse_document(data, where, name), justification)
            )

        try:
            self._documents.pop(name, None)
            self.storage.update_document(name, justified)
        except FileNotFoundError:
            raise ArchiveError(f"{where}: missing; the release folder is damaged") from None
        except OSError as error:
            raise ArchiveError(f"{where}: cannot write: {error.strerror or error}") from None

    def check(self) -> list[str]:
        """Every problem found in the archive, one line each; empty when all is well.

        See :meth:`inspect`; damaged cache entries are listed with the rest.
        """
        found = self.inspect()
        return found.problems + [f"{path}: {reason}" for path, reason in found.caches]

    def inspect(self) -> Inspection:
        """Every problem found in the archive, the record's apart from the caches'.

        Every run file is read and parsed afresh (never from the cache) and checked against
        ``release.json``; every cache entry is then compared with the run it was made from.
        """
        found = Inspection([], [])
        infos, damaged = self.scan()
        found.problems.extend(d.reason for d in damaged)
        for _, info in infos:
            try:
                self._inspect_release(info.name, found)
            except FlamediffError as error:
                found.problems.append(str(error))
        return found

    def _inspect_release(self, name: str, found: Inspection) -> None:
        doc = self._document(name)
        cache = self.storage.run_cache(name)
        for run in doc["runs"]:
            run_digest, source = self._run_file(name, run)
            parsed = self._parse(name, run, source)
            found.caches.extend(cache.verify(run["file"], run_digest, parsed))
        self.calls(name)


@dataclass(frozen=True, slots=True)
class Inspection:
    """What :meth:`Archive.inspect` found: damage to the record, and cache entries to drop.

    A damaged cache entry harms nothing (every read ignores it and builds the run again), so
    ``flamediff check --repair`` may remove it: ``caches`` holds each path and what is wrong.
    """

    problems: list[str]
    caches: list[tuple[Path, str]]


class _HashingStream:
    """Passes writes on to ``stream`` and hashes them: the run file's digest, without a reread."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.stream = stream
        # gzip records the file's name (less ``.gz``) in its header, as it did for a file.
        self.name = name
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


class ReleaseWriter:
    """Collects the runs of one release in an attempt of the storage."""

    def __init__(self, archive: Archive, attempt: Attempt, force: bool) -> None:
        self.archive = archive
        self.attempt = attempt
        self.force = force
        self.runs: list[RunInfo] = []
        self.digests: list[str] = []
        self.files: list[str] = []
        self.calls_file: str | None = None
        self.calls_sha256: str | None = None

    @property
    def name(self) -> str:
        return self.attempt.name

    def add_run(self, profile: Profile, run: RunInfo) -> None:
        from flamediff.formats.collapsed import iter_collapsed
        from flamediff.processors import normalise

        file = self.attempt.file_name(run_file_name(len(self.runs)))
        # Streamed a few thousand lines at a time: the whole text never sits in memory.
        # mtime=0 keeps the archive byte-for-byte reproducible for the same profile.
        with self.attempt.open_run(file) as raw:
            hashing = _HashingStream(raw, file)
            with gzip.GzipFile(
                fileobj=hashing,
                mode="wb",
                compresslevel=RUN_GZIP_LEVEL,
                mtime=0,
            ) as stream:
                for piece in iter_collapsed(profile):
                    stream.write(piece.encode("utf-8"))
        # The first comparison after a capture reads this run normalised: have it ready, while
        # the parsed profile is still in memory.
        run_digest = hashing.hash.hexdigest()
        self.attempt.run_cache.store_normalised(
            file, run_digest, normalise(profile), line_level=False
        )
        self.runs.append(run)
        self.digests.append(run_digest)
        self.files.append(file)

    def add_run_file(self, data: bytes, run: RunInfo) -> None:
        """Add a run file as another archive stores it (gzip'd folded text), byte for byte."""
        file = self.attempt.file_name(run_file_name(len(self.runs)))
        with self.attempt.open_run(file) as raw:
            raw.write(data)
        run_digest = digest(data)
        self.runs.append(replace(run, sha256=run_digest))
        self.digests.append(run_digest)
        self.files.append(file)

    def add_calls(self, calls: CallCounts) -> None:
        """Archive the release's call counts (one traced run) beside its runs."""
        self.add_calls_file(dump_calls(calls))

    def add_calls_file(self, data: bytes) -> None:
        """Archive a call-count file as another archive stores it, byte for byte."""
        file = self.attempt.file_name(CALLS_FILE)
        with self.attempt.open_run(file) as raw:
            raw.write(data)
        self.calls_file = file
        self.calls_sha256 = digest(data)

    def commit(self, info: ReleaseInfo) -> None:
        """Make the release visible, with ``info.runs`` (and ``info.calls``) set from what
        was added."""
        if not self.runs:
            raise ArchiveError(f"release {self.name!r} has no runs; nothing was archived")
        self.archive._commit(
            self,
            replace(info, name=self.name, runs=tuple(self.runs), calls_sha256=self.calls_sha256),
        )
