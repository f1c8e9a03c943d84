"""A comparison for the report renderers' tests: one function regressed, one hostile name."""

from datetime import date

import numpy as np

from flamediff.model import Profile, Release, ReleaseInfo

TODAY = date(2026, 6, 1)
NASTY = "a|b <script>alert(1)</script> & `tick` [x](y) *s* _u_ ~t~ $m$ (f.py)"
STEADY = "steady (app/s.py)"
SLOW = "slow (app/slow.py)"


def release(name, runs):
    profiles = tuple(
        Profile.from_pairs((tuple(stack.split(";")), count) for stack, count in run.items())
        for run in runs
    )
    return Release(ReleaseInfo(name, "2026-01-01T00:00:00Z", rate_hz=100.0), profiles)


def runs(slow, seed):
    rng = np.random.default_rng(seed)
    weights = {SLOW: slow, NASTY: 800, STEADY: 2000}
    # Enough unchanged functions for the median of ratios to ignore the one that changed.
    weights.update({f"other{index} (app/o.py)": 600 for index in range(6)})
    return [
        {f"main;{name}": int(rng.poisson(weight)) for name, weight in weights.items()}
        for _ in range(8)
    ]
