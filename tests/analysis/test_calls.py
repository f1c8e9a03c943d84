"""Call counts set beside the sampled change: the victim told apart from the culprit."""

from __future__ import annotations

from flamediff.analysis.calls import call_change, calls_into, calls_text
from flamediff.model import CallCounts

PARSER = ("Version.__init__", "/venv/lib/python3.11/site-packages/packaging/version.py")
OTHER = ("Version.__init__", "/venv/lib/python3.11/site-packages/other/version.py")
PARSE = ("parse", "/venv/lib/python3.11/site-packages/packaging/version.py")
TOKENIZE = ("_tokenize", "/venv/lib/python3.11/site-packages/packaging/_tokenizer.py")
SAMPLED = "Version.__init__ (packaging/version.py)"


def counts(*edges: tuple[tuple[str, str] | None, tuple[str, str], int]) -> CallCounts:
    return CallCounts({(caller, callee): n for caller, callee, n in edges})


def test_a_sampled_name_is_matched_to_the_traced_code_by_the_end_of_its_path() -> None:
    traced = counts((PARSE, PARSER, 1_200), (None, PARSER, 4), (PARSE, OTHER, 999))
    assert calls_into(traced, SAMPLED) == {"parse": 1_200, "<interpreter>": 4}
    # A line-level name is the same function.
    assert calls_into(traced, "Version.__init__ (packaging/version.py:202)") == {
        "parse": 1_200,
        "<interpreter>": 4,
    }
    assert calls_into(traced, "Version.__init__ (elsewhere/version.py)") == {}


def test_a_victim_reads_called_more_often_from_its_new_caller_at_the_same_cost() -> None:
    base = counts((PARSE, PARSER, 1_204))
    head = counts((PARSE, PARSER, 1_204), (TOKENIZE, PARSER, 2_276))
    change = call_change(base, head, SAMPLED)
    assert (change.base_calls, change.head_calls) == (1_204, 3_480)
    text = calls_text(change, delta_pct=186.0)
    assert text == (
        "called 2.9x as often (1,204 -> 3,480 calls; +2,276 from _tokenize, a new caller), "
        "-1% time per call"
    )


def test_a_function_that_got_slower_itself_reads_called_as_often_and_slower_per_call() -> None:
    same = counts((PARSE, PARSER, 1_204))
    text = calls_text(call_change(same, same, SAMPLED), delta_pct=40.0)
    assert text == "called as often (1,204 -> 1,204 calls), +40% time per call"


def test_calls_that_moved_between_callers_name_the_caller_that_lost_them() -> None:
    base = counts((PARSE, PARSER, 900), (TOKENIZE, PARSER, 300))
    head = counts((PARSE, PARSER, 100))
    text = calls_text(call_change(base, head, SAMPLED), delta_pct=-90.0)
    assert text is not None
    assert text.startswith("called 0.083x as often (1,200 -> 100 calls; -800 from parse)")
    assert text.endswith("+20% time per call")


def test_code_the_tracer_never_saw_gives_no_clause_and_new_code_says_so() -> None:
    base, head = counts((PARSE, OTHER, 5)), counts((TOKENIZE, PARSER, 7))
    assert calls_text(call_change(base, base, SAMPLED), delta_pct=12.0) is None
    assert calls_text(call_change(base, head, SAMPLED), delta_pct=12.0) == (
        "not called in the base's traced run, 7 calls in the head's "
        "(+7 from _tokenize, a new caller)"
    )
    assert calls_text(call_change(head, base, SAMPLED)) == (
        "not called in the head's traced run (7 calls in the base's)"
    )
