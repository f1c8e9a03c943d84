"""Machine speed measured (CPU time, calibration probe) against machine speed inferred."""

from dataclasses import replace

import numpy as np
import pytest
from builders import profile

from flamediff.analysis.compare import CompareOptions, compare
from flamediff.errors import ConfigError
from flamediff.model import Release, ReleaseInfo, RunInfo

RATE = 1000.0
SETUP = "build (app/setup.py)"
WORK = [f"step{index} (app/work.py)" for index in range(8)]


def captured(name, *, work, busy, speed, runs=8, seed=0):
    """A release whose per-item functions do ``work`` times the base's work.

    ``busy``: wall time stretched by waiting for a CPU (samples grow, CPU time does not);
    ``speed``: how much slower the CPU ran (CPU time and the probe grow alike).
    """
    rng = np.random.default_rng(seed)
    profiles, infos = [], []
    for _ in range(runs):
        cpu = {SETUP: 1.0, **dict.fromkeys(WORK, 0.5 * work)}  # CPU seconds
        cpu = {function: seconds * speed for function, seconds in cpu.items()}
        stretch = busy * rng.uniform(0.9, 1.1)
        lines = [
            f"main (app/main.py);{function} {rng.poisson(seconds * stretch * RATE)}"
            for function, seconds in cpu.items()
        ]
        run = profile(*lines)
        profiles.append(run)
        infos.append(
            RunInfo(
                run.total,
                run.total / RATE,
                0,
                cpu_seconds=sum(cpu.values()) * rng.uniform(0.98, 1.02),
                # As measured: a probe runs at the hardware's speed or, when another process
                # gets in its way, slower (0.0053 s floor, up to 0.0095 s in one capture).
                probe_seconds=0.005 * speed * (1 + (rng.random() < 0.5) * rng.uniform(0, 0.8)),
            )
        )
    info = ReleaseInfo(name, "2026-01-01T00:00:00Z", rate_hz=RATE, runs=tuple(infos))
    return Release(info, tuple(profiles))


def delta(comparison, function):
    return float(comparison.loc[comparison["function"] == function, "delta_pct"].iloc[0])


def verdict(comparison, function):
    return str(comparison.loc[comparison["function"] == function, "verdict"].iloc[0])


def test_a_change_to_most_functions_on_a_busier_slower_machine_shows_as_it_is() -> None:
    base = captured("v1", work=1.0, busy=1.0, speed=1.0, seed=1)
    # +30% work in every per-item function, captured while another process ran beside it.
    head = captured("v2", work=1.3, busy=1.8, speed=1.25, seed=2)
    measured = compare(base, head)
    assert measured.attrs["normalisation"] == "measured"
    assert measured.attrs["machine_measured"] is True
    deltas = [delta(measured, function) for function in WORK]
    assert float(np.median(deltas)) == pytest.approx(30.0, abs=4.0)
    for function in WORK:
        assert delta(measured, function) == pytest.approx(30.0, abs=10.0)
        assert verdict(measured, function) == "slower"
    assert abs(delta(measured, SETUP)) < 6.0
    assert verdict(measured, SETUP) == "~"
    assert delta(measured, "<load>") == pytest.approx(24.0, abs=6.0)

    # What inference from the functions made of the same captures: the change taken for the
    # machine, and the unchanged set-up reported faster.
    inferred = compare(base, head, CompareOptions(normalisation="median-ratio"))
    assert abs(delta(inferred, WORK[0])) < 6.0
    assert delta(inferred, SETUP) < -15.0
    assert verdict(inferred, SETUP) == "faster"


def test_identical_code_on_a_busier_slower_machine_changes_nothing() -> None:
    base = captured("v1", work=1.0, busy=1.0, speed=1.0, seed=3)
    head = captured("v2", work=1.0, busy=2.0, speed=1.3, seed=4)
    comparison = compare(base, head)
    assert set(comparison["verdict"]) <= {"~", "untested"}
    absolute = compare(base, head, CompareOptions(normalisation="absolute"))
    assert delta(absolute, WORK[0]) > 100.0


def test_auto_infers_from_the_functions_when_a_release_was_not_measured_and_says_so() -> None:
    base = captured("v1", work=1.0, busy=1.0, speed=1.0, seed=5)
    head = captured("v2", work=1.0, busy=1.0, speed=1.0, seed=6)
    bare = tuple(RunInfo(run.samples, run.wall_seconds, 0) for run in head.info.runs)
    unmeasured = Release(replace(head.info, runs=bare), head.profiles)
    comparison = compare(base, unmeasured)
    assert comparison.attrs["normalisation"] == "median-ratio"
    assert comparison.attrs["machine_measured"] is False
    with pytest.raises(ConfigError, match="head release's runs lack them"):
        compare(base, unmeasured, CompareOptions(normalisation="measured"))


def test_captures_interleaved_in_one_job_ignore_the_probe() -> None:
    base = captured("v1", work=1.0, busy=1.0, speed=1.0, seed=7)
    head = captured("v2", work=1.0, busy=1.0, speed=1.0, seed=8)
    # Identical code on one machine, but every probe of the head happened to be slowed.
    slowed = tuple(replace(run, probe_seconds=run.probe_seconds * 1.3) for run in head.info.runs)
    head = Release(replace(head.info, runs=slowed), head.profiles)
    apart = compare(base, head)
    assert delta(apart, WORK[0]) < -20.0  # a slower probe taken for a slower machine
    together = compare(base, head, CompareOptions(side_by_side=True))
    assert set(together["verdict"]) <= {"~", "untested"}
    assert abs(delta(together, "<load>")) < 5.0
