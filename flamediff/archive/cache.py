"""Runs as parsed and as normalised, cached on the local disk: derived, safe to delete.

Run files are the record; the cache only makes reading them fast. Parsing 150 MB of folded
text costs seconds in Python, almost all of it splitting and interning frame names. An entry
holds a run in columns, a :class:`flamediff.stacks.StackTable` (every distinct frame name
once, then integer arrays), uncompressed: it loads in milliseconds, and analysis works on the
columns without building a Python tuple per stack.

Two kinds of entry per run file ``run-01.folded.gz``:

- ``run-01.stacks``: the run as parsed, written by the first read that needs it (``export``,
  a line-level comparison), not when the release is written;
- ``run-01.normalised.stacks`` (``run-01.normalised-lines.stacks`` with ``line_level``): the
  run after :func:`flamediff.processors.normalise`, which costs more than parsing. It is
  written when the run is archived: the first comparison reads it.

An entry is never trusted for what it says of itself. Its header names the SHA-256 of the run
file it was made from, ``CACHE_VERSION`` and, for normalised entries, a digest of the
normalisers' source; an entry of another run file or another code is ignored and rewritten.
Its last 32 bytes are the SHA-256 of everything before them: a flipped bit, a truncated or
half-written entry reads as no entry, and the run is parsed again. The reader allocates no
more than the entry's size: every length it declares is checked against the bytes that follow
before anything is built, the arrays are views of those bytes, and the table must hold the
sample count ``release.json`` records. A hostile entry with a recomputed digest can still
claim another profile; whoever can write it can as well rewrite the run files and
``release.json``. ``flamediff check`` compares every entry with its run file.

Layout, little-endian::

    b"flamediff stacks 3\\n" + "<variant> <normaliser>\\n<run sha256>\\n"   the key
    u64 names, u64 name bytes, u64 stacks, u64 frames
    u32 * names          the length of each name in bytes
    name bytes           UTF-8 (lone surrogates passed through), back to back
    i32 * frames, i64 * (stacks + 1) offsets, i64 * stacks counts
    SHA-256 of all of the above

Where the storage gives no local folder, nothing is cached and every read parses. A remote
archive's entries are named by the run file's SHA-256 instead of its stem, in one folder for
every release (``RunCache(by_digest=True)``): found from ``release.json`` alone, before
anything is downloaded.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import struct
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from flamediff.errors import ArchiveError
from flamediff.files import read_not_following, refuse_link, write_atomically
from flamediff.model import Profile

if TYPE_CHECKING:
    from flamediff.stacks import StackTable

# Bumped whenever reading a run file gives another profile than before, or the layout
# changes: older entries are then ignored and rewritten.
CACHE_VERSION = 3
SUFFIX = ".stacks"
_MAGIC = f"flamediff stacks {CACHE_VERSION}\n".encode("ascii")
_COUNTS = struct.Struct("<QQQQ")
_DIGEST_SIZE = 32
VARIANTS = ("", ".normalised", ".normalised-lines")


def digest(source: bytes) -> str:
    """The hash a run file is known by, in release.json and in its cache entries."""
    # SHA-256 runs on the processor's SHA instructions where they exist: twice as fast as
    # BLAKE2 on a 24 MB run file, and every comparison hashes every run it reads.
    return hashlib.sha256(source).hexdigest()


@functools.cache
def _normaliser_source() -> str:
    """A digest of the code that normalises profiles: a normalised entry is only valid for it."""
    from flamediff import model, processors, stacks

    source = hashlib.blake2b(digest_size=16)
    for module in (processors, model, stacks):
        source.update(Path(module.__file__ or "").read_bytes())
    return source.hexdigest()


def _variant(line_level: bool) -> str:
    return ".normalised-lines" if line_level else ".normalised"


def _key(variant: str, run_digest: str) -> bytes:
    """The bytes an entry of this variant for a run file of this digest starts with."""
    code = _normaliser_source() if variant else "parsed"
    return _MAGIC + f"{variant or 'parsed'} {code}\n{run_digest}\n".encode("ascii")


def encode(key: bytes, table: StackTable) -> bytes:
    """An entry: ``key``, then ``table``, then the digest of both."""
    encoded = [name.encode("utf-8", "surrogatepass") for name in table.names]
    lengths = struct.pack(f"<{len(encoded)}I", *map(len, encoded))
    blob = b"".join(encoded)
    body = b"".join(
        (
            key,
            _COUNTS.pack(len(encoded), len(blob), len(table), int(table.frames.shape[0])),
            lengths,
            blob,
            table.frames.astype("<i4").tobytes(),
            table.offsets.astype("<i8").tobytes(),
            table.counts.astype("<i8").tobytes(),
        )
    )
    return body + hashlib.sha256(body).digest()


def decode(data: bytes, key: bytes, samples: int) -> StackTable | None:
    """The table of an entry made with ``key`` holding ``samples`` samples, or None.

    None for anything else: another key, a digest that does not match, lengths that do not
    add up to the entry's size, a table that breaks its invariants or holds another total.
    """
    import numpy as np

    from flamediff.stacks import StackTable

    if len(data) < len(key) + _COUNTS.size + _DIGEST_SIZE or not data.startswith(key):
        return None
    body, expected = memoryview(data)[:-_DIGEST_SIZE], data[-_DIGEST_SIZE:]
    if hashlib.sha256(body).digest() != expected:
        return None
    at = len(key)
    names, name_bytes, stacks, frames = _COUNTS.unpack_from(body, at)
    at += _COUNTS.size
    # Python integers: no declared length can wrap around and pass.
    if at + 4 * names + name_bytes + 4 * frames + 8 * (stacks + 1) + 8 * stacks != len(body):
        return None
    lengths = np.frombuffer(body, dtype="<u4", count=names, offset=at)
    at += 4 * names
    if int(lengths.sum(dtype=np.uint64)) != name_bytes:
        return None
    bounds = [at, *(at + np.cumsum(lengths, dtype=np.int64)).tolist()]
    try:
        decoded = tuple(
            bytes(body[start:end]).decode("utf-8", "surrogatepass")
            for start, end in pairwise(bounds)
        )
    except UnicodeDecodeError:
        return None
    at += name_bytes
    frame_ids = np.frombuffer(body, dtype="<i4", count=frames, offset=at).astype(np.int32)
    at += 4 * frames
    offsets = np.frombuffer(body, dtype="<i8", count=stacks + 1, offset=at).astype(np.int64)
    at += 8 * (stacks + 1)
    counts = np.frombuffer(body, dtype="<i8", count=stacks, offset=at).astype(np.int64)
    if not (
        all(first < second for first, second in pairwise(decoded))
        and offsets[0] == 0
        and offsets[-1] == frames
        and bool((np.diff(offsets) >= 0).all())
        and bool((counts >= 0).all())
        and (frames == 0 or (int(frame_ids.min()) >= 0 and int(frame_ids.max()) < names))
        # Exact, in Python integers: counts that wrap past int64 cannot sum to the total.
        and sum(counts.tolist()) == samples
    ):
        return None
    return StackTable(decoded, frame_ids, offsets, counts)


def entry_variant(file_name: str) -> tuple[str, str] | None:
    """The run stem and variant of a cache entry's file name, or None if it is not one."""
    if not file_name.endswith(SUFFIX):
        return None
    stem, dot, variant = file_name.removesuffix(SUFFIX).partition(".")
    variant = dot + variant
    return (stem, variant) if variant in VARIANTS else None


@dataclass(frozen=True, slots=True)
class RunCache:
    """The cache entries of one release's runs, in ``folder`` (None: no cache at all).

    ``run`` arguments are the run file's name; entries are named after its stem, or with
    ``by_digest`` after the run file's SHA-256: then one folder serves every release and
    every archive, and an entry is found from ``release.json`` alone, before the run file is
    read (how a remote archive is read without downloading what it has read before).
    """

    folder: Path | None
    by_digest: bool = False

    def path(self, run: str, variant: str = "", run_digest: str = "") -> Path | None:
        if self.folder is None:
            return None
        stem = run_digest if self.by_digest else run.split(".", 1)[0]
        return self.folder / f"{stem}{variant}{SUFFIX}"

    def _read(self, run: str, variant: str, run_digest: str, samples: int) -> Profile | None:
        path = self.path(run, variant, run_digest)
        if path is None:
            return None
        data = _read(path)
        if data is None:
            return None
        table = decode(data, _key(variant, run_digest), samples)
        return None if table is None else Profile.from_table(table)

    def _write(self, run: str, variant: str, run_digest: str, table: StackTable) -> None:
        """Store an entry; a read-only archive simply stays without one."""
        path = self.path(run, variant, run_digest)
        if path is None:
            return
        # A name that cannot be encoded (never from a parsed file) goes uncached.
        with contextlib.suppress(OSError, UnicodeEncodeError):
            data = encode(_key(variant, run_digest), table)
            path.parent.mkdir(parents=self.by_digest, exist_ok=True)
            write_atomically(path, data)

    def parsed(self, run: str, run_digest: str, samples: int) -> Profile | None:
        """The cached parsed run, or None."""
        return self._read(run, "", run_digest, samples)

    def store_parsed(self, run: str, run_digest: str, profile: Profile) -> None:
        # Zero counts are dropped, as reading the run file back would drop them.
        from flamediff.stacks import StackTable

        counts = {stack: count for stack, count in profile.counts.items() if count}
        self._write(run, "", run_digest, StackTable.from_counts(counts))

    def normalised(
        self, run: str, run_digest: str, *, line_level: bool, samples: int
    ) -> Profile | None:
        """The cached normalised run, or None."""
        return self._read(run, _variant(line_level), run_digest, samples)

    def store_normalised(
        self, run: str, run_digest: str, profile: Profile, *, line_level: bool
    ) -> None:
        self._write(run, _variant(line_level), run_digest, profile.table)

    def verify(self, run: str, run_digest: str, parsed: Profile) -> list[tuple[Path, str]]:
        """Every entry of ``run`` present that disagrees with ``parsed``, the run as read.

        An entry of another run file's digest or another normaliser is stale, not damaged:
        readers ignore it and it is left alone.
        """
        from flamediff.processors import normalise

        damaged: list[tuple[Path, str]] = []
        for variant in VARIANTS:
            path = self.path(run, variant, run_digest)
            if path is None or not (path.exists() or path.is_symlink()):
                continue
            try:
                data = _read(path)
            except ArchiveError as error:
                damaged.append((path, str(error).removeprefix(f"{path}: ")))
                continue
            if data is None:
                damaged.append((path, "cannot be read"))
                continue
            key = _key(variant, run_digest)
            if not data.startswith(key):
                if not (data.startswith(_MAGIC) and _intact(data)):
                    damaged.append((path, "damaged cache entry (ignored by every read)"))
                continue  # whole, but of another run file or normaliser: stale, not damaged
            table = decode(data, key, parsed.total)
            if table is None:
                damaged.append((path, "damaged cache entry (ignored by every read)"))
                continue
            line_level = variant == ".normalised-lines"
            expected = normalise(parsed, line_level=line_level) if variant else parsed
            if Profile.from_table(table) != expected:
                damaged.append((path, "cache entry differs from its run file"))
        return damaged


def remove_entry(path: Path) -> str | None:
    """Remove a cache entry (a link as a link); None when it is gone, else why not."""
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        return (error.strerror or str(error)).lower()
    return None


def _read(path: Path) -> bytes | None:
    """An entry's bytes, None when there is none to read; a link is refused, never followed."""
    try:
        return read_not_following(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise refuse_link(path) from None
        return None


def _intact(data: bytes) -> bool:
    """Whether an entry's bytes are those its writer wrote (its digest matches)."""
    body = memoryview(data)[:-_DIGEST_SIZE]
    return len(data) > _DIGEST_SIZE and hashlib.sha256(body).digest() == data[-_DIGEST_SIZE:]
