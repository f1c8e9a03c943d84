"""flamediff's code inside the load: exact call counts, or samples on the load's CPU time.

flamediff puts this folder first on the load's ``PYTHONPATH``, so every Python process of the
load imports this module at start-up, in the load's own interpreter whatever its version:
standard library only, no syntax newer than Python 3.8. What it does is set by the
environment; the load's own ``sitecustomize``, if any, is imported after this one, and
``sys.path`` is left as the load would have it.

``FLAMEDIFF_CALLS_DIR``: count every call as (calling code, called code) with
``sys.setprofile``, in every process, and write ``calls-<pid>.json`` there at exit. The same
counting method on every Python version, so that one history counts alike; ``sys.monitoring``
(3.12+) would cost less but count differently around generators and C calls.

``FLAMEDIFF_SAMPLES_DIR`` and ``FLAMEDIFF_SAMPLE_HZ``: a thread watches the main thread's
CPU clock and counts its stack once per 1/rate seconds of CPU the main thread spends. A
process waiting for a CPU on a busy machine spends none, so it takes no sample: unlike a
sampler on the wall clock, another process's load adds nothing to any function. At exit the
counts are written as folded stacks, ``function (file:line)`` root first, to
``samples-<pid>.folded``. Only the first Python process samples, unless
``FLAMEDIFF_SAMPLE_CHILDREN`` is set (as py-spy's ``--subprocesses``).
"""

from __future__ import annotations

import atexit
import dis
import json
import os
import sys
import threading
import time
from types import CodeType, FrameType
from typing import Any

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


def _count_calls(folder: str) -> None:
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


def _short(path: str, prefixes: list[str]) -> str:
    """The file as py-spy names it: the path under the longest ``sys.path`` entry."""
    best = ""
    for prefix in prefixes:
        if len(prefix) > len(best) and path.startswith(prefix):
            best = prefix
    return path[len(best) :] if best else path


def _stack(frame: FrameType | None) -> tuple[tuple[CodeType, int], ...]:
    stack = []
    while frame is not None:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return tuple(stack)


def _sample(folder: str, interval: float) -> None:
    counts: dict[tuple[tuple[CodeType, int], ...], int] = {}
    stop = threading.Event()
    sampler: list[threading.Thread] = []

    def sample_main_thread() -> None:
        # The main thread's own CPU clock, to the nanosecond (the kernel's interval timers
        # for CPU time tick at its scheduler rate, 250 Hz on many kernels).
        main = threading.main_thread().ident
        assert main is not None
        clock = time.pthread_getcpuclockid(main)
        frames = sys._current_frames
        last = time.clock_gettime(clock)
        owed = 0.0
        while not stop.wait(interval / 2):
            now = time.clock_gettime(clock)
            owed += now - last
            last = now
            if owed < interval:
                continue
            taken = int(owed / interval)
            owed -= taken * interval
            key = _stack(frames().get(main))
            counts[key] = counts.get(key, 0) + taken

    def start() -> None:
        # The sampler runs when it holds the GIL: let the load hand it over often enough.
        sys.setswitchinterval(min(sys.getswitchinterval(), interval / 4))
        thread = threading.Thread(target=sample_main_thread, name="flamediff-sampler")
        thread.daemon = True
        sampler[:] = [thread]
        thread.start()

    def write() -> None:
        stop.set()
        for thread in sampler:
            thread.join(1.0)
        prefixes = sorted(
            {os.path.join(os.path.abspath(p), "") for p in sys.path if p and os.path.isdir(p)}
        )
        names: dict[tuple[CodeType, int], str] = {}
        lines = []
        for stack, count in list(counts.items()):
            frames = []
            for code, line in reversed(stack):
                name = names.get((code, line))
                if name is None:
                    qualname = getattr(code, "co_qualname", code.co_name)
                    where = _short(code.co_filename, prefixes)
                    name = names[(code, line)] = "%s (%s:%d)" % (qualname, where, line or 0)
                frames.append(name)
            lines.append("%s %d\n" % (";".join(frames), count))
        path = os.path.join(folder, "samples-%d.folded" % os.getpid())
        with open(path + ".tmp", "w", encoding="utf-8") as stream:
            stream.writelines(lines)
        os.replace(path + ".tmp", path)

    def after_fork() -> None:
        counts.clear()
        start()  # threads do not survive a fork

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=after_fork)
    atexit.register(write)
    start()


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


def _start() -> None:
    calls = os.environ.get("FLAMEDIFF_CALLS_DIR")
    if calls and os.path.isdir(calls):
        _count_calls(calls)
    samples = os.environ.get("FLAMEDIFF_SAMPLES_DIR")
    rate = os.environ.get("FLAMEDIFF_SAMPLE_HZ")
    if samples and rate and os.path.isdir(samples):
        if not os.environ.get("FLAMEDIFF_SAMPLE_CHILDREN"):
            # The first Python process of the load samples; the processes it starts do not.
            del os.environ["FLAMEDIFF_SAMPLES_DIR"]
        _sample(samples, 1.0 / float(rate))


_start()
_chain()
