"""Fit the simulation's noise model to the real A/A runs of the power lab's pool.

Per function, over the pool's base runs (identical code, captured interleaved with the hog):
the counts are divided by each run's exposure (the run's median-ratio factor over the seconds
per sample, as compare does), and the variance left over is compared with Poisson's:

- ``dispersion_index``: variance / mean of the count per run; 1 is Poisson;
- ``clump``: the squared coefficient of variation beyond Poisson, ``(index - 1) / mean``,
  i.e. a negative binomial dispersion. It does not depend on the sampling rate or the load's
  length, so the simulation can take it to other captures. Its spread across functions is
  fitted as a log-normal (median and sigma of its log);
- outlier runs: a run whose count is beyond :data:`OUTLIER_Z` robust standard deviations
  (median absolute deviation, scaled) of the function's own runs, where the Poisson and clump
  noise the function has already leaves room for: their frequency per (function, run) and
  the size of the excursion (log of count over expected).

Run as ``python -m benchmarks.power.noise --pool DIR``; writes ``noise_model.json`` beside this
file.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.power.lab import BASE, DEFAULT_POOL, read_pool
from flamediff.analysis import stats

NOISE_MODEL = Path(__file__).resolve().parent / "noise_model.json"
# Functions with at least this many samples per run on average carry the fit: below it the
# Poisson noise hides the clumps.
MIN_SAMPLES = 10.0
OUTLIER_Z = 4.0


def fit(base_counts: np.ndarray, run_samples: np.ndarray, rate_hz: float) -> dict[str, Any]:
    """The noise model of the (functions, runs) self-sample counts of identical code."""
    counts = base_counts.astype(np.float64)
    factors = stats.median_ratio_factors(counts / rate_hz, base_counts)
    if factors is None:
        raise SystemExit("too few functions present in every run to fit a noise model")
    exposure = factors * run_samples.mean() / np.exp(np.log(run_samples).mean())
    expected_rate = counts.sum(axis=1) / exposure.sum()
    expected = expected_rate[:, np.newaxis] * exposure
    mean = expected.mean(axis=1)
    keep = mean >= MIN_SAMPLES
    residual = counts - expected
    # Variance around the exposure-scaled mean, not the raw one: the machine's drift is the
    # normalisation's job, not the function's noise.
    variance = (residual**2).sum(axis=1) / (counts.shape[1] - 1)
    index = variance / mean
    clump = np.maximum(index - 1.0, 0.0) / mean
    log_clump = np.log(np.maximum(clump[keep], 1e-4))
    # Outlier runs, judged against the function's own robust spread.
    log_ratio = np.log((counts + 0.5) / (expected + 0.5))
    centre = np.median(log_ratio, axis=1, keepdims=True)
    mad = 1.4826 * np.median(np.abs(log_ratio - centre), axis=1, keepdims=True)
    robust_z = (log_ratio - centre) / np.maximum(mad, 1e-9)
    flagged = (np.abs(robust_z) > OUTLIER_Z) & keep[:, np.newaxis]
    sizes = np.abs(log_ratio[flagged] - np.broadcast_to(centre, log_ratio.shape)[flagged])
    log_totals = np.log(run_samples.astype(np.float64))
    log_sd = float(log_totals.std(ddof=1))
    return {
        # The parameters of flamediff.analysis.simulate.NoiseModel, as FITTED there holds them.
        "simulation": {
            "samples_per_run": round(float(np.median(run_samples))),
            "rate_hz": rate_hz,
            # A uniform speed in [1 - d, 1 + d] with the runs' spread of log samples.
            "drift": round(_uniform_drift(log_sd), 2),
            "dispersion": round(float(np.median(index[keep])), 2),
            "dispersion_spread": round(float(np.log(index[keep]).std(ddof=1)), 2),
            "outlier_rate": round(float(flagged.sum() / (keep.sum() * counts.shape[1])), 4),
            "outlier_size": round(float(np.median(sizes)) if sizes.size else 0.0, 2),
        },
        "runs": int(counts.shape[1]),
        "functions_fitted": int(keep.sum()),
        "samples_per_run": float(np.median(run_samples)),
        "rate_hz": rate_hz,
        "run_samples_log_sd": log_sd,
        "dispersion_index": {
            "min": float(index[keep].min()),
            "median": float(np.median(index[keep])),
            "max": float(index[keep].max()),
            "by_function": {
                "mean_samples": [round(float(value), 1) for value in mean[keep]],
                "index": [round(float(value), 2) for value in index[keep]],
            },
        },
        "clump_median": float(np.exp(np.median(log_clump))),
        "clump_log_sd": float(log_clump.std(ddof=1)),
        "clump_trend_per_log_mean": float(np.polyfit(np.log(mean[keep]), log_clump, 1)[0]),
        "outlier_rate": float(flagged.sum() / (keep.sum() * counts.shape[1])),
        "outlier_log_size_median": float(np.median(sizes)) if sizes.size else 0.0,
        "outlier_log_size_max": float(sizes.max()) if sizes.size else 0.0,
    }


def _uniform_drift(log_sd: float) -> float:
    """The d whose uniform [1 - d, 1 + d] has this standard deviation of its log (d < 0.95)."""
    grid = np.linspace(0.01, 0.95, 95)
    sds = [np.log(np.linspace(1 - d, 1 + d, 2001)).std() for d in grid]
    return float(grid[int(np.argmin(np.abs(np.array(sds) - log_sd)))])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pool", type=Path, default=DEFAULT_POOL)
    parser.add_argument("--out", type=Path, default=NOISE_MODEL)
    arguments = parser.parse_args(argv)
    pool = read_pool(arguments.pool)
    base = pool.counts[BASE]
    present = base.self_samples.sum(axis=1) > 0
    model = fit(base.self_samples[present], base.run_samples, pool.manifest["rate_hz"])
    arguments.out.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n")
    shown = {key: value for key, value in model.items() if key != "dispersion_index"}
    print(json.dumps(shown, indent=1))
    index = model["dispersion_index"]
    print(f"dispersion index (x Poisson): {index['min']:.2f} .. {index['max']:.2f}, "
          f"median {index['median']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
