"""Faults on an s3:// archive: a writer killed at any step, a server gone mid-upload.

Whatever happens, a release is either whole or invisible, every other release stays
readable, and what a dead writer left is listed by `check` and removed by `check --repair`.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import pytest
from builders import SAMPLES, run_cli

import flamediff.archive.remote
from flamediff.archive import Archive

RUNS = sorted((SAMPLES / "v1").glob("run-*.folded"))[:3]


def objects(archive: str) -> list[str]:
    store = Archive(archive).storage
    assert isinstance(store, flamediff.archive.remote.RemoteStorage)
    store.fs.invalidate_cache()
    return sorted(path[len(store.root) + 1 :] for path in store.fs.find(store.root))


def test_a_writer_killed_before_any_of_its_writes_leaves_no_half_visible_release(
    bucket: str, s3_env: dict[str, str], capsys, requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = f"{bucket}/archive"
    code, _, err = run_cli(capsys, "import", "v0", *map(str, RUNS), "--archive", archive)
    assert code == 0, err
    # Each write of a writer, in order: three run files, a sequence number, release.json.
    steps = ["run-01.folded.gz", "run-02.folded.gz", "run-03.folded.gz", "/.sequence/"]
    steps.append("/release.json")
    writes = len(steps)
    for step, marker in enumerate(steps, start=1):
        name = f"killed-at-{step}"
        writer = subprocess.Popen(
            [sys.executable, "-m", "flamediff", "import", name, *map(str, RUNS),
             "--archive", archive],
            env=s3_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

        killed: list[str] = []

        def kill_at_step(
            method: str, path: str, writer=writer, marker=marker, killed=killed
        ) -> None:
            if method == "PUT" and marker in path and not killed:
                killed.append(path)
                # Its request may still reach the store, or die with it.
                os.kill(writer.pid, signal.SIGKILL)

        requests.clear()
        requests.before = kill_at_step
        assert writer.wait(timeout=60) == -signal.SIGKILL, step
        requests.before = None
        scanned, damaged = Archive(archive).scan()
        assert damaged == [], step
        visible = [info.name for _, info in scanned]
        # Killed before release.json went out: invisible. As it went out: whole, or
        # invisible when the request died with the writer.
        assert visible[0] == "v0"
        if name in visible:
            assert step == writes, visible
            assert len(Archive(archive).load(name).profiles) == len(RUNS)
    assert Archive(archive).load("v0").profiles
    monkeypatch.setattr(flamediff.archive.remote, "LEFTOVER_AGE", dt.timedelta(0))
    committed = Archive(archive).names()
    dead = [path for path in objects(archive) if path.startswith("killed-at-")]
    dead = [path for path in dead if path.split("/")[0] not in committed]
    assert len(dead) >= 3 + 1  # the ones killed at the sequence number left all three
    code, _, err = run_cli(capsys, "check", "--archive", archive)
    assert code == 0, err
    assert (
        sorted(
            line.split()[1].removeprefix(f"{archive}/")
            for line in err.splitlines()
            if line.startswith("leftover ")
        )
        == dead
    )
    code, _, err = run_cli(capsys, "check", "--repair", "--archive", archive)
    assert code == 0, err
    assert err.count("removed leftover") == len(dead)
    left = [path for path in objects(archive) if not path.startswith(".sequence/")]
    assert all(path.startswith(("v0/", f"killed-at-{writes}/")) for path in left), left


def test_a_server_gone_mid_upload_names_the_object_and_the_history_survives(
    outage, capsys, requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3fs

    s3fs.S3FileSystem(endpoint_url=outage.endpoint).mkdir("outage")
    archive = "s3://outage/archive"
    code, _, err = run_cli(capsys, "import", "v1", *map(str, RUNS), "--archive", archive)
    assert code == 0, err

    def stop_at_the_second_run_file(method: str, path: str) -> None:
        if method == "PUT" and path.endswith("-run-02.folded.gz") and not requests.down:
            outage.stop()

    requests.before = stop_at_the_second_run_file
    code, _, err = run_cli(capsys, "import", "v2", *map(str, RUNS), "--archive", archive)
    requests.before = None
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {archive}/v2/"), err
    assert "-run-02.folded.gz: cannot write: " in err, err
    outage.restart()
    assert Archive(archive).names() == ["v1"]
    assert run_cli(capsys, "show", "v1", "--archive", archive)[0] == 0
    monkeypatch.setattr(flamediff.archive.remote, "LEFTOVER_AGE", dt.timedelta(0))
    code, _, err = run_cli(capsys, "check", "--repair", "--archive", archive)
    assert code == 0, err
    assert f"removed leftover {archive}/v2/" in err  # run 1, which no writer could remove
    assert [path for path in objects(archive) if path.startswith("v2/")] == []
