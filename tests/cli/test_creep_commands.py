"""The change since the anchor on the command line: `gate`, `history` and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from builders import run_cli

from flamediff.analysis.simulate import TARGET, NoiseModel, synthetic_release
from flamediff.archive import Archive
from flamediff.config import parse_table
from flamediff.errors import ConfigError
from flamediff.formats import write_collapsed

GROWTH = 0.015


def archive_release(store: Archive, name: str, rng: np.random.Generator, slowdown: float) -> None:
    release = synthetic_release(name, NoiseModel(), 0.20, 8, rng, slowdown)
    with store.writer(name) as writer:
        for profile, run in zip(release.profiles, release.info.runs, strict=True):
            writer.add_run(profile, run)
        writer.commit(release.info)


@pytest.fixture
def creeping(tmp_path: Path) -> Path:
    """Ten releases r0 ... r9 of 8 runs; the hot target is 1.5% slower in each."""
    store = Archive(tmp_path / "archive")
    rng = np.random.default_rng(7)
    for k in range(10):
        archive_release(store, f"r{k}", rng, (1.0 + GROWTH) ** k - 1.0)
    return store.root


def test_every_step_passes_but_the_gate_blocks_since_the_anchor(creeping: Path, capsys) -> None:
    archive = ("--archive", str(creeping))
    for k in range(1, 10):
        # The anchor one release back is the base: the step-by-step gate of today.
        code, out, err = run_cli(capsys, "gate", f"r{k - 1}", f"r{k}", "--anchor=-1", *archive)
        assert code == 0, out + err
        assert "since" not in out

    markdown = creeping.parent / "gate.md"
    code, out, _ = run_cli(capsys, "gate", "--markdown", str(markdown), *archive)

    assert code == 1
    assert "verdict: block" in out
    assert "since r0: 9 releases to r9" in out
    report = markdown.read_text()
    assert "#### since r0: 9 releases to r9" in report
    line = next(line for line in report.splitlines() if line.startswith("- blocks:"))
    assert "target (app/hot.py)" in line
    assert "since r0, 9 releases back" in line
    assert "grew most in r" in line
    change = float(line.split("(", 2)[2].split("%")[0])
    assert 10.0 < change < 20.0


def test_a_justification_accepts_the_creep_and_the_next_gate_measures_from_there(
    creeping: Path, capsys
) -> None:
    archive = ("--archive", str(creeping))
    reason = "The new tax rules cost 14% in pricing; accepted in review #88."
    code, out, err = run_cli(capsys, "gate", "--justify", reason, *archive)
    assert code == 0, err
    assert "verdict: accepted" in out
    assert Archive(creeping).info("r9").justifications[0].reason == reason

    archive_release(Archive(creeping), "r10", np.random.default_rng(8), (1 + GROWTH) ** 10 - 1)
    code, out, _ = run_cli(capsys, "gate", *archive)
    assert code == 0, out
    assert "since r0" not in out

    code, out, _ = run_cli(capsys, "history", "target", *archive)
    assert code == 0
    assert "since r9, 1 releases back (the gate's anchor):" in out


def test_an_anchor_named_or_counted_back(creeping: Path, capsys) -> None:
    archive = ("--archive", str(creeping))
    # Four steps of 1.5% are 6%: under the threshold.
    code, out, _ = run_cli(capsys, "gate", "--anchor", "r5", *archive)
    assert code == 0, out
    code, out, _ = run_cli(capsys, "gate", "--anchor=-8", *archive)
    assert code == 1
    assert "since r1" in out


@pytest.mark.parametrize(
    ("anchor", "message"),
    [("nope", "is not in the archive"), ("r9", "is the head"), ("-0", "at least one release")],
)
def test_a_bad_anchor_is_an_error(creeping: Path, capsys, anchor: str, message: str) -> None:
    code, _, err = run_cli(capsys, "gate", f"--anchor={anchor}", "--archive", str(creeping))
    assert code == 2
    assert message in err


def test_history_marks_the_change_since_the_anchor(creeping: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "history", "target", "f000", "--archive", str(creeping))
    assert code == 0
    since = out[out.index("since r0, 9 releases back (the gate's anchor):") :]
    target = next(line for line in since.splitlines() if line.strip().startswith(TARGET))
    assert " * " in target
    assert "grew most in r" in target
    other = next(line for line in since.splitlines() if "f000" in line)
    assert " ~ " in other


def test_machine_readable_history_stays_machine_readable(creeping: Path, capsys) -> None:
    code, out, _ = run_cli(
        capsys, "history", "target", "--format", "json", "--archive", str(creeping)
    )
    assert code == 0
    json.loads(out)


def test_the_json_report_has_a_since_section_only_when_the_anchor_adds_to_the_verdict(
    creeping: Path,
) -> None:
    from flamediff.config import Settings
    from flamediff.pipeline.judge import Analysis, judge
    from flamediff.pipeline.pair import load_pair
    from flamediff.render.json import render_json

    store = Archive(creeping)
    settings = Settings(archive=creeping)
    judgement = judge(store, load_pair(store, "r8", "r9"), settings, Analysis())
    document = json.loads(render_json(judgement.comparison, judgement.result))
    assert document["since"]["anchor"] == "r0"
    assert document["since"]["releases"] == [f"r{k}" for k in range(10)]
    (finding,) = document["since"]["findings"]
    assert finding["function"] == TARGET
    assert finding["level"] == "block"
    assert document["gate"]["verdict"] == "block"

    step_only = judge(
        store, load_pair(store, "r8", "r9"), Settings(archive=creeping, anchor="-1"), Analysis()
    )
    assert "since" not in json.loads(render_json(step_only.comparison, step_only.result))


@pytest.mark.parametrize(("raw", "expected"), [(-10, "-10"), ("v1.4", "v1.4"), (" -3 ", "-3")])
def test_the_anchor_in_pyproject(tmp_path: Path, raw: object, expected: str) -> None:
    assert parse_table(tmp_path / "pyproject.toml", {"anchor": raw}).anchor == expected


@pytest.mark.parametrize("raw", ["", True, 1.5])
def test_a_bad_anchor_in_pyproject(tmp_path: Path, raw: object) -> None:
    with pytest.raises(ConfigError, match="anchor"):
        parse_table(tmp_path / "pyproject.toml", {"anchor": raw})


def test_release_reports_and_gates_the_change_since_the_anchor(
    tmp_path: Path, capsys, replay
) -> None:
    """r0 ... r8 archived; `release r9` captures the tenth step of the climb (replayed)."""
    store = Archive(tmp_path / "archive")
    rng = np.random.default_rng(7)
    for k in range(9):
        archive_release(store, f"r{k}", rng, (1.0 + GROWTH) ** k - 1.0)
    head = synthetic_release("r9", NoiseModel(), 0.20, 8, rng, (1.0 + GROWTH) ** 9 - 1.0)
    runs = tmp_path / "r9"
    runs.mkdir()
    files = []
    for index, profile in enumerate(head.profiles):
        files.append(runs / f"run-{index:02d}.folded")
        files[-1].write_text(write_collapsed(profile), encoding="utf-8")
    replay({"load-r9": files})
    out = tmp_path / "out"

    code, stdout, err = run_cli(
        capsys, "release", "r9", "--archived-base", "--runs", "8", "--warmup", "0",
        "--rate", "100", "--out", str(out), "--archive", str(store.root), "--", "python", "load-r9",
    )  # fmt: skip

    assert code == 1, stdout + err
    assert "#### since r0: 9 releases to r9" in (out / "report.md").read_text()
    assert "since r0: 9 releases to r9</h3>" in (out / "report.html").read_text()
    since = json.loads((out / "report.json").read_text())["since"]
    assert since["anchor"] == "r0"
    assert [finding["function"] for finding in since["findings"]] == [TARGET]
