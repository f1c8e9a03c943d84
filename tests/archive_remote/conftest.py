"""A real S3-compatible server on loopback (moto's server mode), one bucket per test.

Nothing inside flamediff is mocked: s3fs talks HTTP to the server, as it would to S3. The
server is started once per session on a free port of 127.0.0.1 and stopped at the end.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import server as moto_server  # moto[server] and s3fs are part of [dev]
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class Requests:
    """Every request the server answered, as ``(method, path with query)``: what a test
    counts to know what flamediff downloaded, seen from the server's side of HTTP."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        # Seconds each download of an object is held back: a latency like a real bucket's,
        # so that downloads made one after the other never overlap.
        self.latency = 0.0
        self.in_flight = 0
        self.peak = 0
        # Called with (method, path) before each request is served: where a test acts at an
        # exact point of a writer's work.
        self.before: Callable[[str, str], None] | None = None
        # While down, every connection is dropped unanswered: a server that is gone.
        self.down = False
        self._lock = threading.Lock()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.seen.append((method, path))

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()
            self.latency, self.in_flight, self.peak = 0.0, 0, 0
            self.before = None

    @contextlib.contextmanager
    def serving(self, method: str, path: str) -> Iterator[None]:
        if self.before is not None:
            self.before(method, path)
        self.record(method, path)
        download = method == "GET" and "?" not in path
        with self._lock:
            self.in_flight += download
            self.peak = max(self.peak, self.in_flight)
        try:
            if download and self.latency:
                time.sleep(self.latency)
            yield
        finally:
            with self._lock:
                self.in_flight -= download

    def downloads(self, part: str = "") -> list[str]:
        """The objects fetched whole (GET of an object, not a listing) whose path holds
        ``part``."""
        with self._lock:
            return [
                path
                for method, path in self.seen
                if method == "GET" and "?" not in path and part in path
            ]


REQUESTS = Requests()
# The server's access log would land in the tests' captured stderr.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


class RecordingMotoServer(moto_server.ThreadedMotoServer):
    """moto's server with its WSGI application wrapped to record each request."""

    def _server_entry(self) -> None:
        from werkzeug.serving import make_server

        inner = DomainDispatcherApplication(create_backend_app)

        def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
            query = environ.get("QUERY_STRING", "")
            path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            with REQUESTS.serving(environ["REQUEST_METHOD"], path):
                if REQUESTS.down:
                    with contextlib.suppress(OSError):
                        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
                    return []
                return inner(environ, start)  # type: ignore[no-any-return]

        self._server = make_server(
            self._ip_address,
            self._port,
            app,
            True,
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@pytest.fixture
def requests() -> Requests:
    """The requests the server answers from now on."""
    REQUESTS.clear()
    return REQUESTS


class Outage:
    """A server of the test's own, to stop in the middle of a request and start again on
    the same port; the buckets outlive it (moto keeps them in this process)."""

    def __init__(self) -> None:
        self.server = RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        self.host, self.port = self.server.get_host_and_port()

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Drop every connection and stop listening (safe from inside a request)."""
        REQUESTS.down = True
        self.server.stop()
        assert self.server._server is not None
        self.server._server.server_close()

    def restart(self) -> None:
        self.server = RecordingMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self.server.start()
        REQUESTS.down = False


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Outage]:
    """A bucket on a server of the test's own (see :class:`Outage`), as ``s3_env`` sets up."""
    import fsspec.config
    import s3fs

    own = Outage()
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    # One attempt per request: a gone server is known at once, not after a minute of retries.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": own.endpoint})
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        yield own
    finally:
        REQUESTS.down = False
        own.server.stop()
        s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    server = RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
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
