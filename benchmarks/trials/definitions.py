"""The trials, as data: a new library is one more entry in TRIALS.

Each trial installs every version of one pure-Python PyPI library into its own venv, runs the
same fixed load (loads/<file>) on each, and compares consecutive versions. `culprits` names the
functions whose code changed between the two versions AND that explain the change the load
shows; they were found in the source diff (`srcdiff.py` lists every changed function, and the
runner records that full list beside the result). A block message should name one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Pair:
    """Two consecutive versions of a trial, and what the source diff says changed."""

    base: str
    head: str
    kind: str  # "speed-up", "touches most", "one function", "no change"
    story: str  # what changed, in one or two sentences, from the changelog and the diff
    culprits: tuple[str, ...] = ()  # `qualname (path)` of the changed functions that matter


@dataclass(frozen=True, slots=True)
class Trial:
    name: str
    requirement: str  # the PyPI project name
    packages: tuple[str, ...]  # its import packages, whose source is diffed
    versions: tuple[str, ...]  # in release order: `flamediff release` is run in this order
    load: str  # file under benchmarks/trials/loads/
    pairs: tuple[Pair, ...]
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)  # version -> more pins


TRIALS: tuple[Trial, ...] = (
    Trial(
        name="packaging",
        requirement="packaging",
        packages=("packaging",),
        versions=("21.3", "22.0"),
        load="packaging_load.py",
        # 21.3 parses requirements and markers with pyparsing; pin it so the base is fixed.
        extra={"21.3": ("pyparsing==3.0.9",)},
        pairs=(
            Pair(
                base="21.3",
                head="22.0",
                kind="speed-up",
                story=(
                    "22.0 replaced the pyparsing grammar of requirements and markers with a "
                    "hand-written tokenizer and parser (packaging/_tokenizer.py, _parser.py), and "
                    "dropped LegacyVersion; requirement parsing is about 8x faster, the load "
                    "about 2.5x. Version's code is unchanged. One new cost: the new "
                    "Tokenizer.__init__ compiles every rule with re.compile for each requirement, "
                    "so re._compile is called 10x as often (34,200 calls from its dict "
                    "comprehension against 3,720)."
                ),
                culprits=(
                    "Requirement.__init__ (packaging/requirements.py)",
                    "Marker.__init__ (packaging/markers.py)",
                    "Tokenizer.__init__ (packaging/_tokenizer.py)",
                ),
            ),
        ),
    ),
    Trial(
        name="sqlparse",
        requirement="sqlparse",
        packages=("sqlparse",),
        versions=("0.4.4", "0.5.0"),
        load="sqlparse_load.py",
        pairs=(
            Pair(
                base="0.4.4",
                head="0.5.0",
                kind="touches most",
                story=(
                    "0.5.0 reworked grouping (new OVER/window grouping, group_period, "
                    "group_order, group_functions, group_assignment), the lexer's default "
                    "instance, TokenList.flatten and utils.imt: 19 functions changed and 3 "
                    "added, on the hot path of every statement; the lexer's regular expressions "
                    "(data, not functions) changed too. imt and Token.match are called 12-15% "
                    "more often; imt no longer builds lists on each call."
                ),
                culprits=(
                    "imt (sqlparse/utils.py)",
                    "TokenList.flatten (sqlparse/sql.py)",
                    "group (sqlparse/engine/grouping.py)",
                    "group_period (sqlparse/engine/grouping.py)",
                    "group_functions (sqlparse/engine/grouping.py)",
                    "group_order (sqlparse/engine/grouping.py)",
                    "group_assignment (sqlparse/engine/grouping.py)",
                    "group_over (sqlparse/engine/grouping.py)",
                ),
            ),
        ),
    ),
    Trial(
        name="idna",
        requirement="idna",
        packages=("idna",),
        # Backwards on purpose: 3.7 fixed CVE-2024-3651 inside valid_contextj alone, so going
        # from 3.7 to 3.6 is a real regression confined to one function, with a known culprit.
        versions=("3.7", "3.6"),
        load="idna_load.py",
        pairs=(
            Pair(
                base="3.7",
                head="3.6",
                kind="one function",
                story=(
                    "3.7 made valid_contextj stop at the first non-joining character instead "
                    "of scanning the whole label for every zero-width joiner (CVE-2024-3651); "
                    "check_label and alabel lost a try/except and a redundant check. Undoing "
                    "it (3.7 -> 3.6) makes valid_contextj quadratic on the load's crafted "
                    "labels; every other function's code is the same."
                ),
                culprits=("valid_contextj (idna/core.py)",),
            ),
        ),
    ),
    Trial(
        name="chardet",
        requirement="chardet",
        packages=("chardet",),
        versions=("5.1.0", "5.2.0"),
        load="chardet_load.py",
        pairs=(
            Pair(
                base="5.1.0",
                head="5.2.0",
                kind="no change",
                story=(
                    "5.2.0 adds chardet/__main__.py and bumps the version string: not one "
                    "function of the package changed. An A/A control on real code: nothing "
                    "should be significant and the gate must pass."
                ),
            ),
        ),
    ),
)
