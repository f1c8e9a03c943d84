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
- too few runs for any function to reach significance.

Shown beside the verdict without changing it: functions that could block but whose noise
floor exceeds ``block`` cannot be gated at that threshold (:func:`sparse_capture`).

A justification turns a block into ``accepted``; it does not hide the blocking rows.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Literal

from flamediff import vocabulary as default
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

    block: float = default.BLOCK
    warn: float = default.WARN
    alpha: float = default.ALPHA
    min_share: float = default.MIN_SHARE
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
class SinceAnchor:
    """What the comparison with an anchor release adds to the step-by-step verdict.

    ``anchor``: the release compared with; ``releases``: every release from the anchor to the
    head, in order; ``findings``: the functions whose change since the anchor blocks, warns or
    uses a waiver where the step-by-step comparison said less of them (their ``delta_pct`` is
    the change since the anchor). Empty when the anchor says nothing new.
    """

    anchor: str
    releases: tuple[str, ...]
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class GateResult:
    """The gate's decision and everything behind it.

    ``blocking``: every row that blocks (also when a justification accepted them);
    ``warnings``: every row that warns; ``waived``: rows a waiver in force kept from blocking;
    ``expired_waivers``: waivers of the policy past their date (they no longer apply);
    ``capture_warnings``: why a pass may not mean much; ``justification``: the reason that
    accepted a block; ``notes``: other remarks (e.g. the comparison was filtered); ``since``:
    the comparison with the anchor (see :func:`evaluate_creep`), when one was made. A creep
    finding is also in ``blocking``, ``warnings`` or ``waived``, so every report lists it.
    """

    verdict: Verdict
    blocking: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    waived: tuple[Finding, ...] = ()
    expired_waivers: tuple[Waiver, ...] = ()
    capture_warnings: tuple[str, ...] = ()
    justification: str | None = None
    notes: tuple[str, ...] = ()
    since: SinceAnchor | None = None

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


@dataclass(frozen=True, slots=True)
class GateRow:
    """One row of the comparison frame, as the gate reads it (see REQUIRED_COLUMNS)."""

    function: str
    status: str
    delta_pct: float
    head_share: float
    q_value: float
    tested: bool
    noise_floor_pct: float

    @property
    def regression(self) -> float:
        return self.delta_pct / 100.0

    def significant(self, policy: GatePolicy) -> bool:
        return self.tested and self.q_value <= policy.alpha

    def finding(self, level: Level, reason: str, waiver: Waiver | None = None) -> Finding:
        return Finding(
            self.function,
            level,
            reason,
            delta_pct=self.delta_pct,
            head_share=self.head_share,
            q_value=self.q_value,
            noise_floor_pct=self.noise_floor_pct,
            waiver=waiver,
        )


def gate_rows(comparison: pd.DataFrame) -> list[GateRow]:
    columns = (comparison[column].tolist() for column in REQUIRED_COLUMNS)
    return [
        GateRow(
            str(function),
            str(status),
            _as_float(delta),
            _as_float(share),
            _as_float(q_value),
            bool(tested),
            _as_float(floor),
        )
        for function, status, delta, share, q_value, tested, floor in zip(*columns, strict=True)
    ]


def judge_row(
    row: GateRow, policy: GatePolicy, *, no_stats: bool, measured: bool = False
) -> Finding | None:
    """What the gate says of one row: a block, a warning, a waiver used, or nothing.

    ``measured``: the machine's speed was measured (the load row is CPU time on one scale).
    """
    significant = row.significant(policy)
    if row.status == "load" and not policy.block_load:
        if significant and row.regression > policy.warn:
            caveat = (
                "in CPU time, scaled by the machine's measured speed (captured apart, which "
                "that measure carries only to within about 20% on a busy machine)"
                if measured
                else "in absolute time (the machine's speed on the day of each capture moves "
                "this too)"
            )
            return row.finding("warn", f"the whole load is {row.delta_pct:+.1f}% slower {caveat}")
        return None
    if row.status != "load" and row.head_share < policy.min_share:
        return None
    # Every path of the load runs through the load row.
    hot = row.status == "load" or policy.is_hot(row.function)
    if row.status == "new":
        if not (significant or no_stats):
            return None
        level: Level = "block" if policy.block_new and hot else "warn"
        # "New" only means no base run sampled it: new code, a renamed function, or code the
        # base ran too briefly to be seen. The reason says so rather than guessing.
        return row.finding(
            level,
            f"not sampled in the base (new, renamed, or too brief there to be seen) and "
            f"holding {_percent(row.head_share)} of the head",
        )
    if no_stats:
        if row.regression > policy.block:
            return row.finding("warn", f"slower by more than {_percent(policy.block)}, untested")
        return None
    if not significant or not row.regression > policy.warn:
        return None
    if not row.regression > policy.block:
        return row.finding("warn", f"slower by more than {_percent(policy.warn)}")
    if not hot:
        return row.finding("warn", f"slower by more than {_percent(policy.block)}, not hot")
    if policy.beyond_noise_floor and row.delta_pct <= row.noise_floor_pct:
        return row.finding(
            "warn",
            f"slower by more than {_percent(policy.block)}, but within this "
            f"capture's noise floor of {row.noise_floor_pct:.0f}%",
        )
    return _block_unless_waived(row, policy)


def _block_unless_waived(row: GateRow, policy: GatePolicy) -> Finding:
    matching = [w for w in policy.waivers if fnmatch.fnmatchcase(row.function, w.pattern)]
    in_force = [w for w in matching if w.in_force(policy.today)]
    covering = [w for w in in_force if row.regression <= w.max_regression]
    if covering:
        waiver = max(covering, key=lambda w: (w.max_regression, w.expires))
        return row.finding("waived", f"waived: {waiver.reason}", waiver)
    reason = f"slower by more than {_percent(policy.block)}"
    if row.status == "load":
        reason += ", measured side by side with the base"
    if in_force:
        widest = max(in_force, key=lambda w: w.max_regression)
        return row.finding(
            "block", f"{reason}; beyond its waiver's limit of {_percent(widest.max_regression)}",
            widest,
        )  # fmt: skip
    if matching:
        latest = max(matching, key=lambda w: w.expires)
        return row.finding(
            "block", f"{reason}; its waiver expired on {latest.expires.isoformat()}", latest
        )
    return row.finding("block", reason)


def _beyond_reach(rows: list[GateRow], policy: GatePolicy) -> list[GateRow]:
    """Functions that could block but whose noise floor is above the block threshold."""
    return [
        row
        for row in rows
        if row.status == "changed"
        and row.head_share >= policy.min_share
        and policy.is_hot(row.function)
        and row.noise_floor_pct > 100.0 * policy.block
    ]


def capture_warnings(rows: list[GateRow], policy: GatePolicy, *, no_stats: bool) -> list[str]:
    """Why a pass would mean nothing: no statistics, or too few runs for any function to reach
    significance. Each turns the verdict into a warning."""
    warnings: list[str] = []
    if no_stats:
        warnings.append("compared without statistics: nothing is significant, so nothing can block")
    hopeless = [row for row in _beyond_reach(rows, policy) if math.isinf(row.noise_floor_pct)]
    if hopeless:
        warnings.append(
            f"too few runs: {len(hopeless)} function(s) above {_percent(policy.min_share)} "
            f"cannot reach q <= {policy.alpha:g} whatever their change; add runs"
        )
    return warnings


def sparse_capture(rows: list[GateRow], policy: GatePolicy) -> str | None:
    """Which functions that could block this capture can only see changes larger than
    ``block``, and what capture would see them; None when every one can be gated.

    Shown with the verdict, but it does not change it: on real captures it is on nearly
    every report (identical code included), and a gate that always warns is not read.
    """
    too_noisy = [row for row in _beyond_reach(rows, policy) if math.isfinite(row.noise_floor_pct)]
    if too_noisy:
        # Pseudo-frames (`<import>`, `<idle>`) come last: the code is what a reader can act on.
        too_noisy.sort(
            key=lambda row: (_is_pseudo(row.function), -row.noise_floor_pct, row.function)
        )
        named = ", ".join(
            f"{row.function} ({row.noise_floor_pct:.0f}%)"
            for row in too_noisy[:_NAMED_IN_CAPTURE_WARNING]
        )
        more = len(too_noisy) - _NAMED_IN_CAPTURE_WARNING
        # The floor shrinks as 1/sqrt(runs), and as 1/sqrt(samples per run) while sampling
        # noise is what limits it: (floor / block)^2 times either brings the worst one under.
        code = [row for row in too_noisy if not _is_pseudo(row.function)] or too_noisy
        times = (
            math.ceil(10 * (max(row.noise_floor_pct for row in code) / (100 * policy.block)) ** 2)
            / 10
        )
        return (
            f"capture too sparse to gate at {_percent(policy.block)}: {len(too_noisy)} "
            f"function(s) above {_percent(policy.min_share)} could only show a change larger "
            f"than that: {named}{f' and {more} more' if more > 0 else ''}; to gate them, "
            f"capture about {times:g}x the runs per release, or about {times:g}x the samples "
            "per run (a higher rate or a longer load) where sampling noise is what limits them"
        )
    return None


def policy_warnings(policy: GatePolicy, comparison: pd.DataFrame) -> list[str]:
    """Settings that make the gate weaker than its defaults, and captures not alike.

    A gate with ``block = 100`` passes a +96% regression without a word; such a pass must
    not look like a pass at the defaults, so each of these turns the verdict into a warning.
    """
    weaker = []
    if policy.block > default.BLOCK:
        weaker.append(f"block {_percent(policy.block)} (default {_percent(default.BLOCK)})")
    if policy.warn > default.WARN:
        weaker.append(f"warn {_percent(policy.warn)} (default {_percent(default.WARN)})")
    if policy.alpha < default.ALPHA:
        weaker.append(f"alpha {policy.alpha:g} (default {default.ALPHA:g})")
    if policy.min_share > default.MIN_SHARE:
        weaker.append(
            f"min-share {_percent(policy.min_share)} (default {_percent(default.MIN_SHARE)})"
        )
    warnings = []
    if weaker:
        warnings.append("policy weaker than the defaults: " + "; ".join(weaker))
    rates = comparison.attrs.get("rates_hz")
    if isinstance(rates, list | tuple) and len(rates) == 2 and rates[0] != rates[1]:
        base_rate, head_rate = rates
        warnings.append(
            f"base and head were sampled at different rates ({base_rate} and {head_rate} Hz): "
            "check that both were captured or imported with the right --rate"
        )
    return warnings


def _is_pseudo(function: str) -> bool:
    """`<import>`, `<idle>`: frames flamediff names for time outside any function."""
    return function.startswith("<") and function.endswith(">")


def policy_line(policy: GatePolicy, comparison: pd.DataFrame) -> str:
    """The policy the verdict was reached under, as every report states it: a verdict read
    without its thresholds could have been bent by a setting nobody sees."""
    hot = ", ".join(policy.hot) if policy.hot else "every function"
    parts = [
        f"block over +{_percent(policy.block)}",
        f"warn over +{_percent(policy.warn)}",
        f"q <= {policy.alpha:g}",
        f"min-share {_percent(policy.min_share)}",
        f"may block: {hot}",
        f"normalisation {comparison.attrs.get('normalisation', 'unknown')}",
    ]
    rates = comparison.attrs.get("rates_hz")
    if isinstance(rates, list | tuple) and len(rates) == 2:
        shown = ["unknown" if rate is None else f"{rate:g} Hz" for rate in rates]
        parts.append(f"rates: base {shown[0]}, head {shown[1]}")
    return "policy: " + "; ".join(parts)


def _notes(comparison: pd.DataFrame, policy: GatePolicy) -> list[str]:
    notes = [policy_line(policy, comparison)]
    meta_share = comparison.attrs.get("min_share")
    if isinstance(meta_share, float) and policy.min_share < meta_share:
        notes.append(
            f"functions between {_percent(policy.min_share)} and {_percent(meta_share)} were "
            "not tested by the comparison and cannot block"
        )
    if comparison.attrs.get("filtered"):
        notes.append("the comparison was filtered: rows left out were not gated")
    return notes


def verdict_of(findings: list[Finding], capture: list[str], *, justified: bool) -> Verdict:
    """Block (or accepted, with a justification) over warn over pass."""
    if any(finding.level == "block" for finding in findings):
        return "accepted" if justified else "block"
    if any(finding.level == "warn" for finding in findings) or capture:
        return "warn"
    return "pass"


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
    rows = gate_rows(comparison)
    no_stats = bool(comparison.attrs.get("no_stats")) or not any(row.tested for row in rows)
    measured = bool(comparison.attrs.get("machine_measured"))
    findings = [
        finding
        for row in rows
        if (finding := judge_row(row, policy, no_stats=no_stats, measured=measured)) is not None
    ]
    capture = capture_warnings(rows, policy, no_stats=no_stats)
    capture += policy_warnings(policy, comparison)
    verdict = verdict_of(findings, capture, justified=justification is not None)
    sparse = sparse_capture(rows, policy)
    if sparse is not None:
        capture.append(sparse)
    blocking = tuple(finding for finding in findings if finding.level == "block")
    return GateResult(
        verdict=verdict,
        blocking=blocking,
        warnings=tuple(finding for finding in findings if finding.level == "warn"),
        waived=tuple(finding for finding in findings if finding.level == "waived"),
        expired_waivers=tuple(w for w in policy.waivers if not w.in_force(policy.today)),
        capture_warnings=tuple(capture),
        justification=justification if blocking else None,
        notes=tuple(_notes(comparison, policy)),
    )


# How loose the first look is: a function whose change points past the warn threshold with
# q at or under this, yet does not block, is worth more runs (`compare --runs auto`). Under
# identical code few functions get that far, so a clear case costs no extra runs.
SCREEN_Q = 0.25


def undecided(comparison: pd.DataFrame, policy: GatePolicy) -> list[GateRow]:
    """Hot functions that more runs could turn into a block: slower than the warn threshold,
    with q at or under :data:`SCREEN_Q`, and not blocked (or waived) already. Largest share
    first. Empty when the comparison is clear either way.
    """
    if comparison.attrs.get("no_stats"):
        return []
    candidates = [
        row
        for row in gate_rows(comparison)
        if row.status == "changed"
        and row.tested
        and row.head_share >= policy.min_share
        and policy.is_hot(row.function)
        and row.regression > policy.warn
        and row.q_value <= SCREEN_Q
    ]
    open_rows = []
    for row in candidates:
        finding = judge_row(row, policy, no_stats=False)
        if finding is None or finding.level == "warn":
            open_rows.append(row)
    return sorted(open_rows, key=lambda row: -row.head_share)


def refuse_blind_gate(comparison: pd.DataFrame, alpha: float) -> None:
    """Refuse to pass a release the test could not have blocked whatever its change.

    With n runs per side the exact rank test's smallest p-value is 2 / C(2n, n); after
    Benjamini-Hochberg over m functions a lone regression needs m * p_min <= alpha. When even
    that cannot hold, a pass would be a false promise: raise AnalysisError (exit 2) saying how
    many runs it takes. The count model's p-values have no such floor, so a comparison where
    it decided any function can block and is never refused.
    """
    from flamediff.analysis.counts import COUNT_TEST
    from flamediff.analysis.stats import min_two_sided_p

    n_base, n_head = int(comparison.attrs["n_base"]), int(comparison.attrs["n_head"])
    functions = comparison[(comparison["status"] != "load") & comparison["tested"]]
    family = len(functions)
    if (functions["test"] == COUNT_TEST).any():
        return
    smallest = min_two_sided_p(n_base, n_head)
    if family == 0 or smallest * family <= alpha:
        return
    needed = next(n for n in range(2, 64) if min_two_sided_p(n, n) * family <= alpha)
    raise AnalysisError(
        f"the gate cannot decide: with {n_base} and {n_head} runs the smallest possible "
        f"p-value is {smallest:.3g}, too large to survive the correction over {family} tested "
        f"functions at alpha {alpha:g}; capture at least {needed} runs per release, or pass "
        "--no-stats to gate on thresholds alone (it then warns but never blocks)"
    )


CREEP_COLUMNS = (
    "function",
    "tested",
    "change_pct",
    "slope_pct",
    "head_share",
    "q_value",
    "noise_floor_pct",
    "grew_most",
)
_LEVEL_RANK = {"warn": 1, "waived": 2, "block": 3}


def _creep_reason(record: dict[Hashable, object], anchor: str, releases: int, reason: str) -> str:
    slope = _as_float(record["slope_pct"])
    trend = f" ({slope:+.1f}% per release)" if math.isfinite(slope) else ""
    grew = record["grew_most"] or ()
    assert isinstance(grew, tuple)
    most = ", ".join(f"{name} ({step:+.1f}%)" for name, step in grew)
    text = (
        f"{_as_float(record['change_pct']):+.1f}% since {anchor}, {releases} releases back{trend}"
    )
    return f"{text}; grew most in {most}; {reason}" if most else f"{text}; {reason}"


def evaluate_creep(
    creep: pd.DataFrame,
    policy: GatePolicy,
    step: GateResult,
    *,
    justification: str | None = None,
) -> GateResult:
    """``step`` with what the change since the anchor adds: the creep frame's functions judged
    as the step-by-step rows are (see the module docstring), on their change since the anchor.

    ``creep``: the frame of :func:`flamediff.analysis.creep.creep` (columns
    :data:`CREEP_COLUMNS`; ``attrs`` ``anchor`` and ``releases``). A function counts only where
    it says more than the step-by-step verdict did (a block where the step warned, say). A new
    block makes the verdict "block", or "accepted" with ``justification``: a justification
    accepts the creep too.
    """
    missing = [column for column in CREEP_COLUMNS if column not in creep.columns]
    if missing:
        raise AnalysisError(f"not a creep frame: missing columns {', '.join(missing)}")
    anchor = str(creep.attrs["anchor"])
    releases = tuple(str(name) for name in creep.attrs["releases"])
    said: dict[str, int] = {}
    for finding in (*step.blocking, *step.warnings, *step.waived):
        rank = _LEVEL_RANK[finding.level]
        said[finding.function] = max(rank, said.get(finding.function, 0))
    findings: list[Finding] = []
    for record in creep[list(CREEP_COLUMNS)].to_dict("records"):
        if not record["tested"]:
            continue
        row = GateRow(
            str(record["function"]),
            "changed",
            _as_float(record["change_pct"]),
            _as_float(record["head_share"]),
            _as_float(record["q_value"]),
            True,
            _as_float(record["noise_floor_pct"]),
        )
        judged = judge_row(row, policy, no_stats=False)
        if judged is None or _LEVEL_RANK[judged.level] <= said.get(row.function, 0):
            continue
        reason = _creep_reason(record, anchor, len(releases) - 1, judged.reason)
        findings.append(replace(judged, reason=reason))
    since = SinceAnchor(anchor, releases, tuple(findings))
    blocks = tuple(f for f in findings if f.level == "block")
    warns = tuple(f for f in findings if f.level == "warn")
    verdict = step.verdict
    if blocks and verdict in ("pass", "warn"):
        verdict = "accepted" if justification is not None else "block"
    elif warns and verdict == "pass":
        verdict = "warn"
    blocking = step.blocking + blocks
    return replace(
        step,
        verdict=verdict,
        blocking=blocking,
        warnings=step.warnings + warns,
        waived=step.waived + tuple(f for f in findings if f.level == "waived"),
        justification=justification if blocking else None,
        since=since,
    )
