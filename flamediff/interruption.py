"""Whether Ctrl-C has arrived in this process.

A Ctrl-C that lands while a C extension initialises (numpy, pandas and scipy load dozens)
surfaces as that import's own error, ``ImportError: initialization failed``, not as
``KeyboardInterrupt``. Recording the signal itself lets the error boundary report any error
that follows it as an interruption (130), never as a bug (3) or a block (1).
"""

from __future__ import annotations

import signal
from types import FrameType

_received = False


def _record(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True
    signal.default_int_handler(signum, frame)


def watch() -> None:
    """Record Ctrl-C from now on; the signal still raises ``KeyboardInterrupt`` as usual."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _record)


def received() -> bool:
    """Whether Ctrl-C arrived since `watch` was called."""
    return _received
