"""Copy a whole history from one archive to another: a folder to a bucket, or back.

Each release is copied as it is stored: its run files byte for byte (checked against the
SHA-256 its ``release.json`` records before they are written, and read back from the target
after), its metadata, its justifications. Releases are copied in capture order, so the
target numbers them in the same order. A copy commits release by release, as any writer
does: interrupted, it leaves every release either whole in the target or absent, and run
again it skips what is already there. A release already in the target is skipped when it is
the same release (same runs, same metadata); when the target lacks only later
justifications, they are added; anything else is an error naming it, and nothing of it is
touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from flamediff.archive import Archive
from flamediff.archive.cache import digest
from flamediff.errors import ArchiveError
from flamediff.model import ReleaseInfo


class Outcome(StrEnum):
    COPIED = "copied"
    PRESENT = "already there"
    JUSTIFIED = "justifications added"


@dataclass(frozen=True, slots=True)
class Copied:
    """What was done with one release."""

    name: str
    outcome: Outcome
    runs: int


def copy_archive(
    source: Archive, target: Archive, *, progress: Callable[[Copied], None] | None = None
) -> list[Copied]:
    """Copy every release of ``source`` missing from ``target``, in capture order.

    Refuses a source with a damaged release (``flamediff check`` names them all) before
    anything is written, and a release of the same name in the target that is another.
    """
    if source.location == target.location:
        raise ArchiveError(f"{source.location}: cannot copy an archive onto itself")
    if not source.storage.present():
        raise ArchiveError(f"{source.location}: no archive here")
    infos, damaged = source.scan()
    if damaged:
        raise ArchiveError(
            f"{damaged[0].reason} ({len(damaged)} damaged release(s) in {source.location}; "
            "`flamediff check` lists them); nothing was copied"
        )
    done: list[Copied] = []
    for _, info in infos:
        copied = _copy_release(source, target, info)
        done.append(copied)
        if progress is not None:
            progress(copied)
    return done


def _copy_release(source: Archive, target: Archive, info: ReleaseInfo) -> Copied:
    name, runs = info.name, len(info.runs)
    files: list[bytes] | None = None
    if any(run.sha256 is None for run in info.runs):
        # Archive format 1 recorded no SHA-256: the copy records the one of what it copies.
        files = source.read_run_files(name)
        digests = [digest(data) for data in files]
        info = replace(
            info,
            runs=tuple(replace(run, sha256=d) for run, d in zip(info.runs, digests, strict=True)),
        )
    if target.storage.has_release(name):
        present = target.info(name)
        if present == info:
            return Copied(name, Outcome.PRESENT, runs)
        later = info.justifications[len(present.justifications) :]
        if later and replace(present, justifications=info.justifications) == info:
            for justification in later:
                target.add_justification(name, justification)
            return Copied(name, Outcome.JUSTIFIED, runs)
        raise ArchiveError(
            f"{target.storage.describe(name)}: a release {name!r} that differs from "
            f"{source.storage.describe(name)} is already there; it was left as it is"
        )
    files = files or source.read_run_files(name)
    calls = source.read_calls_file(name)
    with target.writer(name) as writer:
        for data, run in zip(files, info.runs, strict=True):
            writer.add_run_file(data, run)
        if calls is not None:
            writer.add_calls_file(calls)
        writer.commit(info)
    # Read back: the target holds these bytes, and release.json records them.
    if (
        target.read_run_files(name) != files
        or target.read_calls_file(name) != calls
        or target.info(name) != info
    ):
        raise ArchiveError(
            f"{target.storage.describe(name)}: differs from its source when read back"
        )
    return Copied(name, Outcome.COPIED, runs)
