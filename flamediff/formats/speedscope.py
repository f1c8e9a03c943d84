"""speedscope's JSON file format: reading sampled and evented profiles, writing sampled ones.

Spec: https://github.com/jlfwong/speedscope/blob/e4040538376bbaa81f3746f11530717a1f2544b1/src/lib/file-format-spec.ts
(schema: https://www.speedscope.app/file-format-schema.json). A file holds ``shared.frames``
(``name``, optional ``file``, ``line``, ``col``) and a list of profiles; a *sampled* profile
lists stacks as frame indexes, root first, each with a weight in the profile's ``unit``; an
*evented* profile lists open/close events at times.

Frame names. A frame becomes ``name (file:line)``, ``name (file)`` without a line, or ``name``
without a file: the shape of py-spy's folded frames, which :class:`~flamediff.model.FrameName`
splits back. ``col`` is ignored. py-spy puts the full path in speedscope's ``file`` where its
folded output has the path relative to ``sys.path``, so one program gives different frame
names in the two formats. So that every profile read can also be written as folded text,
``;`` in a name becomes ``:``, CR, LF and NUL become spaces, a lone surrogate becomes U+FFFD,
an empty name becomes ``[unknown]`` and a root frame starting with ``#`` gets a leading space
(a ``#`` line is a comment in folded text). A rewritten name is not silent: the reader warns
(:class:`~flamediff.errors.InputWarning`), and the command line prints it as a note.

Counts. flamediff counts samples, so weights become integers: each stack's summed weight is
converted as below, rounded to the nearest integer, and stacks that round to 0 are dropped.

- Unit ``none`` or ``bytes``: a weight is a count (py-spy's early writer used ``none`` with a
  weight of 1 per sample).
- Sampled, time unit: py-spy now writes ``seconds``, one entry of weight ``1 / rate`` per
  sample. With ``rate_hz`` given, ``w`` seconds count ``w * rate_hz`` samples. Without it, one
  sample lasts as long as the smallest positive weight of the profile: exact for py-spy at any
  ``--rate``, and for this module's own output, which always holds a one-sample entry.
- Evented: a stack is charged the time between consecutive events while it is open (frames
  still open after the last event are closed at ``endValue``); time durations become counts
  at ``rate_hz``, or at 100 Hz (py-spy's default rate) when it is not given.

Leniency. py-spy writes ``null`` for ``col``, for ``line`` under ``--nolineno`` and for
``activeProfileIndex``, which the schema forbids; nulls are read as absent. ``$schema`` must
name the speedscope schema; ``exporter``, ``name``, ``activeProfileIndex``, ``startValue`` and
the ``endValue`` of sampled profiles are not checked. Profiles keep their names, duplicates
included (py-spy's early writer named every thread's profile ``py-spy``).

Errors are :class:`~flamediff.errors.InputError`: a JSON syntax error or invalid UTF-8 names
its line; a shape error names the offending element by its JSON path
(``profiles[0].samples[3][1]``), since line numbers are gone once JSON is parsed. Nesting too
deep for the parser, NaN, Infinity and counts above 2**63 - 1 are refused too.

Writing. :func:`write_speedscope` writes one sampled profile per run over shared frames
(deduplicated, sorted by name), valid against the official schema: no nulls,
``activeProfileIndex`` 0, ``exporter`` ``flamediff <version>``. With a rate the unit is
``seconds`` and a stack seen ``n`` times weighs ``n / rate_hz``, so speedscope shows time; when
no stack has a count of exactly 1, the first stack is written as two entries, of 1 and
``n - 1`` samples, so that a reader without the rate finds the sample period (see above).
Without a rate the unit is ``none`` and weights are the counts. Read back, counts come out
exactly: any int64 count in unit ``none``, up to 2**48 per stack in ``seconds`` (float
rounding stays below half a sample there).
"""

from __future__ import annotations

import json
import math
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, NotRequired, TypedDict, TypeGuard

from flamediff import __version__
from flamediff.errors import InputError, InputWarning
from flamediff.formats.collapsed import INT64_MAX
from flamediff.formats.limits import (
    EVENTED_FRAMES_FLOOR,
    EVENTED_FRAMES_PER_EVENT,
    MAX_STACK_DEPTH,
)
from flamediff.model import FrameName, Profile, Stack

SCHEMA_URL: Final = "https://www.speedscope.app/file-format-schema.json"
DEFAULT_EVENTED_RATE_HZ: Final = 100.0

ValueUnit = Literal["none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"]
_SECONDS_PER_UNIT: Final[dict[str, float]] = {
    "seconds": 1.0,
    "milliseconds": 1e-3,
    "microseconds": 1e-6,
    "nanoseconds": 1e-9,
}
_COUNT_UNITS: Final = frozenset({"none", "bytes"})
_UNSAFE_CHARS = re.compile(r"[\r\n\x00\ud800-\udfff;]")
_SAFE_REPLACEMENT: Final = {";": ":", "\r": " ", "\n": " ", "\x00": " "}


class FrameJSON(TypedDict):
    name: str
    file: NotRequired[str]
    line: NotRequired[int]


class SampledProfileJSON(TypedDict):
    type: Literal["sampled"]
    name: str
    unit: ValueUnit
    startValue: float
    endValue: float
    samples: list[list[int]]
    weights: list[float]


class SharedJSON(TypedDict):
    frames: list[FrameJSON]


FileJSON = TypedDict(
    "FileJSON",
    {
        "$schema": str,
        "activeProfileIndex": int,
        "exporter": str,
        "name": str,
        "profiles": list[SampledProfileJSON],
        "shared": SharedJSON,
    },
)


# --- reading -----------------------------------------------------------------------------


def parse_speedscope(
    data: bytes, path: str, *, rate_hz: float | None = None
) -> list[tuple[str, Profile]]:
    """The profiles of a speedscope file, by name, in file order.

    Raises ValueError for a ``rate_hz`` that is not a positive number (a caller's mistake, not
    the file's).
    """
    _check_rate(rate_hz)
    document = _load_json(data, path)
    if not isinstance(document, dict):
        raise InputError(path, "not a speedscope file: json top level is not an object")
    schema = document.get("$schema")
    if not isinstance(schema, str) or not schema.endswith("speedscope.app/file-format-schema.json"):
        raise InputError(path, "not a speedscope file: no speedscope $schema")
    shared = document.get("shared")
    if not isinstance(shared, dict):
        raise InputError(path, "shared: missing or not an object")
    raw_frames = _require_list(shared.get("frames"), path, "shared.frames")
    written = [
        _frame_name(frame, path, f"shared.frames[{i}]") for i, frame in enumerate(raw_frames)
    ]
    frame_names = [sys.intern(_folded_safe(name)) for name in written]
    rewritten = [name for name in written if _UNSAFE_CHARS.search(name)]
    if rewritten:
        warnings.warn(
            InputWarning(
                path,
                f"{len(rewritten)} frame name(s) held ';', a line break, NUL or a lone "
                "surrogate, which folded stacks cannot hold: read with ':', spaces and U+FFFD "
                f"instead (the first: {rewritten[0][:80]!r})",
            ),
            stacklevel=2,
        )
    raw_profiles = _require_list(document.get("profiles"), path, "profiles")
    reader = _ProfileReader(path, frame_names, rate_hz)
    return [reader.read(raw, f"profiles[{i}]") for i, raw in enumerate(raw_profiles)]


def _check_rate(rate_hz: float | None) -> None:
    if rate_hz is not None and not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"rate_hz must be a positive number, got {rate_hz!r}")


def _load_json(data: bytes, path: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(path, "invalid utf-8", line) from None
    text = text.removeprefix("\ufeff")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InputError(path, f"invalid json: {error.msg.lower()}", error.lineno) from None
    except RecursionError:
        raise InputError(path, "json nested too deeply") from None
    except ValueError as error:
        # NaN or Infinity (refused by _reject_constant), or an integer literal longer than
        # Python's int-conversion limit, whose own message is a paragraph.
        reason = str(error) if "json number" in str(error) else "integer literal too long"
        raise InputError(path, f"invalid json: {reason.lower()}") from None


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a json number")


def _require_list(value: object, path: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(path, f"{where}: missing or not a list")
    return value


def _frame_name(frame: object, path: str, where: str) -> str:
    if not isinstance(frame, dict):
        raise InputError(path, f"{where}: not an object")
    name = frame.get("name")
    if not isinstance(name, str):
        raise InputError(path, f"{where}.name: missing or not a string")
    file = frame.get("file")
    if file is not None and not isinstance(file, str):
        raise InputError(path, f"{where}.file: not a string")
    line = frame.get("line")
    if line is not None:
        line = _integral(line)
        if line is None:
            raise InputError(path, f"{where}.line: not an integer")
    if file is None:
        joined = name
    elif line is None:
        joined = f"{name} ({file})"
    else:
        joined = f"{name} ({file}:{line})"
    return joined


def _folded_safe(name: str) -> str:
    if _UNSAFE_CHARS.search(name):
        name = _UNSAFE_CHARS.sub(lambda m: _SAFE_REPLACEMENT.get(m[0], "\ufffd"), name)
    return name or "[unknown]"


def _integral(value: object) -> int | None:
    """``value`` as an int if it is a JSON integer (``3`` or ``3.0``), else None."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _as_is(total: float) -> float:
    # Integer weights stay integers, so counts above 2**53 survive exactly.
    return total


def _scaled_by(factor: float) -> Callable[[float], float]:
    return lambda total: total * factor


def _divided_by(divisor: float) -> Callable[[float], float]:
    # Division, not multiplication by 1 / divisor: `(n / rate) / (1 / rate)` lands within an
    # ulp of n, where the product of two rounded reciprocals may not.
    return lambda total: total / divisor


def _is_number(value: object) -> TypeGuard[float]:
    return type(value) is int or (type(value) is float and math.isfinite(value))


class _ProfileReader:
    """Turns the JSON of one profile into a Profile, against the file's frame names."""

    def __init__(self, path: str, frame_names: list[str], rate_hz: float | None) -> None:
        self.path = path
        self.frame_names = frame_names
        self.rate_hz = rate_hz
        # Root frames are made safe apart from other frames: only there does `#` matter.
        self.root_names = [" " + name if name.startswith("#") else name for name in frame_names]

    def fail(self, where: str, reason: str) -> InputError:
        return InputError(self.path, f"{where}: {reason}")

    def read(self, raw: object, where: str) -> tuple[str, Profile]:
        if not isinstance(raw, dict):
            raise self.fail(where, "not an object")
        name = raw.get("name")
        if not isinstance(name, str):
            raise self.fail(f"{where}.name", "missing or not a string")
        unit = raw.get("unit")
        if unit not in _COUNT_UNITS and unit not in _SECONDS_PER_UNIT:
            raise self.fail(f"{where}.unit", f"unknown unit {unit!r}")
        kind = raw.get("type")
        convert: Callable[[float], float]
        if kind == "sampled":
            totals, smallest = self.sampled_weights(raw, where)
            if unit in _COUNT_UNITS:
                convert = _as_is
            elif self.rate_hz is not None:
                convert = _scaled_by(_SECONDS_PER_UNIT[unit] * self.rate_hz)
            else:
                convert = _divided_by(smallest or 1.0)
        elif kind == "evented":
            totals = self.evented_durations(raw, where)
            rate = DEFAULT_EVENTED_RATE_HZ if self.rate_hz is None else self.rate_hz
            convert = _as_is if unit in _COUNT_UNITS else _scaled_by(_SECONDS_PER_UNIT[unit] * rate)
        else:
            raise self.fail(f"{where}.type", f"unknown profile type {kind!r}")
        pairs = [
            (self.stack(indexes), self.count(convert(total), where))
            for indexes, total in totals.items()
        ]
        return name, Profile.from_pairs(pairs)

    def sampled_weights(
        self, raw: dict[str, Any], where: str
    ) -> tuple[dict[tuple[int, ...], float], float]:
        """Summed weight per stack, and the smallest positive weight of any one sample."""
        samples = _require_list(raw.get("samples"), self.path, f"{where}.samples")
        weights = _require_list(raw.get("weights"), self.path, f"{where}.weights")
        if len(samples) != len(weights):
            raise self.fail(
                where, f"{len(samples)} samples but {len(weights)} weights (must be equal)"
            )
        totals: dict[tuple[int, ...], float] = {}
        smallest = math.inf
        for i, (sample, weight) in enumerate(zip(samples, weights, strict=True)):
            # py-spy writes one entry per sample, so this loop is the hot one: a stack's
            # indexes are checked the first time only, later entries are found by hash.
            if not (type(weight) is float or type(weight) is int) or not 0 <= weight < math.inf:
                raise self.fail(f"{where}.weights[{i}]", "not a finite non-negative number")
            if 0 < weight < smallest:
                smallest = weight
            try:
                key = tuple(sample)
                previous = totals.get(key)
            except TypeError:  # not a list, or unhashable items: check_indexes says which
                previous = None
            if previous is None:
                key = self.check_indexes(sample, f"{where}.samples[{i}]")
                previous = totals.get(key, 0)
            totals[key] = previous + weight
        return totals, (0.0 if smallest == math.inf else smallest)

    def evented_durations(self, raw: dict[str, Any], where: str) -> dict[tuple[int, ...], float]:
        """Time per stack. Each stack is built once per run of events it stays open across
        (the key is kept until the next open or close), and the frames built are counted
        against a budget proportional to the events: nesting re-lists the whole open stack,
        so 200,000 nested opens would otherwise build 2e10 frames."""
        events = _require_list(raw.get("events"), self.path, f"{where}.events")
        totals: dict[tuple[int, ...], float] = {}
        open_frames: list[int] = []
        key: tuple[int, ...] | None = None  # open_frames as a tuple, while it is unchanged
        budget = EVENTED_FRAMES_FLOOR + EVENTED_FRAMES_PER_EVENT * len(events)
        last_at: float | None = None
        for i, event in enumerate(events):
            here = f"{where}.events[{i}]"
            if not isinstance(event, dict):
                raise self.fail(here, "not an object")
            at = event.get("at")
            if not _is_number(at):
                raise self.fail(f"{here}.at", "missing or not a finite number")
            frame = _integral(event.get("frame"))
            if frame is None or not 0 <= frame < len(self.frame_names):
                raise self.fail(f"{here}.frame", self.index_problem(event.get("frame")))
            if last_at is not None:
                if at < last_at:
                    raise self.fail(f"{here}.at", f"time goes backwards ({at} < {last_at})")
                if open_frames and at > last_at:
                    if key is None:
                        budget -= len(open_frames)
                        if budget < 0:
                            raise self.fail(
                                here, "nesting expands to too many frames for the file's size"
                            )
                        key = tuple(open_frames)
                    totals[key] = totals.get(key, 0) + (at - last_at)
            last_at = at
            kind = event.get("type")
            if kind == "O":
                if len(open_frames) >= MAX_STACK_DEPTH:
                    raise self.fail(here, f"stack deeper than {MAX_STACK_DEPTH:,} frames")
                open_frames.append(frame)
                key = None
            elif kind == "C":
                if not open_frames or open_frames[-1] != frame:
                    raise self.fail(here, f"closes frame {frame}, which is not the innermost open")
                open_frames.pop()
                key = None
            else:
                raise self.fail(f"{here}.type", f"unknown event type {kind!r}")
        end = raw.get("endValue")
        if open_frames and last_at is not None and _is_number(end) and end > last_at:
            key = tuple(open_frames)
            totals[key] = totals.get(key, 0) + (end - last_at)
        return totals

    def check_indexes(self, sample: object, where: str) -> tuple[int, ...]:
        if not isinstance(sample, list):
            raise self.fail(where, "not a list")
        if len(sample) > MAX_STACK_DEPTH:
            raise self.fail(where, f"stack deeper than {MAX_STACK_DEPTH:,} frames")
        indexes = []
        for position, index in enumerate(sample):
            number = _integral(index)
            if number is None or not 0 <= number < len(self.frame_names):
                raise self.fail(f"{where}[{position}]", self.index_problem(index))
            indexes.append(number)
        return tuple(indexes)

    def index_problem(self, index: object) -> str:
        if _integral(index) is None:
            return f"frame index {index!r} is not an integer"
        return f"frame index {index} out of range ({len(self.frame_names)} frames)"

    def stack(self, indexes: tuple[int, ...]) -> Stack:
        if not indexes:
            return ()
        names = self.frame_names
        return (self.root_names[indexes[0]], *(names[index] for index in indexes[1:]))

    def count(self, value: float, where: str) -> int:
        if type(value) is not int:
            if not math.isfinite(value):
                raise self.fail(where, "count too large (above 2**63 - 1)")
            value = math.floor(value + 0.5)
        if value > INT64_MAX:
            raise self.fail(where, "count too large (above 2**63 - 1)")
        return int(value)


# --- writing -----------------------------------------------------------------------------


def write_speedscope(
    profiles: Sequence[tuple[str, Profile]], *, name: str, rate_hz: float | None
) -> str:
    """A speedscope file with one sampled profile per ``(run name, profile)``, in order.

    The output validates against the official schema and reads back through
    :func:`parse_speedscope` to the same counts; see the module docstring for the units.
    """
    _check_rate(rate_hz)
    frame_names = sorted(
        {frame for _, profile in profiles for stack, _ in profile for frame in stack}
    )
    frame_index = {frame: index for index, frame in enumerate(frame_names)}
    document: FileJSON = {
        "$schema": SCHEMA_URL,
        "activeProfileIndex": 0,
        "exporter": f"flamediff {__version__}",
        "name": name,
        "profiles": [
            _sampled_profile(run_name, profile, frame_index, rate_hz)
            for run_name, profile in profiles
        ],
        "shared": {"frames": [_frame_json(frame) for frame in frame_names]},
    }
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _frame_json(frame: str) -> FrameJSON:
    parsed = FrameName.parse(frame)
    if parsed.file is None:
        return {"name": frame}
    if parsed.line is None:
        if f"{parsed.function} ({parsed.file})" == frame:
            return {"name": parsed.function, "file": parsed.file}
    elif f"{parsed.function} ({parsed.file}:{parsed.line})" == frame:
        return {"name": parsed.function, "file": parsed.file, "line": parsed.line}
    # e.g. a line number with leading zeros: keep the name whole so it reads back unchanged.
    return {"name": frame}


def _sampled_profile(
    run_name: str, profile: Profile, frame_index: dict[str, int], rate_hz: float | None
) -> SampledProfileJSON:
    rows = sorted(([frame_index[frame] for frame in stack], count) for stack, count in profile)
    samples: list[list[int]] = []
    weights: list[float] = []
    if rate_hz is None:
        for indexes, count in rows:
            samples.append(indexes)
            weights.append(count)
        unit: ValueUnit = "none"
        end_value: float = profile.total
    else:
        split_first = bool(rows) and all(count != 1 for _, count in rows)
        for position, (indexes, count) in enumerate(rows):
            if position == 0 and split_first:
                samples.append(indexes)
                weights.append(1 / rate_hz)
                count -= 1
            samples.append(indexes)
            weights.append(count / rate_hz)
        unit = "seconds"
        end_value = profile.total / rate_hz
    return {
        "type": "sampled",
        "name": run_name,
        "unit": unit,
        "startValue": 0,
        "endValue": end_value,
        "samples": samples,
        "weights": weights,
    }
