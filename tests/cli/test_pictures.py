"""The pictures people look at: diff --svg/--png/--html, flamegraph, history, release reports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from builders import import_release, run_cli, sample_runs

from flamediff.archive import Archive
from flamediff.config import load_settings
from flamediff.pipeline.judge import Analysis, judge
from flamediff.pipeline.pair import load_pair
from flamediff.pipeline.reports import write_reports

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
APPLY_DISCOUNTS = "apply_discounts (shop/pricing.py)"
RENDER_INVOICE = "render_invoice (shop/invoices.py)"


def fills(svg_text: str) -> dict[str, list[tuple[int, int, int]]]:
    """Every frame's fill colour by name (a name may be drawn under several callers)."""
    found: dict[str, list[tuple[int, int, int]]] = {}
    frames = ET.fromstring(svg_text).find(f"{SVG}g[@class='frames']")
    assert frames is not None
    for group in frames.findall(f"{SVG}g"):
        title, rect = group.find(f"{SVG}title"), group.find(f"{SVG}rect")
        assert title is not None, "every frame has a tooltip"
        assert title.text
        assert rect is not None
        fill = rect.attrib["fill"]
        if fill.startswith("url("):
            continue  # new functions are hatched: tests/render/test_flamegraph_colour.py
        rgb = (int(fill[1:3], 16), int(fill[3:5], 16), int(fill[5:7], 16))
        found.setdefault(title.text.rsplit(" — ", 1)[0], []).append(rgb)
    return found


def reddish(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] - rgb[2] > 30


def bluish(rgb: tuple[int, int, int]) -> bool:
    return rgb[2] - rgb[0] > 25


class Tags(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_diff_writes_the_svg_png_and_html(archive: Path, tmp_path: Path, capsys) -> None:
    svg, png, page = tmp_path / "out" / "d.svg", tmp_path / "out" / "d.png", tmp_path / "d.html"
    code, out, err = run_cli(
        capsys, "diff", "--svg", str(svg), "--png", str(png), "--html", str(page),
        "--archive", str(archive),
    )  # fmt: skip
    assert code == 0, err
    assert "verdict: block" in out
    for path in (svg, png, page):
        assert f"wrote {path}" in err

    colours = fills(svg.read_text(encoding="utf-8"))
    assert all(reddish(rgb) for rgb in colours[APPLY_DISCOUNTS])
    assert all(bluish(rgb) for rgb in colours[RENDER_INVOICE])

    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"

    text = page.read_text(encoding="utf-8")
    tags = Tags(text)
    assert len(tags.named("svg")) == 1
    assert len(tags.named("script")) == 1
    (image,) = tags.named("img")
    assert (image["src"] or "").startswith("data:image/png;base64,")
    assert ">block</span>" in text
    assert "apply_discounts (shop/pricing.py)" in text


def test_colour_by_total_is_a_choice(archive: Path, tmp_path: Path, capsys) -> None:
    svg = tmp_path / "total.svg"
    code, _, err = run_cli(
        capsys, "diff", "--colour-by", "total", "--svg", str(svg), "--archive", str(archive)
    )
    assert code == 0, err
    assert "colour: change of inclusive time per run" in svg.read_text(encoding="utf-8")
    code, _, err = run_cli(capsys, "diff", "--colour-by", "leaf", "--archive", str(archive))
    assert code == 2
    assert "--colour-by" in err


def test_flamegraph_of_one_release(archive: Path, tmp_path: Path, capsys) -> None:
    svg = tmp_path / "v2.svg"
    code, _, err = run_cli(capsys, "flamegraph", "v2", "--svg", str(svg), "--archive", str(archive))
    assert code == 0, err
    text = svg.read_text(encoding="utf-8")
    assert 'class="flamediff plain"' in text
    assert "Flame graph: v2" in text
    assert "8 runs at 500 Hz" in text
    assert APPLY_DISCOUNTS in fills(text)
    assert run_cli(capsys, "flamegraph", "v9", "--svg", str(svg), "--archive", str(archive))[0] == 2
    assert run_cli(capsys, "flamegraph", "v2", "--archive", str(archive))[0] == 2  # --svg needed


def test_history_lists_every_release_and_marks_the_climb(
    archive: Path, tmp_path: Path, capsys
) -> None:
    # v3 reverts v2: the same runs as v1, imported again.
    import_release(capsys, archive, "v3", sample_runs("v1"))
    png = tmp_path / "history.png"
    code, out, err = run_cli(
        capsys, "history", "apply_discounts", "render_*", "--png", str(png),
        "--archive", str(archive),
    )  # fmt: skip
    assert code == 0, err
    release_lines = [line.split()[0] for line in out.splitlines() if re.match(r"\s+v\d ", line)]
    assert release_lines == ["v1", "v2", "v3"]
    # Headers wrap in a narrow terminal: the names are there, maybe over two lines.
    assert "apply_discounts" in out
    assert "render_invoice" in out
    assert "absent" in out, "render_invoice's generator expression is new in v2"
    v2 = next(line for line in out.splitlines() if line.strip().startswith("v2"))
    assert re.search(r"▲\+\d+%", v2), "the climb of apply_discounts is marked in v2"
    assert png.read_bytes().startswith(PNG_SIGNATURE)

    code, out, _ = run_cli(capsys, "history", "apply_discounts", "--last", "2", "--format", "json",
                       "--archive", str(archive))  # fmt: skip
    assert code == 0
    document = json.loads(out)
    assert document["releases"] == ["v2", "v3"]
    assert document["functions"] == [APPLY_DISCOUNTS]
    assert {row["series"] for row in document["rows"]} == {"<load>", APPLY_DISCOUNTS}

    code, out, _ = run_cli(capsys, "history", "--format", "csv", "--archive", str(archive))
    assert code == 0
    assert out.splitlines()[0].startswith("series,pattern,release,")
    assert len(out.splitlines()) == 1 + 3


def test_history_errors_exit_2(archive: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "history", "apply_discount", "--archive", str(archive))
    assert code == 2
    assert "no function matches 'apply_discount'" in err
    assert "apply_discounts (shop/pricing.py)" in err
    assert run_cli(capsys, "history", "--last", "0", "--archive", str(archive))[0] == 2
    code, _, err = run_cli(capsys, "history", "--archive", str(tmp_path / "empty"))
    assert code == 2
    assert "no release" in err


def test_release_reports_link_the_pictures_by_relative_path(archive: Path, tmp_path: Path) -> None:
    store = Archive(archive)
    judgement = judge(store, load_pair(store, "v1", "v2"), load_settings(), Analysis())
    folder = tmp_path / "report"
    written = write_reports(folder, judgement)
    assert {path.name for path in written} == {
        "report.md", "report.json", "flamegraph.svg", "delta.png", "report.html",
    }  # fmt: skip
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", markdown)
    assert links == ["flamegraph.svg", "delta.png", "report.html"]
    assert all((folder / link).is_file() for link in links)
    assert (folder / "delta.png").read_bytes().startswith(PNG_SIGNATURE)
    assert ">block</span>" in (folder / "report.html").read_text(encoding="utf-8")


# ---- a function named like markup, through the CLI into a browser ----------------------------

HOSTILE = (
    "<script>alert(1)</script>",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
)


def hostile_runs(folder: Path, slower: bool) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for run_index in range(8):
        lines = [f"main (app.py:1);steady{i} (app.py:{i}) {100 + run_index % 3}" for i in range(6)]
        for index, name in enumerate(HOSTILE):
            count = (200 if slower else 100) + (run_index * 7 + index) % 5
            lines.append(f"main (app.py:1);{name} (evil.py:{index}) {count}")
        path = folder / f"run-{run_index}.folded"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def chromium_dom(url: str, profile_dir: Path) -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium not installed: apt-get install -y chromium to run the browser tests")
    command = [
        found, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile_dir}", "--dump-dom", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.chromium
def test_a_function_named_script_never_runs_in_the_html_report(tmp_path: Path, capsys) -> None:
    root = tmp_path / "archive"
    import_release(capsys, root, "base", hostile_runs(tmp_path / "base", slower=False))
    import_release(capsys, root, "head", hostile_runs(tmp_path / "head", slower=True))
    page = tmp_path / "report.html"
    code, _, err = run_cli(capsys, "diff", "--html", str(page), "--archive", str(root))
    assert code == 0, err
    text = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert len(Tags(text).named("script")) == 1
    dom = chromium_dom(page.as_uri(), tmp_path / "chromium")
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag is not None
    assert "data-pwned" not in html_tag[0]
    svg_tag = re.search(r"<svg[^>]*>", dom)
    assert svg_tag is not None
    assert "scripted" in svg_tag[0], "the flame graph's own script ran"
