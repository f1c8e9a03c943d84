"""Find the first commit between GOOD and BAD where a function, or the whole load, got slower.

The commits are those of ``git rev-list --first-parent GOOD..BAD``, oldest first, with GOOD
in front: the history as it was merged. Each is checked out into a temporary git worktree
(see :mod:`flamediff.pipeline.remeasure`) and its load is captured *beside BAD's*,
interleaved (ABBA), so both sides of every comparison ran on the same machine at the same
time:

- BAD is judged against commit C exactly as ``flamediff gate C BAD`` would judge it, with
  the project's test, thresholds and waivers, and the whole load allowed to block (the
  captures were side by side). If the gate blocks BAD (on a function matching the pattern,
  or on anything without one), BAD is significantly slower than C: the slowdown came after
  C, and C is *good*. Otherwise C already holds the slowdown: C is *slower*.
- GOOD and BAD are compared first. If BAD is not significantly slower than GOOD there is
  nothing to look for, and the search stops there.
- Binary search between the last good and the first bad commit then takes about
  log2(commits) comparisons; the first bad commit is the answer.

With ``pattern``, every function may block (``hot`` is set aside) and only findings on
functions matching it count; waivers still apply, as in the gate.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from flamediff.archive import utc_now
from flamediff.capture import capture_interleaved
from flamediff.capture.runners import CaptureSettings, RunnerFactory
from flamediff.capture.session import CapturedRun, ProgressCallback, ignore_progress
from flamediff.config import Settings
from flamediff.errors import ConfigError
from flamediff.model import Release, ReleaseInfo
from flamediff.pipeline.judge import Analysis
from flamediff.pipeline.remeasure import Remeasure, checkout


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:12]


@dataclass(frozen=True, slots=True)
class Step:
    """One comparison: ``commit`` measured beside BAD; ``good`` when BAD was significantly
    slower than it; ``findings`` names what blocked (or says nothing did)."""

    commit: Commit
    good: bool
    findings: str


@dataclass(frozen=True, slots=True)
class Bisection:
    """The outcome: the first slower commit (None when BAD is not slower than GOOD), the last
    commit before it that was not, and every comparison made, in order."""

    first_slower: Commit | None
    last_good: Commit
    commits: tuple[Commit, ...]
    steps: tuple[Step, ...]


def _git(repository: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repository, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise ConfigError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout.strip()


def commits_between(repository: Path, good: str, bad: str) -> list[Commit]:
    """GOOD, then every first-parent commit after it up to BAD, oldest first."""
    shas = []
    for name in (good, bad):
        try:
            shas.append(_git(repository, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"))
        except ConfigError:
            raise ConfigError(f"{name!r} is not a commit of {repository}") from None
    good_sha, bad_sha = shas
    if good_sha == bad_sha:
        raise ConfigError("GOOD and BAD are the same commit")
    ancestor = subprocess.run(
        ["git", "merge-base", "--is-ancestor", good_sha, bad_sha],
        cwd=repository, capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    if ancestor.returncode != 0:
        raise ConfigError(f"{good} is not an ancestor of {bad}: nothing lies between them")
    listed = _git(
        repository, "log", "--first-parent", "--reverse", "--format=%H %s", f"{good_sha}..{bad_sha}"
    )
    subject = _git(repository, "log", "-1", "--format=%s", good_sha)
    commits = [Commit(good_sha, subject)]
    for line in listed.splitlines():
        sha, _, rest = line.partition(" ")
        commits.append(Commit(sha, rest))
    if commits[-1].sha != bad_sha:
        raise ConfigError(f"{bad} is not on the first-parent line from {good}")
    return commits


Measure = Callable[[Commit], Step]


def search(
    commits: Sequence[Commit], measure: Measure, on_step: Callable[[Step], None]
) -> Bisection:
    """Binary search for the first commit of ``commits`` (GOOD first, BAD last) that
    ``measure`` does not find good; GOOD itself must be good."""
    steps = []

    def step(commit: Commit) -> Step:
        result = measure(commit)
        steps.append(result)
        on_step(result)
        return result

    if not step(commits[0]).good:
        return Bisection(None, commits[0], tuple(commits), tuple(steps))
    low, high = 0, len(commits) - 1
    while high - low > 1:
        middle = (low + high) // 2
        if step(commits[middle]).good:
            low = middle
        else:
            high = middle
    return Bisection(commits[high], commits[low], tuple(commits), tuple(steps))


def side_by_side_judge(
    settings: Settings, analysis: Analysis, pattern: str | None
) -> Callable[[Release, Release], tuple[bool, str]]:
    """Whether the gate blocks ``head`` against ``base`` (captured side by side), and on what."""
    from flamediff.analysis.history import matches
    from flamediff.gate import evaluate, refuse_blind_gate
    from flamediff.pipeline.judge import compare_pair, policy_of
    from flamediff.pipeline.pair import Pair, analysed

    policy_settings = settings if pattern is None else replace(settings, hot=())
    policy = policy_of(policy_settings, block_load=True)

    def blocks(base: Release, head: Release) -> tuple[bool, str]:
        line_level = analysis.line_level
        pair = Pair(analysed(base, line_level=line_level), analysed(head, line_level=line_level))
        comparison = compare_pair(pair, settings, analysis, side_by_side=True)
        if not analysis.no_stats:
            refuse_blind_gate(comparison, policy.alpha)
        result = evaluate(comparison, policy)
        found = [
            finding
            for finding in result.blocking
            if pattern is None or matches(finding.function, pattern)
        ]
        if not found:
            return False, "BAD is not significantly slower"
        return True, "BAD is slower: " + "; ".join(
            f"{finding.function} {finding.delta_pct:+.1f}%" for finding in found[:3]
        )

    return blocks


def _release(label: str, runs: Sequence[CapturedRun], rate_hz: float | None) -> Release:
    info = ReleaseInfo(
        name=label, created=utc_now(), rate_hz=rate_hz, runs=tuple(run.info for run in runs)
    )
    return Release(info, tuple(run.profile for run in runs))


def bisect(
    repository: Path,
    good: str,
    bad: str,
    command: Sequence[str],
    settings: Settings,
    capture: CaptureSettings,
    *,
    analysis: Analysis | None = None,
    pattern: str | None = None,
    subfolder: Path = Path(),
    runner_factory: RunnerFactory,
    on_step: Callable[[Step], None] = lambda step: None,
    on_progress: ProgressCallback = ignore_progress,
) -> Bisection:
    """Bisect GOOD..BAD in ``repository``, running ``command`` from ``subfolder`` of each
    commit's checkout (paths into the repository are moved into the checkout)."""
    if not command:
        raise ConfigError("no load command: give one after `--` or set `load` in [tool.flamediff]")
    commits = commits_between(repository, good, bad)
    blocks = side_by_side_judge(settings, analysis or Analysis(), pattern)
    with ExitStack() as stack:
        bad_command, bad_root = stack.enter_context(
            checkout(Remeasure(tuple(command), commits[-1].sha, repository))
        )
        bad_label = f"{commits[-1].short} (BAD)"

        def measure(commit: Commit) -> Step:
            with checkout(Remeasure(tuple(command), commit.sha, repository)) as (moved, root):
                assert root is not None
                assert bad_root is not None
                base_runner = runner_factory(moved, commit.short, capture, root / subfolder)
                head_runner = runner_factory(bad_command, bad_label, capture, bad_root / subfolder)
                base_runs, head_runs = capture_interleaved(
                    base_runner, head_runner, runs=capture.runs, warmup=capture.warmup,
                    on_progress=on_progress,
                )  # fmt: skip
            slower, findings = blocks(
                _release(commit.short, base_runs, base_runner.rate_hz),
                _release(bad_label, head_runs, head_runner.rate_hz),
            )
            return Step(commit, slower, findings)

        return search(commits, measure, on_step)


def report(bisection: Bisection, *, bad: str, pattern: str | None) -> str:
    """The outcome for people: the first slower commit, then every comparison made."""
    what = f"functions matching {pattern}" if pattern else "the load"
    lines = []
    if bisection.first_slower is None:
        lines.append(
            f"{bad} is not significantly slower than {bisection.last_good.short} on {what}: "
            "nothing to bisect"
        )
    else:
        first = bisection.first_slower
        lines.append(f"first slower commit on {what}: {first.sha} {first.subject}")
        lines.append(
            f"last commit before it: {bisection.last_good.sha} {bisection.last_good.subject}"
        )
    lines.append("")
    lines.append(
        f"{len(bisection.steps)} comparisons over {len(bisection.commits)} commits, "
        "each measured beside BAD, interleaved:"
    )
    for step in bisection.steps:
        verdict = "before the slowdown" if step.good else "already slower"
        lines.append(f"- {step.commit.short} {step.commit.subject}: {verdict} ({step.findings})")
    return "\n".join(lines) + "\n"
