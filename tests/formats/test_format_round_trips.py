"""Round trips: whatever flamediff writes, it reads back to the same counts."""

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from flamediff.formats import (
    parse_collapsed,
    parse_speedscope,
    read_profiles,
    write_collapsed,
    write_diff_folded,
    write_speedscope,
)
from flamediff.model import Profile

DATA = Path(__file__).parent.parent / "data" / "formats"
VALIDATOR = Draft7Validator(
    json.loads((DATA / "speedscope-file-format-schema.json").read_text(encoding="utf-8"))
)

# Anything but the folded separators (`;`, line ends) and NUL: spaces, markup, quotes,
# digits at the end, astral-plane characters all included.
name_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters=";\r\n\x00"),
    min_size=1,
    max_size=12,
)
markup = st.sampled_from(
    ["<module>", "<lambda>", "a & b", '"q"', "'s'", "x 12", " ", "é☃\U0001d518"]
)
pyspy_frame = st.builds(
    lambda function, file, line: f"{function} ({file}{line})",
    st.one_of(markup, name_text),
    st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters=";\r\n\x00()"), max_size=8
    ),
    st.one_of(st.just(""), st.from_regex(r":[0-9]{1,5}", fullmatch=True)),
)
frame = st.one_of(name_text, markup, pyspy_frame)
# A root frame starting with `#` would read back as a comment line; see collapsed.py.
stack = st.lists(frame, max_size=6).map(tuple).filter(lambda s: not s or s[0][0] != "#")


def profiles(max_count: int) -> st.SearchStrategy[Profile]:
    return st.dictionaries(stack, st.integers(1, max_count), max_size=8).map(Profile)


run_names = st.text(st.characters(blacklist_categories=["Cs"]), max_size=10)


@given(profiles(2**63 - 1))
def test_folded_round_trip(profile):
    text = write_collapsed(profile)
    assert parse_collapsed(text.split("\n"), "<written>") == profile
    assert write_collapsed(parse_collapsed(text.split("\n"), "<written>")) == text


@settings(deadline=None, max_examples=50)
@given(profile=profiles(2**63 - 1), compress=st.booleans())
def test_folded_round_trip_through_a_file(tmp_path_factory, profile, compress):
    data = write_collapsed(profile).encode("utf-8")
    path = tmp_path_factory.mktemp("folded") / "run.txt"
    path.write_bytes(gzip.compress(data) if compress else data)
    assert read_profiles(path) == [("run.txt", profile)]


@settings(max_examples=50)
@given(profiles(1000), profiles(1000))
def test_diff_folded_holds_both_counts_of_every_stack(base, head):
    lines = write_diff_folded(base, head).split("\n")
    assert lines.pop() == ""
    base_counts: dict[tuple[str, ...], int] = {}
    head_counts: dict[tuple[str, ...], int] = {}
    for line in lines:
        stack_text, base_count, head_count = line.rsplit(" ", 2)
        stack_tuple = tuple(stack_text.split(";")) if stack_text else ()
        base_counts[stack_tuple] = int(base_count)
        head_counts[stack_tuple] = int(head_count)
    assert len(lines) == len(base_counts)
    assert Profile.from_pairs(base_counts.items()) == base
    assert Profile.from_pairs(head_counts.items()) == head


@settings(deadline=None, max_examples=60)
@given(
    runs=st.lists(st.tuples(run_names, profiles(2**48)), max_size=3),
    rate_hz=st.one_of(st.none(), st.floats(1, 10_000), st.sampled_from([100.0, 250.0, 1.0])),
)
def test_speedscope_round_trip_keeps_counts_and_validates(tmp_path_factory, runs, rate_hz):
    text = write_speedscope(runs, name="release", rate_hz=rate_hz)
    VALIDATOR.validate(json.loads(text))
    path = tmp_path_factory.mktemp("speedscope") / "export.json"
    path.write_text(text, encoding="utf-8")
    assert read_profiles(path) == runs
    if rate_hz is not None:
        assert read_profiles(path, rate_hz=rate_hz) == runs


@given(profiles(2**63 - 1))
def test_speedscope_round_trip_of_int64_counts_without_rate(profile):
    runs = [("r", profile)]
    text = write_speedscope(runs, name="x", rate_hz=None)
    assert parse_speedscope(text.encode(), "x.json") == runs


@pytest.mark.parametrize("rate_hz", [None, 100.0])
def test_pyspy_capture_survives_export_and_import(tmp_path, rate_hz):
    captured = read_profiles(DATA / "pyspy_nolineno.speedscope.json")
    path = tmp_path / "export.json"
    path.write_text(write_speedscope(captured, name="x", rate_hz=rate_hz), encoding="utf-8")
    assert read_profiles(path) == captured
