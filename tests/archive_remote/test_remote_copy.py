"""`flamediff archive copy`: a whole history between a folder and a bucket, either way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from builders import import_release, run_cli, sample_runs

from flamediff.archive import Archive


def history(capsys, root: Path) -> Path:
    """A folder archive of v1, v2 (8 runs each) and v3, v2 accepted by a justification."""
    import_release(capsys, root, "v1", sample_runs("v1"))
    import_release(capsys, root, "v2", sample_runs("v2"))
    import_release(capsys, root, "v3", sample_runs("v2")[:3])
    code, _, err = run_cli(
        capsys, "gate", "v1", "v2", "--justify", "rules rewrite", "--archive", str(root)
    )
    assert code == 0, err
    return root


def same_history(first: str, second: str) -> None:
    one, other = Archive(first), Archive(second)
    assert one.infos() == other.infos()  # order, metadata, digests and justifications
    for name in one.names():
        assert one.read_run_files(name) == other.read_run_files(name)


def test_a_history_goes_to_a_bucket_and_back_whole(bucket: str, tmp_path: Path, capsys) -> None:
    local, remote = history(capsys, tmp_path / "local"), f"{bucket}/archive"
    code, _, err = run_cli(capsys, "archive", "copy", str(local), remote)
    assert code == 0, err
    assert err.splitlines() == [
        "copied v1 (8 runs)",
        "copied v2 (8 runs)",
        "copied v3 (3 runs)",
        f"{remote}: 3 release(s) copied, 0 already there",
    ]
    same_history(str(local), remote)
    assert run_cli(capsys, "check", "--archive", remote)[0] == 0
    # The justification still accepts v2 in the bucket.
    code, out, _ = run_cli(capsys, "gate", "v1", "v2", "--archive", remote)
    assert code == 0
    assert "rules rewrite" in out
    back = tmp_path / "back"
    code, _, err = run_cli(capsys, "archive", "copy", remote, str(back))
    assert code == 0, err
    same_history(str(local), str(back))
    local_diff = run_cli(capsys, "diff", "v1", "v2", "--format", "json", "--archive", str(local))
    back_diff = run_cli(capsys, "diff", "v1", "v2", "--format", "json", "--archive", str(back))
    assert local_diff == back_diff


def test_a_copy_run_again_writes_nothing_and_finishes_an_interrupted_one(
    bucket: str, tmp_path: Path, capsys, requests
) -> None:
    local, remote = history(capsys, tmp_path / "local"), f"{bucket}/archive"
    # Interrupted after v1: the target holds v1 alone.
    partial = tmp_path / "partial"
    shutil.copytree(local, partial)
    shutil.rmtree(partial / "v2")
    shutil.rmtree(partial / "v3")
    assert run_cli(capsys, "archive", "copy", str(partial), remote)[0] == 0
    code, _, err = run_cli(capsys, "archive", "copy", str(local), remote)
    assert code == 0, err
    assert err.splitlines() == [
        "v1: already there",
        "copied v2 (8 runs)",
        "copied v3 (3 runs)",
        f"{remote}: 2 release(s) copied, 1 already there",
    ]
    same_history(str(local), remote)
    requests.clear()
    code, _, err = run_cli(capsys, "archive", "copy", str(local), remote)
    assert code == 0, err
    assert err.splitlines()[-1] == f"{remote}: 0 release(s) copied, 3 already there"
    assert [request for request in requests.seen if request[0] in ("PUT", "POST", "DELETE")] == []


def test_a_justification_written_after_a_copy_is_carried_over_by_the_next(
    bucket: str, tmp_path: Path, capsys
) -> None:
    local, remote = tmp_path / "local", f"{bucket}/archive"
    import_release(capsys, local, "v1", sample_runs("v1"))
    import_release(capsys, local, "v2", sample_runs("v2"))
    assert run_cli(capsys, "archive", "copy", str(local), remote)[0] == 0
    assert run_cli(capsys, "gate", "--justify", "accepted", "--archive", str(local))[0] == 0
    code, _, err = run_cli(capsys, "archive", "copy", str(local), remote)
    assert code == 0, err
    assert "v2: justifications added" in err.splitlines()
    same_history(str(local), remote)


def test_a_different_release_of_the_same_name_is_named_and_left_alone(
    bucket: str, tmp_path: Path, capsys
) -> None:
    local, remote = tmp_path / "local", f"{bucket}/archive"
    import_release(capsys, local, "v1", sample_runs("v1"))
    import_release(capsys, local, "v2", sample_runs("v2"))
    import_release(capsys, remote, "v1", sample_runs("v2"))  # not local's v1
    before = json.loads(Archive(remote).storage.read("v1", "release.json"))
    code, _, err = run_cli(capsys, "archive", "copy", str(local), remote)
    assert code == 2
    assert err == (
        f"error: {remote}/v1: a release 'v1' that differs from {local / 'v1'} is already "
        "there; it was left as it is\n"
    )
    assert json.loads(Archive(remote).storage.read("v1", "release.json")) == before
    assert Archive(remote).names() == ["v1"]


def test_a_damaged_source_is_refused_before_anything_is_copied(
    bucket: str, tmp_path: Path, capsys
) -> None:
    local, remote = tmp_path / "local", f"{bucket}/archive"
    import_release(capsys, local, "v1", sample_runs("v1"))
    import_release(capsys, local, "v2", sample_runs("v2"))
    (local / "v2" / "release.json").write_text("{ not json")
    code, _, err = run_cli(capsys, "archive", "copy", str(local), remote)
    assert code == 2
    assert err.startswith(f"error: {local / 'v2' / 'release.json'}: not valid JSON")
    assert err.count("\n") == 1
    assert "nothing was copied" in err
    assert Archive(remote).names() == []


def test_call_counts_go_to_a_bucket_and_back_and_are_no_leftover_there(
    bucket: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    import datetime as dt

    from builders import profile

    import flamediff.archive.remote
    from flamediff.archive import utc_now
    from flamediff.model import CallCounts, ReleaseInfo, RunInfo

    calls = CallCounts({(("main", "/app/load.py"), ("parse", "/app/parser.py")): 12})
    local = Archive(tmp_path / "local")
    with local.writer("v1") as writer:
        writer.add_run(profile("main;parse 5"), RunInfo(5, 0.1, 0))
        writer.add_calls(calls)
        writer.commit(ReleaseInfo(name="v1", created=utc_now(), rate_hz=100.0))
    remote = f"{bucket}/archive"
    assert run_cli(capsys, "archive", "copy", str(local.root), remote)[0] == 0
    assert Archive(remote).calls("v1") == calls
    monkeypatch.setattr(flamediff.archive.remote, "LEFTOVER_AGE", dt.timedelta(0))
    code, _, err = run_cli(capsys, "check", "--repair", "--archive", remote)
    assert code == 0, err
    assert "leftover" not in err
    back = tmp_path / "back"
    assert run_cli(capsys, "archive", "copy", remote, str(back))[0] == 0
    assert Archive(back).read_calls_file("v1") == local.read_calls_file("v1")
