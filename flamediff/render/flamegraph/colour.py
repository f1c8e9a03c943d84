"""The colours of flame graph frames: diverging palettes, the noise ramp and module hues.

Red is slower, blue faster (ColorBrewer's RdBu), white unchanged; ``orange-purple`` keeps that
meaning for readers who see red as dark. A plain graph colours each frame by a stable hash of
its module, so a file keeps its colour across graphs and releases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from hashlib import blake2b
from typing import Final

from flamediff.model import FrameName
from flamediff.render.flamegraph.layout import IDLE_FRAME, Frame

# Diverging ColorBrewer schemes, both rated colour-blind safe; stops go from "unchanged" to
# "largest change". orange-purple is for readers who see red as dark (protanopia).
PALETTE_STOPS: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "red-blue": (
        ("#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"),
        ("#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac"),
    ),
    "orange-purple": (
        ("#f7f7f7", "#fee0b6", "#fdb863", "#e08214", "#b35806"),
        ("#f7f7f7", "#d8daeb", "#b2abd2", "#8073ac", "#542788"),
    ),
}
PALETTES: Final = tuple(PALETTE_STOPS)

# Past this share of the scale, fills are dark enough that labels switch to white.
DARK_FROM: Final = 0.72
# Changes under NOISE_LOW standard errors are white; colour is full from NOISE_HIGH.
NOISE_LOW: Final = 1.0
NOISE_HIGH: Final = 3.0
# The most colour a change the statistics call noise may get: visible on hover, never loud;
# and the least a significant one gets, however much larger the largest change is.
UNSETTLED_STRENGTH: Final = 0.2
SETTLED_STRENGTH: Final = 0.5

_IDLE_FILL: Final = "#c8c8c8"
_ROOT_FILL: Final = "#d9d9d9"


def significance(change: float, noise: float) -> float:
    """How far ``change`` stands out of sampling noise: 0 white, 1 full colour."""
    if noise <= 0:
        return 1.0 if change else 0.0
    sigmas = abs(change) / noise
    return min(1.0, max(0.0, (sigmas - NOISE_LOW) / (NOISE_HIGH - NOISE_LOW)))


def ramp(stops: Sequence[str], strength: float) -> str:
    """The colour at ``strength`` in [0, 1] along ``stops``, linearly between them."""
    position = min(max(strength, 0.0), 1.0) * (len(stops) - 1)
    index = min(int(position), len(stops) - 2)
    fraction = position - index
    low, high = _rgb(stops[index]), _rgb(stops[index + 1])
    mixed = (round(a + (b - a) * fraction) for a, b in zip(low, high, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


@cache
def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@cache
def hash_fill(key: str) -> str:
    # Warm flame colours from a stable hash (not Python's salted hash()): red to yellow, never
    # so dark that black labels become hard to read.
    first, second, third = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=3).digest()
    red = 205 + 50 * third // 255
    green = 90 + 140 * first // 255
    blue = 20 + 45 * second // 255
    return f"#{red:02x}{green:02x}{blue:02x}"


def module_fill(frame: Frame) -> str:
    if frame.depth == 0:
        return _ROOT_FILL
    if frame.name == IDLE_FRAME and frame.depth == 1:
        return _IDLE_FILL
    parsed = FrameName.parse(frame.name)
    return hash_fill(parsed.file if parsed.file is not None else parsed.function)
