"""read_profiles: gzip and format detection by content, and every malformed input refused."""

import contextlib
import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flamediff.errors import InputError
from flamediff.formats import read_profiles
from flamediff.model import Profile

ROOT = Path(__file__).parent.parent.parent
DATA = ROOT / "tests" / "data" / "formats"
MALFORMED = ROOT / "sample_profiles" / "malformed"

FOLDED = b"main (app.py:1);work (app.py:2) 3\n 2\n"
FOLDED_PROFILE = Profile({("main (app.py:1)", "work (app.py:2)"): 3, (): 2})
SPEEDSCOPE = json.dumps(
    {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "main", "file": "app.py", "line": 1}]},
        "profiles": [
            {
                "type": "sampled",
                "name": "thread",
                "unit": "none",
                "startValue": 0,
                "endValue": 3,
                "samples": [[0], []],
                "weights": [3, 2],
            }
        ],
    }
).encode()
SPEEDSCOPE_PROFILE = Profile({("main (app.py:1)",): 3, (): 2})


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("run.txt", gzip.compress(FOLDED), [("run.txt", FOLDED_PROFILE)]),
        ("run.gz", FOLDED, [("run.gz", FOLDED_PROFILE)]),
        ("run.folded", FOLDED, [("run.folded", FOLDED_PROFILE)]),
        ("run.txt", SPEEDSCOPE, [("thread", SPEEDSCOPE_PROFILE)]),
        ("run.txt", gzip.compress(SPEEDSCOPE), [("thread", SPEEDSCOPE_PROFILE)]),
        ("run.json.gz", SPEEDSCOPE, [("thread", SPEEDSCOPE_PROFILE)]),
        ("run.json", b"\n  \r\n" + SPEEDSCOPE, [("thread", SPEEDSCOPE_PROFILE)]),
        ("run.txt", b"\xef\xbb\xbf" + FOLDED, [("run.txt", FOLDED_PROFILE)]),
        ("run.txt", FOLDED.replace(b"\n", b"\r\n"), [("run.txt", FOLDED_PROFILE)]),
        (
            "run.txt",
            gzip.compress(FOLDED) + gzip.compress(FOLDED),
            [("run.txt", Profile({stack: 2 * count for stack, count in FOLDED_PROFILE}))],
        ),
        ("empty.txt", b"", [("empty.txt", Profile())]),
        ("empty.gz", gzip.compress(b""), [("empty.gz", Profile())]),
    ],
)
def test_gzip_and_format_are_detected_by_content_not_name(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    assert read_profiles(path) == expected


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        (b"[native] 3\n", {("[native]",): 3}),
        (b"{lambda} 2\n", {("{lambda}",): 2}),
        (b"[unknown];x 1\n", {("[unknown]", "x"): 1}),
    ],
)
def test_folded_lines_starting_with_brackets_are_not_taken_for_json(tmp_path, first_line, expected):
    path = tmp_path / "run.txt"
    path.write_bytes(first_line)
    assert read_profiles(path) == [("run.txt", Profile(expected))]


def malformed_table() -> list[tuple[str, str]]:
    """The rows of sample_profiles/malformed/README.md: file name, expected error."""
    readme = (MALFORMED / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([^`]+)` \|[^|]*\| `([^`]+)` \|$", readme, re.MULTILINE)


def test_malformed_readme_lists_every_sample():
    listed = {name for name, _ in malformed_table()}
    present = {path.name for path in MALFORMED.iterdir() if path.name != "README.md"}
    assert listed == present
    assert len(listed) >= 6


@pytest.mark.parametrize(("name", "message"), malformed_table())
def test_malformed_samples_fail_as_documented(name, message):
    with pytest.raises(InputError) as excinfo:
        read_profiles(MALFORMED / name)
    assert str(excinfo.value) == f"{MALFORMED}/{message}"


BAD_FILES = [
    ("bad_negative_count.txt", 2, "negative count -2"),
    ("bad_huge_count.txt", 3, "count too large (above 2**63 - 1)"),
    ("bad_total_too_large.txt", 2, "stack total too large (above 2**63 - 1)"),
    ("bad_nul_byte.txt", 2, "nul byte in line (not a text file?)"),
    ("bad_empty_frame.txt", 3, "empty frame name"),
    ("bad_invalid_utf8.txt", 3, "invalid utf-8 (not a text file?)"),
    (
        "bad_invalid_json.speedscope.json",
        4,
        "invalid json: expecting property name enclosed in double quotes",
    ),
    ("bad_not_speedscope.json", None, "not a speedscope file: no speedscope $schema"),
    (
        "bad_weights_length.speedscope.json",
        None,
        "profiles[0]: 2 samples but 1 weights (must be equal)",
    ),
    (
        "bad_negative_weight.speedscope.json",
        None,
        "profiles[0].weights[1]: not a finite non-negative number",
    ),
    ("bad_nan_weight.speedscope.json", None, "invalid json: nan is not a json number"),
    ("bad_unknown_unit.speedscope.json", None, "profiles[0].unit: unknown unit 'furlongs'"),
    (
        "bad_frame_without_name.speedscope.json",
        None,
        "shared.frames[1].name: missing or not a string",
    ),
    (
        "bad_frame_index_not_integer.speedscope.json",
        None,
        "profiles[0].samples[1][1]: frame index '1' is not an integer",
    ),
    (
        "bad_events_out_of_order.speedscope.json",
        None,
        "profiles[0].events[1].at: time goes backwards (4 < 5)",
    ),
    (
        "bad_events_unbalanced.speedscope.json",
        None,
        "profiles[0].events[2]: closes frame 0, which is not the innermost open",
    ),
]


@pytest.mark.parametrize(("name", "line", "reason"), BAD_FILES)
def test_bad_files_fail_with_reason_and_line(name, line, reason):
    with pytest.raises(InputError) as excinfo:
        read_profiles(DATA / name)
    assert (excinfo.value.path, excinfo.value.line, excinfo.value.reason) == (
        str(DATA / name),
        line,
        reason,
    )


def test_bad_data_files_are_all_exercised():
    tested = {name for name, _, _ in BAD_FILES}
    assert tested == {path.name for path in DATA.glob("bad_*")}


@pytest.mark.parametrize("content", [b"[" * 100_000, b'{"a":' * 100_000])
def test_deeply_nested_json_is_refused_not_crashed(tmp_path, content):
    path = tmp_path / "deep.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match="json nested too deeply"):
        read_profiles(path)


def test_gzip_with_corrupt_data_is_refused(tmp_path):
    compressed = bytearray(gzip.compress(FOLDED * 50))
    compressed[20:30] = b"\xff" * 10
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(InputError, match="corrupt gzip data"):
        read_profiles(path)


def test_every_truncation_of_a_gzip_file_is_an_input_error(tmp_path):
    compressed = gzip.compress(FOLDED * 20, mtime=0)
    path = tmp_path / "cut.gz"
    for end in range(2, len(compressed)):
        path.write_bytes(compressed[:end])
        with pytest.raises(InputError):
            read_profiles(path)


def test_missing_file_and_directory_are_input_errors(tmp_path):
    with pytest.raises(InputError, match=r"nope\.txt: cannot read file: no such file or directory"):
        read_profiles(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="cannot read file: is a directory"):
        read_profiles(tmp_path)


PREFIXES = [b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", b'{"', b"[", b"a;b 1\n"]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=200))
def test_random_bytes_give_profiles_or_input_error(tmp_path, prefix, body):
    path = tmp_path / "random"
    path.write_bytes(prefix + body)
    with contextlib.suppress(InputError):
        read_profiles(path)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(max_size=30), max_size=10), compress=st.booleans())
def test_random_text_files_give_profiles_or_input_error(tmp_path, lines, compress):
    content = "\n".join(lines).encode("utf-8")
    path = tmp_path / "random.txt"
    path.write_bytes(gzip.compress(content) if compress else content)
    with contextlib.suppress(InputError):
        read_profiles(path)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    document=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "$schema",
                        "shared",
                        "frames",
                        "profiles",
                        "type",
                        "name",
                        "unit",
                        "samples",
                        "weights",
                        "events",
                        "at",
                        "frame",
                        "file",
                        "line",
                        "endValue",
                    ]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_random_json_gives_profiles_or_input_error(tmp_path, document):
    if isinstance(document, dict):
        document["$schema"] = "https://www.speedscope.app/file-format-schema.json"
    path = tmp_path / "random.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with contextlib.suppress(InputError):
        read_profiles(path)
