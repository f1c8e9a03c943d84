"""Malformed files given to `flamediff import`, end to end, through the CLI's one boundary.

Whatever a file holds, the command ends in one line on stderr, ``error: FILE[:LINE]: reason``,
and exit 2, with the archive left byte for byte as it was: never a traceback, never a hang
(each case runs under an alarm), never memory beyond what the file itself asks for (the
large cases run in a child under an address-space limit).

The readers' own property tests (tests/formats/) check the reasons; these check the contract
a pipeline sees.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from builders import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flamediff.cli import main

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
GOOD_RUN = SAMPLES / "v1" / "run-01.folded"
CASE_SECONDS = 20  # far above any case's real cost: only a hang reaches it
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no handler in flamediff can swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with time_limit(CASE_SECONDS), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".lock" and ".cache" not in path.parts
    }


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input") / "archive"
    code, _, err = run("import", "v1", str(GOOD_RUN), "--archive", str(root))
    assert code == 0, err
    return root


def assert_refused(
    archive: Path, files: list[Path], bad: Path, lines: set[int] | None = None
) -> str:
    """Import ``files``: it must fail naming ``bad`` (and one of its bad ``lines``, when
    given), leaving ``archive`` as it was."""
    before = snapshot(archive)
    code, out, err = run("import", "new", *map(str, files), "--archive", str(archive))
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    match = re.fullmatch(rf"error: {re.escape(str(bad))}(?::(\d+))?: [^\n]+\n", err)
    assert match, err
    if lines is not None:
        assert match[1] is not None, err
        assert int(match[1]) in lines, (err, lines)
    assert snapshot(archive) == before
    return err


# ---- folded text -----------------------------------------------------------------------------

FRAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=";#"),
    min_size=1,
    max_size=12,
)
GOOD_LINE = st.builds(
    lambda frames, count: (";".join(frames) + f" {count}").encode("utf-8"),
    st.lists(FRAME, min_size=1, max_size=5),
    st.integers(1, 10**6),
)
BAD_LINE = st.sampled_from(
    [
        b"main;work",  # no count
        b"main;work ",
        b"main;work 1.5",
        b"main;work 1e3",
        b"main;work 0x10",
        b"main;work twelve",
        b"main;work \xef\xbc\x93",  # a fullwidth digit: not an ASCII count
        b"main;work -3",
        b"main;work 9223372036854775808",  # 2**63
        b"main;work " + b"9" * 40,
        b"main;wo\x00rk 3",
        b"\x00\x00\x00\x00",
        b"main;\xff\xfework 3",  # invalid UTF-8
        b"main;\xc3 3",  # a truncated UTF-8 sequence
        b"main;;work 3",  # empty frame
        b";work 3",
    ]
)


@FUZZ
@given(
    before=st.lists(GOOD_LINE, max_size=6),
    bad=BAD_LINE,
    after=st.lists(st.tuples(st.booleans(), GOOD_LINE, BAD_LINE), max_size=4),
    crlf=st.booleans(),
    compressed=st.booleans(),
)
def test_a_bad_folded_line_is_named_by_file_and_line(
    archive: Path, tmp_path: Path, before, bad, after, crlf, compressed
) -> None:
    # The error may name any bad line: text is decoded a block at a time, so a line that is
    # not UTF-8 can be found before an earlier line without a count.
    rest = [bad_line if is_bad else good_line for is_bad, good_line, bad_line in after]
    bad_lines = {len(before) + 1} | {
        len(before) + 2 + index for index, (is_bad, _, _) in enumerate(after) if is_bad
    }
    end = b"\r\n" if crlf else b"\n"
    content = end.join([*before, bad, *rest]) + end
    path = tmp_path / "run.folded"
    path.write_bytes(gzip.compress(content, mtime=0) if compressed else content)
    assert_refused(archive, [path], path, bad_lines)


@FUZZ
@given(lines=st.lists(GOOD_LINE, min_size=1, max_size=8), cut=st.floats(0, 1, exclude_max=True))
def test_a_truncated_gzip_file_is_refused(archive: Path, tmp_path: Path, lines, cut) -> None:
    compressed = gzip.compress(b"\n".join(lines) + b"\n", mtime=0)
    path = tmp_path / "cut.folded.gz"
    path.write_bytes(compressed[: 2 + int(cut * (len(compressed) - 2))])
    assert_refused(archive, [path], path)


# ---- speedscope JSON -------------------------------------------------------------------------


@st.composite
def speedscope(draw: st.DrawFn) -> dict:
    frames = draw(st.lists(st.builds(dict, name=FRAME), min_size=1, max_size=5))
    samples = draw(
        st.lists(st.lists(st.integers(0, len(frames) - 1), max_size=4), min_size=1, max_size=6)
    )
    return {
        "$schema": SCHEMA,
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": "run",
                "unit": "none",
                "startValue": 0,
                "endValue": len(samples),
                "samples": samples,
                "weights": [1 + index for index in range(len(samples))],
            }
        ],
    }


def _set(path: tuple, value: object):
    def apply(document: dict) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


def _delete(path: tuple):
    def apply(document: dict) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return apply


PROFILE = ("profiles", 0)
MUTATIONS = {
    "index out of range": _set((*PROFILE, "samples", 0), [0, 99]),
    "negative index": _set((*PROFILE, "samples", 0), [-1]),
    "index not an integer": _set((*PROFILE, "samples", 0), ["0"]),
    "fractional index": _set((*PROFILE, "samples", 0), [0.5]),
    "boolean index": _set((*PROFILE, "samples", 0), [True, None]),
    "sample not a list": _set((*PROFILE, "samples", 0), {"0": 0}),
    "weights too short": _set((*PROFILE, "weights"), []),
    "negative weight": _set((*PROFILE, "weights", 0), -1),
    "string weight": _set((*PROFILE, "weights", 0), "1"),
    "huge weight": _set((*PROFILE, "weights", 0), 1e300),
    "huge integer weight": _set((*PROFILE, "weights", 0), 2**70),
    "unknown unit": _set((*PROFILE, "unit"), "furlongs"),
    "unknown type": _set((*PROFILE, "type"), "sideways"),
    "no samples": _delete((*PROFILE, "samples")),
    "no profiles": _delete(("profiles",)),
    "profiles an object": _set(("profiles",), {"0": {}}),
    "profile a string": _set(PROFILE, "sampled"),
    "no shared": _delete(("shared",)),
    "shared a list": _set(("shared",), []),
    "frames a string": _set(("shared", "frames"), "main"),
    "frame without name": _set(("shared", "frames", 0), {"file": "a.py"}),
    "frame name a number": _set(("shared", "frames", 0), {"name": 3}),
    "frame line a string": _set(("shared", "frames", 0), {"name": "f", "line": "3"}),
    "wrong schema": _set(("$schema",), "https://example.com/schema.json"),
    "evented backwards": _set(
        PROFILE,
        {
            "type": "evented",
            "name": "e",
            "unit": "none",
            "startValue": 0,
            "endValue": 9,
            "events": [{"type": "O", "at": 5, "frame": 0}, {"type": "C", "at": 4, "frame": 0}],
        },
    ),
    "evented unbalanced": _set(
        PROFILE,
        {
            "type": "evented",
            "name": "e",
            "unit": "none",
            "startValue": 0,
            "endValue": 9,
            "events": [{"type": "C", "at": 1, "frame": 0}],
        },
    ),
}


@FUZZ
@given(document=speedscope(), mutation=st.sampled_from(sorted(MUTATIONS)))
def test_speedscope_of_the_wrong_shape_is_refused(
    archive: Path, tmp_path: Path, document: dict, mutation: str
) -> None:
    MUTATIONS[mutation](document)
    path = tmp_path / "run.speedscope.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert_refused(archive, [path], path)


@FUZZ
@given(document=speedscope(), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_speedscope_json_names_its_line(
    archive: Path, tmp_path: Path, document: dict, cut: float
) -> None:
    text = json.dumps(document, indent=1)
    path = tmp_path / "cut.json"
    path.write_text(text[: 2 + int(cut * (len(text) - 3))], encoding="utf-8")
    err = assert_refused(archive, [path], path)
    assert re.match(rf"error: {re.escape(str(path))}:\d+: invalid json", err), err


@FUZZ
@given(document=speedscope())
def test_the_unmutated_documents_do_import(archive: Path, tmp_path: Path, document: dict) -> None:
    # The wrong-shape cases fail for their mutation, not for the document they start from.
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    code, _, err = run("import", "fine", str(path), "--archive", str(archive))
    try:
        assert code == 0, err
    finally:
        shutil.rmtree(archive / "fine", ignore_errors=True)


@pytest.mark.parametrize(
    "content",
    [
        b'{"$schema": "' + SCHEMA.encode() + b'", "shared": ' + b"[" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000,
        b'{"$schema": "' + SCHEMA.encode() + b'", "profiles": [' + b"{" * 50_000,
    ],
    ids=["deep-unclosed", "deep-closed", "deep-objects", "deep-braces"],
)
def test_deeply_nested_json_is_refused(archive: Path, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(content)
    assert_refused(archive, [path], path)


# ---- any bytes at all ----------------------------------------------------------------------------

PREFIXES = [b"", b"\x1f\x8b", b"{", b'{"$schema": "' + SCHEMA.encode() + b'"', b"[", b"a;b 1\n"]


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=300), compress=st.booleans())
def test_any_bytes_import_or_fail_in_one_line(
    archive: Path, tmp_path: Path, prefix: bytes, body: bytes, compress: bool
) -> None:
    content = prefix + body
    path = tmp_path / "random"
    path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
    before = snapshot(archive)
    code, out, err = run("import", "maybe", str(path), "--archive", str(archive))
    if code == 0:
        shutil.rmtree(archive / "maybe")
    else:
        assert (code, out) == (2, ""), err
        assert err.count("\n") == 1, err
        assert "Traceback" not in err
        assert re.fullmatch(rf"error: {re.escape(str(path))}(:\d+)?: [^\n]+\n", err), err
    assert snapshot(archive) == before


@FUZZ
@given(
    good=st.integers(0, 3),
    position=st.integers(0, 3),
    bad=st.sampled_from(
        sorted(p for p in (SAMPLES / "malformed").iterdir() if p.name != "README.md")
    ),
)
def test_one_bad_file_among_good_ones_stops_the_whole_import(
    archive: Path, good: int, position: int, bad: Path
) -> None:
    files = [GOOD_RUN] * good
    files.insert(min(position, good), bad)
    assert_refused(archive, files, bad)


# ---- not files, and files too large for the memory available --------------------------------


def test_directories_and_fifos_are_refused_without_reading(archive: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    for path in (tmp_path, fifo, Path("/dev/zero")):
        err = assert_refused(archive, [path], path)
        assert err.endswith(": not a regular file\n"), err
    err = assert_refused(archive, [tmp_path / "absent"], tmp_path / "absent")
    assert err.endswith(": no such file\n")


def gzip_bomb(path: Path, member: bytes, copies: int) -> None:
    """``copies`` gzip members of ``member`` each: concatenated members are one gzip stream."""
    one = gzip.compress(member, compresslevel=9, mtime=0)
    with path.open("wb") as stream:
        for _ in range(copies):
            stream.write(one)


def import_in_child(files: list[Path], archive: Path, memory_mb: int) -> tuple[int, str, float]:
    """`flamediff import` in a child limited to ``memory_mb`` of address space; its peak RSS."""

    def limit() -> None:
        size = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    # VmHWM, not ru_maxrss: the latter survives exec and so starts at the size of pytest.
    probe = (
        "import sys\n"
        "from flamediff.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "status = open('/proc/self/status').read()\n"
        "sys.stdout.write(status.split('VmHWM:')[1].split()[0])\n"
        "sys.exit(code)\n"
    )
    # OpenBLAS, loaded with NumPy, reserves address space for a thread per core; the limit is
    # on what flamediff reads, not on that reservation, which RSS never sees.
    result = subprocess.run(
        [sys.executable, "-c", probe, "import", "big", *map(str, files), "--archive", str(archive)],
        preexec_fn=limit,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stderr, int(result.stdout or 0) / 1024


# The child's own Python, typer and rich take about 45 MB of address space; the rest is for
# reading. flamediff holds the longest line of a folded file, or a whole JSON document, in
# memory about three times over while it reads it: a 40 MiB line fits in 256 MiB and is refused
# for what it holds; a 1 GiB line (from a 1 MB file) does not fit in 128 MiB and is refused for
# its size. Neither ends in a traceback or takes the machine's memory.
CHILD_MEMORY_MB = 128


@pytest.mark.parametrize(
    ("member", "copies", "memory_mb", "reason"),
    [
        (b"a" * (1 << 20), 40, 256, ":1: missing count"),
        (b"\x00" * (1 << 20), 40, 256, ":1: nul byte in line (not a text file?)"),
        (b"a" * (1 << 20), 1024, 128, ":1: line longer than 64 MiB"),
        ((b"main;" + b"f" * 57 + b" 1\n") * (1 << 14), 128, 128, ": gzip data expands beyond "),
    ],
    ids=["40-MiB-line", "40-MiB-of-zeros", "1-GiB-line", "128-MiB-of-short-lines"],
)
def test_a_gzip_bomb_is_refused_within_a_memory_limit(
    archive: Path, tmp_path: Path, member: bytes, copies: int, memory_mb: int, reason: str
) -> None:
    path = tmp_path / "bomb.gz"
    gzip_bomb(path, member, copies)
    # More than flamediff lets a gzip file expand to (MAX_EXPANSION_RATIO times).
    assert path.stat().st_size * 256 < copies * len(member)
    before = snapshot(archive)
    code, err, _ = import_in_child([path], archive, memory_mb)
    assert code == 2, err
    assert err.startswith(f"error: {path}{reason}"), err
    assert err.count("\n") == 1, err
    assert snapshot(archive) == before


def test_one_line_of_millions_of_frames_is_refused_for_its_depth(
    archive: Path, tmp_path: Path
) -> None:
    path = tmp_path / "deep.folded"
    path.write_text("main;" + "f;" * 2_000_000 + "leaf 1\n")
    code, err, peak_mb = import_in_child([path], archive, 256)
    assert (code, err) == (2, f"error: {path}:1: stack deeper than 10,000 frames\n")
    # The line is held about once: its 4 MB, not the frames it names.
    assert peak_mb < 160


def test_evented_nesting_is_bounded_by_the_file_s_size(archive: Path, tmp_path: Path) -> None:
    # 9,000 nested opens, then 100,000 events that close and reopen the innermost frame as
    # time advances: every event would re-list a 9,000-frame stack (900 million frames).
    depth, churn = 9_000, 50_000
    events = [{"type": "O", "frame": 0, "at": at} for at in range(depth)]
    for step in range(churn):
        at = depth + step
        events += [{"type": "C", "frame": 0, "at": at}, {"type": "O", "frame": 0, "at": at}]
    document = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "f"}]},
        "profiles": [{"type": "evented", "name": "p", "unit": "none", "startValue": 0,
                      "endValue": depth + churn, "events": events}],
    }  # fmt: skip
    path = tmp_path / "nested.speedscope.json"
    path.write_text(json.dumps(document))
    code, err, _ = import_in_child([path], archive, 512)
    assert code == 2, err
    assert "nesting expands to too many frames for the file's size" in err
    assert err.count("\n") == 1, err


def test_json_that_never_ends_is_refused_within_a_memory_limit(
    archive: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bomb.json.gz"
    start = b'{"$schema": "' + SCHEMA.encode() + b'", "x": "'
    path.write_bytes(gzip.compress(start, mtime=0))
    with path.open("ab") as stream:
        stream.write(gzip.compress(b" " * (1 << 20), compresslevel=9, mtime=0) * 64)
    code, err, _ = import_in_child([path], archive, CHILD_MEMORY_MB)
    # 64 MiB of blanks from a 65 KiB file: refused for its expansion before it fills memory.
    assert (code, err) == (
        2,
        f"error: {path}: gzip data expands beyond 64 MiB (256 times the file, at least 64 MiB): "
        "not a profile\n",
    )


def test_a_large_valid_file_imports_in_memory_proportional_to_its_stacks(
    archive: Path, tmp_path: Path
) -> None:
    # 200,000 lines of 20 distinct stacks: 20 MiB of text, a few hundred bytes of profile.
    lines = b"".join(f"main;handler;work{index % 20} 1\n".encode() for index in range(200_000))
    path = tmp_path / "many.folded.gz"
    path.write_bytes(gzip.compress(lines * 5, compresslevel=1, mtime=0))
    code, err, _ = import_in_child([path], archive, CHILD_MEMORY_MB)
    try:
        assert code == 0, err
        assert "1000000 samples" in err
    finally:
        shutil.rmtree(archive / "big", ignore_errors=True)


def test_the_child_limit_leaves_room_for_a_normal_import(archive: Path) -> None:
    code, err, peak_mb = import_in_child([GOOD_RUN], archive, CHILD_MEMORY_MB)
    try:
        assert code == 0, err
        assert 0 < peak_mb < CHILD_MEMORY_MB / 2  # room to spare for an ordinary file
    finally:
        shutil.rmtree(archive / "big", ignore_errors=True)
