"""Justifications recorded on a bucket by runners at the same time: none is lost."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from builders import import_release, run_cli, sample_runs

from flamediff.archive import Archive, utc_now
from flamediff.model import Justification


def test_runners_justifying_at_once_all_keep_their_reason(bucket: str, capsys, requests) -> None:
    archive = f"{bucket}/archive"
    import_release(capsys, archive, "v1", sample_runs("v1")[:2])
    import_release(capsys, archive, "v2", sample_runs("v2")[:2])
    writers = 4
    everyone_read = threading.Barrier(writers, timeout=30)
    first_round: set[int] = set()

    def held_until_every_writer_has_read(method: str, path: str) -> None:
        # Every writer's first rewrite waits until all of them have read release.json: the
        # race of runners justifying at once, at its worst, every time.
        if method == "PUT" and path.endswith("/v2/release.json"):
            writer = threading.get_ident()
            if writer not in first_round and len(first_round) < writers:
                first_round.add(writer)
                everyone_read.wait()
            time.sleep(0.01)

    requests.before = held_until_every_writer_has_read

    def justify(index: int) -> None:
        reason = Justification("v1", f"reason {index}", utc_now())
        Archive(archive).add_justification("v2", reason)

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(justify, range(writers)))
    requests.before = None
    reasons = sorted(j.reason for j in Archive(archive).info("v2").justifications)
    assert reasons == [f"reason {i}" for i in range(writers)]
    code, _, err = run_cli(capsys, "check", "--archive", archive)
    assert code == 0, err
