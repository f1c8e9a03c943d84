"""speedscope JSON: strict writing, lenient reading, unit conversions."""

import json
from pathlib import Path

import pytest
from builders import profile
from jsonschema import Draft7Validator

import flamediff
from flamediff.errors import InputError
from flamediff.formats import parse_speedscope, read_profiles, write_speedscope
from flamediff.model import Profile

DATA = Path(__file__).parent.parent / "data" / "formats"
SCHEMA = json.loads((DATA / "speedscope-file-format-schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft7Validator(SCHEMA)


def parse(document: object, rate_hz: float | None = None) -> list[tuple[str, Profile]]:
    return parse_speedscope(json.dumps(document).encode(), "test.json", rate_hz=rate_hz)


def speedscope_file(profiles: list[dict], frames: list[dict] | None = None) -> dict:
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames if frames is not None else [{"name": "a"}, {"name": "b"}]},
        "profiles": profiles,
    }


def sampled(samples, weights, unit="none", name="run") -> dict:
    return {
        "type": "sampled",
        "name": name,
        "unit": unit,
        "startValue": 0,
        "endValue": 0,
        "samples": samples,
        "weights": weights,
    }


def nulls(value: object) -> list[object]:
    if value is None:
        return [value]
    if isinstance(value, dict):
        return [null for item in value.values() for null in nulls(item)]
    if isinstance(value, list):
        return [null for item in value for null in nulls(item)]
    return []


RUNS = [
    ("run 1", profile("main (app.py:1);parse (app.py:10) 3", "main (app.py:1) 2", " 1")),
    ("run 2", profile("main (app.py:1);parse (app.py:11) 4", "main (app.py:1);<x&y> 6")),
    ("empty", Profile()),
]


@pytest.mark.parametrize("rate_hz", [None, 100.0, 97.5])
def test_output_validates_strictly_against_the_official_schema(rate_hz):
    document = json.loads(write_speedscope(RUNS, name="v1 vs v2", rate_hz=rate_hz))
    VALIDATOR.validate(document)
    assert nulls(document) == []
    assert document["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert document["exporter"] == f"flamediff {flamediff.__version__}"
    assert document["activeProfileIndex"] == 0
    assert document["name"] == "v1 vs v2"
    assert [run["name"] for run in document["profiles"]] == ["run 1", "run 2", "empty"]


def test_output_is_sorted_indented_with_trailing_newline():
    text = write_speedscope(RUNS, name="x", rate_hz=None)
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert write_speedscope(RUNS, name="x", rate_hz=None) == text


def test_frames_are_shared_and_split_into_name_file_line():
    document = json.loads(write_speedscope(RUNS, name="x", rate_hz=None))
    assert document["shared"]["frames"] == [
        {"name": "<x&y>"},
        {"name": "main", "file": "app.py", "line": 1},
        {"name": "parse", "file": "app.py", "line": 10},
        {"name": "parse", "file": "app.py", "line": 11},
    ]


def test_frame_that_would_not_split_back_is_kept_whole():
    runs = [("r", Profile({("f (a.py:007)", "g (a.py)", "h (a (b).py:3)"): 1}))]
    frames = json.loads(write_speedscope(runs, name="x", rate_hz=None))["shared"]["frames"]
    assert frames == [
        {"name": "f (a.py:007)"},
        {"name": "g", "file": "a.py"},
        {"name": "h (a (b).py:3)"},
    ]


def test_without_rate_weights_are_counts_in_unit_none():
    [run] = json.loads(write_speedscope(RUNS[:1], name="x", rate_hz=None))["profiles"]
    assert run["unit"] == "none"
    assert sorted(run["weights"]) == [1, 2, 3]
    assert run["endValue"] == 6


def test_with_rate_weights_are_seconds_and_a_one_sample_entry_exists():
    runs = [("r", profile("a 4", "a;b 6"))]
    [run] = json.loads(write_speedscope(runs, name="x", rate_hz=50))["profiles"]
    assert run["unit"] == "seconds"
    assert run["samples"] == [[0], [0], [0, 1]]
    assert run["weights"] == [0.02, 3 / 50, 6 / 50]
    assert run["endValue"] == 0.2
    assert read_back(runs, rate_hz=50) == runs


def read_back(runs, rate_hz):
    text = write_speedscope(runs, name="x", rate_hz=rate_hz)
    return parse_speedscope(text.encode(), "x.json")


@pytest.mark.parametrize("rate_hz", [0, -100, float("nan"), float("inf")])
def test_a_meaningless_rate_is_a_caller_error(rate_hz):
    with pytest.raises(ValueError, match="rate_hz"):
        write_speedscope(RUNS, name="x", rate_hz=rate_hz)
    with pytest.raises(ValueError, match="rate_hz"):
        parse(speedscope_file([]), rate_hz=rate_hz)


def test_pyspy_output_with_nulls_reads_with_its_rate_inferred():
    [(name, parsed)] = read_profiles(DATA / "pyspy_nolineno.speedscope.json")
    assert name == 'Thread 8040 ""'
    assert parsed.total == 25
    by_function = {tuple(frame.split(" (")[0] for frame in stack): count for stack, count in parsed}
    assert by_function == {
        ("<module>", "outer", "inner"): 7,
        ("<module>", "outer", "inner", "inner.<locals>.<genexpr>"): 18,
    }
    assert all(frame.endswith("pyspy_load.py)") for stack, _ in parsed for frame in stack)


def test_pyspy_output_at_a_given_rate():
    # Captured at 50 Hz: read as if at 100 Hz, each sample counts twice.
    [(_, at_50)] = read_profiles(DATA / "pyspy_nolineno.speedscope.json", rate_hz=50)
    [(_, at_100)] = read_profiles(DATA / "pyspy_nolineno.speedscope.json", rate_hz=100)
    assert at_50.total == 25
    assert dict(at_100.counts) == {stack: 2 * count for stack, count in at_50}


def test_early_pyspy_output_in_unit_none_keeps_duplicate_names():
    profiles = read_profiles(DATA / "pyspy_early_unit_none.speedscope.json", rate_hz=250)
    assert profiles == [
        (
            "py-spy",
            Profile(
                {
                    ("<module> (app.py)", "work (app.py)"): 2,
                    ("<module> (app.py)", "wait (app.py)"): 1,
                    (): 1,
                }
            ),
        ),
        ("py-spy", Profile({("run (threading.py)",): 1})),
    ]


def test_evented_durations_become_counts_at_the_rate():
    path = DATA / "evented_milliseconds.speedscope.json"
    main, load, parse_ = "main (app.py:1)", "load (app.py:5)", "parse (app.py:9)"
    expected_ms = {(main,): 45, (main, load): 20, (main, load, parse_): 30, (main, parse_): 5}
    assert read_profiles(path, rate_hz=1000) == [("requests", Profile(expected_ms))]
    [(_, at_200)] = read_profiles(path, rate_hz=200)
    assert dict(at_200.counts) == {stack: ms // 5 for stack, ms in expected_ms.items()}


def test_evented_default_rate_is_100_hz():
    events = [
        {"type": "O", "frame": 0, "at": 1.0},
        {"type": "O", "frame": 1, "at": 1.25},
        {"type": "C", "frame": 1, "at": 1.5},
        {"type": "C", "frame": 0, "at": 2.0},
    ]
    evented = {
        "type": "evented",
        "name": "e",
        "unit": "seconds",
        "startValue": 1.0,
        "endValue": 2.0,
        "events": events,
    }
    assert parse(speedscope_file([evented])) == [("e", Profile({("a",): 75, ("a", "b"): 25}))]


@pytest.mark.parametrize(
    ("unit", "weight"),
    [
        ("seconds", 0.01),
        ("milliseconds", 10),
        ("microseconds", 10_000),
        ("nanoseconds", 10_000_000),
    ],
)
def test_time_units_convert_at_the_given_rate(unit, weight):
    document = speedscope_file([sampled([[0], [0, 1], [0, 1]], [weight] * 3, unit=unit)])
    assert parse(document, rate_hz=100) == [("run", Profile({("a",): 1, ("a", "b"): 2}))]


def test_time_weights_without_rate_count_in_units_of_the_smallest_weight():
    document = speedscope_file([sampled([[0], [0, 1], [0, 1]], [0.5, 1.5, 0], unit="milliseconds")])
    assert parse(document) == [("run", Profile({("a",): 1, ("a", "b"): 3}))]


def test_weights_round_to_nearest_and_zero_stacks_vanish():
    document = speedscope_file([sampled([[0], [1], []], [2.4, 0.4, 2.6])])
    assert parse(document) == [("run", Profile({("a",): 2, (): 3}))]


def test_integral_float_indexes_and_lines_are_accepted():
    frames = [{"name": "a", "file": "x.py", "line": 3.0, "col": None}]
    document = speedscope_file([sampled([[0.0], [0]], [1, 1])], frames=frames)
    assert parse(document) == [("run", Profile({("a (x.py:3)",): 2}))]


def test_names_are_made_writable_as_folded_text():
    frames = [{"name": "#root;x"}, {"name": "a;b\nc\r\x00"}, {"name": ""}, {"name": "\ud800"}]
    document = speedscope_file([sampled([[0, 1, 2, 3], [1, 0]], [1, 1])], frames=frames)
    from flamediff.errors import InputWarning

    with pytest.warns(InputWarning, match="3 frame name"):  # the empty name is not rewritten
        [(_, parsed)] = parse(document)
    assert dict(parsed.counts) == {
        (" #root:x", "a:b c  ", "[unknown]", "\ufffd"): 1,
        ("a:b c  ", "#root:x"): 1,
    }


def test_json_with_bom_is_read(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(speedscope_file([sampled([[0]], [3])])).encode())
    assert read_profiles(path) == [("run", Profile({("a",): 3}))]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "not a speedscope file: json top level is not an object"),
        ({"profiles": []}, "not a speedscope file: no speedscope $schema"),
        ({**speedscope_file([]), "shared": []}, "shared: missing or not an object"),
        ({**speedscope_file([]), "shared": {}}, "shared.frames: missing or not a list"),
        (speedscope_file([], frames=[1]), "shared.frames[0]: not an object"),
        (
            speedscope_file([], frames=[{"name": 1}]),
            "shared.frames[0].name: missing or not a string",
        ),
        (
            speedscope_file([], frames=[{"name": "a", "file": 1}]),
            "shared.frames[0].file: not a string",
        ),
        (
            speedscope_file([], frames=[{"name": "a", "line": 1.5}]),
            "shared.frames[0].line: not an integer",
        ),
        (speedscope_file(["x"]), "profiles[0]: not an object"),
        (
            speedscope_file([{**sampled([], []), "name": None}]),
            "profiles[0].name: missing or not a string",
        ),
        (
            speedscope_file([{**sampled([], []), "type": "x"}]),
            "profiles[0].type: unknown profile type 'x'",
        ),
        (speedscope_file([sampled("x", [])]), "profiles[0].samples: missing or not a list"),
        (speedscope_file([sampled([1], [1])]), "profiles[0].samples[0]: not a list"),
        (
            speedscope_file([sampled([[True]], [1])]),
            "profiles[0].samples[0][0]: frame index True is not an integer",
        ),
        (
            speedscope_file([sampled([[-1]], [1])]),
            "profiles[0].samples[0][0]: frame index -1 out of range (2 frames)",
        ),
        (
            speedscope_file([sampled([[0]], [True])]),
            "profiles[0].weights[0]: not a finite non-negative number",
        ),
        (
            speedscope_file([sampled([[0]], [2**63])]),
            "profiles[0]: count too large (above 2**63 - 1)",
        ),
        (
            speedscope_file([sampled([[0], [1]], [1e300, 1e-300], unit="seconds")]),
            "profiles[0]: count too large (above 2**63 - 1)",
        ),
        (
            speedscope_file(
                [
                    {
                        "type": "evented",
                        "name": "e",
                        "unit": "none",
                        "startValue": 0,
                        "endValue": 1,
                        "events": [{"type": "X", "frame": 0, "at": 0}],
                    }
                ]
            ),
            "profiles[0].events[0].type: unknown event type 'X'",
        ),
        (
            speedscope_file(
                [
                    {
                        "type": "evented",
                        "name": "e",
                        "unit": "none",
                        "startValue": 0,
                        "endValue": 1,
                        "events": [{"type": "O", "frame": 5, "at": 0}],
                    }
                ]
            ),
            "profiles[0].events[0].frame: frame index 5 out of range (2 frames)",
        ),
        (
            speedscope_file(
                [
                    {
                        "type": "evented",
                        "name": "e",
                        "unit": "none",
                        "startValue": 0,
                        "endValue": 1,
                        "events": [{"type": "O", "frame": 0}],
                    }
                ]
            ),
            "profiles[0].events[0].at: missing or not a finite number",
        ),
    ],
)
def test_wrong_shapes_name_the_json_path(document, reason):
    with pytest.raises(InputError) as excinfo:
        parse(document)
    assert (excinfo.value.line, excinfo.value.reason) == (None, reason)


@pytest.mark.parametrize(
    ("weights", "reason"),
    [
        ("[1e400]", "profiles[0].weights[0]: not a finite non-negative number"),
        ("[NaN]", "invalid json: nan is not a json number"),
        ("[-Infinity]", "invalid json: -infinity is not a json number"),
        ("[1" + "0" * 5000 + "]", "invalid json: integer literal too long"),
    ],
)
def test_non_finite_and_oversized_numbers_are_refused(weights, reason):
    text = json.dumps(speedscope_file([sampled([[0]], ["WEIGHTS"])])).replace(
        '["WEIGHTS"]', weights
    )
    with pytest.raises(InputError) as excinfo:
        parse_speedscope(text.encode(), "test.json")
    assert excinfo.value.reason == reason


def test_names_folded_stacks_cannot_hold_are_rewritten_and_the_reader_says_so():
    from flamediff.errors import InputWarning

    frames = [{"name": "parse;split"}, {"name": "line\nbreak"}, {"name": "plain"}]
    document = speedscope_file([sampled([[0, 1, 2]], [3])], frames)
    with pytest.warns(InputWarning) as caught:
        ((_, read),) = parse(document)
    assert dict(read.counts) == {("parse:split", "line break", "plain"): 3}
    (warning,) = caught
    assert str(warning.message).startswith("test.json: 2 frame name(s) held ';', a line break")
    assert "'parse;split'" in str(warning.message)


def test_a_file_read_exactly_as_written_warns_of_nothing():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse(speedscope_file([sampled([[0, 1]], [2])]))


def test_import_prints_the_rewrite_as_a_note(tmp_path: Path, capsys) -> None:
    from builders import run_cli

    frames = [{"name": "a;b"}, {"name": "c"}]
    path = tmp_path / "run.speedscope.json"
    path.write_text(json.dumps(speedscope_file([sampled([[0, 1]], [5])], frames)))
    code, _, err = run_cli(capsys, "import", "r1", str(path), "--archive", str(tmp_path / "a"))
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert notes == [
        f"note: {path}: 1 frame name(s) held ';', a line break, NUL or a lone surrogate, which "
        "folded stacks cannot hold: read with ':', spaces and U+FFFD instead (the first: 'a;b')"
    ]
