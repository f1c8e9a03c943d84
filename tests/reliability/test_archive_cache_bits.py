"""A flipped bit anywhere in a derived cache never changes what the gate decides.

The archive's ``.cache/`` may come from a shared CI cache, restored on another machine: it is
derived data nobody verifies by eye. One bit flipped in a cached run once renamed a function
and turned a blocked release into a pass. Here every example flips one bit at random in one
entry (a normalised run, or a parsed run with the normalised one gone so that the parsed one
is read) of a small archive whose gate blocks, and the gate must say exactly what it said on
the sound archive.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flamediff.archive import CACHE_DIR, Archive, utc_now
from flamediff.cli import main
from flamediff.model import Profile, ReleaseInfo, RunInfo


def runs(hot: int) -> list[Profile]:
    return [
        Profile(
            {
                ("main (app.py:1)", "hot (app.py:5)"): hot + 3 * i,
                ("main (app.py:1)", "cold (app.py:9)"): 400 + 5 * i,
                ("main (app.py:1)",): 50 + i,
            }
        )
        for i in range(6)
    ]


def gate(root: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["gate", "v1", "v2", "--archive", str(root)])
    return code, out.getvalue(), err.getvalue()


def decision(result: tuple[int, str, str]) -> tuple[int, list[str]]:
    code, out, _ = result
    kept = ("verdict:", "blocks:", "warns:")
    lines = [line.strip() for line in out.splitlines()]
    verdict = [line.split(" (", 1)[0] for line in lines if line.startswith(kept)]
    marks = [
        line.split()[0] + (" *" if "% *" in line else "")
        for line in lines
        if "(app.py)" in line and not line.startswith(kept)
    ]
    return code, verdict + marks


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[int, str, str]]:
    root = tmp_path_factory.mktemp("bits") / "archive"
    archive = Archive(root)
    for name, hot in (("v1", 200), ("v2", 400)):
        with archive.writer(name) as writer:
            for run in runs(hot):
                writer.add_run(run, RunInfo(run.total, 1.0, 0))
            writer.commit(ReleaseInfo(name=name, created=utc_now(), rate_hz=100.0))
        archive.load(name)  # the parsed entries too
    verdict = gate(root)
    assert verdict[0] == 1, verdict  # hot (app.py) doubled: blocked
    assert "blocks: hot (app.py)" in verdict[1]
    return root, verdict


ENTRIES = [
    f"{release}/{CACHE_DIR}/run-{run:02d}{variant}.stacks"
    for release in ("v1", "v2")
    for run in range(1, 7)
    for variant in ("", ".normalised")
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    entry=st.sampled_from(ENTRIES), where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7)
)
def test_a_flipped_bit_in_any_cache_entry_never_changes_the_verdict(
    template: tuple[Path, tuple[int, str, str]], tmp_path: Path, entry: str, where: float, bit: int
) -> None:
    source, verdict = template
    root = tmp_path / "archive"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(source, root)
    path = root / entry
    if not entry.endswith(".normalised.stacks"):
        # Read only when the normalised entry is gone: make the parsed one count.
        path.with_name(path.name.replace(".stacks", ".normalised.stacks")).unlink()
    data = bytearray(path.read_bytes())
    data[int(where * len(data))] ^= 1 << bit
    path.write_bytes(bytes(data))
    # The verdict, what blocks and what each row is called: the figures' last digits may move
    # when a rebuilt run sums its stacks in another order.
    assert decision(gate(root)) == decision(verdict)
    assert Archive(root).check() == []  # the gate's reads rebuilt the entry
