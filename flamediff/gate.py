"""The regression gate: a policy and a pure decision over a comparison frame.

``evaluate(comparison, policy)`` reads the comparison frame made by
:func:`flamediff.analysis.compare.compare` and returns a :class:`GateResult`; it never prints
and never exits (the CLI maps the verdict to an exit code).

Columns read: ``function``, ``status``, ``delta_pct``, ``head_share``, ``q_value``,
``tested``, ``noise_floor_pct``.

A function **blocks** when all of these hold (as asv, it must pass both a statistical test and
a threshold):

- it is significant: tested, with Benjamini-Hochberg q-value <= ``alpha``;
- it got slower by more than ``block`` (``delta_pct / 100 > block``);
- it holds at least ``min_share`` of the head release;
- it got slower by more than its noise floor, the smallest change this capture could detect
  for it (``beyond_noise_floor``, on by default). Benjamini-Hochberg bounds how often *some*
  function of identical code comes out significant (alpha); those chance findings are mostly
  the noisiest functions, with deltas just under their floor. In simulation (``python -m
  flamediff.analysis.simulate``, 6,000 samples per run) this condition took false blocks on
  identical code from 0.65% to 0.1% at 8 runs and from 1.1% to 0.45% at 16, for 3 to 5
  points of detection of +20% in a 5% function; such barely resolved changes warn instead;
- it matches a ``hot`` glob, or no hot list is given (outside the hot list it only warns);
- no waiver in force covers it (a waiver covers a function its pattern matches, up to its
  ``max_regression``, until and including its ``expires`` date).

It **warns** when significant, slower by more than ``warn`` and at least ``min_share``, but
does not block. Also warnings, never blocks:

- new functions of at least ``min_share`` (nothing to compare against; a renamed function
  looks new, so blocking them would block renames) unless ``block_new``;
- the whole-load row, slower beyond ``warn``: it is absolute, and a machine slower on the day
  of one capture moves it as much as the code does. With ``block_load`` (base and head
  captured side by side, interleaved, by ``flamediff compare``, so that drift hits both
  alike) it is gated as a function on the hot path is: a slowdown spread thinly over many
  functions, none of them over the threshold, then still blocks;
- a comparison made without statistics: nothing is significant there, so functions over
  ``block`` only warn (a block from one or two runs per release, with run-to-run drift of
  ±30%, would mostly be noise);
- the capture check: functions that could block but whose noise floor exceeds ``block``
  cannot be gated at that threshold, so a pass would mean little for them.

A justification turns a block into ``accepted``; it does not hide the blocking rows.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Literal

from flamediff.errors import AnalysisError, ConfigError

if TYPE_CHECKING:
    import pandas as pd

Verdict = Literal["pass", "warn", "block", "accepted"]
Level = Literal["block", "warn", "waived"]

REQUIRED_COLUMNS = (
    "function",
    "status",
    "delta_pct",
    "head_share",
    "q_value",
    "tested",
    "noise_floor_pct",
)

# Capture warnings name at most this many functions; the count covers the rest.
_NAMED_IN_CAPTURE_WARNING = 5


@dataclass(frozen=True, slots=True)
class Waiver:
    """A reviewed, in-repo permission for a function to be slower, within a limit, for a time.

    ``pattern``: glob (fnmatch, case sensitive) on the function's identity, e.g.
    ``parse_* (shop/*)``; write ``[[]`` for a literal ``[``. ``max_regression``: the largest
    slowdown it covers, as a fraction (0.25 = +25%). ``expires``: last day it applies.
    """

    pattern: str
    max_regression: float
    reason: str
    expires: date

    def __post_init__(self) -> None:
        if not self.pattern:
            raise ConfigError("a waiver needs a pattern")
        if not self.reason.strip():
            raise ConfigError(f"waiver {self.pattern!r} needs a reason")
        if not self.max_regression >= 0:
            raise ConfigError(
                f"waiver {self.pattern!r}: max_regression must be a fraction >= 0, "
                f"not {self.max_regression}"
            )

    def in_force(self, today: date) -> bool:
        return today <= self.expires


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """What blocks a release. Thresholds are fractions: ``block=0.10`` blocks at +10%.

    ``min_share`` (default 1%): a function below it cannot block. It also bounds the test
    family: at most 100 functions hold 1% of self time, and Benjamini-Hochberg can flag a lone
    regressed function among about 320 at 8 runs per release. ``today`` decides waiver
    expiry; it is a field so that evaluation stays a pure function of its inputs.
    ``block_new``: new functions block (else they warn). ``beyond_noise_floor``: a regression
    must also exceed the function's noise floor to block (else it warns). ``block_load``: the
    whole-load row may block (see the module docstring); only for side-by-side captures.
    """

    block: float = 0.10
    warn: float = 0.03
    alpha: float = 0.05
    min_share: float = 0.01
    hot: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    block_new: bool = False
    beyond_noise_floor: bool = True
    block_load: bool = False
    today: date = field(default_factory=date.today)

    def __post_init__(self) -> None:
        if not 0.0 <= self.warn <= self.block:
            raise ConfigError(
                f"thresholds need 0 <= warn <= block, got warn={self.warn} block={self.block}"
            )
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must be between 0 and 1, not {self.alpha}")
        if not 0.0 <= self.min_share < 1.0:
            raise ConfigError(f"min_share must be in [0, 1), not {self.min_share}")

    def is_hot(self, function: str) -> bool:
        """Whether ``function`` may block: it matches a hot glob, or there is no hot list."""
        return not self.hot or any(fnmatch.fnmatchcase(function, glob) for glob in self.hot)


@dataclass(frozen=True, slots=True)
class Finding:
    """One row the gate has something to say about.

    ``delta_pct`` in percent (NaN for new functions), ``head_share`` a fraction, ``q_value``
    NaN when untested; ``waiver`` is the waiver that covered the row (level "waived") or the
    expired one that no longer does.
    """

    function: str
    level: Level
    reason: str
    delta_pct: float
    head_share: float
    q_value: float
    noise_floor_pct: float
    waiver: Waiver | None = None


@dataclass(frozen=True, slots=True)
class GateResult:
    """The gate's decision and everything behind it.

    ``blocking``: every row that blocks (also when a justification accepted them);
    ``warnings``: every row that warns; ``waived``: rows a waiver in force kept from blocking;
    ``expired_waivers``: waivers of the policy past their date (they no longer apply);
    ``capture_warnings``: why a pass may not mean much; ``justification``: the reason that
    accepted a block; ``notes``: other remarks (e.g. the comparison was filtered).
    """

    verdict: Verdict
    blocking: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    waived: tuple[Finding, ...] = ()
    expired_waivers: tuple[Waiver, ...] = ()
    capture_warnings: tuple[str, ...] = ()
    justification: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        """True when the release must not ship (a block nobody accepted)."""
        return self.verdict == "block"


def _percent(fraction: float) -> str:
    return f"{100.0 * fraction:.3g}%"


def _as_float(value: object) -> float:
    if value is None:
        return math.nan
    return float(value)  # type: ignore[arg-type]


def evaluate(
    comparison: pd.DataFrame, policy: GatePolicy, *, justification: str | None = None
) -> GateResult:
    """Decide whether the head release of ``comparison`` passes ``policy``.

    See the module docstring for the rules. ``justification``: a written reason to accept a
    blocked release; blank reasons are refused.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in comparison.columns]
    if missing:
        raise AnalysisError(f"not a comparison frame: missing columns {', '.join(missing)}")
    if justification is not None and not justification.strip():
        raise ConfigError("a justification must say why the regression is accepted")

    today = policy.today
    blocking: list[Finding] = []
    warnings: list[Finding] = []
    waived: list[Finding] = []
    too_noisy: list[tuple[str, float]] = []
    notes: list[str] = []
    no_stats = bool(comparison.attrs.get("no_stats")) or not comparison["tested"].any()

    rows = zip(*(comparison[column].tolist() for column in REQUIRED_COLUMNS), strict=True)
    for values in rows:
        record = dict(zip(REQUIRED_COLUMNS, values, strict=True))
        function = str(record["function"])
        delta_pct = _as_float(record["delta_pct"])
        share = _as_float(record["head_share"])
        q_value = _as_float(record["q_value"])
        floor = _as_float(record["noise_floor_pct"])
        regression = delta_pct / 100.0
        significant = bool(record["tested"]) and q_value <= policy.alpha
        finding = partial(
            Finding,
            function,
            delta_pct=delta_pct,
            head_share=share,
            q_value=q_value,
            noise_floor_pct=floor,
        )

        if record["status"] == "load":
            if not policy.block_load:
                if significant and regression > policy.warn:
                    warnings.append(
                        finding(
                            "warn",
                            f"the whole load is {delta_pct:+.1f}% slower in absolute time "
                            "(the machine's speed on the day of each capture moves this too)",
                        )
                    )
                continue
            hot = True  # every path of the load runs through it
        else:
            if share < policy.min_share:
                continue
            hot = policy.is_hot(function)
            if record["status"] == "new":
                if significant or no_stats:
                    level: Level = "block" if policy.block_new and hot else "warn"
                    (blocking if level == "block" else warnings).append(
                        finding(level, f"new function holding {_percent(share)} of the head")
                    )
                continue
            if hot and record["status"] == "changed" and floor > 100.0 * policy.block:
                too_noisy.append((function, floor))
        if no_stats:
            if regression > policy.block:
                warnings.append(
                    finding("warn", f"slower by more than {_percent(policy.block)}, untested")
                )
            continue
        if not significant or not regression > policy.warn:
            continue
        if not regression > policy.block:
            warnings.append(finding("warn", f"slower by more than {_percent(policy.warn)}"))
            continue
        if not hot:
            warnings.append(
                finding("warn", f"slower by more than {_percent(policy.block)}, not hot")
            )
            continue
        if policy.beyond_noise_floor and delta_pct <= floor:
            warnings.append(
                finding(
                    "warn",
                    f"slower by more than {_percent(policy.block)}, but within this "
                    f"capture's noise floor of {floor:.0f}%",
                )
            )
            continue
        matching = [w for w in policy.waivers if fnmatch.fnmatchcase(function, w.pattern)]
        in_force = [w for w in matching if w.in_force(today)]
        covering = [w for w in in_force if regression <= w.max_regression]
        if covering:
            waiver = max(covering, key=lambda w: (w.max_regression, w.expires))
            waived.append(finding("waived", f"waived: {waiver.reason}", waiver=waiver))
            continue
        reason = f"slower by more than {_percent(policy.block)}"
        if record["status"] == "load":
            reason += ", measured side by side with the base"
        if in_force:
            widest = max(in_force, key=lambda w: w.max_regression)
            reason += f"; beyond its waiver's limit of {_percent(widest.max_regression)}"
            blocking.append(finding("block", reason, waiver=widest))
        elif matching:
            latest = max(matching, key=lambda w: w.expires)
            reason += f"; its waiver expired on {latest.expires.isoformat()}"
            blocking.append(finding("block", reason, waiver=latest))
        else:
            blocking.append(finding("block", reason))

    capture_warnings: list[str] = []
    if no_stats:
        capture_warnings.append(
            "compared without statistics: nothing is significant, so nothing can block"
        )
    hopeless = [name for name, floor in too_noisy if math.isinf(floor)]
    too_noisy = [(name, floor) for name, floor in too_noisy if not math.isinf(floor)]
    if hopeless:
        capture_warnings.append(
            f"too few runs: {len(hopeless)} function(s) above {_percent(policy.min_share)} "
            f"cannot reach q <= {policy.alpha:g} whatever their change; add runs"
        )
    if too_noisy:
        too_noisy.sort(key=lambda item: (-item[1], item[0]))
        named = ", ".join(
            f"{name} ({floor:.0f}%)" for name, floor in too_noisy[:_NAMED_IN_CAPTURE_WARNING]
        )
        more = len(too_noisy) - _NAMED_IN_CAPTURE_WARNING
        capture_warnings.append(
            f"capture too sparse to gate at {_percent(policy.block)}: {len(too_noisy)} "
            f"function(s) above {_percent(policy.min_share)} could only show a change larger "
            f"than that: {named}{f' and {more} more' if more > 0 else ''}; raise the sampling "
            "rate, lengthen the load or add runs"
        )
    meta_share = comparison.attrs.get("min_share")
    if isinstance(meta_share, float) and policy.min_share < meta_share:
        notes.append(
            f"functions between {_percent(policy.min_share)} and {_percent(meta_share)} were "
            "not tested by the comparison and cannot block"
        )
    if comparison.attrs.get("filtered"):
        notes.append("the comparison was filtered: rows left out were not gated")

    expired = tuple(w for w in policy.waivers if not w.in_force(today))
    verdict: Verdict
    if blocking:
        verdict = "accepted" if justification is not None else "block"
    elif warnings or capture_warnings:
        verdict = "warn"
    else:
        verdict = "pass"
    return GateResult(
        verdict=verdict,
        blocking=tuple(blocking),
        warnings=tuple(warnings),
        waived=tuple(waived),
        expired_waivers=expired,
        capture_warnings=tuple(capture_warnings),
        justification=justification if blocking else None,
        notes=tuple(notes),
    )
