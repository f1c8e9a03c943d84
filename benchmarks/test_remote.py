"""diff on a local archive and on an archive in a bucket, cold and warm.

The bucket is moto's S3 server on loopback, started in this process: the figures hold what
flamediff does for a remote archive (listing, downloading, verifying, the local cache) with
no network latency, which a real bucket adds to the cold case only. Warm, the remote diff
downloads no run file: its cost over the local one is release.json and one listing per
release. The ratios of one run are printed at the end of the session (never asserted).

Cold: the local cache of parsed runs is emptied before each round (for the folder archive,
its releases' ``.cache`` folders; for the bucket, the cache under ``XDG_CACHE_HOME``).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks import data
from flamediff.archive import CACHE_DIR
from flamediff.cli import main

COLD_ROUNDS = 5
MEDIANS: dict[str, float] = {}


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The benchmark's base and head (8 runs each), in a folder and in a bucket."""
    import fsspec.config
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ), dict(fsspec.config.conf)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        XDG_CACHE_HOME=str(tmp_path_factory.mktemp("cache")),
    )
    fsspec.config.conf["s3"] = {"endpoint_url": endpoint}
    s3fs.S3FileSystem.clear_instance_cache()
    bucket = f"bench-{secrets.token_hex(4)}"
    s3fs.S3FileSystem(endpoint_url=endpoint).mkdir(bucket)
    local, remote = tmp_path_factory.mktemp("local") / "archive", f"s3://{bucket}/archive"
    files = data.release_files()
    for archive in (str(local), remote):
        for name in ("base", "head"):
            flamediff("import", name, *map(str, files[name]), "--rate", "100", "--archive", archive)
    try:
        yield local, remote
    finally:
        os.environ.clear()
        os.environ.update(saved[0])
        fsspec.config.conf.clear()
        fsspec.config.conf.update(saved[1])
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


@pytest.fixture(scope="module", autouse=True)
def ratios(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the ratios of this run once every benchmark here has run."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        for state in ("warm", "cold"):
            local, remote = MEDIANS.get(f"local {state}"), MEDIANS.get(f"remote {state}")
            if local and remote:
                reporter.write_line(
                    f"diff on a bucket / diff on a folder, {state}: {remote / local:.2f}x"
                )


def flamediff(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    assert code == 0, args
    return out.getvalue()


def diff_of(archive: str) -> Callable[[], str]:
    return lambda: flamediff("diff", "base", "head", "--format", "json", "--archive", archive)


def forget_local(root: Path) -> None:
    for name in ("base", "head"):
        shutil.rmtree(root / name / CACHE_DIR, ignore_errors=True)


def forget_remote() -> None:
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]) / "flamediff", ignore_errors=True)


def test_diff_local_warm(benchmark, archives: tuple[Path, str]) -> None:
    diff = diff_of(str(archives[0]))
    diff()
    benchmark(diff)
    MEDIANS["local warm"] = benchmark.stats.stats.median


def test_diff_remote_warm(benchmark, archives: tuple[Path, str]) -> None:
    diff = diff_of(archives[1])
    expected = diff_of(str(archives[0]))()
    assert diff() == expected
    benchmark(diff)
    MEDIANS["remote warm"] = benchmark.stats.stats.median


def test_diff_local_cold(benchmark, archives: tuple[Path, str]) -> None:
    root = archives[0]
    benchmark.pedantic(
        diff_of(str(root)), setup=lambda: forget_local(root), rounds=COLD_ROUNDS, iterations=1
    )
    MEDIANS["local cold"] = benchmark.stats.stats.median


def test_diff_remote_cold(benchmark, archives: tuple[Path, str]) -> None:
    benchmark.pedantic(diff_of(archives[1]), setup=forget_remote, rounds=COLD_ROUNDS, iterations=1)
    MEDIANS["remote cold"] = benchmark.stats.stats.median
