"""The flame graph SVGs: structure, colours, pruning, escaping and determinism."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from builders import profile
from hypothesis import given, settings
from hypothesis import strategies as st

from flamediff.model import Profile, Stack
from flamediff.render.flamegraph import (
    FRAME_HEIGHT,
    MAX_DEPTH,
    PAD_X,
    PALETTES,
    TableView,
    render_diff_svg,
    render_flamegraph_svg,
)
from flamediff.render.flamegraph.layout import layout, with_idle
from flamediff.stacks import StackTable, common_names

DATA = Path(__file__).resolve().parent.parent / "data" / "render"
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script> & \"x\" 'y' ]]> </svg>"


def folded(name: str) -> Profile:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return profile(*(line for line in lines if line))


BASE = folded("base.folded")
HEAD = folded("head.folded")


@dataclass(frozen=True)
class Drawn:
    name: str
    tip: str
    fill: str
    x: float
    width: float
    y: float
    label: str | None

    @property
    def rgb(self) -> tuple[int, int, int]:
        return int(self.fill[1:3], 16), int(self.fill[3:5], 16), int(self.fill[5:7], 16)


def frames_of(svg: str) -> list[Drawn]:
    root = ET.fromstring(svg)
    group = root.find(f"{SVG}g[@class='frames']")
    assert group is not None
    drawn = []
    for g in group.findall(f"{SVG}g"):
        title, rect = g.find(f"{SVG}title"), g.find(f"{SVG}rect")
        assert title is not None, "every frame needs a tooltip"
        assert rect is not None
        assert title.text
        text = g.find(f"{SVG}text")
        drawn.append(
            Drawn(
                name=title.text.rsplit(" — ", 1)[0],
                tip=title.text,
                fill=rect.attrib["fill"],
                x=float(rect.attrib["x"]),
                width=float(rect.attrib["width"]),
                y=float(rect.attrib["y"]),
                label=None if text is None else text.text,
            )
        )
    return drawn


def by_name(svg: str) -> dict[str, Drawn]:
    drawn = frames_of(svg)
    named = {frame.name: frame for frame in drawn}
    assert len(named) == len(drawn), "test profiles use each name once"
    return named


def is_red(frame: Drawn) -> bool:
    red, green, blue = frame.rgb
    return red - blue > 30 and red > green


def is_blue(frame: Drawn) -> bool:
    red, _, blue = frame.rgb
    return blue - red > 25


def is_near_white(frame: Drawn) -> bool:
    return min(frame.rgb) >= 235 and max(frame.rgb) - min(frame.rgb) <= 12


def diff(base: Profile = BASE, head: Profile = HEAD, **options: Any) -> str:
    arguments: dict[str, Any] = {
        "base_name": "v1.0",
        "head_name": "v1.1",
        "base_runs": 1,
        "head_runs": 1,
        "rate_hz": 100.0,
    }
    arguments.update(options)
    return render_diff_svg(base, head, **arguments)


def test_diff_and_plain_graphs_are_valid_xml_with_a_tooltip_on_every_frame() -> None:
    for svg in (
        diff(),
        diff(negate=True),
        render_flamegraph_svg(HEAD, title="v1.1", runs=1, rate_hz=100),
    ):
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg"
        drawn = frames_of(svg)
        assert len(drawn) >= 8
        assert all(" — " in frame.tip for frame in drawn)


def test_grown_function_is_red_shrunk_one_blue_unchanged_ones_near_white() -> None:
    frames = by_name(diff())
    assert is_red(frames["slow_fn (app/slow.py)"])
    assert is_blue(frames["fast_fn (app/fast.py)"])
    assert is_near_white(frames["same_fn (app/same.py)"])
    assert is_near_white(frames["load_config (app/config.py)"])
    assert is_near_white(frames["<idle>"])


def test_colour_follows_self_time_so_a_regression_lands_on_the_function_that_changed() -> None:
    # slow_fn's own time is unchanged; its new child is what grew. Ancestors whose own code
    # did not change stay white, however much time passes through them.
    base = profile("main;handle;slow_fn 100", "main;handle;other 300")
    head = profile(
        "main;handle;slow_fn 100", "main;handle;slow_fn;child 200", "main;handle;other 300"
    )
    frames = by_name(diff(base, head))
    assert is_red(frames["child"])
    for name in ("all", "main", "handle", "slow_fn", "other"):
        assert is_near_white(frames[name]), name
    assert "colour: change of self time per run" in diff(base, head)


def test_an_improvement_that_moved_time_into_a_new_child_is_blue_by_self_time() -> None:
    # The loop body moved into a new generator frame: inclusive time barely moved, but the
    # function's own code got faster, which is what colouring by self time shows.
    base = profile("main;render 300", "main;render;line 200", "main;rest 500")
    head = profile(
        "main;render 120",
        "main;render;genexpr 180",
        "main;render;genexpr;line 200",
        "main;rest 500",
    )
    by_self = by_name(diff(base, head))
    assert is_blue(by_self["render"])
    assert is_red(by_self["genexpr"])
    by_total = by_name(diff(base, head, colour_by="total"))
    assert is_near_white(by_total["render"])


def test_colour_by_total_reddens_the_whole_tower_of_a_regression() -> None:
    # Only slow_fn's subtree and new code grew in `handle`; fast_fn's shrinking takes some
    # back, and the net change of `handle` is still red. slow_fn's self time grew by less
    # than its inclusive time: its colour is of the inclusive change, the largest leaf one.
    base = profile("main;handle;slow_fn 100", "main;handle;other 300")
    head = profile(
        "main;handle;slow_fn 100", "main;handle;slow_fn;child 200", "main;handle;other 300"
    )
    svg = diff(base, head, colour_by="total")
    frames = by_name(svg)
    for name in ("main", "handle", "slow_fn", "child"):
        assert is_red(frames[name]), name
    assert frames["slow_fn"].fill == frames["child"].fill == frames["all"].fill
    assert is_near_white(frames["other"])
    assert "colour: change of inclusive time per run" in svg
    tip = frames["slow_fn"].tip
    assert "base 1.00 s → head 3.00 s, +200.0%" in tip
    assert "self 1.00 s → 1.00 s, +0.0%" in tip


def test_tooltip_compares_time_per_run_and_shows_share_of_head() -> None:
    # Base: 2 runs of 100 samples of parse_order; head: 1 run of 123. At 100 Hz that is
    # 0.50 s per run before and 1.23 s after.
    base = profile("main (shop/app.py);parse_order (shop/orders.py) 100", "main (shop/app.py) 900")
    head = profile("main (shop/app.py);parse_order (shop/orders.py) 123", "main (shop/app.py) 377")
    frames = by_name(diff(base, head, base_runs=2, head_runs=1))
    assert frames["parse_order (shop/orders.py)"].tip == (
        "parse_order (shop/orders.py) — base 500 ms → head 1.23 s, +146.0%, 24.6% of head"
        "; self 500 ms → 1.23 s, +146.0%"
    )


def test_equal_time_per_run_is_white_whatever_the_number_of_runs() -> None:
    one_run = profile("main;work 100", "main;rest 50")
    three_runs = profile("main;work 300", "main;rest 150")
    frames = frames_of(diff(one_run, three_runs, base_runs=1, head_runs=3))
    assert all(is_near_white(frame) for frame in frames)


def test_normalize_scales_the_base_so_a_uniformly_slower_load_is_white() -> None:
    base = profile("main;a 100", "main;b 300")
    head = profile("main;a 200", "main;b 600")
    leaves = by_name(diff(base, head))
    assert is_red(leaves["a"])
    assert is_red(leaves["b"])
    # By self time, frames with no own code stay white even when the whole load grew.
    assert is_near_white(leaves["main"])
    assert is_near_white(leaves["all"])
    assert all(is_red(frame) for frame in frames_of(diff(base, head, colour_by="total")))
    for colour_by in ("self", "total"):
        normalised = diff(base, head, normalize=True, colour_by=colour_by)
        assert all(is_near_white(frame) for frame in frames_of(normalised))
        assert "scaled to the head's total" in normalised


def test_new_frames_say_so_and_removed_code_shows_only_with_negate() -> None:
    frames = by_name(diff())
    assert "removed_fn (app/old.py)" not in frames
    assert frames["new_fn (app/new.py)"].tip.startswith("new_fn (app/new.py) — new in head: 600 ms")
    assert is_red(frames["new_fn (app/new.py)"])

    negated = by_name(diff(negate=True))
    removed = negated["removed_fn (app/old.py)"]
    assert removed.tip.startswith("removed_fn (app/old.py) — removed in head: base 800 ms")
    assert is_blue(removed)
    # Same colours as without negate: only the shape changes.
    assert is_red(negated["slow_fn (app/slow.py)"])
    assert is_blue(negated["fast_fn (app/fast.py)"])
    assert "new_fn (app/new.py)" not in negated


def test_a_change_within_sampling_noise_stays_white() -> None:
    base = profile("main;work 100")
    one_sample = by_name(diff(base, profile("main;work 100", "main;new 1")))
    assert is_near_white(one_sample["new"])
    many_samples = by_name(diff(base, profile("main;work 100", "main;new 30")))
    assert is_red(many_samples["new"])


def test_palettes_are_checked_and_orange_purple_keeps_the_meaning() -> None:
    assert PALETTES == ("red-blue", "orange-purple")
    frames = by_name(diff(palette="orange-purple"))
    slow, fast = frames["slow_fn (app/slow.py)"].rgb, frames["fast_fn (app/fast.py)"].rgb
    assert slow[0] > slow[2] + 60  # orange: red above blue
    assert fast[2] > fast[1] + 40  # purple: blue above green
    with pytest.raises(ValueError, match="unknown palette"):
        diff(palette="rainbow")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_runs": 0}, "base_runs"),
        ({"head_runs": -1}, "head_runs"),
        ({"min_width": 100}, "min_width"),
        ({"width": 10}, "width"),
        ({"rate_hz": 0.0}, "rate_hz"),
        ({"rate_hz": float("nan")}, "rate_hz"),
        ({"colour_by": "leaf"}, "colour_by"),
    ],
)
def test_bad_arguments_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        diff(**options)


def test_without_a_rate_amounts_are_samples_per_run() -> None:
    frames = by_name(diff(rate_hz=None, base_runs=2, head_runs=2))
    assert "base 50.0 samples → head 210 samples" in frames["slow_fn (app/slow.py)"].tip
    assert "samples per run" in diff(rate_hz=None)


def test_empty_stacks_are_drawn_as_idle_and_the_root_is_all_samples() -> None:
    frames = by_name(render_flamegraph_svg(HEAD, title="v1.1", runs=1, rate_hz=100))
    assert frames["<idle>"].tip.startswith("<idle> — 400 ms, ")
    assert frames["all"].tip.startswith(f"all — {HEAD.total / 100:.2f} s, 100.0% of total")


def test_frames_are_sorted_alphabetically_per_level_and_children_sit_on_parents() -> None:
    drawn = frames_of(diff())
    for frame in drawn:
        if frame.name != "all":
            below = [p for p in drawn if p.y == frame.y + FRAME_HEIGHT]
            assert any(
                p.x - 0.02 <= frame.x and frame.x + frame.width <= p.x + p.width + 0.02
                for p in below
            )
    level = by_name(diff())["slow_fn (app/slow.py)"].y
    in_order = sorted((frame for frame in drawn if frame.y == level), key=lambda frame: frame.x)
    # handle's children alphabetically, then startup's.
    assert [frame.name.split()[0] for frame in in_order] == [
        "fast_fn",
        "new_fn",
        "same_fn",
        "slow_fn",
        "load_config",
    ]


def test_plain_graph_colours_frames_by_module_stably() -> None:
    head = profile(
        "main (app/main.py);a (app/util.py) 10",
        "main (app/main.py);b (app/util.py) 10",
        "main (app/main.py);c (lib/other.py) 10",
    )
    frames = by_name(render_flamegraph_svg(head, title="t", runs=1, rate_hz=100))
    assert frames["a (app/util.py)"].fill == frames["b (app/util.py)"].fill
    assert frames["a (app/util.py)"].fill != frames["c (lib/other.py)"].fill
    # A fixed hash, not Python's salted hash(): the same module has this colour everywhere.
    assert frames["a (app/util.py)"].fill == "#f47d22"


def test_hostile_names_are_text_in_xml_and_in_html() -> None:
    base = profile(f"main;{HOSTILE} 10", "main;x\x00y\ud800z 5")
    head = profile(
        f"main;{HOSTILE} 20", "main;x\x00y\ud800z 5", "main;<img src=x onerror=alert(1)> 8"
    )
    for svg in (
        diff(base, head, base_name=HOSTILE, head_name="<b>head</b>"),
        render_flamegraph_svg(head, title=HOSTILE, runs=1, rate_hz=100),
    ):
        svg.encode("utf-8")  # lone surrogates are replaced, so the text can be written out
        root = ET.fromstring(svg)
        names = {frame.name for frame in frames_of(svg)}
        assert HOSTILE in names
        assert "x\ufffdy\ufffdz" in names
        assert "<img src=x onerror=alert(1)>" in names
        # Our own script is the only element that is one, in SVG and inline in HTML.
        assert len(root.findall(f".//{SVG}script")) == 1
        assert not root.findall(f".//{SVG}img")
        page = HtmlTags()
        page.feed(f"<!doctype html><html><body>{svg.split('?>', 1)[1]}</body></html>")
        assert page.tags["script"] == 1
        assert page.tags["img"] == page.tags["b"] == 0
        assert "alert" not in page.script_text


class HtmlTags(HTMLParser):
    """Counts the elements an HTML parser sees, and collects script text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data


def test_long_names_are_truncated_inside_their_frame() -> None:
    long_name = "a_function_with_a_very_long_name_indeed (package/subpackage/module.py)"
    head = profile(f"main;{long_name} 10", "main;wide 90")
    frames = by_name(render_flamegraph_svg(head, title="t", runs=1, rate_hz=None, width=1000))
    label = frames[long_name].label
    assert label is not None
    assert label.endswith("..")
    assert long_name.startswith(label[:-2])
    assert len(label) * 7 <= frames[long_name].width


def generated_profile(stacks: int, seed: int) -> Profile:
    """A profile with ``stacks`` distinct stacks, 10 to 60 deep, sharing their upper levels."""
    rng = random.Random(seed)
    functions = [f"function_{i} (package_{i % 17}/module_{i % 101}.py)" for i in range(2000)]
    counts: dict[Stack, int] = {}
    while len(counts) < stacks:
        depth = rng.randint(10, 60)
        below = (functions[rng.randrange(min(2000, 2 + level * level))] for level in range(depth))
        stack = ("main (app.py)", *below)
        counts[stack] = counts.get(stack, 0) + rng.randint(1, 9)
    return Profile(counts)


def test_min_width_bounds_the_size_of_a_large_profile_and_parents_keep_their_width() -> None:
    head = generated_profile(50_000, seed=1)
    base = generated_profile(50_000, seed=2)
    svg = diff(base, head, min_width=0.1)
    assert len(svg) < 2_000_000
    drawn = frames_of(svg)
    full = 1200 - 2 * PAD_X
    root = next(frame for frame in drawn if frame.name == "all")
    assert root.width == pytest.approx(full)
    assert min(frame.width for frame in drawn) >= full * 0.001 - 0.01
    # `main` has one child per first-level function; whatever was pruned, main spans the
    # whole graph because every sample passes through it.
    main = next(frame for frame in drawn if frame.name == "main (app.py)")
    assert main.width == pytest.approx(full)
    # Frames that lost children to pruning are still as wide as all their time.
    counts: Counter[tuple[int, str]] = Counter()
    for stack, count in head:
        for depth, name in enumerate(stack[:2]):
            counts[(depth, name)] += count
    for frame in drawn:
        depth = round((root.y - frame.y) / FRAME_HEIGHT) - 1
        if 0 <= depth < 2:
            assert frame.width == pytest.approx(
                full * counts[(depth, frame.name)] / head.total, abs=0.02
            )


def test_rendering_is_deterministic_and_independent_of_input_order() -> None:
    reversed_head = Profile(dict(reversed(list(HEAD.counts.items()))))
    assert diff() == diff() == diff(head=reversed_head)
    plain = render_flamegraph_svg(HEAD, title="t", runs=2, rate_hz=99.0)
    assert plain == render_flamegraph_svg(reversed_head, title="t", runs=2, rate_hz=99.0)
    assert not re.search(r"20\d\d-\d\d-\d\d", plain)


def test_an_empty_profile_renders_a_valid_svg_saying_so() -> None:
    svg = render_flamegraph_svg(Profile({}), title="nothing", runs=1, rate_hz=100)
    ET.fromstring(svg)
    assert "no samples" in svg
    ET.fromstring(diff(base=Profile({}), head=Profile({})))
    assert "new in head" in by_name(diff(base=Profile({})))["slow_fn (app/slow.py)"].tip


def naive_totals(counts: dict[Stack, int]) -> tuple[Counter[Stack], Counter[Stack]]:
    """Inclusive and self counts per frame path, the slow obvious way."""
    inclusive: Counter[Stack] = Counter()
    exclusive: Counter[Stack] = Counter()
    for stack, count in counts.items():
        for depth in range(1, len(stack) + 1):
            inclusive[stack[:depth]] += count
        exclusive[stack] += count
    return inclusive, exclusive


stacks = st.lists(st.sampled_from(["a", "b", "c", "ab", "a b"]), min_size=1, max_size=5).map(tuple)
folded_counts = st.dictionaries(stacks, st.integers(min_value=1, max_value=50), max_size=25)


@settings(max_examples=150, deadline=None)
@given(shape=folded_counts, other=folded_counts, min_count=st.integers(0, 30))
def test_layout_sweep_agrees_with_a_naive_tree(
    shape: dict[Stack, int], other: dict[Stack, int], min_count: int
) -> None:
    shape_table, other_table = StackTable.from_counts(shape), StackTable.from_counts(other)
    names = common_names([shape_table, other_table])
    frames = layout(shape_table.renamed(names), other_table.renamed(names), min_count)
    if not shape:
        assert frames == []  # nothing to draw, not even the root
        return
    inclusive, exclusive = naive_totals(shape)
    other_inclusive, other_exclusive = naive_totals(other)
    root = frames[-1]
    assert (root.depth, root.start, root.name) == (0, 0, "all")
    assert root.total == sum(shape.values())
    assert root.other_total == sum(other.values())
    # Rebuild each frame's path from the geometry: its parent is the frame one level down
    # whose span holds its start.
    paths: dict[int, Stack] = {id(root): ()}
    for frame in sorted(frames[:-1], key=lambda frame: frame.depth):
        (parent,) = [
            p
            for p in frames
            if p.depth == frame.depth - 1 and p.start <= frame.start < p.start + p.total
        ]
        path = (*paths[id(parent)], frame.name)
        paths[id(frame)] = path
        assert frame.total == inclusive[path]
        assert frame.self_count == exclusive[path]
        assert frame.other_total == other_inclusive[path]
        assert frame.other_self == other_exclusive[path]
    drawn = {path for path in paths.values() if path}
    assert len(drawn) == len(frames) - 1
    expected = {path for path, total in inclusive.items() if total >= max(min_count, 1)}
    assert drawn == expected


def saturation(frame: Drawn) -> int:
    return max(frame.rgb) - min(frame.rgb)


def test_the_test_verdicts_mute_noise_and_keep_a_small_real_change_visible() -> None:
    base = profile("main;big 1000", "main;small 500", "main;rest 2000")
    head = profile("main;big 1400", "main;small 450", "main;rest 2000")
    plain = by_name(diff(base, head))
    verdicts = {"big": "~", "small": "faster", "rest": "~", "main": "untested"}
    table = TableView(verdicts, metric="self", normalisation="absolute")
    judged = by_name(diff(base, head, table=table))
    # The table called the large change noise: the picture no longer shouts about it.
    assert saturation(judged["big"]) < saturation(plain["big"]) / 2
    # A real change next to a larger one is not left nearly white.
    assert is_blue(judged["small"])
    assert saturation(judged["small"]) > saturation(plain["small"])


idle_stacks = st.lists(st.sampled_from(["<idle>", "a", "<b", "="]), max_size=3).map(tuple)


@given(st.dictionaries(idle_stacks, st.integers(min_value=0, max_value=9), max_size=12))
def test_empty_stacks_are_drawn_as_one_idle_frame_in_its_sorted_place(counts: dict) -> None:
    table = with_idle(Profile(counts))
    expected = {stack: count for stack, count in counts.items() if stack}
    if counts.get(()):
        expected[("<idle>",)] = expected.get(("<idle>",), 0) + counts[()]
    assert table.to_counts() == expected
    assert [table.stack(row) for row in range(len(table))] == sorted(expected)


def test_a_frame_too_narrow_for_a_readable_label_gets_none() -> None:
    name = "parse_row (app/rows.py)"
    # 1000 px wide graph: 5% of it is ~49 px, room for 6 characters: "pars.." at most.
    for share, expected in ((5, "pars.."), (4, None), (1, None)):
        head = profile(f"main;{name} {share}", f"main;wide {100 - share}")
        frames = by_name(render_flamegraph_svg(head, title="t", runs=1, rate_hz=None, width=1000))
        assert frames[name].label == expected
    # A short name that fits whole is shown, however narrow the frame.
    head = profile("main;f 2", "main;wide 98")
    frames = by_name(render_flamegraph_svg(head, title="t", runs=1, rate_hz=None, width=1000))
    assert frames["f"].label == "f"


def test_the_height_is_bounded_whatever_the_depth_of_recursion() -> None:
    deep = ";".join(f"recurse{level} (app/r.py)" for level in range(5000))
    head = profile(f"main;{deep} 10", "main;shallow 10")
    svg = render_flamegraph_svg(head, title="t", runs=1, rate_hz=None)
    frames = by_name(svg)
    folded = [name for name in frames if "deeper frames" in name]
    assert folded == [f"… {5000 - MAX_DEPTH + 1} deeper frames"]
    # The root, MAX_DEPTH levels of frames, and the folded one above them.
    assert max(frame.y for frame in frames.values()) - min(f.y for f in frames.values()) == (
        (MAX_DEPTH + 1) * FRAME_HEIGHT
    )
    assert len(svg) < 200_000
    # The folded frame keeps the tower's width, and the diff's colours still work above it.
    assert frames[folded[0]].width == frames["recurse0 (app/r.py)"].width
    diffed = by_name(diff(head, profile(f"main;{deep} 30", "main;shallow 10")))
    assert is_red(diffed[folded[0]])
