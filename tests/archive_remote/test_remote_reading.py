"""Reading a remote archive stays fast: each run file downloaded once, in parallel, then
never again (parsed runs are kept on the local disk by their SHA-256).

Downloads are counted at the server (conftest.py's ``requests``): what crossed HTTP.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from builders import SAMPLES, run_cli

from flamediff.archive import Archive

V1 = sorted((SAMPLES / "v1").glob("run-*.folded"))
V2 = sorted((SAMPLES / "v2").glob("run-*.folded"))


def run_files(archive: str, name: str) -> list[str]:
    document = json.loads(Archive(archive).storage.read(name, "release.json"))
    return [f"/{name}/{run['file']}" for run in document["runs"]]


def test_a_diff_downloads_each_run_file_once_in_parallel_and_the_next_diff_none(
    bucket: str, tmp_path: Path, capsys, requests
) -> None:
    archive = f"{bucket}/archive"
    for name, files in (("v1", V1), ("v2", V2)):
        code, _, err = run_cli(capsys, "import", name, *map(str, files), "--archive", archive)
        assert code == 0, err
    assert len(V1) == len(V2) == 8
    expected = sorted(run_files(archive, "v1") + run_files(archive, "v2"))
    shutil.rmtree(tmp_path / "cache")  # a fresh runner: nothing on its disk yet
    requests.clear()
    requests.latency = (
        0.25  # long beside the time to sign and send a request, even on a busy machine
    )
    code, first, err = run_cli(capsys, "diff", "v1", "v2", "--format", "json", "--archive", archive)
    assert code == 0, err
    fetched = requests.downloads("-run-")
    assert sorted("/" + path.split("/", 3)[3] for path in fetched) == expected
    assert requests.peak > 1  # downloads overlapped
    requests.clear()
    code, second, err = run_cli(
        capsys, "diff", "v1", "v2", "--format", "json", "--archive", archive
    )
    assert code == 0, err
    assert requests.downloads("-run-") == []
    assert second == first


def test_a_listing_reads_every_release_json_at_once(bucket: str, capsys, requests) -> None:
    archive = f"{bucket}/archive"
    for index in range(6):
        code, _, err = run_cli(capsys, "import", f"v{index}", str(V1[0]), "--archive", archive)
        assert code == 0, err
    requests.clear()
    requests.latency = (
        0.25  # long beside the time to sign and send a request, even on a busy machine
    )
    code, out, err = run_cli(capsys, "list", "--format", "json", "--archive", archive)
    assert code == 0, err
    assert [row["name"] for row in json.loads(out)["releases"]] == [f"v{i}" for i in range(6)]
    assert len(requests.downloads("/release.json")) == 6
    assert requests.peak > 1  # one round trip for the history, not one per release
