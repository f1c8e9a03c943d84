"""Call counts as JSON: what the tracer writes per process, and what the archive keeps.

One document holds ``edges``, each ``[caller name, caller file, callee name, callee file,
calls]`` (the caller's name and file are null for code entered with no Python frame above
it), under ``"format": "flamediff-calls"``. The archive keeps one document per release,
gzipped, with the traced run's ``processes`` and ``wall_seconds``; the tracer writes one
per process (see ``flamediff/capture/inload/sitecustomize.py``), which
:func:`merge_calls` adds up.

Every failure to read is an :class:`~flamediff.errors.InputError` naming the file.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import zlib
from collections.abc import Iterable
from typing import Any, Final

from flamediff.errors import InputError
from flamediff.formats.limits import MAX_EXPANSION_RATIO, MIN_EXPANDED_BYTES
from flamediff.model import CallCounts, Code

FORMAT: Final = "flamediff-calls"
GZIP_MAGIC: Final = b"\x1f\x8b"


def dump_calls(calls: CallCounts) -> bytes:
    """The archived form of ``calls``: gzipped JSON, edges sorted, byte-for-byte reproducible."""
    edges = sorted(
        (
            [*(caller or (None, None)), *callee, count]
            for (caller, callee), count in calls.edges.items()
        ),
        key=_sort_key,
    )
    document = {
        "format": FORMAT,
        "processes": calls.processes,
        "wall_seconds": calls.wall_seconds,
        "edges": edges,
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def _sort_key(edge: list[Any]) -> tuple[str, ...]:
    return tuple("" if part is None else str(part) for part in edge)


def parse_calls(data: bytes, where: str) -> CallCounts:
    """The call counts in ``data`` (a tracer's output or an archived file, gzipped or not)."""
    if data[: len(GZIP_MAGIC)] == GZIP_MAGIC:
        allowance = max(MIN_EXPANDED_BYTES, MAX_EXPANSION_RATIO * len(data))
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                data = stream.read(allowance + 1)
        except EOFError:
            raise InputError(where, "truncated gzip data") from None
        except (gzip.BadGzipFile, zlib.error) as error:
            raise InputError(where, f"corrupt gzip data ({str(error).lower()})") from None
        if len(data) > allowance:
            raise InputError(
                where, f"gzip data expands beyond {allowance >> 20} MiB: not call counts"
            )
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(where, f"not valid JSON ({error})") from None
    except RecursionError:
        raise InputError(where, "JSON nested too deeply") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(where, f'not a file of call counts (no "format": "{FORMAT}")')
    edges: dict[tuple[Code | None, Code], int] = {}
    raw_edges = document.get("edges")
    if not isinstance(raw_edges, list):
        raise InputError(where, "'edges' must be a list")
    for index, edge in enumerate(raw_edges):
        key, count = _edge(edge, where, index)
        edges[key] = edges.get(key, 0) + count
    processes = document.get("processes", 1)
    if type(processes) is not int or processes < 0:
        raise InputError(where, f"'processes' must be a count, not {processes!r}")
    wall = document.get("wall_seconds")
    if wall is not None and not (
        isinstance(wall, int | float) and not isinstance(wall, bool) and math.isfinite(wall)
    ):
        raise InputError(where, f"'wall_seconds' must be seconds or null, not {wall!r}")
    return CallCounts(edges, processes, None if wall is None else float(wall))


def _edge(edge: object, where: str, index: int) -> tuple[tuple[Code | None, Code], int]:
    problem = f"edges[{index}] must be [caller, caller file, callee, callee file, calls]"
    if not isinstance(edge, list) or len(edge) != 5:
        raise InputError(where, problem)
    caller_name, caller_file, callee_name, callee_file, count = edge
    if not (isinstance(callee_name, str) and isinstance(callee_file, str)):
        raise InputError(where, problem)
    if type(count) is not int or count < 0:
        raise InputError(where, f"edges[{index}]: calls must be a count, not {count!r}")
    if caller_name is None and caller_file is None:
        return (None, (callee_name, callee_file)), count
    if not (isinstance(caller_name, str) and isinstance(caller_file, str)):
        raise InputError(where, problem)
    return ((caller_name, caller_file), (callee_name, callee_file)), count


def merge_calls(parts: Iterable[CallCounts], *, wall_seconds: float | None = None) -> CallCounts:
    """The calls of several processes of one run, added up."""
    edges: dict[tuple[Code | None, Code], int] = {}
    processes = 0
    for part in parts:
        processes += part.processes
        for key, count in part.edges.items():
            edges[key] = edges.get(key, 0) + count
    return CallCounts(edges, processes, wall_seconds)
