"""The flame graph's script in a real browser: search, zoom, links, and no hostile code.

Headless Chromium loads the SVG from a file: URL and prints the DOM after the page's scripts
ran (``--dump-dom``). The graph's own script honours ``#search=...&zoom=...`` in the URL, so
the fragment drives it; a small HTML harness clicks frames the way a user would.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from builders import profile

from flamediff.model import Profile, Stack
from flamediff.render.flamegraph import PAD_X, render_diff_svg, render_flamegraph_svg

pytestmark = pytest.mark.chromium

DATA = Path(__file__).resolve().parent.parent / "data" / "render"
FULL_WIDTH = 1200 - 2 * PAD_X
SLOW_PATH = ("main (app/main.py)", "handle (app/web.py)", "slow_fn (app/slow.py)")
# Would mark the page if any of it ever ran as code.
HOSTILE_NAMES = (
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
)


def folded(name: str) -> Profile:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return profile(*(line for line in lines if line))


def hostile(base: Profile) -> Profile:
    extra: dict[Stack, int] = {("main (app/main.py)", name): 30 for name in HOSTILE_NAMES}
    return Profile({**base.counts, **extra})


def diff_svg() -> str:
    return render_diff_svg(
        folded("base.folded"),
        hostile(folded("head.folded")),
        base_name="v1.0",
        head_name="v1.1",
        base_runs=1,
        head_runs=1,
        rate_hz=100.0,
    )


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.skip("chromium not installed: apt-get install -y chromium to run the browser tests")
    return found


def dump_dom(url: str, profile_dir: Path) -> str:
    """The DOM of ``url`` after its scripts ran, as headless Chromium serialises it."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile_dir}",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip(), done.stderr[-2000:]
    return done.stdout


@dataclass(frozen=True)
class Shown:
    classes: frozenset[str]
    name: str
    x: float
    width: float
    label: str | None


_FRAME = re.compile(
    r'<g(?: class="(?P<classes>[^"]*)")?><title>(?P<title>[^<]*)</title>'
    r'<rect x="(?P<x>[^"]+)" y="[^"]+" width="(?P<width>[^"]+)"[^>]*>'
    r"(?:</rect>)?(?:<text[^>]*>(?P<label>[^<]*)</text>)?"
)


def frames_in(dom: str) -> dict[str, Shown]:
    frames = {}
    for match in _FRAME.finditer(dom):
        title = html.unescape(match["title"])
        name = title.rsplit(" — ", 1)[0]
        label = match["label"]
        frames[name] = Shown(
            classes=frozenset((match["classes"] or "").split()),
            name=name,
            x=float(match["x"]),
            width=float(match["width"]),
            label=None if label is None else html.unescape(label),
        )
    assert frames, "no frames found in the dumped DOM"
    return frames


def start_tag(prefix: str, markup: str) -> str:
    found = re.search(f"<{re.escape(prefix)}[^>]*>", markup)
    assert found is not None, prefix
    return found[0]


def zoom_fragment(path: tuple[str, ...]) -> str:
    return ";".join(quote(name, safe="") for name in path)


def test_search_from_the_url_highlights_matches_and_shows_their_share(tmp_path: Path) -> None:
    svg = tmp_path / "diff.svg"
    svg.write_text(diff_svg(), encoding="utf-8")
    dom = dump_dom(f"{svg.as_uri()}#search=slow_fn", tmp_path / "chromium")
    frames = frames_in(dom)
    matched = {name for name, frame in frames.items() if "match" in frame.classes}
    assert matched == {"slow_fn (app/slow.py)"}
    share = frames["slow_fn (app/slow.py)"].width / FULL_WIDTH * 100
    assert f"Matched: {share:.1f}% (1 frame)" in dom
    assert "Clear search" in dom
    assert "data-pwned" not in start_tag("svg", dom)


def test_zoom_from_the_url_widens_the_frame_hides_others_and_keeps_ancestors(
    tmp_path: Path,
) -> None:
    svg = tmp_path / "diff.svg"
    svg.write_text(diff_svg(), encoding="utf-8")
    before = frames_in(svg.read_text(encoding="utf-8"))
    url = f"{svg.as_uri()}#zoom={zoom_fragment(SLOW_PATH)}&search=parse"
    frames = frames_in(dump_dom(url, tmp_path / "chromium"))

    slow = frames["slow_fn (app/slow.py)"]
    assert (slow.x, slow.width) == (PAD_X, FULL_WIDTH)
    assert not slow.classes & {"hidden", "ancestor"}
    child = frames["parse_row (app/rows.py)"]
    scale = FULL_WIDTH / before["slow_fn (app/slow.py)"].width
    assert child.width == pytest.approx(before["parse_row (app/rows.py)"].width * scale, abs=0.1)
    # "par.." would say nothing: a frame too narrow for a readable label gets none, until
    # zooming gives it room.
    assert before["parse_row (app/rows.py)"].label is None
    assert child.label == "parse_row (ap..", "zooming gives the label more room"
    assert "match" in child.classes
    for ancestor in ("all", *SLOW_PATH[:-1]):
        assert "ancestor" in frames[ancestor].classes
        assert frames[ancestor].width == FULL_WIDTH
    for elsewhere in ("fast_fn (app/fast.py)", "startup (app/boot.py)", "<idle>"):
        assert "hidden" in frames[elsewhere].classes


def test_clicks_zoom_one_graph_of_several_inline_in_html_and_hostile_names_stay_text(
    tmp_path: Path,
) -> None:
    # Two graphs inline in one page, as an HTML report embeds them: each script works on
    # its own graph only, and names that look like markup never become markup.
    plain = render_flamegraph_svg(
        hostile(folded("head.folded")), title="v1.1", runs=1, rate_hz=100.0
    )
    body = "\n".join(svg.split("?>", 1)[1] for svg in (diff_svg(), plain))
    harness = """<script>
      var graphs = document.querySelectorAll("svg");
      function click(svg, name) {
        var titles = svg.querySelectorAll("g.frames > g > title");
        for (var i = 0; i < titles.length; i++) {
          if (titles[i].textContent.indexOf(name + " \\u2014 ") === 0) {
            var event = new MouseEvent("click", {bubbles: true});
            titles[i].nextElementSibling.dispatchEvent(event);
          }
        }
      }
      click(graphs[0], "slow_fn (app/slow.py)");
      click(graphs[1], "handle (app/web.py)");
      click(graphs[1], "all");
    </script>"""
    page = tmp_path / "report.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}{harness}"
        "</body></html>",
        encoding="utf-8",
    )
    dom = dump_dom(page.as_uri(), tmp_path / "chromium")
    assert "data-pwned" not in start_tag("html", dom)
    first, second = dom.split('<svg xmlns="http://www.w3.org/2000/svg"')[1:3]

    zoomed = frames_in(first)
    assert zoomed["slow_fn (app/slow.py)"].width == FULL_WIDTH
    assert "hidden" in zoomed["fast_fn (app/fast.py)"].classes
    assert "hidden" not in start_tag('text class="control reset', first)

    # The second graph was zoomed, then reset by a click on its root.
    unzoomed = frames_in(second)
    original = frames_in(plain)
    for name, frame in original.items():
        assert not unzoomed[name].classes & {"hidden", "ancestor"}
        assert (unzoomed[name].x, unzoomed[name].width) == (frame.x, frame.width)
    names = set(unzoomed)
    assert set(HOSTILE_NAMES) <= names
