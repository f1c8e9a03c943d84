"""The colours of flame graph frames: the comparison's verdicts, palettes and module hues.

Red is slower, blue faster (ColorBrewer's RdBu), white unchanged; ``orange-purple`` keeps that
meaning for readers who see red as dark. A differential graph drawn with a :class:`TableView`
agrees with the comparison table (:mod:`flamediff.analysis.compare`):

- amounts are normalised as the table's are: each side's counts are scaled by its runs' scale
  factors (``attrs["scale_factors_*"]``) and seconds per sample, so a release 3x faster with
  absolute normalisation is blue, and one the median of ratios calls unchanged is white;
- the hue of a frame is its function's ``verdict``: every frame of a function the table calls
  slower is red (at least :data:`SETTLED_STRENGTH` of full colour, whatever that one call
  path did), every frame of one it calls faster blue; a function whose change is noise
  (``~``) or that was not tested is drawn at most :data:`UNSETTLED_STRENGTH`, pale;
- a function with no sample in the base (status ``new``) is hatched (:func:`new_pattern`), so
  new code is told apart from code that got slower;
- the root is the whole load, absolute, coloured by the load row's verdict.

Within those bounds, saturation is the frame's own change relative to the largest change
drawn, weighed by how many Poisson standard errors it spans (:func:`significance`).

A plain graph colours each frame by a stable hash of its module, so a file keeps its colour
across graphs and releases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from hashlib import blake2b
from typing import TYPE_CHECKING, Final

from flamediff.model import FrameName
from flamediff.render.flamegraph.layout import IDLE_FRAME, Frame

if TYPE_CHECKING:
    import pandas as pd

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

SIGNIFICANT: Final = frozenset({"slower", "faster"})


@dataclass(frozen=True, slots=True)
class TableView:
    """What the comparison table says about each function, for the picture to agree with it.

    ``verdicts``: function -> its ``verdict`` ("slower", "faster", "~", "untested");
    ``new``: the functions with no sample in the base; ``load``: the whole-load row's verdict.
    ``metric``: the time the verdicts are about; a picture coloured by the other one cannot
    use them (it says so). ``base_weight``/``head_weight``: what one merged sample of a side
    is worth, in samples of the head's rate, once normalised as the table (divide by the runs
    for an amount per run); ``base_absolute``/``head_absolute``: the same without
    normalisation, for the whole load. ``normalisation``: its name, for the subtitle.
    """

    verdicts: Mapping[str, str]
    metric: str
    normalisation: str
    new: frozenset[str] = frozenset()
    load: str | None = None
    base_weight: float = 1.0
    head_weight: float = 1.0
    base_absolute: float = 1.0
    head_absolute: float = 1.0

    @classmethod
    def of(
        cls,
        comparison: pd.DataFrame,
        *,
        base_run_samples: Sequence[int],
        head_run_samples: Sequence[int],
        base_rate_hz: float | None,
        head_rate_hz: float | None,
    ) -> TableView:
        """The view of a comparison frame (unfiltered: every function) of these runs.

        The table divides each run's seconds by the run's scale factor and takes medians over
        runs; a flame graph has only the runs' merged counts. For a function whose count
        follows its run's size, the mean over runs of count / factor is its merged count times
        sum(run samples / factor) / sum(run samples): that is the weight of a merged sample.
        """
        meta = comparison.attrs
        # Amounts are drawn in samples at the head's rate (its tooltips turn them to seconds).
        base_absolute = head_rate_hz / base_rate_hz if base_rate_hz and head_rate_hz else 1.0
        functions = comparison["function"].astype(str).tolist()
        verdicts = comparison["verdict"].astype(str).tolist()
        statuses = comparison["status"].astype(str).tolist()
        rows = list(zip(functions, verdicts, statuses, strict=True))
        load = next((verdict for _, verdict, status in rows if status == "load"), None)
        return cls(
            verdicts={name: verdict for name, verdict, status in rows if status != "load"},
            metric=str(meta.get("metric", "self")),
            normalisation=str(meta.get("normalisation", "absolute")),
            new=frozenset(name for name, _, status in rows if status == "new"),
            load=load,
            base_weight=base_absolute
            * _mean_inverse(base_run_samples, meta.get("scale_factors_base")),
            head_weight=_mean_inverse(head_run_samples, meta.get("scale_factors_head")),
            base_absolute=base_absolute,
            head_absolute=1.0,
        )


def _mean_inverse(run_samples: Sequence[int], factors: Sequence[float] | None) -> float:
    """sum(samples / factor) / sum(samples): the sample-weighted mean of 1 / factor."""
    if not factors or len(factors) != len(run_samples) or not sum(run_samples):
        return 1.0
    weighted = sum(count / factor for count, factor in zip(run_samples, factors, strict=True))
    return weighted / sum(run_samples)


def frame_strength(
    change: float, weight: float, largest: float, verdict: str | None
) -> tuple[float, bool]:
    """How much colour a frame gets, in [0, 1], and whether its hue is "slower".

    ``change``: head minus base amount per run of this frame; ``weight``: its
    :func:`significance`; ``largest``: the largest absolute change drawn; ``verdict``: its
    function's verdict in the table, or None where there is no table. A significant verdict
    decides the hue and gets at least :data:`SETTLED_STRENGTH`; noise and untested functions
    get at most :data:`UNSETTLED_STRENGTH`.
    """
    strength = weight * abs(change) / largest if largest else 0.0
    if verdict in SIGNIFICANT:
        return max(strength, SETTLED_STRENGTH), verdict == "slower"
    if verdict is not None:
        strength = min(strength, UNSETTLED_STRENGTH)
    return strength, change > 0


def new_pattern_id(palette: str) -> str:
    return f"flamediff-new-{palette}"


def new_pattern(palette: str) -> str:
    """The SVG pattern that fills frames of new functions: the slower hue, hatched.

    New code adds time as a regression does, so it stays in the slower hue; the stripes tell
    it apart from code that was there and got slower, without relying on hue alone.
    """
    slower = PALETTE_STOPS[palette][0]
    return (
        f'<pattern id="{new_pattern_id(palette)}" patternUnits="userSpaceOnUse" width="6" '
        f'height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{slower[1]}"/>'
        f'<rect width="2.5" height="6" fill="{slower[3]}"/></pattern>'
    )


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
