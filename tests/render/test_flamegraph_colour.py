"""The differential flame graph tells the table's story: its colours against the JSON verdicts.

Each release pair is compared, rendered as the JSON report and as the SVG (through the
pipeline, as `flamediff diff` and `release` draw it), and every drawn frame is checked against
its function's verdict in the JSON: red where the table says slower, blue where it says faster,
pale where it calls the change noise or did not test it, hatched where the function is new.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import builders
import numpy as np
import pytest

from flamediff.analysis.compare import CompareOptions, compare
from flamediff.analysis.simulate import NoiseModel, synthetic_release
from flamediff.model import Profile, Release
from flamediff.pipeline.pair import Pair
from flamediff.pipeline.reports import diff_svg
from flamediff.render.flamegraph.layout import ROOT_FRAME
from flamediff.render.json import render_json
from flamediff.vocabulary import Normalisation

SVG = "{http://www.w3.org/2000/svg}"
RUNS = 8
# What each function of the load costs per run, in samples at 100 Hz, and where it sits.
LOAD: Mapping[str, float] = {
    "main (app/main.py);read (app/io.py);parse_header (app/io.py)": 900,
    "main (app/main.py);read (app/io.py);parse_rows (app/io.py)": 2400,
    "main (app/main.py);read (app/io.py)": 300,
    "main (app/main.py);compute (app/calc.py);price (app/calc.py)": 1800,
    "main (app/main.py);compute (app/calc.py);discount (app/calc.py)": 1200,
    "main (app/main.py);compute (app/calc.py);tax (app/calc.py)": 700,
    "main (app/main.py);render (app/out.py);format_row (app/out.py)": 1500,
    "main (app/main.py);render (app/out.py);escape (app/out.py)": 600,
    "main (app/main.py);render (app/out.py);write (app/out.py)": 500,
}


def release(name: str, runs: Sequence[Profile]) -> Release:
    """A release captured at 100 Hz whose runs know their CPU time and the probe's, as every
    py-spy capture does: on this steady machine the CPU time is the sampled time."""
    plain = builders.release(name, runs, 100.0)
    measured = tuple(
        replace(run, cpu_seconds=run.samples / 100.0, probe_seconds=0.005)
        for run in plain.info.runs
    )
    return Release(replace(plain.info, runs=measured), plain.profiles)


# Normalisations under which the machine is known, so a change to every function shows.
MACHINE_KNOWN = (Normalisation.ABSOLUTE, Normalisation.MEASURED, Normalisation.AUTO)


def leaf(stack: str) -> str:
    return stack.rsplit(";", 1)[-1]


def runs_of(
    costs: Mapping[str, float], seed: int, drift: float = 0.05, runs: int = RUNS
) -> list[Profile]:
    """Poisson-sampled runs of a load with these per-run costs, on a machine whose speed drifts
    by up to ``drift`` from run to run."""
    rng = np.random.default_rng(seed)
    profiles = []
    for _ in range(runs):
        machine = rng.uniform(1 - drift, 1 + drift)
        counts = {
            tuple(stack.split(";")): int(rng.poisson(cost * machine))
            for stack, cost in costs.items()
        }
        profiles.append(Profile({stack: count for stack, count in counts.items() if count}))
    return profiles


@dataclass(frozen=True)
class Frame:
    name: str
    fill: str
    width: float
    tip: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        return int(self.fill[1:3], 16), int(self.fill[3:5], 16), int(self.fill[5:7], 16)

    @property
    def hatched(self) -> bool:
        return self.fill.startswith("url(#")

    @property
    def saturation(self) -> int:
        return max(self.rgb) - min(self.rgb)

    @property
    def red(self) -> bool:
        red, green, blue = self.rgb
        return red - blue > 30 and red > green

    @property
    def blue(self) -> bool:
        red, _, blue = self.rgb
        return blue - red > 25


def frames_of(svg: str) -> list[Frame]:
    group = ET.fromstring(svg).find(f"{SVG}g[@class='frames']")
    assert group is not None
    frames = []
    for g in group.findall(f"{SVG}g"):
        title, rect = g.find(f"{SVG}title"), g.find(f"{SVG}rect")
        assert title is not None
        assert title.text
        assert rect is not None
        name = title.text.rsplit(" — ", 1)[0]
        frames.append(Frame(name, rect.attrib["fill"], float(rect.attrib["width"]), title.text))
    return frames


def judged(base: Release, head: Release, normalisation: Normalisation) -> tuple[dict, list[Frame]]:
    """The JSON report and the drawn frames of the pair, compared as `diff` would."""
    comparison = compare(base, head, CompareOptions(normalisation=normalisation))
    document = json.loads(render_json(comparison))
    return document, frames_of(diff_svg(Pair(base, head), comparison))


def assert_frames_agree_with_the_verdicts(document: dict, frames: Sequence[Frame]) -> None:
    rows = {row["function"]: row for row in document["rows"]}
    load = next(row for row in document["rows"] if row["status"] == "load")
    for frame in frames:
        if frame.name == ROOT_FRAME:
            # The root is the whole load: the load row's verdict.
            expected = load["verdict"]
            assert (expected == "slower") == (frame.red and frame.saturation >= 70), frame
            assert (expected == "faster") == (frame.blue and frame.saturation >= 70), frame
            continue
        row = rows[frame.name]
        if row["status"] == "new":
            assert frame.hatched, f"{frame.name} is new: hatched, not {frame.fill}"
            continue
        assert not frame.hatched, frame
        verdict = row["verdict"]
        if verdict == "slower":
            assert frame.red, f"{frame.name} is slower in the table, {frame.fill} in the picture"
            assert frame.saturation >= 70, frame
        elif verdict == "faster":
            assert frame.blue, f"{frame.name} is faster in the table, {frame.fill} in the picture"
            assert frame.saturation >= 70, frame
        else:
            # "~" or untested: the table makes no claim, so neither does the picture.
            assert frame.saturation <= 50, f"{frame.name} is {verdict!r}, drawn {frame.fill}"


def blue_share(document: dict, frames: Sequence[Frame]) -> float:
    """The share of the drawn width of frames with time of their own that is blue: colour
    follows self time, so callers that only call stay white."""
    own = {row["function"] for row in document["rows"] if row["head_self_s"] > 0}
    drawn = [frame for frame in frames if frame.name in own and frame.name != ROOT_FRAME]
    total = sum(frame.width for frame in drawn)
    return sum(frame.width for frame in drawn if frame.blue) / total


@pytest.mark.parametrize("normalisation", list(Normalisation))
def test_a_release_three_times_faster_is_drawn_as_the_table_says(normalisation) -> None:
    rng = np.random.default_rng(3)
    faster = {stack: cost / rng.uniform(2.6, 3.4) for stack, cost in LOAD.items()}
    base = release("v1", runs_of(LOAD, seed=1))
    head = release("v2", runs_of(faster, seed=2))
    document, frames = judged(base, head, normalisation)
    assert_frames_agree_with_the_verdicts(document, frames)
    if normalisation in MACHINE_KNOWN:
        # The machine known, every function is faster: so is the picture, root included.
        verdicts = {row["verdict"] for row in document["rows"] if row["status"] == "changed"}
        assert verdicts <= {"faster", "untested"}
        assert blue_share(document, frames) > 0.9
        (root,) = (frame for frame in frames if frame.name == ROOT_FRAME)
        assert root.blue
        assert "whole load" in root.tip
        assert re.search(r", -6\d\.\d%, significant", root.tip), root.tip  # never "+0.0%"


@pytest.mark.parametrize("normalisation", list(Normalisation))
def test_a_release_where_most_functions_got_slower_is_drawn_as_the_table_says(
    normalisation,
) -> None:
    slower = dict(LOAD)
    for stack in list(LOAD)[:6]:
        slower[stack] = LOAD[stack] * 1.4
    # A rewritten helper: code the base never ran.
    slower["main (app/main.py);compute (app/calc.py);round_cents (app/money.py)"] = 600
    base = release("v1", runs_of(LOAD, seed=4))
    head = release("v2", runs_of(slower, seed=5))
    document, frames = judged(base, head, normalisation)
    assert_frames_agree_with_the_verdicts(document, frames)
    assert any(frame.hatched for frame in frames), "the new function is told apart"
    if normalisation in MACHINE_KNOWN:
        slowed = {leaf(stack) for stack in list(LOAD)[:6]}
        red = {frame.name for frame in frames if not frame.hatched and frame.red}
        assert slowed - {"read (app/io.py)"} <= red


def test_one_function_slower_is_the_one_red_frame() -> None:
    rng = np.random.default_rng(7)
    noise = NoiseModel(drift=0.1)
    base = synthetic_release("v1", noise, 0.2, RUNS, rng)
    head = synthetic_release("v2", noise, 0.2, RUNS, rng, slowdown=0.5)
    document, frames = judged(base, head, Normalisation.MEDIAN_RATIO)
    assert_frames_agree_with_the_verdicts(document, frames)
    red = [frame.name for frame in frames if frame.red and frame.saturation >= 70]
    assert red == ["target (app/hot.py)", ROOT_FRAME]  # the whole load is slower too
    load = document["rows"][0]
    assert load["verdict"] == "slower"


def test_the_legend_explains_the_hatch_and_the_subtitle_the_normalisation() -> None:
    base = release("v1", runs_of(LOAD, seed=8))
    head_costs = {**LOAD, "main (app/main.py);brand_new (app/new.py)": 800}
    head = release("v2", runs_of(head_costs, seed=9))
    comparison = compare(base, head)
    svg = diff_svg(Pair(base, head), comparison)
    assert "new: not in the base" in svg
    assert "normalised as the table (measured)" in svg
    assert "hue: the table's verdict" in svg


def test_a_slower_function_is_red_on_every_frame_even_where_one_path_shrank() -> None:
    # A rewritten caller calls `lookup` through a new path far more often; its old path shrank.
    old_path = "main (app/main.py);compute (app/calc.py);lookup (app/db.py)"
    new_path = "main (app/main.py);compute (app/calc.py);batch (app/calc.py);lookup (app/db.py)"
    base = release("v1", runs_of({**LOAD, old_path: 1500}, seed=10))
    head = release("v2", runs_of({**LOAD, old_path: 600, new_path: 1800}, seed=11))
    document, frames = judged(base, head, Normalisation.MEDIAN_RATIO)
    assert_frames_agree_with_the_verdicts(document, frames)
    lookups = [frame for frame in frames if frame.name == "lookup (app/db.py)"]
    assert len(lookups) == 2
    assert all(frame.red for frame in lookups)
