"""The traced run: exact calls per caller, counted in the load's own processes."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from flamediff.capture.calls import count_calls
from flamediff.errors import CaptureError
from flamediff.model import CallCounts

LOAD = textwrap.dedent(
    """
    import subprocess, sys

    def leaf(x):
        return x + 1

    def numbers(n):
        for i in range(n):
            yield leaf(i)

    def middle(n):
        return sum(numbers(n))

    class Shop:
        def price(self):
            return middle(3)

    def main():
        for _ in range(5):
            middle(10)
        for _ in range(2):
            Shop().price()
        if sys.argv[1:] == ["parent"]:
            subprocess.run([sys.executable, __file__, "child"], check=True)

    main()
    """
)


def calls_of(counts: CallCounts, file: Path) -> dict[tuple[str | None, str], int]:
    """The calls into code of ``file``: (caller's name, callee's name) -> calls."""
    return {
        (caller[0] if caller else None, callee[0]): count
        for (caller, callee), count in counts.edges.items()
        if callee[1] == str(file)
    }


def test_every_call_is_counted_by_caller_in_every_process(tmp_path: Path) -> None:
    load = tmp_path / "load.py"
    load.write_text(LOAD)
    counts = count_calls([sys.executable, str(load), "parent"], tmp_path)
    assert counts.processes == 2
    assert counts.wall_seconds is not None
    assert counts.wall_seconds > 0
    found = calls_of(counts, load)
    # Each process: middle 5 times from main and once per Shop().price(); the generator is
    # called once per middle() however often it resumes; leaf once per number.
    assert found[("main", "middle")] == 2 * 5
    assert found[("Shop.price", "middle")] == 2 * 2
    assert found[("middle", "numbers")] == 2 * 7
    assert found[("numbers", "leaf")] == 2 * (5 * 10 + 2 * 3)
    assert found[("main", "Shop.price")] == 2 * 2


def test_the_loads_own_sitecustomize_still_runs_and_its_path_is_unchanged(
    tmp_path: Path,
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    marker = tmp_path / "marker"
    (own / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    load = tmp_path / "load.py"
    report = tmp_path / "path.json"
    load.write_text(f"import json, sys\njson.dump(sys.path, open({str(report)!r}, 'w'))\n")
    import subprocess

    environment = {"PYTHONPATH": str(own), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, str(load)], env=environment, check=True)
    untraced = json.loads(report.read_text())
    marker.unlink()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(own))
        counts = count_calls([sys.executable, str(load)])
    assert marker.read_text() == "ran"
    assert json.loads(report.read_text()) == untraced
    assert counts.processes == 1


def test_a_failing_load_fails_the_traced_run_with_its_last_line(tmp_path: Path) -> None:
    load = tmp_path / "load.py"
    load.write_text("raise SystemExit('no orders file')\n")
    with pytest.raises(CaptureError, match=r"exited with status 1 \(no orders file\)"):
        count_calls([sys.executable, str(load)])


def test_an_isolated_interpreter_is_named_rather_than_counted_as_no_calls(
    tmp_path: Path,
) -> None:
    load = tmp_path / "load.py"
    load.write_text("print('hello')\n")
    with pytest.raises(CaptureError, match=r"counted no Python process.*-S or -I"):
        count_calls([sys.executable, "-I", str(load)])
