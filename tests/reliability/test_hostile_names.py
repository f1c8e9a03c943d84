"""Names from a profile or the command line are data: no output lets them act as markup.

Frame names come from files anyone can write, and reports end up in terminals, CI logs,
pull-request comments and browsers. Every renderer is driven here with names that are also
rich markup, Markdown, HTML, XML, CSV formulas and terminal escape sequences, and each output
is parsed the way its reader would parse it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from flamediff.analysis.compare import CompareOptions, compare
from flamediff.analysis.tables import top_functions
from flamediff.archive import Archive, utc_now
from flamediff.cli import main
from flamediff.config import load_settings
from flamediff.formats import read_profiles
from flamediff.gate import GatePolicy, evaluate
from flamediff.model import Profile, ReleaseInfo, RunInfo, merge
from flamediff.pipeline.judge import Analysis, judge
from flamediff.pipeline.pair import load_for_analysis, load_pair
from flamediff.pipeline.reports import write_reports
from flamediff.render.cells import spreadsheet_cell, visible
from flamediff.render.flamegraph import render_diff_svg
from flamediff.render.html import render_html_report
from flamediff.render.terminal import render_terminal, render_top_terminal

# Each becomes a function `NAME (evil.py)`, a frame `NAME (evil.py:LINE)` below `main`.
HOSTILE = [
    "[bold red]rich markup[/]",
    "[link=https://evil.example]click[/link]",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "a|b|c pipes",
    "`code` **bold** _em_ ~~gone~~ $x$ \\ [text](https://evil.example)",
    "&amp &lt & \"double\" 'single'",
    "]]><![CDATA[ --><!-- <?xml?>",
    # `;` separates frames, so no frame name holds one: OSC 8 links cannot be spelled here.
    "esc\x1b[2J\x1b[31mred\x1b]0:retitled\x07 \x1bP+q\x1b\\",
    "bidi \u202eevil\u202c \u2066isolate\u2069",
    "c1 \x9b31m del \x7f tab\there",
    '=HYPERLINK("https://evil.example") +cmd @sum -1',
    "{{ template }} ${shell} $(id) %s %n",
    "名前 🔥 naïve",
]
RUNS = 8
BENIGN = [f"plain_{index}" for index in range(len(HOSTILE))]


def function(name: str) -> str:
    return f"{name} (evil.py)"


def runs(names: list[str], *, slower: bool) -> list[Profile]:
    """Eight runs of 30 steady functions and the named ones; the head doubles the named ones.

    The steady majority keeps the median-ratio normalisation at 1, so every named function
    is a significant regression of about 3% share: each appears in the gate's findings too.
    """
    profiles = []
    for run in range(RUNS):
        counts = {
            ("main (app.py:1)", f"steady{i} (app.py:9)"): 60 + (run + i) % 4 for i in range(30)
        }
        for index, name in enumerate(names):
            count = 60 + (run * 7 + index) % 5
            counts["main (app.py:1)", f"{name} (evil.py:{index + 1})"] = (
                2 * count if slower else count
            )
        profiles.append(Profile(counts))
    return profiles


def build(root: Path, names: list[str]) -> Path:
    archive = Archive(root)
    for release, slower in (("base", False), ("head", True)):
        with archive.writer(release) as writer:
            for profile in runs(names, slower=slower):
                writer.add_run(profile, RunInfo(profile.total, profile.total / 100, 0))
            writer.commit(ReleaseInfo(name=release, created=utc_now(), rate_hz=100.0))
    return root


@pytest.fixture(scope="module")
def hostile_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("hostile") / "archive", HOSTILE)


@pytest.fixture(scope="module")
def benign_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("benign") / "archive", BENIGN)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ---- terminal -------------------------------------------------------------------------------

# The only escape sequences a terminal may receive: rich's own colours (SGR).
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def assert_terminal_safe(text: str) -> None:
    assert not re.search(
        r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", _SGR.sub("", text)
    )


@pytest.mark.parametrize(
    "command",
    [["show", "head", "--top", "60"], ["diff", "base", "head", "--top", "60"]],
    ids=["show", "diff"],
)
def test_terminal_tables_print_names_literally(
    hostile_archive: Path, capsys, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no folding: each name stays on its line
    code, out, err = cli(capsys, *command, "--archive", str(hostile_archive))
    assert code == 0, err
    assert_terminal_safe(out)
    for name in HOSTILE:
        assert visible(function(name)) in out, name
    # rich markup was not interpreted: the brackets are there, the link target too
    assert "[bold red]rich markup[/]" in out
    assert "esc\\x1b[2J\\x1b[31mred" in out


def test_coloured_terminal_output_carries_only_its_own_colours(hostile_archive: Path) -> None:
    archive = Archive(hostile_archive)
    base, head = load_for_analysis(archive, "base"), load_for_analysis(archive, "head")
    comparison = compare(base, head, CompareOptions())
    result = evaluate(comparison, GatePolicy())
    assert {finding.function for finding in result.blocking} >= set(map(function, HOSTILE))
    coloured = render_terminal(comparison, result, color=True, width=400)
    assert "\x1b[" in coloured  # colours are on ...
    assert_terminal_safe(coloured)  # ... and nothing else reaches the terminal
    for name in HOSTILE:
        assert coloured.count(visible(function(name))) >= 2, name  # table row and finding
    top = render_top_terminal(top_functions(head, 60), color=True, width=400)
    assert_terminal_safe(top)


# ---- Markdown -------------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every tag and attribute of an HTML document, and the text of each cell and list item."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[tuple[str, str]] = set()
        self.scripts = 0
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update((tag, name) for name, _ in attrs)
        self.scripts += tag == "script"
        if tag in ("td", "th", "li"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "li") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse_html(text: str) -> Elements:
    parser = Elements()
    parser.feed(text)
    parser.close()
    return parser


MARKDOWN_TAGS = {"h3", "p", "table", "thead", "tbody", "tr", "th", "td", "strong", "ul", "li",
                 "code", "br"}  # fmt: skip


def assert_markdown_safe(markdown: str) -> Elements:
    """Rendered as GitHub renders it, the report holds only the report's own elements, and
    each function cell reads exactly as the function's (visible) name."""
    assert_terminal_safe(markdown)  # the gate prints its Markdown to the CI log
    rendered = parse_html(MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown))
    assert rendered.tags <= MARKDOWN_TAGS, rendered.tags - MARKDOWN_TAGS
    assert {name for _, name in rendered.attributes} <= {"style"}
    for name in HOSTILE:
        assert visible(function(name)) in rendered.cells, name
    header = next(line for line in markdown.splitlines() if line.startswith("| function"))
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    columns = len(re.split(r"(?<!\\)\|", header))
    assert all(len(re.split(r"(?<!\\)\|", row)) == columns for row in rows)
    return rendered


def test_markdown_report_is_the_table_and_nothing_else(hostile_archive: Path, capsys) -> None:
    code, out, err = cli(
        capsys, "diff", "base", "head", "--format", "markdown", "--top", "60",
        "--archive", str(hostile_archive),
    )  # fmt: skip
    assert code == 0, err
    assert_markdown_safe(out)


def test_gate_report_and_recorded_reason_are_escaped(
    hostile_archive: Path, tmp_path: Path, capsys
) -> None:
    reason = "<script>alert(3)</script> [bold]ok[/] | `x` \x1b[31mred"
    code, out, _ = cli(
        capsys, "gate", "base", "head", "--markdown", str(tmp_path / "gate.md"),
        "--archive", str(hostile_archive),
    )  # fmt: skip
    assert code == 1  # every hostile function doubled: blocked
    # The Markdown goes to the file; the terminal (or CI log) gets the table, names literal.
    markdown = (tmp_path / "gate.md").read_text(encoding="utf-8")
    items = assert_markdown_safe(markdown).cells
    assert_terminal_safe(out)
    for name in HOSTILE:
        assert any(item.startswith(f"blocks: {visible(function(name))} (") for item in items)
        assert f"blocks: {visible(function(name))} (" in out
    code, out, err = cli(
        capsys, "gate", "base", "head", "--justify", reason, "--markdown",
        str(tmp_path / "accepted.md"), "--archive", str(hostile_archive),
    )  # fmt: skip
    try:
        assert code == 0, err
        accepted = (tmp_path / "accepted.md").read_text(encoding="utf-8")
        assert_markdown_safe(accepted)
        assert "&lt;script&gt;alert(3)&lt;/script&gt;" in accepted
        assert_terminal_safe(out)
        assert "accepted: <script>alert(3)</script> [bold]ok[/] | `x` \\x1b[31mred" in out
        code, out, _ = cli(capsys, "diff", "base", "head", "--archive", str(hostile_archive))
        assert_terminal_safe(out)
        assert "accepted: <script>alert(3)</script> [bold]ok[/] | `x` \\x1b[31mred" in out
    finally:
        drop_justifications(Archive(hostile_archive))


def drop_justifications(archive: Archive) -> None:
    """Undo the recorded reason, so the module's archive stays as built for other tests."""
    path = archive.root / "head" / "release.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["justifications"] = []
    path.write_text(json.dumps(document), encoding="utf-8")


# ---- machine formats: exact ------------------------------------------------------------------


def test_json_and_csv_keep_every_name_exactly(hostile_archive: Path, capsys) -> None:
    archive = ["--archive", str(hostile_archive)]
    _, out, _ = cli(capsys, "diff", "base", "head", "--format", "json", "--top", "60", *archive)
    document = json.loads(out)
    assert {row["function"] for row in document["rows"]} >= set(map(function, HOSTILE))
    assert {f["function"] for f in document["gate"]["blocking"]} >= set(map(function, HOSTILE))
    # CSV keeps names too, but a cell a spreadsheet would run as a formula starts with `'`.
    in_csv = {spreadsheet_cell(function(name)) for name in HOSTILE}
    assert f"'{function(HOSTILE[11])}" in in_csv
    _, out, _ = cli(capsys, "diff", "base", "head", "--format", "csv", "--top", "60", *archive)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {row["function"] for row in rows} >= in_csv
    _, out, _ = cli(capsys, "show", "head", "--format", "json", "--top", "60", *archive)
    assert {row["function"] for row in json.loads(out)["by_self"]} >= set(map(function, HOSTILE))
    _, out, _ = cli(capsys, "show", "head", "--format", "csv", "--top", "60", *archive)
    assert {row["function"] for row in csv.DictReader(io.StringIO(out))} >= in_csv


@pytest.mark.parametrize("output_format", ["speedscope", "folded"])
def test_exported_files_read_back_with_the_same_names(
    hostile_archive: Path, tmp_path: Path, capsys, output_format: str
) -> None:
    target = tmp_path / f"head.{output_format}"
    code, _, err = cli(
        capsys, "export", "head", "--format", output_format, "-o", str(target),
        "--archive", str(hostile_archive),
    )  # fmt: skip
    assert code == 0, err
    frames = {
        frame for _, profile in read_profiles(target) for stack, _ in profile for frame in stack
    }
    assert {f"{name} (evil.py:{index + 1})" for index, name in enumerate(HOSTILE)} <= frames


# ---- SVG and HTML ------------------------------------------------------------------------------


def xml_shape(svg: str) -> tuple[int, set[tuple[str, str]], str]:
    """Scripts, (tag, attribute) pairs and all text of an SVG, parsed as strict XML."""
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    elements = list(root.iter())
    scripts = sum(element.tag.endswith("}script") for element in elements)
    pairs = {(element.tag, name) for element in elements for name in element.attrib}
    text = " ".join(t for element in elements for t in (element.text, element.tail) if t)
    return scripts, pairs, text


def diff_svg(archive: Path, tmp_path: Path, capsys, *extra: str) -> str:
    target = tmp_path / "diff.svg"
    code, _, err = cli(
        capsys, "diff", "base", "head", "--svg", str(target), *extra, "--archive", str(archive)
    )
    assert code == 0, err
    return target.read_text(encoding="utf-8")


@pytest.mark.parametrize("extra", [[], ["--negate"]], ids=["head", "negate"])
def test_svg_is_valid_xml_with_no_element_or_attribute_from_a_name(
    hostile_archive: Path, benign_archive: Path, tmp_path: Path, capsys, extra: list[str]
) -> None:
    hostile = xml_shape(diff_svg(hostile_archive, tmp_path, capsys, *extra))
    benign = xml_shape(diff_svg(benign_archive, tmp_path, capsys, *extra))
    assert hostile[0] == benign[0] == 1  # the renderer's own script only
    assert hostile[1] == benign[1]  # the same elements and attributes as plain names give
    for name in HOSTILE:
        # XML cannot hold most control characters at all: the renderer replaces them.
        shown = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", name)
        assert shown in hostile[2], name


def report_files(archive: Path, folder: Path) -> list[Path]:
    """Every report file `release` and `compare` write with --out, for this comparison."""
    store = Archive(archive)
    judgement = judge(store, load_pair(store, "base", "head"), load_settings(), Analysis())
    return write_reports(folder, judgement)


def test_every_report_file_is_safe_for_its_reader(
    hostile_archive: Path, benign_archive: Path, tmp_path: Path
) -> None:
    hostile = report_files(hostile_archive, tmp_path / "hostile")
    benign = {path.name: path for path in report_files(benign_archive, tmp_path / "benign")}
    assert {path.suffix for path in hostile} >= {".md", ".json", ".svg"}
    for path in hostile:
        text = path.read_text(encoding="utf-8") if path.suffix != ".png" else ""
        if path.suffix == ".md":
            assert_markdown_safe(text.split("\n\n- [")[0])
        elif path.suffix == ".json":
            names = {row["function"] for row in json.loads(text)["rows"]}
            assert names >= set(map(function, HOSTILE))
        elif path.suffix == ".svg":
            assert xml_shape(text)[:2] == xml_shape(benign[path.name].read_text())[:2]
        elif path.suffix == ".html":
            page, plain = parse_html(text), parse_html(benign[path.name].read_text())
            assert page.scripts == plain.scripts
            assert page.tags == plain.tags
            assert page.attributes == plain.attributes


def test_html_report_has_no_element_or_attribute_from_a_name(
    hostile_archive: Path, benign_archive: Path
) -> None:
    def page(root: Path) -> str:
        archive = Archive(root)
        base, head = load_for_analysis(archive, "base"), load_for_analysis(archive, "head")
        comparison = compare(base, head, CompareOptions())
        svg = render_diff_svg(
            merge(base.profiles), merge(head.profiles), base_name="base", head_name="head",
            base_runs=RUNS, head_runs=RUNS, rate_hz=100.0,
        )  # fmt: skip
        result = evaluate(comparison, GatePolicy())
        return render_html_report(comparison, result, svg=svg, chart_png=None)

    hostile, benign = parse_html(page(hostile_archive)), parse_html(page(benign_archive))
    assert hostile.scripts == benign.scripts
    assert hostile.tags == benign.tags
    assert hostile.attributes == benign.attributes
    for name in HOSTILE:
        assert any(visible(function(name)) in cell for cell in hostile.cells), name


# ---- release names -------------------------------------------------------------------------------

HOSTILE_RELEASES = [
    "",
    "../x",
    "a/b",
    "..",
    ".hidden",
    "x" * 101,
    "tab\there",
    "esc\x1b[2J",
    "nul\x00byte",
    "new\nline",
    "<script>",
    "[bold]x[/]",
    "名前",
]


def commands_naming(release: str, archive: Path, good_file: Path) -> list[list[str]]:
    load = ["--", "python", "-c", "pass"]
    return [
        ["capture", release, "--archive", str(archive), *load],
        ["import", release, str(good_file), "--archive", str(archive)],
        ["show", release, "--archive", str(archive)],
        ["diff", release, "head", "--archive", str(archive)],
        ["diff", "base", release, "--archive", str(archive)],
        ["gate", release, "head", "--archive", str(archive)],
        ["gate", "base", release, "--archive", str(archive)],
        ["export", release, "--archive", str(archive)],
        ["compare", release, "other", "--base-cmd", "python -c pass", "--head-cmd",
         "python -c pass", "--archive", str(archive)],
        ["compare", "other", release, "--base-cmd", "python -c pass", "--head-cmd",
         "python -c pass", "--archive", str(archive)],
        ["release", release, "--archive", str(archive), *load],
    ]  # fmt: skip


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".lock" and ".cache" not in path.parts
    }


@pytest.mark.parametrize("release", HOSTILE_RELEASES, ids=repr)
def test_hostile_release_names_are_refused_by_every_command(
    tmp_path: Path, capsys, release: str
) -> None:
    archive = build(tmp_path / "deep" / "archive", ["f"])
    good = tmp_path / "good.folded"
    good.write_text("main;work 5\n", encoding="utf-8")
    before = snapshot(tmp_path)
    for args in commands_naming(release, archive, good):
        if release == "" and args[:2] in (["diff", "base"], ["gate", "base"]):
            continue  # an empty HEAD argument is read as "the latest release"
        code, out, err = cli(capsys, *args)
        assert code == 2, (args, out, err)
        assert err.count("\n") == 1, (args, err)
        assert err.startswith("error: "), (args, err)
        assert "Traceback" not in err
        assert_terminal_safe(err)
        assert len(err) < 400, (args, err)
        assert "invalid release name" in err
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "deep" / "x").exists()
