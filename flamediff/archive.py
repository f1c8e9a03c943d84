"""The release archive: one folder per release, written atomically, read in capture order.

Layout (``.flamediff/`` by default)::

    .flamediff/
      .lock                      flock'd while a release is committed or amended
      .tmp-<pid>-<random>/       a release being written; renamed into place when complete
      v1.4.0/
        release.json             metadata, see ReleaseDocument
        run-01.folded.gz         one gzip'd folded profile per run, exactly as captured
        run-02.folded.gz
        ...
        .cache/run-01.marshal    the run as parsed, for fast reading; derived, safe to delete

Nothing is ever visible half-written: a release is assembled in a temporary folder inside the
archive and renamed to its name in one step, under the lock. Temporary folders left by a
process that was killed are removed by the next writer. ``release.json`` itself is replaced
atomically (write to a temporary file, then ``os.replace``) when a justification is added.
``--force`` swaps the new release with the old one in one step where the system can (Linux);
elsewhere the old one is first moved aside under a marked name, and put back by the next
writer if its own writer died before the new one took its place.

Run files are the record; ``.cache/`` only makes reading them fast. Parsing 150 MB of folded
text costs seconds in Python, almost all of it splitting and interning frame names; the cache
holds the parsed stacks as ``marshal`` data, in which every distinct frame name is stored once
and stacks refer to it, so a run loads in a tenth of the time. A cache entry is keyed by a hash
of its run file's bytes, the parser's ``CACHE_VERSION`` and the Python version (``marshal``'s
format is only stable within one), so it is ignored and rewritten whenever any of them changes:
a run file edited, truncated or replaced never reads as its old self. ``marshal`` data is not
meant to be safe against crafted input (it can crash the interpreter, not run code): delete the
``.cache`` folders of an archive from a source you do not trust.

``load(name, normalised=True)`` also caches each run as analysis reads it, after
:func:`flamediff.processors.normalise` (``run-01.normalised.marshal``, or
``run-01.normalised-lines.marshal`` with ``line_level``): normalising costs more than loading
the parsed run. Those entries hold the run in columns, a
:class:`flamediff.stacks.StackTable` (frame names once, then integer arrays), uncompressed:
they load in milliseconds, and analysis works on the columns without ever building a Python
tuple per stack. They are keyed by the source of the normalisers and of the table as well, so
any change to ``processors.py``, ``model.py`` or ``stacks.py`` rebuilds them.

Run files are gzip level 1. On a run of 154 MB of sorted folded text, level 1 writes 24 MB in
0.64 s of CPU, level 3 writes 20 MB in 0.93 s, and level 6 writes 16 MB in 3.0 s.
``import`` of a large profile and every ``capture`` pay for that time, and disk space is cheap
next to it.

The parsed-run cache is written by the first read that needs it (``export``, ``check``, a
line-level comparison), not when the release is written: comparisons read the normalised
entry, which is written at once, and a release that is never exported should not pay for
the other.

Format history of ``release.json`` (``format_version``):

- 1: the first version.

A newer flamediff reads every older version; an older one refuses a newer version by name
rather than guess.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import functools
import gzip
import hashlib
import json
import marshal
import math
import os
import re
import secrets
import shutil
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from flamediff.errors import ArchiveError, FlamediffError
from flamediff.model import (
    Justification,
    Profile,
    ProfilerInfo,
    Release,
    ReleaseInfo,
    RunInfo,
)

FORMAT_VERSION = 1
RELEASE_FILE = "release.json"
LOCK_FILE = ".lock"
TEMP_PREFIX = ".tmp-"
# Marks a release moved aside while a forced replacement swaps the new one in.
_REPLACED = "replaced"
LOCK_TIMEOUT_SECONDS = 30.0
CACHE_DIR = ".cache"
# Bumped whenever reading a run file gives another profile than before: older entries are
# then ignored and rewritten.
CACHE_VERSION = 2
RUN_GZIP_LEVEL = 1

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@-]{0,99}$")


class RunDocument(TypedDict):
    file: str
    samples: int
    wall_seconds: float | None
    exit_status: int | None
    cpu_seconds: NotRequired[float | None]
    probe_seconds: NotRequired[float | None]


class JustificationDocument(TypedDict):
    base: str
    reason: str
    accepted_at: str


class ReleaseDocument(TypedDict):
    format_version: int
    name: str
    sequence: int
    created: str
    source: str
    rate_hz: float | None
    command: list[str] | None
    git_commit: str | None
    git_dirty: bool | None
    python_version: str | None
    py_spy_version: str | None
    host: str | None
    runs: list[RunDocument]
    justifications: NotRequired[list[JustificationDocument]]


def validate_release_name(name: str) -> str:
    """Return ``name`` if it is safe as a folder name, else raise ArchiveError."""
    if not _NAME.match(name) or ".." in name:
        shown = name if name.isprintable() else repr(name)
        raise ArchiveError(
            f"invalid release name {shown!r}: use 1 to 100 letters, digits and . _ + @ -, "
            "starting with a letter or digit, without '..'"
        )
    return name


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def run_file_name(index: int) -> str:
    return f"run-{index + 1:02d}.folded.gz"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_json_atomically(path: Path, document: Any) -> None:
    temp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}")
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        with temp.open("w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        temp.replace(path)
        _sync_directory(path.parent)
    finally:
        temp.unlink(missing_ok=True)  # only left when interrupted before the replace


def _sync_directory(folder: Path) -> None:
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


def _document_to_info(doc: ReleaseDocument) -> ReleaseInfo:
    return ReleaseInfo(
        name=doc["name"],
        created=doc["created"],
        rate_hz=doc.get("rate_hz"),
        command=tuple(doc.get("command") or ()) or None,
        git_commit=doc.get("git_commit"),
        git_dirty=doc.get("git_dirty"),
        python_version=doc.get("python_version"),
        profiler=(
            ProfilerInfo("py-spy", doc["py_spy_version"]) if doc.get("py_spy_version") else None
        ),
        host=doc.get("host"),
        source=doc.get("source", "capture"),
        runs=tuple(
            RunInfo(
                run["samples"],
                run.get("wall_seconds"),
                run.get("exit_status"),
                run.get("cpu_seconds"),
                run.get("probe_seconds"),
            )
            for run in doc["runs"]
        ),
        justifications=tuple(
            Justification(j["base"], j["reason"], j["accepted_at"])
            for j in doc.get("justifications", [])
        ),
    )


def _info_to_document(info: ReleaseInfo, sequence: int) -> ReleaseDocument:
    return ReleaseDocument(
        format_version=FORMAT_VERSION,
        name=info.name,
        sequence=sequence,
        created=info.created,
        source=info.source,
        rate_hz=info.rate_hz,
        command=list(info.command) if info.command else None,
        git_commit=info.git_commit,
        git_dirty=info.git_dirty,
        python_version=info.python_version,
        py_spy_version=(
            info.profiler.version
            if info.profiler is not None and info.profiler.name == "py-spy"
            else None
        ),
        host=info.host,
        runs=[
            RunDocument(
                file=run_file_name(i),
                samples=run.samples,
                wall_seconds=run.wall_seconds,
                exit_status=run.exit_status,
                cpu_seconds=run.cpu_seconds,
                probe_seconds=run.probe_seconds,
            )
            for i, run in enumerate(info.runs)
        ],
        justifications=[
            JustificationDocument(base=j.base, reason=j.reason, accepted_at=j.accepted_at)
            for j in info.justifications
        ],
    )


_REQUIRED_KEYS = {"format_version", "name", "created", "runs"}


def _read_document(path: Path) -> ReleaseDocument:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchiveError(f"{path}: missing; the release folder is damaged") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArchiveError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(raw, dict) or not raw.keys() >= _REQUIRED_KEYS:
        raise ArchiveError(f"{path}: not a flamediff release file (keys missing)")
    version = raw["format_version"]
    if type(version) is not int or version < 1:
        raise ArchiveError(f"{path}: bad format_version {_shown(version)}")
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"{path}: written by a newer flamediff (format {version}, this one reads up to "
            f"{FORMAT_VERSION}); upgrade flamediff"
        )
    problem = _field_problem(raw, path.parent.name)
    if problem is not None:
        raise ArchiveError(f"{path}: {problem}")
    raw.setdefault("sequence", 0)
    return cast(ReleaseDocument, raw)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _non_negative(value: object) -> bool:
    """A finite JSON number >= 0 (``true`` and ``false`` are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value >= 0


def _optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


# Each optional field of release.json: what it must be when present, and how to tell.
_OPTIONAL: dict[str, tuple[str, Callable[[object], bool]]] = {
    "sequence": ("an integer", lambda value: type(value) is int),
    "source": ("a string", lambda value: isinstance(value, str)),
    "rate_hz": ("a positive number or null", lambda v: v is None or (_non_negative(v) and v != 0)),
    "command": (
        "a list of strings or null",
        lambda v: v is None or (isinstance(v, list) and all(isinstance(w, str) for w in v)),
    ),
    "git_commit": ("a string or null", _optional_text),
    "git_dirty": ("true, false or null", lambda value: value is None or isinstance(value, bool)),
    "python_version": ("a string or null", _optional_text),
    "py_spy_version": ("a string or null", _optional_text),
    "host": ("a string or null", _optional_text),
}
_RUN_FILE = re.compile(r"[^/\\.][^/\\]*")


def _field_problem(raw: dict[str, Any], folder: str) -> str | None:
    """What is wrong with the fields of a release.json in ``folder``, or None.

    Checked when read, so that a file edited by hand (or by a bug) is named as damaged here
    rather than crashing whatever uses the field later.
    """
    name = raw["name"]
    if name != folder:
        return f"names the release {_shown(name)}, its folder {folder!r}"
    if not isinstance(raw["created"], str):
        return f"'created' must be a string, not {_shown(raw['created'])}"
    for key, (expected, valid) in _OPTIONAL.items():
        if key in raw and not valid(raw[key]):
            return f"{key!r} must be {expected}, not {_shown(raw[key])}"
    runs = raw["runs"]
    if not isinstance(runs, list) or not runs:
        return "'runs' must be a list of at least one run"
    for index, run in enumerate(runs):
        where = f"runs[{index}]"
        if not isinstance(run, dict):
            return f"{where} must be an object"
        file = run.get("file")
        if not isinstance(file, str) or not _RUN_FILE.fullmatch(file):
            return f"{where}.file must name a file of the release folder, not {_shown(file)}"
        samples = run.get("samples")
        if type(samples) is not int or samples < 0:
            return f"{where}.samples must be a count, not {_shown(samples)}"
        wall = run.get("wall_seconds")
        if wall is not None and not _non_negative(wall):
            return f"{where}.wall_seconds must be seconds or null, not {_shown(wall)}"
        for measured in ("cpu_seconds", "probe_seconds"):
            seconds = run.get(measured)
            if seconds is not None and not _non_negative(seconds):
                return f"{where}.{measured} must be seconds or null, not {_shown(seconds)}"
        status = run.get("exit_status")
        if status is not None and type(status) is not int:
            return f"{where}.exit_status must be an integer or null, not {_shown(status)}"
    justifications = raw.get("justifications", [])
    if not isinstance(justifications, list) or not all(
        isinstance(item, dict)
        and all(isinstance(item.get(key), str) for key in ("base", "reason", "accepted_at"))
        for item in justifications
    ):
        return "'justifications' must be a list of objects with base, reason and accepted_at"
    return None


def _cache_path(run_path: Path, variant: str = "") -> Path:
    stem = run_path.name.split(".", 1)[0]
    return run_path.parent / CACHE_DIR / f"{stem}{variant}.marshal"


def _digest(source: bytes) -> str:
    # SHA-256 runs on the processor's SHA instructions where they exist: twice as fast as
    # BLAKE2 on a 24 MB run file, and every comparison hashes every run it reads.
    return hashlib.sha256(source).hexdigest()


def _cache_key(digest: str, variant: str = "") -> bytes:
    """The header a cache entry of a run file with this digest must start with."""
    tag = f"flamediff run cache {CACHE_VERSION} {sys.implementation.cache_tag} {marshal.version}"
    return f"{tag}{variant}\n{digest}\n".encode("ascii")


@functools.cache
def _normaliser_source() -> str:
    """A digest of the code that normalises profiles: a normalised entry is only valid for it."""
    from flamediff import model, processors, stacks

    digest = hashlib.blake2b(digest_size=16)
    for module in (processors, model, stacks):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def _parsed_run(path: Path, digest: str, samples: int) -> Profile:
    """A run file's profile, cached or parsed (then cached), checked against release.json."""
    from flamediff.formats import read_profiles

    key = _cache_key(digest)
    counts = _read_parsed(path, key)
    if counts is not None:
        profile = Profile(counts)
    else:
        found = read_profiles(path)
        if len(found) != 1:
            raise ArchiveError(f"{path}: expected one profile, found {len(found)}")
        profile = found[0][1]
        _write_parsed(path, key, profile)
    if profile.total != samples:
        raise ArchiveError(f"{path}: holds {profile.total} samples, release.json says {samples}")
    return profile


def _normalised_entry(digest: str, line_level: bool) -> tuple[str, bytes]:
    """The cache variant and key of a run file's normalised profile."""
    variant = ".normalised-lines" if line_level else ".normalised"
    return variant, _cache_key(digest, f"{variant} {_normaliser_source()}")


def _read_entry(run_path: Path, key: bytes, variant: str = "") -> memoryview | None:
    """The payload of a run's cache entry, or None when none is valid for these bytes."""
    try:
        data = _cache_path(run_path, variant).read_bytes()
    except OSError:
        return None
    if not data.startswith(key):
        return None
    return memoryview(data)[len(key) :]


def _read_parsed(run_path: Path, key: bytes) -> dict[tuple[str, ...], int] | None:
    """The cached counts of a parsed run, or None."""
    payload = _read_entry(run_path, key)
    if payload is None:
        return None
    try:
        counts = marshal.loads(zlib.decompress(payload))
    except (EOFError, ValueError, TypeError, zlib.error):
        return None
    return counts if type(counts) is dict else None


def _write_parsed(run_path: Path, key: bytes, profile: Profile) -> None:
    # Zero counts are dropped, as reading the run file back would drop them. Level 1: the
    # marshal data is small next to the text, and decompressing it must stay far cheaper
    # than parsing.
    counts = {stack: count for stack, count in profile.counts.items() if count}
    _write_entry(run_path, key, zlib.compress(marshal.dumps(counts), 1))


def _read_normalised(run_path: Path, key: bytes, variant: str, samples: int) -> Profile | None:
    """The cached normalised run, or None; one of another total than recorded is not it."""
    from flamediff.stacks import StackTable

    payload = _read_entry(run_path, key, variant)
    table = None if payload is None else StackTable.from_bytes(payload)
    if table is None or table.total != samples:
        return None
    return Profile.from_table(table)


def _write_normalised(run_path: Path, key: bytes, variant: str, profile: Profile) -> None:
    _write_entry(run_path, key, profile.table.to_bytes(), variant)


def _write_entry(run_path: Path, key: bytes, payload: bytes, variant: str = "") -> None:
    """Store a cache entry beside the run; a read-only archive simply stays without one."""
    path = _cache_path(run_path, variant)
    data = key + payload
    temp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{path.name}")
    try:
        path.parent.mkdir(exist_ok=True)
        temp.write_bytes(data)
        temp.replace(path)
    except OSError:
        pass
    finally:
        # Only there when the write failed or was interrupted.
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Leftover:
    """What a writer that died left in the archive: removed, or a release put back."""

    path: Path
    restored_as: Path | None = None


@dataclass(frozen=True, slots=True)
class Damaged:
    """A folder in the archive that cannot be read as a release, and why."""

    name: str
    reason: str


class Archive:
    """A folder of releases. Reading never locks; writing commits under an exclusive lock."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # ---- reading ----------------------------------------------------------------------

    def _release_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [
            entry
            for entry in self.root.iterdir()
            if entry.is_dir() and not entry.name.startswith(".")
        ]

    def scan(self) -> tuple[list[tuple[int, ReleaseInfo]], list[Damaged]]:
        """Every readable release with its sequence number, in capture order, and the rest."""
        good: list[tuple[int, str, ReleaseInfo]] = []
        damaged: list[Damaged] = []
        for folder in self._release_dirs():
            try:
                doc = _read_document(folder / RELEASE_FILE)
                good.append((doc["sequence"], doc["created"], _document_to_info(doc)))
            except ArchiveError as error:
                damaged.append(Damaged(folder.name, str(error)))
        good.sort(key=lambda item: (item[0], item[1], item[2].name))
        return [(seq, info) for seq, _, info in good], sorted(damaged, key=lambda d: d.name)

    def infos(self) -> list[ReleaseInfo]:
        """Readable releases in capture order."""
        return [info for _, info in self.scan()[0]]

    def names(self) -> list[str]:
        return [info.name for info in self.infos()]

    def info(self, name: str) -> ReleaseInfo:
        validate_release_name(name)
        folder = self.root / name
        if not folder.is_dir():
            known = ", ".join(self.names()[-5:]) or "none"
            raise ArchiveError(f"no release {name!r} in {self.root} (latest: {known})")
        return _document_to_info(_read_document(folder / RELEASE_FILE))

    def load(self, name: str, *, normalised: bool = False, line_level: bool = False) -> Release:
        """The release with every run's profile, exactly as stored.

        A run file that holds another number of samples than ``release.json`` says was
        damaged or swapped after the capture: it is refused, naming the file, rather than
        compared as if it were the run captured.

        ``normalised``: every run as analysis reads it, through
        :func:`flamediff.processors.normalise` with ``line_level``, from the cache when an
        entry valid for this run file and this normaliser exists.
        """
        from flamediff.processors import normalise

        info = self.info(name)
        folder = self.root / name
        doc = _read_document(folder / RELEASE_FILE)
        profiles: list[Profile] = []
        for run in doc["runs"]:
            path = folder / run["file"]
            if not path.is_file():
                raise ArchiveError(f"{path}: run file missing; the release is damaged")
            try:
                source = path.read_bytes()
            except OSError as error:
                raise ArchiveError(f"{path}: cannot read: {error.strerror}") from None
            digest = _digest(source)
            if not normalised:
                profile = _parsed_run(path, digest, run["samples"])
            else:
                variant, key = _normalised_entry(digest, line_level)
                cached = _read_normalised(path, key, variant, run["samples"])
                if cached is not None:
                    profile = cached
                else:
                    parsed = _parsed_run(path, digest, run["samples"])
                    profile = normalise(parsed, line_level=line_level)
                    _write_normalised(path, key, variant, profile)
            profiles.append(profile)
        return Release(info, tuple(profiles))

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
            raise ArchiveError(f"the archive {self.root} holds no release yet")
        return names[-1]

    # ---- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock on the archive, held while a change is made visible."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_FILE
        with path.open("a+") as handle:
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

    def clean_leftovers(self) -> list[Leftover]:
        """Remove temporary folders and files of writers that no longer run.

        They lie at the top of the archive (a release being written) or inside a release (a
        ``release.json`` being replaced). A release a dead writer had moved aside to replace
        it is put back when nothing took its place.
        """
        removed: list[Leftover] = []
        if not self.root.is_dir():
            return removed
        entries = list(self.root.iterdir())
        entries += [
            inner
            for folder in entries
            if folder.is_dir() and not folder.name.startswith(".")
            for inner in folder.iterdir()
        ]
        for entry in entries:
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            owner, _, rest = entry.name[len(TEMP_PREFIX) :].partition("-")
            if owner.isdigit() and _pid_alive(int(owner)):
                continue
            if rest.startswith(f"{_REPLACED}-") and entry.parent == self.root:
                name = rest.split("-", 2)[-1]
                with self.lock():
                    if _NAME.match(name) and entry.is_dir() and not (self.root / name).exists():
                        entry.rename(self.root / name)
                        removed.append(Leftover(entry, restored_as=self.root / name))
                        continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(Leftover(entry))
        return removed

    def ensure_absent(self, name: str, *, force: bool) -> None:
        """Refuse early when a release of that name exists and ``force`` is not given."""
        validate_release_name(name)
        if (self.root / name).exists() and not force:
            raise ArchiveError(
                f"release {name!r} already exists in {self.root}; pass --force to replace it"
            )

    @contextlib.contextmanager
    def writer(self, name: str, *, force: bool = False) -> Iterator[ReleaseWriter]:
        """A temporary folder to fill with runs; on ``commit`` it becomes the release.

        Whatever happens before the commit (an error, Ctrl-C, SIGTERM), the temporary folder
        is removed and the archive is left exactly as it was.
        """
        self.ensure_absent(name, force=force)
        temp = self.root / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.clean_leftovers()
            temp.mkdir()
            yield ReleaseWriter(self, name, temp, force)
        except OSError as error:  # a full disk, a read-only archive: nothing was archived
            where = error.filename or self.root
            raise ArchiveError(f"{where}: cannot write: {error.strerror or error}") from None
        finally:
            if temp.exists():
                shutil.rmtree(temp, ignore_errors=True)

    def _commit(self, writer: ReleaseWriter, info: ReleaseInfo) -> None:
        with self.lock():
            final = self.root / writer.name
            if final.exists() and not writer.force:
                raise ArchiveError(
                    f"release {writer.name!r} was archived in {self.root} by another flamediff "
                    "meanwhile; pass --force to replace it"
                )
            sequences = [seq for seq, _ in self.scan()[0]]
            sequence = max(sequences, default=0) + 1
            # Run files and release.json are synced as they are written, and their folder
            # with release.json: what is renamed into place below is complete on disk.
            _write_json_atomically(writer.folder / RELEASE_FILE, _info_to_document(info, sequence))
            if final.exists() and _exchange(writer.folder, final):
                # The new release and the old one swapped places in one step; the temporary
                # folder, now holding the old one, goes with the writer.
                shutil.rmtree(writer.folder, ignore_errors=True)
            elif final.exists():
                # Two renames, not one: the old release is moved aside under a name that says
                # what it is, so that a writer killed between them leaves it to be put back
                # (clean_leftovers) rather than deleted with the other leftovers.
                trash = (
                    self.root
                    / f"{TEMP_PREFIX}{os.getpid()}-{_REPLACED}-{secrets.token_hex(4)}-{writer.name}"
                )
                try:
                    final.rename(trash)
                    writer.folder.rename(final)
                finally:
                    if not writer.folder.exists():
                        shutil.rmtree(trash, ignore_errors=True)
                    elif trash.exists():  # interrupted between the two renames: undo the first
                        trash.rename(final)
            else:
                writer.folder.rename(final)
            _sync_directory(self.root)

    def add_justification(self, name: str, justification: Justification) -> None:
        """Record a written reason for accepting ``name`` against a base release."""
        with self.lock():
            path = self.root / validate_release_name(name) / RELEASE_FILE
            doc = _read_document(path)
            doc.setdefault("justifications", []).append(
                JustificationDocument(
                    base=justification.base,
                    reason=justification.reason,
                    accepted_at=justification.accepted_at,
                )
            )
            _write_json_atomically(path, doc)

    def check(self) -> list[str]:
        """Every problem found in the archive, one line each; empty when all is well."""
        problems: list[str] = []
        infos, damaged = self.scan()
        problems.extend(d.reason for d in damaged)
        for _, info in infos:
            try:
                self.load(info.name)  # reads every run file, checking its samples
            except FlamediffError as error:
                problems.append(str(error))
        return problems


class ReleaseWriter:
    """Collects the runs of one release in a temporary folder of the archive."""

    def __init__(self, archive: Archive, name: str, folder: Path, force: bool) -> None:
        self.archive = archive
        self.name = name
        self.folder = folder
        self.force = force
        self.runs: list[RunInfo] = []

    def add_run(self, profile: Profile, run: RunInfo) -> None:
        from flamediff.formats.collapsed import iter_collapsed

        path = self.folder / run_file_name(len(self.runs))
        # Streamed a few thousand lines at a time: the whole text never sits in memory.
        # mtime=0 keeps the archive byte-for-byte reproducible for the same profile.
        with path.open("wb") as raw:
            with gzip.GzipFile(
                fileobj=raw, mode="wb", compresslevel=RUN_GZIP_LEVEL, mtime=0
            ) as stream:
                for piece in iter_collapsed(profile):
                    stream.write(piece.encode("utf-8"))
            raw.flush()
            os.fsync(raw.fileno())
        from flamediff.processors import normalise

        digest = _digest(path.read_bytes())
        # The first comparison after a capture reads this run normalised: have it ready, while
        # the parsed profile is still in memory.
        variant, key = _normalised_entry(digest, line_level=False)
        _write_normalised(path, key, variant, normalise(profile))
        self.runs.append(run)

    def commit(self, info: ReleaseInfo) -> None:
        """Make the release visible, with ``info.runs`` set from the runs added."""
        if not self.runs:
            raise ArchiveError(f"release {self.name!r} has no runs; nothing was archived")
        self.archive._commit(self, replace(info, name=self.name, runs=tuple(self.runs)))
