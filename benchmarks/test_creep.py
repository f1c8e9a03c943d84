"""The gate on a 100-release archive: step by step, with the default anchor (10 releases
back), and with the anchor at the first release (a trend over all 100).

The anchor's cost is reading the releases in between, which the archive already holds
normalised in its cache, and one more comparison and trend test over their counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from flamediff.analysis.simulate import NoiseModel, synthetic_release
from flamediff.archive import Archive
from flamediff.config import Settings
from flamediff.pipeline.judge import Analysis, Judgement, judge
from flamediff.pipeline.pair import load_pair

RELEASES = 100


@pytest.fixture(scope="session")
def long_archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """100 synthetic releases of 8 runs; one hot function 0.3% slower in each."""
    store = Archive(tmp_path_factory.mktemp("creep") / "archive")
    rng = np.random.default_rng(1)
    for k in range(RELEASES):
        release = synthetic_release(f"r{k:03d}", NoiseModel(), 0.20, 8, rng, 1.003**k - 1.0)
        with store.writer(release.name) as writer:
            for profile, run in zip(release.profiles, release.info.runs, strict=True):
                writer.add_run(profile, run)
            writer.commit(release.info)
    return store


def gate(store: Archive, anchor: str) -> Judgement:
    names = store.names()
    pair = load_pair(store, names[-2], names[-1])
    return judge(store, pair, Settings(archive=store.root, anchor=anchor), Analysis())


def test_gate_step_by_step(benchmark, long_archive: Archive) -> None:
    judgement = benchmark(gate, long_archive, "-1")
    assert judgement.result.since is None


def test_gate_with_the_default_anchor(benchmark, long_archive: Archive) -> None:
    judgement = benchmark(gate, long_archive, "-10")
    assert judgement.result.since is not None
    assert len(judgement.result.since.releases) == 11


def test_gate_with_the_anchor_at_the_first_release(benchmark, long_archive: Archive) -> None:
    judgement = benchmark(gate, long_archive, "r000")
    assert judgement.result.since is not None
    assert len(judgement.result.since.releases) == RELEASES
