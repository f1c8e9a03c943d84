"""How much memory a profile file may make flamediff use: bounded by the file, not by its claims.

A small file must not expand into gigabytes: a gzip of zeros, one line of millions of frames,
an evented profile whose nesting re-lists its whole stack at every event. Each limit gives an
:class:`~flamediff.errors.InputError` naming the file (and line or event) when reached.
"""

from __future__ import annotations

from typing import Final

# Frames in one stack. CPython's recursion limit is 1,000 by default; native frames
# (--native) and deep recursion raised by hand stay well below this.
MAX_STACK_DEPTH: Final = 10_000
# Bytes in one line of folded text: 10,000 frames of 6 KiB names each.
MAX_LINE_BYTES: Final = 64 << 20
# A gzip member may expand to this many times its compressed size (folded text and
# speedscope JSON compress 10 to 60 times), and always to at least MIN_EXPANDED_BYTES.
MAX_EXPANSION_RATIO: Final = 256
MIN_EXPANDED_BYTES: Final = 64 << 20
# Frames an evented speedscope profile may build, per event in the file, beyond a floor:
# each event costs at most one stack of the depth open at that moment.
EVENTED_FRAMES_PER_EVENT: Final = 64
EVENTED_FRAMES_FLOOR: Final = 4_000_000
