"""Counts every call of a Python function, by caller, while the load runs.

flamediff puts this folder first on ``PYTHONPATH`` and names an output folder in
``FLAMEDIFF_CALLS_DIR``; every Python process of the load (children included) imports this
module at start-up, counts each call as (calling code, called code), and writes
``calls-<pid>.json`` into that folder when it exits. The load's own ``sitecustomize``, if
any, is imported after this one, and ``sys.path`` is left as the load would have it.

It runs in the load's interpreter, whatever its version: standard library only, no syntax
newer than Python 3.8. It uses ``sys.setprofile`` on every version, so one counting method
serves every release of a history; ``sys.monitoring`` (3.12+) would cost less but count
differently around generators and C calls.
"""

from __future__ import annotations

import atexit
import dis
import json
import os
import sys
import threading
from types import CodeType, FrameType
from typing import Any

_OUTPUT = os.environ.get("FLAMEDIFF_CALLS_DIR")
# Generators, coroutines and async generators: their frame is entered again at every
# resumption, which is not a call.
_RESUMABLE = 0x20 | 0x80 | 0x100 | 0x200
_RESUME = dis.opmap.get("RESUME")


def _started(frame: FrameType, code: CodeType) -> bool:
    """Whether a resumable frame is starting (a call) rather than resuming."""
    offset = frame.f_lasti
    if offset < 0:  # before 3.11: a frame that has not run an instruction yet
        return True
    raw = code.co_code
    if _RESUME is None or offset + 1 >= len(raw) or raw[offset] != _RESUME:
        return offset == 0
    return raw[offset + 1] & 3 == 0  # RESUME's argument: 0 at the start of the code


def _install(folder: str) -> None:
    counts: dict[tuple[CodeType | None, CodeType], int] = {}
    get = counts.get

    def on_event(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        if code.co_flags & _RESUMABLE and not _started(frame, code):
            return
        caller = frame.f_back
        key = (caller.f_code if caller is not None else None, code)
        counts[key] = get(key, 0) + 1

    def name(code: CodeType | None) -> list[str | None]:
        if code is None:
            return [None, None]
        return [getattr(code, "co_qualname", code.co_name), code.co_filename]

    def write() -> None:
        sys.setprofile(None)
        threading.setprofile(None)
        edges = [name(caller) + name(callee) + [n] for (caller, callee), n in counts.items()]
        document = {
            "format": "flamediff-calls",
            "pid": os.getpid(),
            "python": sys.version.split()[0],
            "edges": edges,
        }
        path = os.path.join(folder, "calls-%d.json" % os.getpid())
        with open(path + ".tmp", "w", encoding="utf-8") as stream:
            json.dump(document, stream)
        os.replace(path + ".tmp", path)

    # A forked child counts its own calls, not its parent's before the fork.
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=counts.clear)
    atexit.register(write)
    threading.setprofile(on_event)
    sys.setprofile(on_event)


def _chain() -> None:
    """Leave sys.path as the load would have it, then import the next sitecustomize."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != here]
    this = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # type: ignore[import-not-found]  # noqa: F401  (the load's own)
    except ImportError as error:
        if error.name != "sitecustomize":
            raise
        if this is not None:
            sys.modules["sitecustomize"] = this


if _OUTPUT and os.path.isdir(_OUTPUT):
    _install(_OUTPUT)
_chain()
