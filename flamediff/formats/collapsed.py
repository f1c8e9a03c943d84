"""Collapsed ("folded") stacks: one line per distinct stack, the count after the last space.

The format of Brendan Gregg's FlameGraph (``stackcollapse-*.pl``, ``flamegraph.pl``), of
py-spy's ``--format raw`` and of inferno::

    main (app.py:10);handle (app.py:42);parse (app.py:7) 42
    main (app.py:10);wait (app.py:50) 3
     4

Reading, as flamediff does it:

- Frames are separated by ``;`` and listed root first. The count is the decimal integer after
  the *last* space: frame names may themselves contain spaces, ``<>&"'`` and any Unicode.
- A line whose stack is empty (`` 4``: a space and a count) is the empty stack ``()``;
  py-spy writes these for samples that caught no Python frame.
- Blank lines are ignored, as is trailing whitespace (CRLF files read as LF files). A line
  whose first character is ``#`` is a comment (FlameGraph's ``difffolded.pl`` does not skip
  them; flamediff does, so golden files can carry a note). A root frame starting with ``#``
  therefore cannot be written.
- The same stack on several lines is summed. A count of 0 is accepted and contributes nothing.
- Refused, as :class:`~flamediff.errors.InputError` with the line number: a missing, negative,
  non-integer or non-ASCII count; a count (or a stack's total) above 2**63 - 1, which no
  profiler writes and which signals a corrupt file; an empty frame name (``a;;b``); a NUL byte.
- The input is text in UTF-8; a leading byte-order mark is dropped.
- A differential line (``stack 3 5``, see below) is *not* recognised on input: it reads as a
  stack whose leaf ends in `` 3``, because a frame name may end in a number.

Writing is deterministic: lines sorted by stack text, a trailing newline, the empty stack as
`` N``. Names that cannot be written back unambiguously (empty, containing ``;``, CR, LF or
NUL, or a root frame starting with ``#``) raise :class:`ValueError`: the readers of this
package never produce them.

:func:`write_diff_folded` writes FlameGraph's differential format, ``stack base head``, one
line per stack of either profile (what ``difffolded.pl`` writes, minus its arbitrary order).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Iterable, Iterator
from itertools import chain
from typing import Protocol

from flamediff.errors import InputError
from flamediff.formats.limits import MAX_LINE_BYTES, MAX_STACK_DEPTH
from flamediff.model import Profile, Stack

INT64_MAX = 2**63 - 1
_MAX_COUNT_DIGITS = len(str(INT64_MAX))
_NEGATIVE = re.compile(r"-[0-9]+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_UNWRITABLE = re.compile(r"[\r\n\x00]")
_NUL_REASON = "nul byte in line (not a text file?)"


def parse_collapsed(lines: Iterable[str], path: str) -> Profile:
    """Parse folded lines (with or without their line ends) into a profile.

    ``path`` is only used in error messages; line numbers count every item of ``lines``,
    blank and comment lines included, from 1.
    """
    totals: dict[Stack, int] = {}
    intern = sys.intern
    for lineno, line in enumerate(lines, 1):
        # The common line needs no copy of itself: only its count token is stripped. The
        # rest (blank, comment, trailing blanks, malformed) takes the careful path.
        stack_text, space, count_text = line.rpartition(" ")
        count_text = count_text.rstrip()
        if not (space and count_text.isdigit() and count_text.isascii()):
            line = line.rstrip()
            if not line or line[0] == "#":
                continue
            stack_text, space, count_text = line.rpartition(" ")
            if not space:
                raise InputError(path, _nul_or(line, "missing count"), lineno)
            if not (count_text.isascii() and count_text.isdigit()):
                raise InputError(path, _nul_or(line, _count_problem(count_text)), lineno)
        elif line[0] == "#":
            continue
        if "\x00" in line:
            raise InputError(path, _NUL_REASON, lineno)
        if len(count_text) > _MAX_COUNT_DIGITS or (count := int(count_text)) > INT64_MAX:
            raise InputError(path, "count too large (above 2**63 - 1)", lineno)
        if stack_text.count(";") >= MAX_STACK_DEPTH:
            raise InputError(path, f"stack deeper than {MAX_STACK_DEPTH:,} frames", lineno)
        # Split every line rather than key by text: the text of unique stacks (py-spy writes
        # each stack once) would otherwise stay alive beside its frames until the end.
        stack = tuple(map(intern, stack_text.split(";"))) if stack_text else ()
        previous = totals.get(stack)
        if previous is None:
            if "" in stack:
                raise InputError(path, "empty frame name", lineno)
            totals[stack] = count
        else:
            total = previous + count
            if total > INT64_MAX:
                raise InputError(path, "stack total too large (above 2**63 - 1)", lineno)
            totals[stack] = total
    return Profile({stack: count for stack, count in totals.items() if count})


def _nul_or(line: str, reason: str) -> str:
    # A NUL byte says "binary file" better than whatever else is wrong with the line.
    return _NUL_REASON if "\x00" in line else reason


def _count_problem(count_text: str) -> str:
    if _NEGATIVE.fullmatch(count_text):
        return f"negative count {count_text}"
    if _NUMBER.fullmatch(count_text):
        return f"bad count {count_text!r} (expected a non-negative integer)"
    return "missing count"


class BinaryReader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


# Decoding and splitting run in C over a block at a time. A quarter of a megabyte is as fast
# as iterating the binary stream's lines; a megabyte was 15% slower (likely because its lines
# no longer stay in the processor's cache while they are parsed). Iterating lines would hold a
# very long line three times over, which a memory limit then refuses (tests/reliability).
_CHUNK_BYTES = 1 << 18


def decode_lines(stream: BinaryReader, path: str) -> Iterator[str]:
    """The lines of a binary stream as text (without their ``\\n``), checked to be UTF-8.

    The stream is decoded a block at a time, cut after its last line end: a line end never
    falls inside a UTF-8 sequence, so every piece decodes on its own, in C, and is split on
    ``\\n`` only (a frame name may hold other Unicode line breaks). A decoding error still
    names its line. A leading byte-order mark is dropped.
    """
    lineno = 0
    pending: list[bytes] = []  # the start of a line longer than a block, until its end comes
    pending_bytes = 0
    first = True
    while block := stream.read(_CHUNK_BYTES):
        cut = block.rfind(b"\n") + 1
        if not cut:
            pending.append(block)
            pending_bytes += len(block)
            if pending_bytes > MAX_LINE_BYTES:
                raise InputError(path, f"line longer than {MAX_LINE_BYTES >> 20} MiB", lineno + 1)
            continue
        pending_bytes = len(block) - cut
        data = b"".join([*pending, block[:cut]]) if pending else block[:cut]
        pending = [block[cut:]] if cut < len(block) else []
        text = _decode(data, path, lineno)
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        lines = text.split("\n")
        lines.pop()  # empty: the piece ends with its last line's end
        lineno += len(lines)
        yield from lines
    if pending:
        text = _decode(b"".join(pending), path, lineno)
        yield text.removeprefix("\ufeff") if first else text


def _decode(data: bytes, path: str, lines_before: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        lineno = lines_before + data.count(b"\n", 0, error.start) + 1
        raise InputError(path, "invalid utf-8 (not a text file?)", lineno) from None


def stack_text(stack: Stack) -> str:
    """The folded form of one stack, without its count.

    Raises ValueError for a stack that would not read back as itself.
    """
    text = ";".join(stack)
    if stack and (
        text.count(";") != len(stack) - 1
        or not text
        or ";;" in text
        or text[0] in ";#"
        or text[-1] == ";"
        or _UNWRITABLE.search(text)
    ):
        raise ValueError(f"stack cannot be written as folded text: {stack!r}")
    return text


def _check_writable(stacks: Collection[Stack]) -> None:
    """Raise ValueError naming a stack that would not read back as itself, if there is one.

    Checked per distinct frame, not per stack: a profile repeats a few thousand frames across
    all its stacks, so this costs one pass in C plus a look at each distinct name.
    """
    frames = set(chain.from_iterable(stacks))
    roots = {stack[0] for stack in stacks if stack}
    if any(not frame or ";" in frame or _UNWRITABLE.search(frame) for frame in frames) or any(
        root[0] == "#" for root in roots
    ):
        for stack in stacks:
            stack_text(stack)  # raises on the first bad one, with the stack in the message


def iter_collapsed(profile: Profile, *, lines_per_chunk: int = 8192) -> Iterator[str]:
    """The text of :func:`write_collapsed` in pieces of ``lines_per_chunk`` lines.

    For writers that stream (gzip): a profile of 150 MB of text then never exists as one
    string beside its own lines.
    """
    counts = profile.counts
    _check_writable(counts.keys())
    rows = sorted(zip(map(";".join, counts.keys()), counts.values(), strict=True))
    for start in range(0, len(rows), lines_per_chunk):
        yield "".join(
            [f"{text} {count}\n" for text, count in rows[start : start + lines_per_chunk]]
        )


def write_collapsed(profile: Profile) -> str:
    """Folded text of ``profile``: one ``stack count`` line per stack, sorted by stack text."""
    return "".join(iter_collapsed(profile))


def write_diff_folded(base: Profile, head: Profile) -> str:
    """FlameGraph's differential folded text: ``stack base_count head_count`` per stack.

    Every stack of either profile gets a line (0 where a side lacks it), sorted by stack text.
    """
    base_counts, head_counts = base.counts, head.counts
    stacks = base_counts.keys() | head_counts.keys()
    _check_writable(stacks)
    rows = sorted(
        (";".join(stack), base_counts.get(stack, 0), head_counts.get(stack, 0)) for stack in stacks
    )
    return "".join([f"{text} {base_count} {head_count}\n" for text, base_count, head_count in rows])
