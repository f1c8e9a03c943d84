"""Which two releases to compare, and both loaded as analysis reads them."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flamediff.archive import Archive
from flamediff.errors import ConfigError
from flamediff.model import Release


@dataclass(frozen=True, slots=True)
class Pair:
    """A base release and a head release, each with its runs normalised for comparison."""

    base: Release
    head: Release


def resolve_names(archive: Archive, base: str | None, head: str | None) -> tuple[str | None, str]:
    """(base, head) names; HEAD defaults to the newest release, BASE to the one before it.

    Base is None when head is the first release ever. Unknown names raise ArchiveError.
    """
    head_name = head if head is not None else archive.latest()
    archive.info(head_name)  # a precise error for an unknown head
    if base is None:
        return archive.previous(head_name), head_name
    archive.info(base)
    if base == head_name:
        raise ConfigError(f"base and head are the same release {base!r}")
    return base, head_name


def load_for_analysis(archive: Archive, name: str, *, line_level: bool = False) -> Release:
    """A release with every run normalised for comparison (see flamediff.processors)."""
    release = archive.load(name, normalised=True, line_level=line_level)
    return replace(release, calls=archive.calls(name))


def analysed(release: Release, *, line_level: bool = False) -> Release:
    """A release captured in this job (not read from the archive) as analysis reads it."""
    from flamediff.processors import normalise

    profiles = tuple(normalise(profile, line_level=line_level) for profile in release.profiles)
    return Release(release.info, profiles, release.calls)


def load_pair(archive: Archive, base: str, head: str, *, line_level: bool = False) -> Pair:
    return Pair(
        load_for_analysis(archive, base, line_level=line_level),
        load_for_analysis(archive, head, line_level=line_level),
    )
