"""capture, compare and release through the CLI, on replayed runs of the sample load.

The commands run exactly as with py-spy (runner factory, warm-ups, interleaving, archiving,
gating, reports); only the runner replays stored captures. tests/integration/ keeps one real
py-spy capture per command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import run_cli, sample_runs

from flamediff.archive import Archive
from flamediff.formats import read_profiles, write_collapsed
from flamediff.model import Profile

APPLY_DISCOUNTS = "apply_discounts (shop/pricing.py)"


def scaled_runs(folder: Path, runs: list[Path], factor: float) -> list[Path]:
    """The runs with every stack's count multiplied: the same code doing more work."""
    folder.mkdir()
    written = []
    for index, path in enumerate(runs):
        ((_, profile),) = read_profiles(path)
        more = Profile({stack: round(count * factor) for stack, count in profile})
        target = folder / f"run-{index + 1:02d}.folded"
        target.write_text(write_collapsed(more), encoding="utf-8")
        written.append(target)
    return written


@pytest.fixture
def loads(replay) -> None:
    replay({"load-v1": sample_runs("v1"), "load-v2": sample_runs("v2")})


def test_capture_archives_the_runs_with_how_they_were_taken(tmp_path: Path, capsys, loads):
    archive = tmp_path / "archive"
    code, _, err = run_cli(
        capsys, "capture", "v1", "--runs", "5", "--warmup", "2", "--archive", str(archive),
        "--", "python", "load-v1",
    )  # fmt: skip
    assert code == 0, err
    assert "archived v1: 5 runs" in err
    info = Archive(archive).info("v1")
    assert info.command == ("python", "load-v1")
    assert info.rate_hz == 500
    # Two warm-ups replayed runs 1 and 2 and were thrown away: runs 3 to 7 were kept.
    kept = [dict(profile.counts) for profile in Archive(archive).load("v1").profiles]
    expected = [dict(read_profiles(path)[0][1].counts) for path in sample_runs("v1")[2:7]]
    assert kept == expected


def test_compare_blocks_the_regression_and_writes_every_report(tmp_path: Path, capsys, loads):
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "compare", "v1", "v2", "--base-cmd", "python load-v1", "--head-cmd",
        "python load-v2", "--archive", str(tmp_path / "archive"), "--out", str(out),
    )  # fmt: skip
    assert code == 1, stdout + err
    assert Archive(tmp_path / "archive").names() == ["v1", "v2"]
    report = json.loads((out / "report.json").read_text())
    assert APPLY_DISCOUNTS in {finding["function"] for finding in report["gate"]["blocking"]}
    assert {path.name for path in out.iterdir()} == {
        "report.md", "report.json", "flamegraph.svg", "delta.png", "report.html",
    }  # fmt: skip


def test_compare_of_identical_code_passes(tmp_path: Path, capsys, replay) -> None:
    runs = sample_runs("v1")
    replay({"a": runs, "b": runs[4:] + runs[:4]})
    code, stdout, err = run_cli(
        capsys, "compare", "a1", "a2", "--base-cmd", "python a", "--head-cmd", "python b",
        "--archive", str(tmp_path / "archive"), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, stdout + err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["gate"]["blocking"] == []
    # The same eight runs in another order: no function, nor the whole load, moved.
    assert not any(row["significant"] for row in report["rows"])


def test_compare_blocks_a_slowdown_spread_over_every_function(
    tmp_path: Path, capsys, replay
) -> None:
    # A third more work in every function: once each run is scaled no function changed; only
    # the whole load, measured side by side, shows it.
    runs = sample_runs("v1")
    replay({"small": runs, "large": scaled_runs(tmp_path / "large", runs, 4 / 3)})
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "compare", "small", "large", "--base-cmd", "python small", "--head-cmd",
        "python large", "--archive", str(tmp_path / "archive"), "--out", str(out),
    )  # fmt: skip
    assert code == 1, stdout + err
    report = json.loads((out / "report.json").read_text())
    load_findings = [f for f in report["gate"]["blocking"] if f["function"] == "<load>"]
    assert len(load_findings) == 1, report["gate"]
    assert "side by side" in load_findings[0]["reason"]


def test_release_reports_no_baseline_then_blocks_the_next(tmp_path: Path, capsys, loads):
    archive, out = str(tmp_path / "archive"), tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "release", "v1", "--out", str(out / "v1"), "--archive", archive, "--",
        "python", "load-v1",
    )  # fmt: skip
    assert code == 0, err
    assert "no baseline" in stdout
    # The first release's folder has the files a pipeline publishes, as every later one does.
    assert (out / "v1" / "report.md").is_file()
    first = json.loads((out / "v1" / "report.json").read_text())
    assert first["gate"]["verdict"] == "no baseline"
    assert (out / "v1" / "flamegraph.svg").read_text().startswith("<?xml")
    code, stdout, err = run_cli(
        capsys, "release", "v2", "--out", str(out / "v2"), "--archive", archive, "--",
        "python", "load-v2",
    )  # fmt: skip
    assert code == 1, stdout + err
    assert (out / "v2" / "report.md").read_text().startswith("### v1 → v2")
    assert json.loads((out / "v2" / "report.json").read_text())["gate"]["verdict"] == "block"
    code, stdout, _ = run_cli(capsys, "gate", "--justify", "rules rewrite", "--archive", archive)
    assert code == 0
    assert "rules rewrite" in stdout


def test_release_re_measures_the_base_beside_the_head_and_says_so(tmp_path, capsys, loads):
    archive, out = str(tmp_path / "archive"), tmp_path / "out"
    run_cli(capsys, "release", "v1", "--archive", archive, "--", "python", "load-v1")
    code, stdout, err = run_cli(
        capsys, "release", "v2", "--out", str(out), "--archive", archive, "--",
        "python", "load-v2",
    )  # fmt: skip
    assert code == 1, stdout + err
    assert "v1 re-measured beside the head in this job (with its own command" in err
    # No silence between the capture and the verdict: each step says what it does.
    steps = [line for line in err.splitlines() if not line.startswith("capturing")]
    assert any(line.startswith("comparing v2 with v1") for line in steps), err
    assert any(line.startswith(f"writing the reports to {out}") for line in steps), err
    report = json.loads((out / "report.json").read_text())
    assert any("re-measured" in note for note in report["gate"]["notes"])
    # The archived base keeps its own runs; the head alone was archived by this job.
    assert Archive(Path(archive)).names() == ["v1", "v2"]
    assert len(Archive(Path(archive)).info("v1").runs) == 8


def test_release_against_the_archived_base_says_why(tmp_path, capsys, loads):
    archive = str(tmp_path / "archive")
    run_cli(capsys, "release", "v1", "--archive", archive, "--", "python", "load-v1")
    code, stdout, err = run_cli(
        capsys, "release", "v2", "--archived-base", "--archive", archive, "--", "python", "load-v2"
    )
    assert code == 1, stdout + err
    assert "compared with the archived runs of v1, captured apart: --archived-base" in err
    # Same command as the base: re-running it would run the head's code twice.
    code, stdout, err = run_cli(
        capsys, "release", "v3", "--archive", archive, "--", "python", "load-v2"
    )
    assert "share their commit and command: nothing tells their code apart" in err


def test_a_taken_name_is_refused_before_anything_runs(tmp_path: Path, capsys, loads) -> None:
    archive = str(tmp_path / "archive")
    args = ["--runs", "4", "--warmup", "0", "--archive", archive, "--", "python", "load-v1"]
    assert run_cli(capsys, "capture", "v1", *args)[0] == 0
    code, _, err = run_cli(capsys, "release", "v1", *args)
    assert code == 2
    assert "already exists" in err
    assert Archive(Path(archive)).names() == ["v1"]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--runs", "0", "--runs must be at least 1"), ("--rate", "-5", "--rate must be a positive"),
     ("--warmup", "-1", "--warmup cannot be negative"), ("--profiler", "perf", "unknown profiler")],
)  # fmt: skip
def test_bad_capture_options_exit_2(tmp_path: Path, capsys, loads, flag, value, message) -> None:
    code, _, err = run_cli(
        capsys, "capture", "v1", flag, value, "--archive", str(tmp_path / "a"), "--",
        "python", "load-v1",
    )  # fmt: skip
    assert code == 2
    assert message in err


FORMAT_MONEY = "format_money"


def one_function_slower(folder: Path, runs: list[Path], leaf: str, factor: float) -> list[Path]:
    """The runs with the stacks ending in ``leaf`` scaled: one function doing more work."""
    folder.mkdir()
    written = []
    for index, path in enumerate(runs):
        ((_, profile),) = read_profiles(path)
        more = Profile(
            {
                stack: round(count * factor) if stack and stack[-1].startswith(leaf) else count
                for stack, count in profile
            }
        )
        target = folder / f"run-{index + 1:02d}.folded"
        target.write_text(write_collapsed(more), encoding="utf-8")
        written.append(target)
    return written


def test_compare_captures_more_runs_while_a_hot_function_is_undecided_and_says_why(
    tmp_path: Path, capsys, replay
) -> None:
    # format_money 30% slower, but these sample runs are noisy: after 8 runs its change is
    # past the warn threshold with q near 0.09, neither a block nor a clear pass. The capture
    # goes on to twice the runs, and the report says why.
    runs = sample_runs("v1")
    replay({"a": runs, "b": one_function_slower(tmp_path / "b", runs, FORMAT_MONEY, 1.3)})
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "compare", "a1", "b1", "--base-cmd", "python a", "--head-cmd", "python b",
        "--archive", str(tmp_path / "archive"), "--out", str(out),
    )  # fmt: skip
    assert code in (0, 1), stdout + err
    stored = Archive(tmp_path / "archive")
    assert [len(stored.info(name).runs) for name in ("a1", "b1")] == [16, 16]
    assert "captured 16 runs a side, not 8: could still block or pass after 8" in err
    assert FORMAT_MONEY in err.split("captured 16 runs a side")[1].splitlines()[0]
    report = (out / "report.md").read_text()
    assert "captured 16 runs a side, not 8" in report
    assert "n = 16 runs of a1, 16 runs of b1" in report


def test_compare_of_a_clear_case_captures_no_extra_run(tmp_path: Path, capsys, loads) -> None:
    code, stdout, err = run_cli(
        capsys, "compare", "v1", "v2", "--base-cmd", "python load-v1", "--head-cmd",
        "python load-v2", "--archive", str(tmp_path / "archive"),
    )  # fmt: skip
    assert code == 1, stdout + err
    assert len(Archive(tmp_path / "archive").info("v2").runs) == 8
    assert "runs a side, not" not in err


def test_max_runs_equal_to_runs_never_captures_more(tmp_path: Path, capsys, replay) -> None:
    runs = sample_runs("v1")
    replay({"a": runs, "b": one_function_slower(tmp_path / "b", runs, FORMAT_MONEY, 1.3)})
    code, stdout, err = run_cli(
        capsys, "compare", "a1", "b1", "--base-cmd", "python a", "--head-cmd", "python b",
        "--max-runs", "8", "--archive", str(tmp_path / "archive"),
    )  # fmt: skip
    assert code == 0, stdout + err  # undecided after 8 runs, and 8 is all it may take
    assert len(Archive(tmp_path / "archive").info("b1").runs) == 8
    assert "runs a side, not" not in err


def test_max_runs_below_runs_is_refused_before_anything_runs(tmp_path: Path, capsys, loads):
    code, _, err = run_cli(
        capsys, "compare", "v1", "v2", "--base-cmd", "python load-v1", "--head-cmd",
        "python load-v2", "--runs", "8", "--max-runs", "6", "--archive", str(tmp_path / "a"),
    )  # fmt: skip
    assert code == 2
    assert err.strip().splitlines()[-1] == "error: --max-runs (6) cannot be fewer than --runs (8)"
    assert not (tmp_path / "a").exists() or Archive(tmp_path / "a").names() == []


def test_release_beside_its_base_also_captures_more_while_undecided(tmp_path, capsys, replay):
    runs = sample_runs("v1")
    replay({"a": runs, "b": one_function_slower(tmp_path / "b", runs, FORMAT_MONEY, 1.3)})
    archive, out = str(tmp_path / "archive"), tmp_path / "out"
    run_cli(capsys, "release", "a1", "--archive", archive, "--", "python", "a")
    code, stdout, err = run_cli(
        capsys, "release", "b1", "--out", str(out), "--archive", archive, "--", "python", "b"
    )
    assert code in (0, 1), stdout + err
    notes = json.loads((out / "report.json").read_text())["gate"]["notes"]
    assert any(note.startswith("captured 16 runs a side, not 8") for note in notes), notes
    # The head is archived with every run it took; the archived base keeps its own 8.
    assert len(Archive(Path(archive)).info("b1").runs) == 16
    assert len(Archive(Path(archive)).info("a1").runs) == 8
