"""Profile file formats: one module per format, reader and writer together.

:func:`read_profiles` is the single entry point for reading a file of unknown kind:

1. gzip is recognised by its magic bytes (``1f 8b``), whatever the file is called;
2. the (decompressed) content is speedscope JSON if its first non-blank character is ``{``
   followed by ``"`` or ``}``, or ``[`` followed by the start of a JSON value (so the py-spy
   frame ``[native] 3`` still reads as folded text); anything else is folded text.

A folded file gives one profile named after the file (``path.name``); a speedscope file gives
one per profile it holds, under the profile's own name. Every failure to read (unreadable
file, corrupt or truncated gzip, malformed content) is an :class:`~flamediff.errors.InputError`.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path
from typing import Any, Final

from flamediff.errors import InputError
from flamediff.formats.collapsed import (
    decode_lines,
    parse_collapsed,
    write_collapsed,
    write_diff_folded,
)
from flamediff.formats.limits import MAX_EXPANSION_RATIO, MIN_EXPANDED_BYTES
from flamediff.formats.speedscope import parse_speedscope, write_speedscope
from flamediff.model import Profile

__all__ = [
    "parse_collapsed",
    "parse_speedscope",
    "read_profile_bytes",
    "read_profiles",
    "write_collapsed",
    "write_diff_folded",
    "write_speedscope",
]

GZIP_MAGIC: Final = b"\x1f\x8b"
_BLANK: Final = b" \t\r\n"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_JSON_VALUE_STARTS: Final = b'[{"-0123456789]'


def read_profiles(path: Path, *, rate_hz: float | None = None) -> list[tuple[str, Profile]]:
    """The named profiles in ``path``: folded text or speedscope JSON, either maybe gzipped.

    ``rate_hz`` is the sampling rate the profile was captured at; it only matters for
    speedscope profiles weighted in time (see :mod:`flamediff.formats.speedscope`); one that is
    not a positive number raises ValueError.
    """
    path = Path(path)
    try:
        with path.open("rb") as raw:
            compressed = os.fstat(raw.fileno()).st_size
            return _read_stream(raw, str(path), path.name, rate_hz, compressed)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise InputError(path, f"cannot read file: {reason}") from None


def read_profile_bytes(
    data: bytes, where: str, *, name: str, rate_hz: float | None = None
) -> list[tuple[str, Profile]]:
    """:func:`read_profiles` of a file's bytes already in memory; ``where`` names it in errors
    and a folded profile is named ``name``."""
    try:
        return _read_stream(io.BufferedReader(io.BytesIO(data)), where, name, rate_hz, len(data))
    except OSError as error:
        raise InputError(where, f"cannot read: {(error.strerror or str(error)).lower()}") from None


def _read_stream(
    raw: io.BufferedReader[Any], where: str, name: str, rate_hz: float | None, size: int
) -> list[tuple[str, Profile]]:
    """``size``: the bytes of the file as stored, which bound how far gzip may expand it."""
    try:
        stream: io.BufferedReader | _BoundedGzip = raw
        if raw.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)] == GZIP_MAGIC:
            allowance = max(MIN_EXPANDED_BYTES, MAX_EXPANSION_RATIO * size)
            stream = _BoundedGzip(gzip.GzipFile(fileobj=raw, mode="rb"), allowance, where)
        with stream:
            # peek() returns what is buffered (up to 8 KiB here) without consuming it, so
            # detection works on pipes as well as files.
            if _looks_like_json(stream.peek(1)):
                return parse_speedscope(stream.read(), where, rate_hz=rate_hz)
            return [(name, parse_collapsed(decode_lines(stream, where), where))]
    except EOFError:
        raise InputError(where, "truncated gzip data") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise InputError(where, f"corrupt gzip data ({str(error).lower()})") from None


class _BoundedGzip:
    """A gzip stream that refuses to expand beyond ``allowance`` bytes: a 2 MB file of
    compressed zeros would otherwise become gigabytes before anything could refuse it."""

    def __init__(self, stream: gzip.GzipFile, allowance: int, where: str) -> None:
        self.stream = stream
        self.allowance = allowance
        self.where = where
        self.produced = 0

    def __enter__(self) -> _BoundedGzip:
        return self

    def __exit__(self, *_: object) -> None:
        self.stream.close()

    def peek(self, size: int) -> bytes:
        return self.stream.peek(size)

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        data = self.stream.read(min(size, self.allowance - self.produced + 1))
        self.produced += len(data)
        if self.produced > self.allowance:
            raise InputError(
                self.where,
                f"gzip data expands beyond {self.allowance >> 20} MiB "
                f"({MAX_EXPANSION_RATIO} times the file, at least {MIN_EXPANDED_BYTES >> 20} MiB): "
                "not a profile",
            )
        return data


def _looks_like_json(head: bytes) -> bool:
    text = head.lstrip(_BLANK).removeprefix(_UTF8_BOM).lstrip(_BLANK)
    if not text:
        return False
    rest = text[1:].lstrip(_BLANK)
    if text[:1] == b"{":
        return not rest or rest[:1] in (b'"', b"}")
    if text[:1] == b"[":
        return not rest or rest[0] in _JSON_VALUE_STARTS
    return False
