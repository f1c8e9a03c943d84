"""A damaged release is named, file and reason, and never takes the others down with it.

Every field of one release's ``release.json`` is edited at random (wrong types, odd values,
keys removed, the text truncated or replaced by bytes), and its run files truncated,
emptied or removed. Whatever the damage: `list` still lists the sound releases and warns
about the damaged one by file; `check` says what is wrong with it, naming the file; reading
it ends in one ``error:`` line naming the file; the sound releases read as before.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flamediff.archive import FORMAT_VERSION, Archive, utc_now
from flamediff.cli import main
from flamediff.model import Justification, Profile, ReleaseInfo, RunInfo

RUNS = tuple(
    Profile({("main (a.py:1)", "work (a.py:2)"): 40 + run, ("main (a.py:1)", "wait (a.py:3)"): 9})
    for run in range(5)
)
FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("damage") / "archive"
    archive = Archive(root)
    for name in ("v1", "v2", "v3"):
        with archive.writer(name) as writer:
            for profile in RUNS:
                writer.add_run(profile, RunInfo(profile.total, profile.total / 100, 0))
            writer.commit(ReleaseInfo(name=name, created=utc_now(), rate_hz=100.0))
    archive.add_justification("v2", Justification("v1", "a reason", utc_now()))
    return root


def fresh(template: Path, tmp_path: Path) -> Path:
    """A copy of the sound archive; each example damages its own."""
    root = tmp_path / "archive"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(template, root)
    return root


def assert_named_one_line(code: int, err: str, damaged: Path) -> None:
    """One ``error:`` line naming ``damaged``, or a file in it when it is a folder."""
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith((f"error: {damaged}:", f"error: {damaged}/")), err


def assert_damage_is_contained(root: Path, damaged: Path) -> None:
    """The contract every kind of damage to v2 must keep; ``damaged`` is the file the
    damage was done to, or v2's folder where the message may name any of its files."""
    named = (f"{damaged}:", f"{damaged}/")
    archive = Archive(root)
    # The sound releases read as before.
    for name in ("v1", "v3"):
        assert [dict(p.counts) for p in archive.load(name).profiles] == [
            dict(p.counts) for p in RUNS
        ]
    code, out, err = run("list", "--format", "json", "--archive", str(root))
    assert code == 0, err
    listing = json.loads(out)
    listed = [row["name"] for row in listing["releases"]]
    assert {"v1", "v3"} <= set(listed)
    if "v2" not in listed:
        assert listing["damaged"] == ["v2"]
        assert err.startswith(tuple(f"warning: v2: {prefix}" for prefix in named)), err
    code, _, err = run("check", "--archive", str(root))
    assert "Traceback" not in err
    if code != 0:
        assert code == 2
        assert any(line.startswith(f"damaged: {damaged}") for line in err.splitlines()), err
        assert err.splitlines()[-1].startswith("error: ")
    for args in (["show", "v2", "--format", "json"], ["diff", "v1", "v2", "--format", "json"]):
        code, out, err = run(*args, "--archive", str(root))
        if code != 0:
            assert_named_one_line(code, err, damaged)
            break  # the diff would read v2 the same way


# ---- release.json edited ---------------------------------------------------------------------

ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from(["", "v2", "../x", "\x1b[2J", "x" * 500, "2026-01-01T00:00:00Z"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["file", "samples", "base", "reason"]), children, max_size=3
        )
    ),
    max_leaves=6,
)
KEYS = ["format_version", "name", "sequence", "created", "source", "rate_hz", "command",
        "git_commit", "git_dirty", "python_version", "py_spy_version", "profiler", "host",
        "runs", "justifications"]  # fmt: skip
RUN_KEYS = ["file", "samples", "sha256", "wall_seconds", "exit_status", "cpu_seconds",
            "probe_seconds"]  # fmt: skip


@FUZZ
@given(
    key=st.sampled_from(KEYS),
    value=ANY_JSON | st.just(math.inf) | st.just(math.nan),
    delete=st.booleans(),
)
def test_any_field_of_release_json_edited(
    template: Path, tmp_path: Path, key: str, value, delete: bool
) -> None:
    damaged = fresh(template, tmp_path)
    path = damaged / "v2" / "release.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    if delete:
        document.pop(key, None)
    else:
        document[key] = value
    path.write_text(json.dumps(document), encoding="utf-8")
    assert_damage_is_contained(damaged, path)


@FUZZ
@given(
    index=st.integers(0, 4),
    key=st.sampled_from(RUN_KEYS),
    value=ANY_JSON
    | st.sampled_from(["/etc/passwd", "../v1/run-01.folded.gz", "run-09.folded.gz", ".lock"]),
    delete=st.booleans(),
)
def test_any_field_of_a_run_edited(
    template: Path, tmp_path: Path, index: int, key: str, value, delete
) -> None:
    damaged = fresh(template, tmp_path)
    path = damaged / "v2" / "release.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    if delete:
        document["runs"][index].pop(key, None)
    else:
        document["runs"][index][key] = value
    path.write_text(json.dumps(document), encoding="utf-8")
    assert_damage_is_contained(damaged, damaged / "v2")  # e.g. the run file it now names


@FUZZ
@given(cut=st.floats(0, 1, exclude_max=True), garbage=st.binary(max_size=40))
def test_release_json_truncated_or_garbled(
    template: Path, tmp_path: Path, cut: float, garbage: bytes
) -> None:
    damaged = fresh(template, tmp_path)
    path = damaged / "v2" / "release.json"
    text = path.read_bytes()
    path.write_bytes(text[: int(cut * len(text))] + garbage)
    assert_damage_is_contained(damaged, path)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"format_version": FORMAT_VERSION + 1}, "written by a newer flamediff"),
        ({"format_version": 0}, "bad format_version"),
        ({"name": "v9"}, "names the release 'v9', its folder 'v2'"),
        ({"name": "../x"}, "names the release '../x', its folder 'v2'"),
    ],
)
def test_named_damage_says_what_is_wrong(
    template: Path, tmp_path: Path, edit: dict, reason: str
) -> None:
    damaged = fresh(template, tmp_path)
    path = damaged / "v2" / "release.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(edit)
    path.write_text(json.dumps(document), encoding="utf-8")
    assert_damage_is_contained(damaged, path)
    code, _, err = run("show", "v2", "--archive", str(damaged))
    assert_named_one_line(code, err, path)
    assert reason in err


def test_a_missing_release_json_is_named(template: Path, tmp_path: Path) -> None:
    damaged = fresh(template, tmp_path)
    path = damaged / "v2" / "release.json"
    path.unlink()
    assert_damage_is_contained(damaged, path)
    for args in (["list"], ["show", "v1"], ["diff", "v1", "v3"], ["export", "v3"]):
        code, _, err = run(*args, "--archive", str(damaged))
        assert code == 0, (args, err)


# ---- run files damaged ------------------------------------------------------------------------


@FUZZ
@given(
    index=st.integers(0, 4),
    damage=st.sampled_from(["truncate", "empty", "remove", "garble", "swap", "directory"]),
    cut=st.integers(0, 200),
)
def test_a_damaged_run_file_is_named(
    template: Path, tmp_path: Path, index: int, damage: str, cut: int
) -> None:
    damaged = fresh(template, tmp_path)
    path = damaged / "v2" / f"run-{index + 1:02d}.folded.gz"
    data = path.read_bytes()
    shutil.rmtree(damaged / "v2" / ".cache", ignore_errors=True)
    if damage == "truncate":
        path.write_bytes(data[: min(cut, len(data) - 1)])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "remove":
        path.unlink()
    elif damage == "garble":
        cut = min(cut, len(data) - 1)
        path.write_bytes(data[:cut] + bytes(byte ^ 0x5A for byte in data[cut:]))
    elif damage == "swap":  # a sound file with other counts: release.json disagrees
        other = damaged / "v2" / f"run-{(index + 1) % 5 + 1:02d}.folded.gz"
        path.write_bytes(other.read_bytes())
    else:
        path.unlink()
        path.mkdir()
    archive = Archive(damaged)
    problems = archive.check()
    # Every damage is found, a sound run file swapped in too: release.json records each
    # run file's SHA-256.
    assert problems, damage
    assert all(str(path) in problem for problem in problems), problems
    assert_damage_is_contained(damaged, path)


def test_check_reports_every_damaged_release_at_once(template: Path, tmp_path: Path) -> None:
    damaged = fresh(template, tmp_path)
    (damaged / "v1" / "release.json").write_text("{", encoding="utf-8")
    (damaged / "v3" / "run-02.folded.gz").write_bytes(b"\x1f\x8b\x08")
    code, _, err = run("check", "--archive", str(damaged))
    assert code == 2
    damaged_lines = [line for line in err.splitlines() if line.startswith("damaged: ")]
    assert len(damaged_lines) == 2, err
    assert re.search(rf"damaged: {re.escape(str(damaged / 'v1' / 'release.json'))}", err)
    assert re.search(rf"damaged: {re.escape(str(damaged / 'v3' / 'run-02.folded.gz'))}", err)
    assert err.splitlines()[-1] == f"error: {damaged}: 2 problem(s) found"


def test_a_run_file_edited_with_its_sample_count_unchanged_fails_every_reader(
    template: Path, tmp_path: Path
) -> None:
    damaged = fresh(template, tmp_path)
    path = damaged / "v2" / "run-03.folded.gz"
    total = RUNS[2].total
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write(f"main (a.py:1);innocent (a.py:9) {total}\n")
    for args in (["gate", "v1", "v2"], ["diff", "v1", "v2"], ["export", "v2"], ["check"]):
        code, _, err = run(*args, "--archive", str(damaged))
        assert code == 2, (args, err)
        line = f"{path}: not the run file archived (its SHA-256 differs from the one release.json"
        assert line in err, (args, err)
        assert "Traceback" not in err
