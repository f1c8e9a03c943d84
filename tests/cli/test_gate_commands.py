"""diff and gate on the sample releases: what a release pipeline and a reviewer rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import SAMPLES, import_release, run_cli, sample_runs

from flamediff.archive import Archive


def test_the_regression_blocks_the_release(archive: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "gate", "--archive", str(archive))
    assert code == 1
    # The terminal table, not raw Markdown: names read as they are.
    assert "v1 → v2: self time per run" in out
    assert "###" not in out
    assert "\\_" not in out
    row = next(line for line in out.splitlines() if line.lstrip().startswith("apply_discounts"))
    assert "*" in row
    assert "verdict: block" in out


def test_a_written_justification_accepts_it_and_is_shown_in_every_later_report(
    archive: Path, capsys
) -> None:
    reason = "Case-insensitive discount codes; the faster lookup ships in v3."
    code, out, err = run_cli(capsys, "gate", "--justify", reason, "--archive", str(archive))
    assert code == 0, err
    assert reason in out
    assert "accepted" in out
    (recorded,) = Archive(archive).info("v2").justifications
    assert (recorded.base, recorded.reason) == ("v1", reason)
    code, out, _ = run_cli(capsys, "gate", "v1", "v2", "--archive", str(archive))
    assert code == 0
    assert reason in out
    code, out, _ = run_cli(capsys, "diff", "--format", "markdown", "--archive", str(archive))
    assert reason in out


def test_a_justification_from_a_file(archive: Path, tmp_path: Path, capsys) -> None:
    why = tmp_path / "why.txt"
    why.write_text("Accepted in review #42:\nthe new rules engine.\n")
    code, out, _ = run_cli(capsys, "gate", "--justify-file", str(why), "--archive", str(archive))
    assert code == 0
    assert "Accepted in review #42: the new rules engine." in out


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_an_empty_justification_is_refused_and_nothing_recorded(
    archive: Path, capsys, reason: str
) -> None:
    code, _, err = run_cli(capsys, "gate", "--justify", reason, "--archive", str(archive))
    assert code == 2
    assert "justification is empty" in err
    assert Archive(archive).info("v2").justifications == ()


def test_the_report_reaches_the_step_summary_and_a_file(
    archive: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = tmp_path / "reports" / "gate.md"
    code, out, _ = run_cli(capsys, "gate", "--markdown", str(report), "--archive", str(archive))
    assert code == 1
    markdown = report.read_text()
    assert markdown.startswith("### v1 → v2")
    assert "| apply\\_discounts" in markdown
    assert summary.read_text() == "earlier step\n" + markdown
    # The Markdown goes to the files; stdout gets the table a person reads.
    assert "###" not in out
    assert "verdict: block" in out


def test_functions_off_the_hot_path_only_warn(archive: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "gate", "--hot", "json*", "--archive", str(archive))
    assert code == 0
    assert "verdict: warn" in out


def test_a_higher_block_threshold_lets_it_pass(archive: Path, capsys) -> None:
    code, _, _ = run_cli(capsys, "gate", "--block", "20", "--warn", "10", "--archive", str(archive))
    assert code == 0


def write_waiver(folder: Path, expires: str) -> None:
    (folder / "pyproject.toml").write_text(
        "[[tool.flamediff.waiver]]\n"
        'function = "apply_discounts*"\n'
        "max_regression = 20.0\n"
        'reason = "rules engine rewrite, review #7"\n'
        f"expires = {expires}\n"
    )


def test_a_waiver_in_force_lets_it_pass(archive: Path, tmp_path: Path, capsys) -> None:
    write_waiver(tmp_path, "2999-12-31")
    code, out, _ = run_cli(capsys, "gate", "--archive", str(archive))
    assert code == 0
    assert "rules engine rewrite, review #7" in out


def test_an_expired_waiver_no_longer_applies_and_says_so(
    archive: Path, tmp_path: Path, capsys
) -> None:
    write_waiver(tmp_path, "2020-01-01")
    code, out, _ = run_cli(capsys, "gate", "--archive", str(archive))
    assert code == 1
    assert "expired" in out


def test_too_few_runs_refuse_to_decide_unless_no_stats(tmp_path: Path, capsys) -> None:
    root = tmp_path / "few"
    for name in ("v1", "v2"):
        import_release(capsys, root, name, sorted((SAMPLES / name).glob("run-0[1-3].folded")))
    code, out, err = run_cli(capsys, "gate", "--archive", str(root))
    assert code == 2
    assert out == ""
    assert "runs" in err
    code, out, _ = run_cli(capsys, "gate", "--no-stats", "--archive", str(root))
    assert code == 0
    assert "verdict: warn" in out


def test_the_first_release_has_no_baseline(tmp_path: Path, capsys) -> None:
    root = tmp_path / "one"
    import_release(capsys, root, "v1", sorted((SAMPLES / "v1").glob("run-*.folded")))
    code, out, _ = run_cli(capsys, "gate", "--archive", str(root))
    assert code == 0
    assert "no baseline" in out


def test_diff_as_json_for_machines(archive: Path, capsys) -> None:
    code, out, _ = run_cli(
        capsys, "diff", "--format", "json", "--top", "5", "--archive", str(archive)
    )
    assert code == 0
    document = json.loads(out)
    functions = [row["function"] for row in document["rows"]]
    assert "apply_discounts (shop/pricing.py)" in functions
    assert len([f for f in functions if f != "<load>"]) <= 5


def test_diff_as_csv_and_filtered(archive: Path, capsys) -> None:
    code, out, _ = run_cli(
        capsys, "diff", "--format", "csv", "--filter", "render_*", "--archive", str(archive)
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("function,")
    assert all(line.startswith(("render_", "<load>")) for line in lines[1:])


def test_diff_writes_the_folded_diff_and_svg(archive: Path, tmp_path: Path, capsys) -> None:
    folded, svg = tmp_path / "d.folded", tmp_path / "d.svg"
    code, _, err = run_cli(
        capsys, "diff", "--folded", str(folded), "--svg", str(svg), "--archive", str(archive)
    )
    assert code == 0, err
    regressed = [
        line.rsplit(" ", 2)
        for line in folded.read_text().splitlines()
        if line.rsplit(" ", 2)[0].endswith("apply_discounts (shop/pricing.py)")
    ]
    assert regressed
    # Summed over the eight runs of each side: v2 spends far more in it than v1.
    assert sum(int(h) for _, _, h in regressed) > 3 * sum(int(b) for _, b, _ in regressed)
    assert svg.read_text().lstrip().startswith("<?xml")


def test_unknown_releases_and_same_names_exit_2(archive: Path, capsys) -> None:
    assert run_cli(capsys, "diff", "v1", "v9", "--archive", str(archive))[0] == 2
    assert run_cli(capsys, "gate", "v2", "v2", "--archive", str(archive))[0] == 2


def test_an_empty_release_name_is_refused_not_taken_for_the_latest(archive: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "diff", "v1", "", "--archive", str(archive))
    assert code == 2
    assert out == ""
    assert "invalid release name" in err


def test_two_single_profiles_diff_untested_and_the_gate_refuses(tmp_path, capsys) -> None:
    archive = tmp_path / "archive"
    import_release(capsys, archive, "a", sample_runs("v1")[:1])
    import_release(capsys, archive, "b", sample_runs("v2")[:1])
    code, stdout, err = run_cli(
        capsys, "diff", "a", "b", "--format", "json", "--archive", str(archive)
    )
    assert code == 0, err
    report = json.loads(stdout)
    assert report["test"] == "none"
    assert any(note.startswith("not tested (n=1 and n=1)") for note in report["gate"]["notes"])
    moved = [row for row in report["rows"] if row["function"].startswith("apply_discounts")]
    assert moved[0]["delta_pct"] > 100
    assert not any(row["significant"] for row in report["rows"])
    code, stdout, err = run_cli(capsys, "diff", "a", "b", "--archive", str(archive))
    assert code == 0, err
    assert "not tested (n=1 and n=1)" in stdout + err
    code, _, err = run_cli(capsys, "gate", "a", "b", "--archive", str(archive))
    assert code == 2
    assert "testing needs at least 4" in err


def test_a_justification_stops_applying_when_either_release_is_replaced(
    archive: Path, capsys
) -> None:
    assert run_cli(capsys, "gate", "--archive", str(archive))[0] == 1
    code, _, err = run_cli(capsys, "gate", "--justify", "rules rewrite", "--archive", str(archive))
    assert code == 0, err
    assert run_cli(capsys, "gate", "--archive", str(archive))[0] == 0
    recorded = json.loads((archive / "v2" / "release.json").read_text())["justifications"][-1]
    assert len(recorded["releases"]) == 2
    # The base re-imported from other runs: the reason was written against another release.
    code, _, err = run_cli(
        capsys, "import", "v1", *map(str, sample_runs("v1")[:6]), "--rate", "500", "--force",
        "--archive", str(archive),
    )  # fmt: skip
    assert code == 0, err
    code, stdout, _ = run_cli(capsys, "gate", "--archive", str(archive))
    assert code == 1, stdout
    assert "rules rewrite" not in stdout
