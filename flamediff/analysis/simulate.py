"""Synthetic releases to measure the gate: false blocks on identical code, detection of real ones.

Each synthetic run has the noise real captures show:

- the machine's speed drifts from run to run by up to ±30% (uniform), multiplying every
  function's time in that run (REFERENCES: one load captured three times gave 505, 918 and 701
  samples);
- each function's time jitters on its own from run to run (log-normal, 3% by default: a quiet
  machine; a busy shared one shows far more, and the gate's capture check says so);
- the profiler samples: counts are Poisson around the expected time x rate;
- on a busy machine, counts come in clumps: a wall-clock sampler records the same stack again
  and again while the load waits for the CPU, so a function's count varies several times more
  than Poisson's (``dispersion``, differing by function: ``dispersion_spread``), and now and
  then one run of one function lands far off the rest (``outlier_rate``, ``outlier_size``).

:data:`FITTED` is the noise model fitted to real A/A captures of the power lab
(``benchmarks/power/noise_model.json``: a 2-second load at 500 Hz on a 2-core machine with a
CPU hog running).

A release has one *target* function of a chosen share plus background functions whose shares
fall off geometrically (a few hot functions, a long tail), all under one root frame ``main``.
A regression multiplies the target's expected time in the head release only.

``python -m flamediff.analysis.simulate`` prints the measured table (Markdown) for the README.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from flamediff.analysis.compare import CompareOptions, compare_counts
from flamediff.analysis.stats import FloatArray
from flamediff.analysis.tables import FunctionCounts
from flamediff.gate import GatePolicy, evaluate
from flamediff.model import Profile, Release, ReleaseInfo, RunInfo

TARGET = "target (app/hot.py)"
ROOT = "main (app/main.py)"


@dataclass(frozen=True, slots=True)
class NoiseModel:
    """How noisy a synthetic capture is.

    ``samples_per_run``: samples in a run at nominal machine speed (100 Hz x 100 s = 10,000:
    enough for the gate's capture check to call a 5% function gateable at +10% with 8 runs).
    ``functions``: background functions besides the target. ``decay``: each background
    function's share is this fraction of the previous one's. ``drift``: machine speed per run
    is uniform in [1 - drift, 1 + drift]. ``jitter``: log-normal sigma of each function's own
    run-to-run variation. ``rate_hz``: to turn samples into seconds. ``dispersion``: the median
    over functions of a function's count variance in multiples of Poisson's (1: Poisson);
    ``dispersion_spread``: the log-normal sigma of that multiple across functions (each
    function keeps its own, in base and head; clipped at 1); ``outlier_rate``: the chance that
    one run of one function is off by a factor ``exp(outlier_size)``, up or down.
    """

    samples_per_run: int = 10_000
    functions: int = 40
    decay: float = 0.85
    drift: float = 0.30
    jitter: float = 0.03
    rate_hz: float = 100.0
    dispersion: float = 1.0
    dispersion_spread: float = 0.0
    outlier_rate: float = 0.0
    outlier_size: float = 0.0

    def dispersions(self) -> FloatArray:
        """Each function's variance multiple (target first): fixed quantiles of the log-normal,
        in an order unrelated to the shares, the target at the median."""
        count = self.functions + 1
        quantiles = (np.arange(count) + 0.5) / count
        z = np.array([NormalDist().inv_cdf(float(q)) for q in quantiles])
        order = np.random.default_rng(0).permutation(count)
        z = z[order]
        z[[0, int(np.argmin(np.abs(z)))]] = z[[int(np.argmin(np.abs(z))), 0]]
        multiples: FloatArray = np.maximum(
            1.0, self.dispersion * np.exp(self.dispersion_spread * z)
        )
        return multiples


# Fitted to the power lab's real A/A runs by ``python -m benchmarks.power.noise``; a test keeps
# these equal to benchmarks/power/noise_model.json.
FITTED = NoiseModel(
    samples_per_run=2186,
    functions=14,
    decay=0.75,
    drift=0.64,
    jitter=0.0,
    rate_hz=500.0,
    dispersion=11.4,
    dispersion_spread=0.24,
    outlier_rate=0.0104,
    outlier_size=0.77,
)
# Fitted the same way to the second pool (a 2-second load beside one CPU hog); a test keeps
# these equal to benchmarks/power/noise_model-one-hog.json.
FITTED_ONE_HOG = replace(
    FITTED,
    samples_per_run=1518,
    drift=0.63,
    dispersion=5.73,
    dispersion_spread=0.19,
    outlier_rate=0.0056,
    outlier_size=0.2,
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One cell of the measured table: runs per release, target share, injected regression."""

    runs: int
    share: float
    regression: float
    noise: NoiseModel = field(default_factory=NoiseModel)


def shares(noise: NoiseModel, target_share: float) -> FloatArray:
    """Expected shares: the target's first, then the background's, summing to 1."""
    background = noise.decay ** np.arange(noise.functions, dtype=np.float64)
    background *= (1.0 - target_share) / background.sum()
    return np.concatenate([[target_share], background])


def _names(noise: NoiseModel) -> tuple[str, ...]:
    return (TARGET, *(f"f{index:03d} (app/mod{index % 7}.py)" for index in range(noise.functions)))


def synthetic_counts(
    noise: NoiseModel,
    target_share: float,
    runs: int,
    rng: np.random.Generator,
    slowdown: float = 0.0,
) -> FunctionCounts:
    """Counts of one synthetic release of ``runs`` runs; the target is ``1 + slowdown`` slower."""
    expected_share = shares(noise, target_share)
    multiplier = np.ones(expected_share.shape)
    multiplier[0] += slowdown
    machine = rng.uniform(1.0 - noise.drift, 1.0 + noise.drift, size=runs)
    jitter = rng.lognormal(0.0, noise.jitter, size=(expected_share.size, runs))
    expected = noise.samples_per_run * (expected_share * multiplier)[:, np.newaxis]
    expected = expected * machine * jitter
    if noise.outlier_rate > 0:
        off = rng.random(expected.shape) < noise.outlier_rate
        sign = rng.choice([-1.0, 1.0], size=expected.shape)
        expected = np.where(off, expected * np.exp(sign * noise.outlier_size), expected)
    leaves = _clumped(rng, expected, noise.dispersions()[:, np.newaxis])
    run_samples = leaves.sum(axis=0)
    # The root frame: in every stack, never a leaf.
    self_samples = np.vstack([leaves, np.zeros((1, runs), dtype=np.int64)])
    total_samples = np.vstack([leaves, run_samples])
    wall = run_samples / noise.rate_hz
    return FunctionCounts(
        (*_names(noise), ROOT), self_samples, total_samples, run_samples, wall
    ).reindex(tuple(sorted((*_names(noise), ROOT))))


def _clumped(
    rng: np.random.Generator, expected: FloatArray, dispersion: FloatArray
) -> npt.NDArray[np.int64]:
    """Counts of mean ``expected`` and variance ``dispersion`` times it (negative binomial;
    Poisson where the dispersion is 1)."""
    dispersion = np.broadcast_to(dispersion, expected.shape)
    clumpy = (dispersion > 1.0) & (expected > 0)
    counts = rng.poisson(np.where(clumpy, 0.0, expected)).astype(np.int64)
    if clumpy.any():
        size = expected[clumpy] / (dispersion[clumpy] - 1.0)
        counts[clumpy] = rng.negative_binomial(size, 1.0 / dispersion[clumpy])
    return counts


def synthetic_release(
    name: str,
    noise: NoiseModel,
    target_share: float,
    runs: int,
    rng: np.random.Generator,
    slowdown: float = 0.0,
) -> Release:
    """A :class:`Release` of :func:`synthetic_counts`, as ``main;function`` stacks."""
    counts = synthetic_counts(noise, target_share, runs, rng, slowdown)
    profiles = tuple(
        Profile.from_pairs(
            ((ROOT, function), int(counts.self_samples[row, run]))
            for row, function in enumerate(counts.functions)
            if function != ROOT
        )
        for run in range(runs)
    )
    info = ReleaseInfo(
        name=name,
        created="1970-01-01T00:00:00Z",
        rate_hz=noise.rate_hz,
        source="simulation",
        runs=tuple(
            RunInfo(int(samples), float(wall), 0)
            for samples, wall in zip(counts.run_samples, counts.wall_seconds, strict=True)
        ),
    )
    return Release(info, profiles)


def block_rate(
    scenario: Scenario,
    trials: int,
    seed: int,
    options: CompareOptions | None = None,
    policy: GatePolicy | None = None,
    *,
    target_only: bool = True,
) -> float:
    """Fraction of ``trials`` base/head pairs in which the gate blocks.

    With ``target_only`` only a block of the target function counts (detection of the injected
    regression); otherwise any block does (false blocks, when the regression is 0).
    """
    options = options or CompareOptions()
    policy = policy or GatePolicy()
    rng = np.random.default_rng(seed)
    per_sample = 1.0 / scenario.noise.rate_hz
    blocked = 0
    for _ in range(trials):
        base = synthetic_counts(scenario.noise, scenario.share, scenario.runs, rng)
        head = synthetic_counts(
            scenario.noise, scenario.share, scenario.runs, rng, scenario.regression
        )
        comparison = compare_counts(
            base,
            head,
            options,
            base_seconds_per_sample=per_sample,
            head_seconds_per_sample=per_sample,
        )
        result = evaluate(comparison, policy)
        if target_only:
            blocked += any(finding.function == TARGET for finding in result.blocking)
        else:
            blocked += bool(result.blocking)
    return blocked / trials


def measure(
    runs: tuple[int, ...] = (5, 8, 16),
    target_shares: tuple[float, ...] = (0.02, 0.05, 0.20),
    regressions: tuple[float, ...] = (0.10, 0.20, 0.50),
    trials: int = 200,
    seed: int = 1,
    noise: NoiseModel | None = None,
    options: CompareOptions | None = None,
) -> str:
    """The Markdown table of false-block and detection rates, one row per run count.

    The A/A column runs five times ``trials``: it measures a rate near 0.1%, where a few
    hundred trials say little.
    """
    noise = noise or NoiseModel()
    header = ["runs", "A/A false blocks"] + [
        f"+{100 * regression:.0f}% at {100 * share:.0f}%"
        for share in target_shares
        for regression in regressions
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" for _ in header) + "|",
    ]
    for index, run_count in enumerate(runs):
        false_blocks = block_rate(
            Scenario(run_count, target_shares[0], 0.0, noise),
            5 * trials,
            seed + 1000 * index,
            options,
            target_only=False,
        )
        cells = [str(run_count), f"{100 * false_blocks:.1f}%"]
        for share in target_shares:
            for regression in regressions:
                detected = block_rate(
                    Scenario(run_count, share, regression, noise),
                    trials,
                    seed + 1000 * index + int(1000 * share) + int(100 * regression),
                    options,
                )
                cells.append(f"{100 * detected:.0f}%")
        lines.append("| " + " | ".join(cells) + " |")
    footnote = (
        f"{trials} trials per cell ({5 * trials} for A/A); {noise.samples_per_run} samples per run "
        f"({noise.samples_per_run / noise.rate_hz:g} s at {noise.rate_hz:g} Hz), "
        f"{noise.functions} background functions, machine drift ±{100 * noise.drift:.0f}% "
        f"per run, per-function jitter {100 * noise.jitter:.0f}%"
        + (
            f", counts {noise.dispersion:.3g}x Poisson's variance (median; log-sigma "
            f"{noise.dispersion_spread:.2g} across functions), an outlier run of a function "
            f"{100 * noise.outlier_rate:.2g}% of the time (x/÷ {np.exp(noise.outlier_size):.2g})"
            if noise.dispersion > 1.0 or noise.outlier_rate > 0
            else ""
        )
        + f"; {(options or CompareOptions()).test} test, default options and policy "
        "(self time, median-ratio normalisation, block at +10%, q <= 0.05, min share 1%). "
        "Detection: the regressed function itself blocks."
    )
    return "\n".join([*lines, "", footnote]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=200, help="trials per table cell")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the table is stable)")
    defaults = NoiseModel()
    parser.add_argument(
        "--samples", type=int, default=defaults.samples_per_run, help="samples per run"
    )
    parser.add_argument(
        "--jitter", type=float, default=defaults.jitter, help="per-function run-to-run sigma"
    )
    parser.add_argument(
        "--drift", type=float, default=defaults.drift, help="machine speed drift per run"
    )
    parser.add_argument(
        "--runs", type=int, nargs="+", default=[5, 8, 16], help="runs per release, per row"
    )
    parser.add_argument(
        "--fitted",
        action="store_true",
        help="the noise model fitted to real busy-machine captures (overrides the three above)",
    )
    parser.add_argument(
        "--shares", type=float, nargs="+", default=[0.02, 0.05, 0.20], help="target shares"
    )
    parser.add_argument(
        "--regressions", type=float, nargs="+", default=[0.10, 0.20, 0.50], help="slowdowns"
    )
    parser.add_argument(
        "--test", choices=("count", "rank"), default="count", help="the test deciding each row"
    )
    arguments = parser.parse_args(argv)
    noise = (
        FITTED
        if arguments.fitted
        else NoiseModel(
            samples_per_run=arguments.samples, jitter=arguments.jitter, drift=arguments.drift
        )
    )
    print(
        measure(
            runs=tuple(arguments.runs),
            target_shares=tuple(arguments.shares),
            regressions=tuple(arguments.regressions),
            trials=arguments.trials,
            seed=arguments.seed,
            noise=noise,
            options=CompareOptions(test=arguments.test),
        ),
        end="",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "FITTED",
    "FITTED_ONE_HOG",
    "NoiseModel",
    "Scenario",
    "block_rate",
    "measure",
    "shares",
    "synthetic_counts",
    "synthetic_release",
]
