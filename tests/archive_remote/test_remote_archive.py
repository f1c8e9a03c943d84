"""The archive on object storage: every command on an s3:// archive, commits that race.

Run against moto's S3 server on loopback (see conftest.py): s3fs speaks HTTP to it, nothing
inside flamediff is replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from builders import SAMPLES, run_cli

import flamediff.archive.remote
from flamediff.archive import Archive

RUNS = sorted((SAMPLES / "v1").glob("run-*.folded"))[:4]
OTHER_RUNS = sorted((SAMPLES / "v2").glob("run-*.folded"))[:4]


def imported(capsys, archive: str, name: str, files: list[Path]) -> None:
    code, _, err = run_cli(
        capsys, "import", name, *map(str, files), "--rate", "500", "--archive", archive
    )
    assert code == 0, err


def objects(archive: str) -> list[str]:
    store = Archive(archive).storage
    assert isinstance(store, flamediff.archive.remote.RemoteStorage)
    root = store.root
    return sorted(path[len(root) + 1 :] for path in store.fs.find(root))


def test_every_command_reads_an_s3_archive_as_it_reads_a_folder(
    bucket: str, tmp_path: Path, capsys
) -> None:
    remote, local = f"{bucket}/team/archive", str(tmp_path / "local")
    for archive in (remote, local):
        imported(capsys, archive, "v1", RUNS)
        imported(capsys, archive, "v2", OTHER_RUNS)
    for args in (
        ["list", "--format", "json"],
        ["show", "v2", "--format", "json"],
        ["diff", "v1", "v2", "--format", "json"],
        ["history", "--format", "csv"],
        ["export", "v1", "--format", "folded"],
    ):
        remote_result = run_cli(capsys, *args, "--archive", remote)
        local_result = run_cli(capsys, *args, "--archive", local)
        assert remote_result[0] == 0, (args, remote_result[2])
        if args[0] == "list":  # created times differ; the rest must not
            rows = [json.loads(r[1])["releases"] for r in (remote_result, local_result)]
            for row in rows[0] + rows[1]:
                row.pop("created")
            assert rows[0] == rows[1]
        else:
            assert remote_result[:2] == local_result[:2], args
    gate_remote = run_cli(capsys, "gate", "v1", "v2", "--archive", remote)
    assert gate_remote[:2] == run_cli(capsys, "gate", "v1", "v2", "--archive", local)[:2]
    code, _, err = run_cli(capsys, "check", "--archive", remote)
    assert code == 0, err
    assert err.endswith(f"{remote}: 2 releases, all sound\n")


def test_release_json_is_written_last_and_names_the_attempts_run_files(bucket: str, capsys) -> None:
    archive = f"{bucket}/archive"
    imported(capsys, archive, "v1", RUNS)
    stored = objects(archive)
    assert ".sequence/00000001" in stored
    document = json.loads(Archive(archive).storage.read("v1", "release.json"))
    files = [run["file"] for run in document["runs"]]
    in_release = [path for path in stored if path.startswith("v1/")]
    assert in_release == [*sorted(f"v1/{file}" for file in files), "v1/release.json"]
    attempt = files[0].removesuffix("-run-01.folded.gz")
    assert files == [f"{attempt}-run-{i:02d}.folded.gz" for i in (1, 2, 3, 4)]


def test_a_forced_import_replaces_and_its_predecessors_runs_become_leftovers(
    bucket: str, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = f"{bucket}/archive"
    imported(capsys, archive, "v1", RUNS)
    code, _, err = run_cli(capsys, "import", "v1", str(OTHER_RUNS[0]), "--archive", archive)
    assert code == 2
    assert "already exists" in err
    code, _, err = run_cli(
        capsys, "import", "v1", str(OTHER_RUNS[0]), "--force", "--archive", archive
    )
    assert code == 0, err
    assert len(Archive(archive).load("v1").profiles) == 1
    code, _, err = run_cli(capsys, "check", "--archive", archive)
    assert code == 0, err
    assert "leftover" not in err  # younger than an hour: maybe a writer at work
    monkeypatch.setattr(flamediff.archive.remote, "LEFTOVER_AGE", dt.timedelta(0))
    code, _, err = run_cli(capsys, "check", "--archive", archive)
    assert code == 0, err
    assert err.count("`flamediff check --repair` removes it") == 4, err
    code, _, err = run_cli(capsys, "check", "--repair", "--archive", archive)
    assert code == 0, err
    assert err.count("removed leftover") == 4
    document = json.loads(Archive(archive).storage.read("v1", "release.json"))
    named = sorted(f"v1/{run['file']}" for run in document["runs"])
    assert [p for p in objects(archive) if p.startswith("v1/")] == [*named, "v1/release.json"]


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flamediff", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(*processes: subprocess.Popen[str]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=120), p.communicate()[1]) for p in processes]


def test_eight_concurrent_imports_of_different_names_are_all_there_in_distinct_order(
    bucket: str, s3_env: dict[str, str]
) -> None:
    archive = f"{bucket}/archive"
    processes = [
        start(s3_env, "import", f"r{i}", str(RUNS[i % 3]), "--archive", archive) for i in range(8)
    ]
    results = finish(*processes)
    assert [code for code, _ in results] == [0] * 8, results
    scanned, damaged = Archive(archive).scan()
    assert damaged == []
    assert sorted(info.name for _, info in scanned) == [f"r{i}" for i in range(8)]
    assert sorted(sequence for sequence, _ in scanned) == list(range(1, 9))


def test_four_concurrent_imports_of_one_name_exactly_one_wins(
    bucket: str, s3_env: dict[str, str]
) -> None:
    archive = f"{bucket}/archive"
    files = [RUNS[0], RUNS[1], OTHER_RUNS[0], OTHER_RUNS[1]]
    results = finish(
        *(start(s3_env, "import", "v1", str(file), "--archive", archive) for file in files)
    )
    codes = [code for code, _ in results]
    assert sorted(codes) == [0, 2, 2, 2], results
    for code, err in results:
        if code == 2:
            assert err.count("\n") == 1, err
            assert err.startswith("error: release 'v1' "), err
            assert "--force" in err
    (winner,) = [file for file, (code, _) in zip(files, results, strict=True) if code == 0]
    from flamediff.formats import read_profiles

    loaded = Archive(archive).load("v1").profiles
    assert [dict(p.counts) for p in loaded] == [dict(read_profiles(winner)[0][1].counts)]


def test_concurrent_forced_imports_leave_one_of_them_whole_and_the_order_intact(
    bucket: str, s3_env: dict[str, str], capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = f"{bucket}/archive"
    imported(capsys, archive, "v0", RUNS[:2])
    imported(capsys, archive, "v1", RUNS[2:])
    files = [RUNS[0], OTHER_RUNS[0], OTHER_RUNS[1]]
    results = finish(
        *(
            start(s3_env, "import", "v1", str(file), "--force", "--archive", archive)
            for file in files
        )
    )
    assert [code for code, _ in results] == [0, 0, 0], results
    from flamediff.formats import read_profiles

    (loaded,) = Archive(archive).load("v1").profiles
    assert dict(loaded.counts) in [dict(read_profiles(file)[0][1].counts) for file in files]
    # The history keeps its order: v1 still follows v0, and nothing else is listed.
    assert Archive(archive).names() == ["v0", "v1"]
    assert Archive(archive).previous("v1") == "v0"
    # What the losers and the replaced release wrote is a leftover for check --repair alone.
    monkeypatch.setattr(flamediff.archive.remote, "LEFTOVER_AGE", dt.timedelta(0))
    code, _, err = run_cli(capsys, "check", "--repair", "--archive", archive)
    assert code == 0, err
    document = json.loads(Archive(archive).storage.read("v1", "release.json"))
    named = sorted(f"v1/{run['file']}" for run in document["runs"])
    assert [p for p in objects(archive) if p.startswith("v1/")] == [*named, "v1/release.json"]
    assert Archive(archive).check() == []


def test_damage_is_named_by_object_and_the_other_releases_stay_readable(
    bucket: str, capsys
) -> None:
    archive = f"{bucket}/archive"
    for name in ("v1", "v2", "v3"):
        imported(capsys, archive, name, RUNS)
    store = Archive(archive).storage
    assert isinstance(store, flamediff.archive.remote.RemoteStorage)
    run_file = json.loads(store.read("v2", "release.json"))["runs"][1]["file"]
    store.fs.rm_file(store.path("v2", run_file))
    store.fs.pipe_file(store.path("v3", "release.json"), b"{ not json")
    code, _, err = run_cli(capsys, "show", "v2", "--archive", archive)
    assert code == 2
    assert err == f"error: {archive}/v2/{run_file}: run file missing; the release is damaged\n"
    code, out, err = run_cli(capsys, "list", "--format", "json", "--archive", archive)
    assert code == 0
    assert [row["name"] for row in json.loads(out)["releases"]] == ["v1", "v2"]
    assert err.startswith(f"warning: v3: {archive}/v3/release.json: not valid JSON")
    assert run_cli(capsys, "show", "v1", "--archive", archive)[0] == 0
    code, _, err = run_cli(capsys, "check", "--archive", archive)
    assert code == 2
    assert f"damaged: {archive}/v2/{run_file}: run file missing" in err
    assert f"damaged: {archive}/v3/release.json: not valid JSON" in err


def test_parsed_runs_are_cached_on_the_local_disk_never_in_the_bucket(
    bucket: str, tmp_path: Path, capsys
) -> None:
    archive = f"{bucket}/archive"
    imported(capsys, archive, "v1", RUNS)
    before = objects(archive)
    assert run_cli(capsys, "export", "v1", "--format", "folded", "--archive", archive)[0] == 0
    assert objects(archive) == before
    cached = sorted(path.name for path in (tmp_path / "cache").rglob("*.stacks"))
    assert len(cached) == 2 * len(RUNS)  # normalised when written, parsed when exported
    # Named by the run file's SHA-256, as release.json records it.
    document = json.loads(Archive(archive).storage.read("v1", "release.json"))
    digests = sorted(run["sha256"] for run in document["runs"])
    assert sorted({name.split(".", 1)[0] for name in cached}) == digests


def test_without_the_backend_a_remote_url_names_the_extra(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec.core

    def missing(url: str, **options: object) -> object:
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec.core, "url_to_fs", missing)
    code, _, err = run_cli(capsys, "list", "--archive", "s3://bucket/archive")
    assert (code, err) == (
        2,
        "error: s3://bucket/archive: s3:// archives need an extra: pip install 'flamediff[s3]'\n",
    )


def test_an_s3_archive_named_in_pyproject_or_the_environment_serves_every_command(
    bucket: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[tool.flamediff]\narchive = "{bucket}/from-pyproject/"\n', encoding="utf-8"
    )
    monkeypatch.chdir(project)
    for name in ("v1", "v2"):
        files = sorted((SAMPLES / name).glob("run-*.folded"))
        code, _, err = run_cli(capsys, "import", name, *map(str, files), "--rate", "500")
        assert code == 0, err
    assert Archive(f"{bucket}/from-pyproject").names() == ["v1", "v2"]
    assert [entry.name for entry in project.iterdir()] == ["pyproject.toml"]
    for args in (["list"], ["show", "v2"], ["diff"], ["gate", "v1", "v2"], ["history"]):
        code, _, err = run_cli(capsys, *args)
        assert code in (0, 1), (args, err)
    monkeypatch.setenv("FLAMEDIFF_ARCHIVE", f"{bucket}/from-environment")
    code, _, err = run_cli(capsys, "import", "v3", str(RUNS[0]))
    assert code == 0, err
    assert Archive(f"{bucket}/from-environment").names() == ["v3"]
    code, out, _ = run_cli(capsys, "list", "--format", "json")
    assert [row["name"] for row in json.loads(out)["releases"]] == ["v3"]


def test_scenarios_keep_their_archives_under_an_s3_archive(
    bucket: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.flamediff]\narchive = "{bucket}/archive"\n'
        '[tool.flamediff.scenario.startup]\nload = "true"\n'
        '[tool.flamediff.scenario.checkout]\nload = "true"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "--scenario", "checkout", "import", "v1", str(RUNS[0]))
    assert code == 0, err
    assert Archive(f"{bucket}/archive/.scenarios/checkout").names() == ["v1"]
    code, out, err = run_cli(capsys, "--scenario", "checkout", "list", "--format", "json")
    assert code == 0, err
    assert [row["name"] for row in json.loads(out)["releases"]] == ["v1"]
