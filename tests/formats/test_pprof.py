"""pprof export: the bytes parse against pprof's own schema and say what was captured."""

import gzip
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from builders import import_release, profile, run_cli, sample_runs
from hypothesis import given, settings
from hypothesis import strategies as st

from flamediff.formats.pprof import write_pprof
from flamediff.model import FrameName, Profile

# pprof's own schema, copied unchanged from
# https://github.com/google/pprof/blob/4bf881d7fb0b/proto/profile.proto
SCHEMA = Path(__file__).parent.parent / "data" / "formats" / "pprof-profile.proto"


@pytest.fixture(scope="module")
def profile_pb2(tmp_path_factory):
    """pprof's schema compiled by protoc into a Python module, here and now."""
    protoc = pytest.importorskip("grpc_tools.protoc", reason="pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("pprof_pb2")
    shutil.copy(SCHEMA, out / "profile.proto")
    include = Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        ["protoc", f"-I{out}", f"-I{include}", f"--python_out={out}", str(out / "profile.proto")]
    )
    assert status == 0
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("profile_pb2")
    finally:
        sys.path.remove(str(out))
        sys.modules.pop("profile_pb2", None)


def parse(profile_pb2, data: bytes):
    message = profile_pb2.Profile()
    message.ParseFromString(gzip.decompress(data))
    return message


def stacks_of(message) -> dict[tuple[str, tuple[str, ...]], list[int]]:
    """``{(run label, stack root first as frame names): values}``, rebuilt from the ids."""
    text = list(message.string_table)
    functions = {f.id: f for f in message.function}
    names = {}
    for location in message.location:
        (line,) = location.line
        function = functions[line.function_id]
        name, file = text[function.name], text[function.filename]
        if file:
            name += f" ({file}:{line.line})" if line.line else f" ({file})"
        names[location.id] = name
    out = {}
    for sample in message.sample:
        labels = {text[label.key]: text[label.str] for label in sample.label}
        stack = tuple(names[i] for i in reversed(sample.location_id))
        out[(labels["run"], stack)] = list(sample.value)
    return out


def test_samples_and_time_per_run_with_labels(profile_pb2):
    runs = [
        ("1", profile("main (app.py:3);slow (app.py:10) 5", "main (app.py:3) 2")),
        ("2", profile("main (app.py:3);slow (app.py:12) 4", " 1")),
    ]
    message = parse(profile_pb2, write_pprof(runs, release="v2", rate_hz=100.0))
    text = list(message.string_table)
    assert text[0] == ""
    assert [(text[t.type], text[t.unit]) for t in message.sample_type] == [
        ("samples", "count"),
        ("cpu", "nanoseconds"),
    ]
    assert text[message.default_sample_type] == "cpu"
    assert message.period == 10_000_000
    assert (text[message.period_type.type], text[message.period_type.unit]) == (
        "cpu",
        "nanoseconds",
    )
    assert stacks_of(message) == {
        ("1", ("main (app.py:3)", "slow (app.py:10)")): [5, 50_000_000],
        ("1", ("main (app.py:3)",)): [2, 20_000_000],
        ("2", ("main (app.py:3)", "slow (app.py:12)")): [4, 40_000_000],
        ("2", ()): [1, 10_000_000],
    }
    releases = {
        text[label.str] for s in message.sample for label in s.label if text[label.key] == "release"
    }
    assert releases == {"v2"}


def test_one_function_per_name_and_file_one_location_per_line(profile_pb2):
    runs = [
        ("1", profile("main (app.py:3);slow (app.py:10) 5", "main (app.py:3);slow (app.py:12) 1"))
    ]
    message = parse(profile_pb2, write_pprof(runs, release="v1", rate_hz=None))
    text = list(message.string_table)
    assert sorted(text[f.name] for f in message.function) == ["main", "slow"]
    assert {text[f.filename] for f in message.function} == {"app.py"}
    assert sorted(loc.line[0].line for loc in message.location) == [3, 10, 12]
    # Without a rate there is no time to show: counts only.
    assert [text[t.type] for t in message.sample_type] == ["samples"]
    assert message.period == 0


def test_frames_without_a_file_keep_their_whole_name(profile_pb2):
    # A line number with leading zeros would not come back the same from a number.
    runs = [("1", profile('process 12:"python x.py";<native>;f (m.py:007) 3'))]
    message = parse(profile_pb2, write_pprof(runs, release="v1", rate_hz=None))
    assert stacks_of(message) == {
        ("1", ('process 12:"python x.py"', "<native>", "f (m.py:007)")): [3]
    }
    assert all(message.string_table[f.filename] == "" for f in message.function)


def test_same_release_same_bytes():
    runs = [("1", profile("a;b 3", "a;c 1")), ("2", profile("a;c 2"))]
    reordered = [("1", profile("a;c 1", "a;b 3")), ("2", profile("a;c 2"))]
    assert write_pprof(runs, release="v", rate_hz=250.0) == write_pprof(
        reordered, release="v", rate_hz=250.0
    )


def test_a_rate_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="positive"):
        write_pprof([], release="v", rate_hz=0.0)


frame_text = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=10)
frame = st.one_of(
    frame_text,
    st.builds(
        lambda f, file, line: f"{f} ({file}:{line})", frame_text, frame_text, st.integers(1, 99_999)
    ),
)
stack = st.lists(frame, max_size=5).map(tuple)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(stack, st.integers(1, 2**40), max_size=6), min_size=1, max_size=3))
def test_any_release_reads_back_to_the_same_counts(profile_pb2, runs):
    named = [(str(i + 1), Profile(counts)) for i, counts in enumerate(runs)]
    message = parse(profile_pb2, write_pprof(named, release="r", rate_hz=None))
    text = list(message.string_table)
    functions = {f.id: f for f in message.function}
    locations = {loc.id: loc.line[0] for loc in message.location}
    back: dict[str, dict] = {name: {} for name, _ in named}
    for sample in message.sample:
        labels = {text[label.key]: text[label.str] for label in sample.label}
        frames = []
        for location_id in reversed(sample.location_id):
            line = locations[location_id]
            function = functions[line.function_id]
            parts = FrameName(
                text[function.name], text[function.filename] or None, line.line or None
            )
            frames.append(
                parts.function
                if parts.file is None
                else f"{parts.function} ({parts.file}:{parts.line})"
            )
        (count,) = sample.value
        back[labels["run"]][tuple(frames)] = count
    assert back == {name: dict(p.counts) for name, p in named}


def test_export_command_writes_a_gzipped_profile(tmp_path, capsys, profile_pb2):
    archive = tmp_path / "archive"
    import_release(capsys, archive, "v1", sample_runs("v1")[:2])
    out = tmp_path / "v1.pb.gz"
    code, _, err = run_cli(
        capsys, "export", "v1", "--format", "pprof", "-o", str(out), "--archive", str(archive)
    )
    assert code == 0, err
    message = parse(profile_pb2, out.read_bytes())
    text = list(message.string_table)
    assert message.period == 2_000_000  # imported at 500 Hz
    runs = {
        text[label.str] for s in message.sample for label in s.label if text[label.key] == "run"
    }
    assert runs == {"1", "2"}
    total = sum(s.value[0] for s in message.sample)
    expected = sum(
        int(line.rpartition(" ")[2])
        for path in sample_runs("v1")[:2]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    assert total == expected


CONSUMER = Path(__file__).parent.parent / "consumers"


def test_read_by_the_pprof_format_javascript_decoder(tmp_path):
    """Datadog's `pprof-format` (npm), the decoder its profilers and Pyroscope's tools use."""
    node = shutil.which("node")
    module = CONSUMER / "node_modules" / "pprof-format"
    if node is None or not module.exists():
        pytest.skip("needs node and `make consumers` (npm install pprof-format)")
    runs = [("1", profile("main (app.py:3);slow (app.py:10) 5")), ("2", profile(" 2"))]
    path = tmp_path / "v.pb.gz"
    path.write_bytes(write_pprof(runs, release="v", rate_hz=100.0))
    done = subprocess.run(
        [node, str(CONSUMER / "read_pprof.mjs"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "types samples/count cpu/nanoseconds",
        "period 10000000",
        "release=v run=1 main (app.py:3);slow (app.py:10) 5 50000000",
        "release=v run=2  2 20000000",
    ]
