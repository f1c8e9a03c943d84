"""A real S3-compatible server on loopback (moto's server mode), one bucket per test.

Nothing inside flamediff is mocked: s3fs talks HTTP to the server, as it would to S3. The
server is started once per session on a free port of 127.0.0.1 and stopped at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import server as moto_server  # moto[server] and s3fs are part of [dev]

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials and the endpoint, for this process and the flamediff processes it starts;
    the local cache of remote runs in the test's own folder."""
    import fsspec.config
    import s3fs

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # fsspec reads FSSPEC_S3_* when it is imported: set it for children, and its live
    # configuration for this process.
    monkeypatch.setenv("FSSPEC_S3_ENDPOINT_URL", endpoint)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})
    s3fs.S3FileSystem.clear_instance_cache()
    return {**os.environ, **CREDENTIALS, "FSSPEC_S3_ENDPOINT_URL": endpoint}


@pytest.fixture
def bucket(s3_env: dict[str, str], endpoint: str) -> str:
    """A fresh, empty bucket: ``s3://<bucket>``."""
    import s3fs

    name = f"flamediff-{secrets.token_hex(4)}"
    s3fs.S3FileSystem(endpoint_url=endpoint).mkdir(name)
    return f"s3://{name}"
