"""Folded stacks: parsing, writing, the differential variant."""

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flamediff.errors import InputError
from flamediff.formats import parse_collapsed, read_profiles, write_collapsed, write_diff_folded
from flamediff.model import Profile

DATA = Path(__file__).parent.parent / "data" / "formats"


def profile(*lines: str) -> Profile:
    return parse_collapsed(lines, "<test>")


def test_count_is_after_the_last_space_and_names_keep_spaces_markup_and_unicode():
    parsed = profile(
        "main (app.py:1);<lambda> (a b.py:2) 3",
        "render <div class=\"x\"> & 'y';naïve ☃ \U0001d518 7",
    )
    assert dict(parsed.counts) == {
        ("main (app.py:1)", "<lambda> (a b.py:2)"): 3,
        ("render <div class=\"x\"> & 'y'", "naïve ☃ \U0001d518"): 7,
    }


def test_empty_stack_line_is_the_empty_tuple():
    assert dict(profile(" 4", "a 1").counts) == {(): 4, ("a",): 1}


def test_blank_comment_and_crlf_lines_are_tolerated():
    parsed = profile("# written by hand\r\n", "\r\n", "a;b 2\r\n", "   \n", "a;b 3 \n")
    assert dict(parsed.counts) == {("a", "b"): 5}


def test_repeated_stacks_are_summed_and_zero_counts_dropped():
    assert dict(profile("a;b 2", "a;c 0", "a;b 40").counts) == {("a", "b"): 42}


def test_frames_are_interned_across_lines():
    parsed = profile("main (app.py:1);x 1", "main (app.py:1);y 1")
    first, second = (stack for stack, _ in parsed)
    assert first[0] is second[0]


def test_largest_int64_count_is_accepted():
    assert profile(f"a {2**63 - 1}").total == 2**63 - 1


@pytest.mark.parametrize(
    ("lines", "line", "reason"),
    [
        (["a 1", "a;b"], 2, "missing count"),
        (["a 1", "a;b ", "x"], 2, "missing count"),
        (["a;b x"], 1, "missing count"),
        (["a;b 1.5"], 1, "bad count '1.5' (expected a non-negative integer)"),
        (["a;b 1e3"], 1, "bad count '1e3' (expected a non-negative integer)"),
        (["a;b +3"], 1, "bad count '+3' (expected a non-negative integer)"),
        (["", "a;b -3"], 2, "negative count -3"),
        (["a;b \uff13"], 1, "missing count"),  # a fullwidth digit
        (["a;b 9223372036854775808"], 1, "count too large (above 2**63 - 1)"),
        (["a;b " + "9" * 5000], 1, "count too large (above 2**63 - 1)"),
        ([f"a {2**63 - 1}", "a 1"], 2, "stack total too large (above 2**63 - 1)"),
        (["a;;b 1"], 1, "empty frame name"),
        (["a; 1"], 1, "empty frame name"),
        ([";a 1"], 1, "empty frame name"),
        (["# ok", "a\x00b 1"], 2, "nul byte in line (not a text file?)"),
    ],
)
def test_malformed_lines_raise_input_error_with_line(lines, line, reason):
    with pytest.raises(InputError) as excinfo:
        parse_collapsed(lines, "run.txt")
    assert (excinfo.value.path, excinfo.value.line, excinfo.value.reason) == (
        "run.txt",
        line,
        reason,
    )
    assert str(excinfo.value) == f"run.txt:{line}: {reason}"


@given(st.lists(st.text(max_size=40), max_size=8))
def test_random_lines_give_a_profile_or_input_error(lines):
    with contextlib.suppress(InputError):
        parse_collapsed(lines, "random.txt")


def test_pyspy_raw_output_reads_with_its_empty_stack():
    [(name, parsed)] = read_profiles(DATA / "pyspy_raw.folded")
    assert name == "pyspy_raw.folded"
    assert parsed.total == 38
    assert parsed.counts[()] == 1
    assert (
        parsed.counts[
            (
                "<module> (pyspy_load.py:16)",
                "outer (pyspy_load.py:13)",
                "inner (pyspy_load.py:7)",
                "inner.<locals>.<genexpr> (pyspy_load.py:7)",
            )
        ]
        == 26
    )


def test_write_collapsed_is_sorted_with_empty_stack_and_trailing_newline():
    parsed = profile("b;c 2", "a x 1", " 4", "a;b 3")
    assert write_collapsed(parsed) == " 4\na x 1\na;b 3\nb;c 2\n"


def test_write_collapsed_of_empty_profile_is_empty():
    assert write_collapsed(Profile()) == ""


def test_pyspy_raw_output_round_trips():
    text = (DATA / "pyspy_raw.folded").read_text(encoding="utf-8")
    parsed = parse_collapsed(text.split("\n"), "pyspy_raw.folded")
    assert parse_collapsed(write_collapsed(parsed).split("\n"), "again") == parsed


@pytest.mark.parametrize(
    "stack",
    [("",), ("a", ""), ("a;b",), ("a\nb",), ("a\rb",), ("a\x00",), ("#root", "b")],
)
def test_stacks_that_would_not_read_back_are_refused(stack):
    with pytest.raises(ValueError, match="cannot be written"):
        write_collapsed(Profile({stack: 1}))


def test_non_root_frame_may_start_with_hash():
    parsed = Profile({("a", "#b"): 1})
    assert profile(*write_collapsed(parsed).split("\n")) == parsed


def test_write_diff_folded_lists_every_stack_of_either_side_sorted():
    base = profile("a;b 3", "a;c 1", " 2")
    head = profile("a;b 5", "a;d e 7")
    assert write_diff_folded(base, head) == " 2 0\na;b 3 5\na;c 1 0\na;d e 0 7\n"


def test_write_diff_folded_of_two_empty_profiles_is_empty():
    assert write_diff_folded(Profile(), Profile()) == ""
