"""The change since an anchor: which release it is, and what it adds to the gate's verdict.

The anchor is the last release the pipeline accepted as a baseline: by default the last one
before the head that was tagged in git (its recorded commit carries a tag: a release shipped)
or has a recorded justification (accepting a block accepts everything up to it, creep
included, so the next creep is measured from there), else :data:`ANCHOR_BACK` releases back,
else the first. ``[tool.flamediff] anchor`` or ``--anchor`` name it (``v1.4``), count back
(``-5``) or ask for the last tagged release (``tag``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from flamediff import vocabulary as default
from flamediff.archive import Archive
from flamediff.config import Settings
from flamediff.errors import ConfigError
from flamediff.model import ReleaseInfo
from flamediff.pipeline.pair import Pair, load_for_analysis

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GatePolicy, GateResult
    from flamediff.model import Release
    from flamediff.pipeline.judge import Analysis

# How far back the anchor is when no release was accepted with a justification: far enough
# for ten small steps to add up past the threshold, near enough that the releases read stay few.
ANCHOR_BACK = 10

_BACK = re.compile(r"-(\d+)")


def tagged_commits(folder: Path | None = None) -> frozenset[str]:
    """The commits git tags point at in the repository holding ``folder`` (annotated tags
    peeled to their commit); empty outside a git work tree."""
    try:
        listed = subprocess.run(
            ["git", "for-each-ref", "--format=%(objectname) %(*objectname)", "refs/tags"],
            cwd=folder or Path.cwd(), capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    if listed.returncode != 0:
        return frozenset()
    return frozenset(word for line in listed.stdout.splitlines() for word in line.split())


def anchor_name(
    infos: Sequence[ReleaseInfo],
    head: str,
    spec: str | None = None,
    *,
    back: int = ANCHOR_BACK,
    tagged: frozenset[str] = frozenset(),
) -> str | None:
    """The anchor of ``head`` among ``infos`` (capture order); None when ``head`` is the first.

    ``spec``: a release before the head, ``-N`` for N releases back (the first release when
    there are fewer), or ``tag`` for the last release whose commit is in ``tagged``; None for
    the default (see the module docstring).
    """
    names = [info.name for info in infos]
    if head not in names:
        return None
    index = names.index(head)
    if index == 0:
        return None
    shipped = [info.name for info in infos[:index] if info.git_commit and info.git_commit in tagged]
    if spec is not None and spec.strip() == "tag":
        if not shipped:
            raise ConfigError(
                f"anchor 'tag': no release before {head} was captured at a tagged commit"
            )
        return shipped[-1]
    if spec is not None and spec.strip():
        spec = spec.strip()
        counted = _BACK.fullmatch(spec)
        if counted:
            steps = int(counted.group(1))
            if steps < 1:
                raise ConfigError(f"anchor {spec!r}: count at least one release back, e.g. -10")
            return names[max(0, index - steps)]
        if spec not in names[:index]:
            where = "is the head or comes after it" if spec in names else "is not in the archive"
            raise ConfigError(f"anchor {spec!r} {where}: name a release before {head}, or -N")
        return spec
    accepted = {info.name for info in infos[:index] if info.justifications} | set(shipped)
    if accepted:
        return max(accepted, key=names.index)
    return names[max(0, index - back)]


def since_anchor(
    releases: Sequence[Release], settings: Settings, analysis: Analysis
) -> pd.DataFrame:
    """The creep frame (:func:`flamediff.analysis.creep.creep`) of ``releases``, anchor first."""
    from flamediff.analysis.creep import creep
    from flamediff.analysis.tables import function_counts_of, seconds_per_sample
    from flamediff.pipeline.judge import compare_options

    known_rate = all(release.info.rate_hz for release in releases)
    return creep(
        function_counts_of(releases),
        [release.name for release in releases],
        compare_options(settings, analysis),
        seconds_per_sample=[
            seconds_per_sample(release) if known_rate else 1.0 for release in releases
        ],
        unit="s" if known_rate else "samples",
    )


def history_since(
    archive: Archive, head: Release, anchor: str, names: Sequence[str], *, line_level: bool
) -> list[Release]:
    """Every release from ``anchor`` to ``head`` as analysis reads them; ``head`` as given."""
    first, last = names.index(anchor), names.index(head.name)
    earlier = [
        load_for_analysis(archive, name, line_level=line_level) for name in names[first:last]
    ]
    return [*earlier, head]


def judge_creep(
    archive: Archive,
    pair: Pair,
    result: GateResult,
    settings: Settings,
    analysis: Analysis,
    policy: GatePolicy,
    justification: str | None = None,
) -> GateResult:
    """``result`` with the change of every function since the head's anchor judged.

    Nothing is added when the head is not archived, has no release before it, or its anchor is
    the base already compared; nor without statistics. An anchor or head with fewer runs than
    the test needs is noted, not judged. ``justification`` accepts a creep as it accepts a
    step's block.
    """
    from flamediff.gate import evaluate_creep

    if analysis.no_stats:
        return result
    infos = archive.infos()
    names = [info.name for info in infos]
    anchor = anchor_name(infos, pair.head.name, settings.anchor, tagged=tagged_commits())
    if anchor is None or anchor == pair.base.name:
        return result
    if names.index(pair.head.name) - names.index(anchor) < 2:
        return result
    releases = history_since(archive, pair.head, anchor, names, line_level=analysis.line_level)
    ends = (releases[0], releases[-1])
    short = [release.name for release in ends if len(release.profiles) < default.MIN_RUNS]
    if short:
        note = (
            f"the change since {anchor} was not tested: {' and '.join(short)} "
            f"{'has' if len(short) == 1 else 'have'} fewer runs than the test needs"
        )
        return replace(result, notes=(*result.notes, note))
    frame = since_anchor(releases, settings, analysis)
    return evaluate_creep(frame, policy, result, justification=justification)
