"""The capture loop without py-spy: warm-ups, counting, interleaving, progress."""

from __future__ import annotations

from pathlib import Path

from builders import SAMPLES

from flamediff.capture import Progress, capture_interleaved, capture_runs, interleaved_order
from flamediff.capture.replay import ReplayRunner

V1 = sorted((SAMPLES / "v1").glob("run-*.folded"))
V2 = sorted((SAMPLES / "v2").glob("run-*.folded"))


def test_interleaving_pairs_alternate_so_a_linear_drift_hits_both_sides_alike() -> None:
    order = interleaved_order(4)
    assert order == [0, 1, 1, 0, 0, 1, 1, 0]
    # The mean position of each side is the same: a machine slowing steadily over the job
    # adds as much to the base as to the head.
    base = [i for i, side in enumerate(order) if side == 0]
    head = [i for i, side in enumerate(order) if side == 1]
    assert sum(base) == sum(head)


def test_warm_up_runs_are_taken_and_thrown_away() -> None:
    events: list[Progress] = []
    runner = ReplayRunner("v1", V1, rate_hz=500)
    kept = capture_runs(runner, runs=3, warmup=2, on_progress=events.append)
    # The replay cycles through the files: the two warm-ups consumed the first two.
    assert [run.profile.total for run in kept] == [
        ReplayRunner("x", [path]).run().profile.total for path in V1[2:5]
    ]
    finished = [e for e in events if e.run is not None]
    assert [(e.counted, e.number, e.of) for e in finished] == [
        (False, 1, 2), (False, 2, 2), (True, 1, 3), (True, 2, 3), (True, 3, 3),
    ]  # fmt: skip
    assert all(e.steps == 5 for e in events)


def test_interleaved_capture_keeps_each_side_apart(tmp_path: Path) -> None:
    base, head = ReplayRunner("v1", V1), ReplayRunner("v2", V2)
    labels: list[str] = []
    base_runs, head_runs = capture_interleaved(
        base, head, runs=4, warmup=1,
        on_progress=lambda e: labels.append(e.label) if e.run is not None else None,
    )  # fmt: skip
    assert labels == ["v1", "v2", "v1", "v2", "v2", "v1", "v1", "v2", "v2", "v1"]
    assert len(base_runs) == len(head_runs) == 4
    assert {run.profile.total for run in base_runs} <= {
        ReplayRunner("x", [p]).run().profile.total for p in V1
    }
