"""import, list, export and check, driven through the CLI's single error boundary."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from builders import REPO, SAMPLES, run_cli

from flamediff.archive import Archive
from flamediff.formats import read_profiles

SCHEMA = REPO / "tests" / "data" / "formats" / "speedscope-file-format-schema.json"
V1_RUNS = sorted((SAMPLES / "v1").glob("run-*.folded"))


@pytest.fixture
def archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "archive"
    code, _, err = run_cli(
        capsys, "import", "v1", *map(str, V1_RUNS), "--rate", "500", "--archive", str(root)
    )
    assert code == 0, err
    return root


def test_import_archives_each_file_as_a_run(archive: Path, capsys) -> None:
    release = Archive(archive).load("v1")
    assert len(release.profiles) == len(V1_RUNS) == 8
    for path, stored in zip(V1_RUNS, release.profiles, strict=True):
        assert dict(stored.counts) == dict(read_profiles(path)[0][1].counts)
    code, out, _ = run_cli(capsys, "list", "--archive", str(archive))
    assert code == 0
    assert out.splitlines()[1].split()[:1] == ["v1"]
    assert "8" in out.splitlines()[1].split()


def test_list_as_json_for_machines(archive: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "list", "--format", "json", "--archive", str(archive))
    assert code == 0
    (row,) = json.loads(out)["releases"]
    assert row["name"] == "v1"
    assert row["runs"] == 8
    assert row["samples"] == sum(read_profiles(p)[0][1].total for p in V1_RUNS)


def test_speedscope_export_validates_and_imports_back_to_the_same_counts(
    archive: Path, tmp_path: Path, capsys
) -> None:
    exported = tmp_path / "v1.speedscope.json"
    code, _, err = run_cli(
        capsys,
        "export",
        "v1",
        "--format",
        "speedscope",
        "-o",
        str(exported),
        "--archive",
        str(archive),
    )
    assert code == 0, err
    jsonschema.validate(json.loads(exported.read_text()), json.loads(SCHEMA.read_text()))
    code, _, err = run_cli(capsys, "import", "again", str(exported), "--archive", str(archive))
    assert code == 0, err
    store = Archive(archive)
    original, again = store.load("v1"), store.load("again")
    assert [dict(p.counts) for p in again.profiles] == [dict(p.counts) for p in original.profiles]


def test_folded_export_sums_the_runs(archive: Path, tmp_path: Path, capsys) -> None:
    out_file = tmp_path / "all.folded"
    assert (
        run_cli(
            capsys,
            "export",
            "v1",
            "--format",
            "folded",
            "-o",
            str(out_file),
            "--archive",
            str(archive),
        )[0]
        == 0
    )
    merged = read_profiles(out_file)[0][1]
    assert merged.total == sum(read_profiles(p)[0][1].total for p in V1_RUNS)


@pytest.mark.parametrize("bad", sorted((SAMPLES / "malformed").iterdir()), ids=lambda p: p.name)
def test_malformed_input_is_one_line_exit_2_and_changes_nothing(
    archive: Path, bad: Path, capsys
) -> None:
    before = sorted(p.name for p in archive.iterdir())
    code, out, err = run_cli(
        capsys, "import", "broken", str(V1_RUNS[0]), str(bad), "--archive", str(archive)
    )
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {bad}")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert sorted(p.name for p in archive.iterdir()) == before


def test_a_missing_file_is_named(archive: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "import", "x", "nope.folded", "--archive", str(archive))
    assert (code, err) == (2, "error: nope.folded: no such file\n")


def test_importing_over_an_existing_release_needs_force(archive: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "import", "v1", str(V1_RUNS[0]), "--archive", str(archive))
    assert code == 2
    assert "--force" in err
    assert len(Archive(archive).load("v1").profiles) == 8
    assert (
        run_cli(capsys, "import", "v1", str(V1_RUNS[0]), "--force", "--archive", str(archive))[0]
        == 0
    )
    assert len(Archive(archive).load("v1").profiles) == 1


def test_check_passes_a_sound_archive_and_names_a_damaged_file(archive: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "check", "--archive", str(archive))
    assert code == 0, err
    run_file = archive / "v1" / "run-03.folded.gz"
    run_file.write_bytes(run_file.read_bytes()[:20])
    code, _, err = run_cli(capsys, "check", "--archive", str(archive))
    assert code == 2
    assert str(run_file) in err


def test_usage_errors_exit_2(capsys) -> None:
    assert run_cli(capsys, "list", "--no-such-flag")[0] == 2
    assert run_cli(capsys, "export", "v1", "--format", "pdf")[0] == 2


def test_reading_an_unknown_release_exits_2(archive: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "export", "v7", "--archive", str(archive))
    assert code == 2
    assert "no release 'v7'" in err
