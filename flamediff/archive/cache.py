"""Runs as parsed and as normalised, cached on the local disk: derived, safe to delete.

Run files are the record; the cache only makes reading them fast. Parsing 150 MB of folded
text costs seconds in Python, almost all of it splitting and interning frame names; the cache
holds the parsed stacks as ``marshal`` data, in which every distinct frame name is stored once
and stacks refer to it, so a run loads in a tenth of the time. A cache entry is keyed by a hash
of its run file's bytes, the parser's ``CACHE_VERSION`` and the Python version (``marshal``'s
format is only stable within one), so it is ignored and rewritten whenever any of them changes:
a run file edited, truncated or replaced never reads as its old self. ``marshal`` data is not
meant to be safe against crafted input (it can crash the interpreter, not run code): delete the
``.cache`` folders of an archive from a source you do not trust.

Runs are also cached as analysis reads them, after :func:`flamediff.processors.normalise`
(``run-01.normalised.marshal``, or ``run-01.normalised-lines.marshal`` with ``line_level``):
normalising costs more than loading the parsed run. Those entries hold the run in columns, a
:class:`flamediff.stacks.StackTable` (frame names once, then integer arrays), uncompressed:
they load in milliseconds, and analysis works on the columns without ever building a Python
tuple per stack. They are keyed by the source of the normalisers and of the table as well, so
any change to ``processors.py``, ``model.py`` or ``stacks.py`` rebuilds them.

The parsed-run cache is written by the first read that needs it (``export``, ``check``, a
line-level comparison), not when the release is written: comparisons read the normalised
entry, which is written at once, and a release that is never exported should not pay for
the other.

Where the storage gives no local folder, nothing is cached and every read parses.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from flamediff.files import write_atomically
from flamediff.model import Profile

# Bumped whenever reading a run file gives another profile than before: older entries are
# then ignored and rewritten.
CACHE_VERSION = 2


def digest(source: bytes) -> str:
    """The hash a run file is known by, in release.json and in its cache entries."""
    # SHA-256 runs on the processor's SHA instructions where they exist: twice as fast as
    # BLAKE2 on a 24 MB run file, and every comparison hashes every run it reads.
    return hashlib.sha256(source).hexdigest()


def _cache_key(run_digest: str, variant: str = "") -> bytes:
    """The header a cache entry of a run file with this digest must start with."""
    tag = f"flamediff run cache {CACHE_VERSION} {sys.implementation.cache_tag} {marshal.version}"
    return f"{tag}{variant}\n{run_digest}\n".encode("ascii")


@functools.cache
def _normaliser_source() -> str:
    """A digest of the code that normalises profiles: a normalised entry is only valid for it."""
    from flamediff import model, processors, stacks

    source = hashlib.blake2b(digest_size=16)
    for module in (processors, model, stacks):
        source.update(Path(module.__file__ or "").read_bytes())
    return source.hexdigest()


def _normalised_entry(run_digest: str, line_level: bool) -> tuple[str, bytes]:
    """The cache variant and key of a run file's normalised profile."""
    variant = ".normalised-lines" if line_level else ".normalised"
    return variant, _cache_key(run_digest, f"{variant} {_normaliser_source()}")


@dataclass(frozen=True, slots=True)
class RunCache:
    """The cache entries of one release's runs, in ``folder`` (None: no cache at all).

    ``run`` arguments are the run file's name; entries are named after its stem.
    """

    folder: Path | None

    def _path(self, run: str, variant: str = "") -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{run.split('.', 1)[0]}{variant}.marshal"

    def _read(self, run: str, key: bytes, variant: str = "") -> memoryview | None:
        """The payload of a run's cache entry, or None when none is valid for these bytes."""
        path = self._path(run, variant)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not data.startswith(key):
            return None
        return memoryview(data)[len(key) :]

    def _write(self, run: str, key: bytes, payload: bytes, variant: str = "") -> None:
        """Store a cache entry; a read-only archive simply stays without one."""
        path = self._path(run, variant)
        if path is None:
            return
        with contextlib.suppress(OSError):
            path.parent.mkdir(exist_ok=True)
            write_atomically(path, key + payload)

    def parsed(self, run: str, run_digest: str) -> Profile | None:
        """The cached parsed run, or None."""
        payload = self._read(run, _cache_key(run_digest))
        if payload is None:
            return None
        try:
            counts = marshal.loads(zlib.decompress(payload))
        except (EOFError, ValueError, TypeError, zlib.error):
            return None
        return Profile(counts) if type(counts) is dict else None

    def store_parsed(self, run: str, run_digest: str, profile: Profile) -> None:
        # Zero counts are dropped, as reading the run file back would drop them. Level 1: the
        # marshal data is small next to the text, and decompressing it must stay far cheaper
        # than parsing.
        counts = {stack: count for stack, count in profile.counts.items() if count}
        self._write(run, _cache_key(run_digest), zlib.compress(marshal.dumps(counts), 1))

    def normalised(
        self, run: str, run_digest: str, *, line_level: bool, samples: int
    ) -> Profile | None:
        """The cached normalised run, or None; one of another total than recorded is not it."""
        from flamediff.stacks import StackTable

        variant, key = _normalised_entry(run_digest, line_level)
        payload = self._read(run, key, variant)
        table = None if payload is None else StackTable.from_bytes(payload)
        if table is None or table.total != samples:
            return None
        return Profile.from_table(table)

    def store_normalised(
        self, run: str, run_digest: str, profile: Profile, *, line_level: bool
    ) -> None:
        variant, key = _normalised_entry(run_digest, line_level)
        self._write(run, key, profile.table.to_bytes(), variant)
