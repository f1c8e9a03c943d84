"""pprof's ``profile.proto``: writing a release as one gzipped protocol buffer.

Spec: https://github.com/google/pprof/blob/4bf881d7fb0b/proto/profile.proto (a copy is in
the project's shared reference folder). pprof, speedscope, Perfetto and Pyroscope read it, and
``pprof -diff_base=old.pb.gz new.pb.gz`` diffs two of them.

What is written, for a release and the profiles of its runs:

- ``sample_type``: ``samples``/``count``, and ``cpu``/``nanoseconds`` when the sampling rate
  is known (one sample is then ``1e9 / rate`` ns, the ``period``); ``default_sample_type`` is
  the time where there is one, so pprof shows seconds.
- one ``Sample`` per stack per run, its locations leaf first as the spec wants (flamediff's
  stacks are root first), with the string labels ``release`` and ``run`` (``1``, ``2``, ...),
  so ``pprof -tagfocus=run=3`` shows one run. Empty stacks (samples that caught no Python
  frame) are kept as samples without locations, so totals equal the samples taken.
- one ``Function`` per function name and file, one ``Location`` per frame name (a function
  at a line). A frame ``func (path/file.py:123)`` gives the function ``func``, the file
  ``path/file.py`` and the line 123; a frame of another shape (native, thread or process
  roots) is a function of that whole name, without a file or line. No ``Mapping``: Python
  frames have no addresses, and ``mapping_id`` 0 means none.
- ``string_table[0]`` is ``""``; strings are stored once, in order of first use.

The encoding is written here by hand: the protobuf wire format needs only varints and
length-delimited fields, and a runtime dependency for that would be heavier than the code.
Output is deterministic: same release, same bytes (gzip with no time stamp or file name).
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Sequence
from typing import Final

from flamediff import __version__
from flamediff.model import FrameName, Profile

_VARINT: Final = 0
_LENGTH_DELIMITED: Final = 2
NANOS_PER_SECOND: Final = 1_000_000_000


def _varint(value: int) -> bytes:
    """A base-128 varint; negative numbers as their 64-bit two's complement (10 bytes)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Message:
    """A protobuf message being written: fields appended in order, bytes at the end."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def integer(self, field: int, value: int) -> None:
        """An int64/uint64/bool field; zero is proto3's default, so it is left out."""
        if value:
            self.parts.append(_varint(field << 3 | _VARINT) + _varint(value))

    def packed(self, field: int, values: Sequence[int]) -> None:
        """A repeated integer field, packed (proto3's default encoding)."""
        if values:
            self.data(field, b"".join(_varint(value) for value in values))

    def data(self, field: int, payload: bytes) -> None:
        """A length-delimited field: a string, bytes or an embedded message, always written."""
        self.parts.append(_varint(field << 3 | _LENGTH_DELIMITED) + _varint(len(payload)))
        self.parts.append(payload)

    def message(self, field: int, message: _Message) -> None:
        self.data(field, message.to_bytes())

    def to_bytes(self) -> bytes:
        return b"".join(self.parts)


class _Strings:
    """The string table: each string once, ``""`` first, indexes in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found


def _split(frame: str) -> FrameName:
    """The frame's function, file and line, where its name shows them exactly."""
    parsed = FrameName.parse(frame)
    if parsed.file is not None:
        line = "" if parsed.line is None else f":{parsed.line}"
        if f"{parsed.function} ({parsed.file}{line})" == frame:
            return parsed
    # e.g. a line number with leading zeros: keep the name whole rather than change it.
    return FrameName(frame, None, None)


def _value_types(strings: _Strings, rate_hz: float | None) -> list[tuple[int, int]]:
    types = [(strings("samples"), strings("count"))]
    if rate_hz is not None:
        types.append((strings("cpu"), strings("nanoseconds")))
    return types


def _time_nanos(created: str | None) -> int:
    if not created:
        return 0
    try:
        moment = dt.datetime.fromisoformat(created)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp()) * NANOS_PER_SECOND


def write_pprof(
    profiles: Sequence[tuple[str, Profile]],
    *,
    release: str,
    rate_hz: float | None,
    created: str | None = None,
) -> bytes:
    """A gzipped ``profile.proto`` of ``(run label, profile)`` pairs of ``release``.

    ``rate_hz`` adds the time in nanoseconds beside the sample counts; ``created`` (ISO 8601,
    as in ``release.json``) becomes the profile's ``time_nanos``. See the module docstring for
    what is written; the bytes are the same for the same arguments.
    """
    if rate_hz is not None and not rate_hz > 0:
        raise ValueError(f"the sampling rate must be a positive number, not {rate_hz!r}")
    strings = _Strings()
    profile = _Message()
    types = _value_types(strings, rate_hz)
    for type_index, unit_index in types:
        value_type = _Message()
        value_type.integer(1, type_index)
        value_type.integer(2, unit_index)
        profile.message(1, value_type)

    period_ns = round(NANOS_PER_SECOND / rate_hz) if rate_hz is not None else 0
    functions: dict[tuple[str, str | None], int] = {}
    locations: dict[str, int] = {}
    function_messages: list[_Message] = []
    location_messages: list[_Message] = []

    def location_of(frame: str) -> int:
        found = locations.get(frame)
        if found is not None:
            return found
        parts = _split(frame)
        key = (parts.function, parts.file)
        function_id = functions.get(key)
        if function_id is None:
            function_id = functions[key] = len(functions) + 1
            function = _Message()
            function.integer(1, function_id)
            function.integer(2, strings(parts.function))
            function.integer(3, strings(parts.function))
            function.integer(4, strings(parts.file or ""))
            function_messages.append(function)
        location_id = locations[frame] = len(locations) + 1
        line = _Message()
        line.integer(1, function_id)
        line.integer(2, parts.line or 0)
        location = _Message()
        location.integer(1, location_id)
        location.message(4, line)
        location_messages.append(location)
        return location_id

    release_key, run_key, release_value = strings("release"), strings("run"), strings(release)
    for run_label, run in profiles:
        run_labels = []
        for key, value in ((release_key, release_value), (run_key, strings(run_label))):
            label = _Message()
            label.integer(1, key)
            label.integer(2, value)
            run_labels.append(label)
        # Sorted, so that the output does not depend on the order the stacks were read in.
        for stack, count in sorted(run.counts.items()):
            sample = _Message()
            sample.packed(1, [location_of(frame) for frame in reversed(stack)])
            values = [count] if rate_hz is None else [count, count * period_ns]
            # packed() leaves out an empty list, and a value of 0 must still be written.
            sample.data(2, b"".join(_varint(value) for value in values))
            for label in run_labels:
                sample.message(3, label)
            profile.message(2, sample)

    for location in location_messages:
        profile.message(4, location)
    for function in function_messages:
        profile.message(5, function)
    comment = strings(f"flamediff {__version__}: release {release}")
    default_type = types[-1][0]
    time_nanos = _time_nanos(created)
    # The string table goes last, once every string is known; field order does not matter.
    for text in strings.index:
        profile.data(6, text.encode("utf-8", "replace"))
    profile.integer(9, time_nanos)
    if rate_hz is not None:
        period_type = _Message()
        period_type.integer(1, types[-1][0])
        period_type.integer(2, types[-1][1])
        profile.message(11, period_type)
        profile.integer(12, period_ns)
    profile.packed(13, [comment])
    profile.integer(14, default_type)
    return gzip.compress(profile.to_bytes(), mtime=0)
