"""``release.json``: its schema, its validation and its conversion to the model. No I/O.

A storage backend hands the bytes of a release's ``release.json`` to :func:`parse_document`
and stores what :func:`dump_document` returns: whatever the backend, a document is read and
checked here alone.

Format history of ``release.json`` (``format_version``):

- 1: the first version. The profiler is named only by ``py_spy_version``.
- 2: ``profiler`` (``name``, ``version``, ``options`` as ``[key, value]`` pairs, or null)
  replaces ``py_spy_version``, and every run records the ``sha256`` of its run file, which
  readers verify. Format 1 releases are read as before, their run files unverified beyond
  their sample counts.

  Later in format 2, optional: ``calls`` (``file``, ``sha256``), the release's exact call
  counts from a traced run (``capture --calls``). A reader that predates it ignores it.

A newer flamediff reads every older version; an older one refuses a newer version by name
rather than guess.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any, NotRequired, TypedDict, cast

from flamediff.errors import ArchiveError
from flamediff.model import Justification, ProfilerInfo, ReleaseInfo, RunInfo

FORMAT_VERSION = 2
RELEASE_FILE = "release.json"

# Matched whole (fullmatch): with match and `$`, a name ending in a newline passed.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+@-]{0,99}")


class RunDocument(TypedDict):
    file: str
    samples: int
    sha256: NotRequired[str]  # format 2
    wall_seconds: float | None
    exit_status: int | None
    cpu_seconds: NotRequired[float | None]
    probe_seconds: NotRequired[float | None]


class JustificationDocument(TypedDict):
    base: str
    reason: str
    accepted_at: str
    releases: NotRequired[list[str]]  # the base's and the head's fingerprints


class ProfilerDocument(TypedDict):
    name: str
    version: str | None
    options: list[list[str]]


class CallsDocument(TypedDict):
    file: str
    sha256: str


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
    py_spy_version: NotRequired[str | None]  # format 1
    profiler: NotRequired[ProfilerDocument | None]  # format 2
    host: str | None
    runs: list[RunDocument]
    justifications: NotRequired[list[JustificationDocument]]
    calls: NotRequired[CallsDocument]


def validate_release_name(name: str) -> str:
    """Return ``name`` if it is safe as a folder name, else raise ArchiveError."""
    if not is_release_name(name):
        shown = name if name.isprintable() else repr(name)
        raise ArchiveError(
            f"invalid release name {shown!r}: use 1 to 100 letters, digits and . _ + @ -, "
            "starting with a letter or digit, without '..'"
        )
    return name


def is_release_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and ".." not in name


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def run_file_name(index: int) -> str:
    return f"run-{index + 1:02d}.folded.gz"


def dump_document(document: ReleaseDocument) -> bytes:
    """The bytes of a ``release.json``: sorted keys, indented, newline-terminated."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return text.encode("utf-8")


def document_to_info(doc: ReleaseDocument) -> ReleaseInfo:
    return ReleaseInfo(
        name=doc["name"],
        created=doc["created"],
        rate_hz=doc.get("rate_hz"),
        command=tuple(doc.get("command") or ()) or None,
        git_commit=doc.get("git_commit"),
        git_dirty=doc.get("git_dirty"),
        python_version=doc.get("python_version"),
        profiler=_profiler(doc),
        host=doc.get("host"),
        source=doc.get("source", "capture"),
        runs=tuple(
            RunInfo(
                run["samples"],
                run.get("wall_seconds"),
                run.get("exit_status"),
                run.get("cpu_seconds"),
                run.get("probe_seconds"),
                run.get("sha256"),
            )
            for run in doc["runs"]
        ),
        justifications=tuple(
            Justification(
                j["base"],
                j["reason"],
                j["accepted_at"],
                (j["releases"][0], j["releases"][1]) if j.get("releases") else None,
            )
            for j in doc.get("justifications", [])
        ),
        calls_sha256=doc["calls"]["sha256"] if "calls" in doc else None,
    )


def _profiler(doc: ReleaseDocument) -> ProfilerInfo | None:
    if doc["format_version"] == 1:
        version = doc.get("py_spy_version")
        return ProfilerInfo("py-spy", version) if version else None
    profiler = doc.get("profiler")
    if profiler is None:
        return None
    return ProfilerInfo(
        profiler["name"],
        profiler["version"],
        tuple((key, value) for key, value in profiler["options"]),
    )


def info_to_document(
    info: ReleaseInfo,
    sequence: int,
    digests: list[str],
    files: list[str] | None = None,
    calls_file: str | None = None,
) -> ReleaseDocument:
    """The document of ``info``, whose runs' files have the SHA-256 ``digests`` (in order)
    and are named ``files`` (by default ``run-01.folded.gz`` and on); its call counts, if
    ``info.calls_sha256`` is set, are in ``calls_file``."""
    files = files or [run_file_name(i) for i in range(len(info.runs))]
    if not len(digests) == len(files) == len(info.runs):
        raise ValueError(f"{len(info.runs)} runs, {len(digests)} digests, {len(files)} files")
    profiler = info.profiler
    document = ReleaseDocument(
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
        profiler=(
            None
            if profiler is None
            else ProfilerDocument(
                name=profiler.name,
                version=profiler.version,
                options=[[key, value] for key, value in profiler.options],
            )
        ),
        host=info.host,
        runs=[
            RunDocument(
                file=files[i],
                samples=run.samples,
                sha256=digests[i],
                wall_seconds=run.wall_seconds,
                exit_status=run.exit_status,
                cpu_seconds=run.cpu_seconds,
                probe_seconds=run.probe_seconds,
            )
            for i, run in enumerate(info.runs)
        ],
        justifications=[_justification_document(j) for j in info.justifications],
    )
    if info.calls_sha256 is not None:
        if calls_file is None:
            raise ValueError("call counts without the file that holds them")
        document["calls"] = CallsDocument(file=calls_file, sha256=info.calls_sha256)
    return document


def _justification_document(justification: Justification) -> JustificationDocument:
    entry = JustificationDocument(
        base=justification.base,
        reason=justification.reason,
        accepted_at=justification.accepted_at,
    )
    if justification.releases is not None:
        entry["releases"] = list(justification.releases)
    return entry


def with_justification(doc: ReleaseDocument, justification: Justification) -> ReleaseDocument:
    """``doc`` with one more justification; every other field as it was, format included."""
    justifications = [*doc.get("justifications", [])]
    justifications.append(_justification_document(justification))
    return cast(ReleaseDocument, {**doc, "justifications": justifications})


_REQUIRED_KEYS = {"format_version", "name", "created", "runs"}


def parse_document(data: bytes, where: str, release: str) -> ReleaseDocument:
    """The checked document of release ``release`` from the bytes of its ``release.json``.

    ``where`` names the file in every error, which is an ArchiveError naming what is wrong.
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArchiveError(f"{where}: not valid JSON ({error})") from None
    if not isinstance(raw, dict) or not raw.keys() >= _REQUIRED_KEYS:
        raise ArchiveError(f"{where}: not a flamediff release file (keys missing)")
    version = raw["format_version"]
    if type(version) is not int or version < 1:
        raise ArchiveError(f"{where}: bad format_version {_shown(version)}")
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"{where}: written by a newer flamediff (format {version}, this one reads up to "
            f"{FORMAT_VERSION}); upgrade flamediff"
        )
    problem = _field_problem(raw, release)
    if problem is not None:
        raise ArchiveError(f"{where}: {problem}")
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
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _profiler_problem(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return f"'profiler' must be an object with a name, or null, not {_shown(value)}"
    if not _optional_text(value.get("version")):
        return f"profiler.version must be a string or null, not {_shown(value.get('version'))}"
    options = value.get("options")
    if not isinstance(options, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        for pair in options
    ):
        return f"profiler.options must be a list of [key, value] strings, not {_shown(options)}"
    return None


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
    if raw["format_version"] >= 2:
        problem = _profiler_problem(raw.get("profiler"))
        if problem is not None:
            return problem
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
        sha256 = run.get("sha256")
        if raw["format_version"] >= 2 and not (
            isinstance(sha256, str) and _SHA256.fullmatch(sha256)
        ):
            return f"{where}.sha256 must be 64 hex digits, not {_shown(sha256)}"
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
    calls = raw.get("calls")
    if "calls" in raw and not (
        isinstance(calls, dict)
        and isinstance(calls.get("file"), str)
        and _RUN_FILE.fullmatch(calls["file"])
        and calls["file"] not in {run["file"] for run in runs}
        and isinstance(calls.get("sha256"), str)
        and _SHA256.fullmatch(calls["sha256"])
    ):
        return "'calls' must name a file of the release folder (not a run file) and its sha256"
    for item in justifications:
        fingerprints = item.get("releases")
        if fingerprints is not None and not (
            isinstance(fingerprints, list)
            and len(fingerprints) == 2
            and all(isinstance(f, str) and _SHA256.fullmatch(f) for f in fingerprints)
        ):
            return "a justification's 'releases' must be two SHA-256 fingerprints"
    return None
