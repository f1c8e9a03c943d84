"""Scenarios: several loads of one project, each a release stream of its own.

A scenario (``[tool.flamediff.scenario.NAME]``, see :mod:`flamediff.config`) is archived in an
archive of its own, ``ARCHIVE/.scenarios/NAME/``, laid out exactly like any archive. So a
release name means the same thing in every scenario (``v2`` of ``startup`` and ``v2`` of
``checkout`` are one release of the project), "the previous release" and a history are those
of one scenario without any filtering, and the archive's format does not change: a scenario's
archive can be opened on its own with ``--archive ARCHIVE/.scenarios/NAME``. The folder is
hidden (its name starts with a dot) so that the top-level archive never mistakes it for a
release.

Everything here is pure: which scenarios a command runs, with which settings, and the one
verdict and report of a release made of several.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from flamediff.config import Settings
from flamediff.errors import ConfigError

SCENARIOS_DIR: Final = ".scenarios"
# The worst first: the release's verdict is the worst of its scenarios'.
SEVERITY: Final = ("block", "accepted", "warn", "pass", "no baseline")


@dataclass(frozen=True, slots=True)
class Scenario:
    """One load to capture and gate: its name (None for a project without scenarios) and its
    settings, the archive among them."""

    name: str | None
    settings: Settings


def scenario_archive(root: Path | str, name: str) -> Path | str:
    """The archive of scenario ``name`` in the archive ``root``, a folder or a URL."""
    if isinstance(root, str):
        return f"{root}/{SCENARIOS_DIR}/{name}"
    return root / SCENARIOS_DIR / name


def scenarios_of(settings: Settings, *, only: str | None = None) -> list[Scenario]:
    """The scenarios to run: every one configured, or ``only``; the project's one load when
    there are none. ``settings.archive`` is the top-level archive, as finally chosen."""
    if not settings.scenarios:
        if only is not None:
            raise ConfigError(
                f"no scenario {only!r}: this project defines none "
                "([tool.flamediff.scenario.NAME] in pyproject.toml)"
            )
        return [Scenario(None, settings)]
    chosen = [s for s in settings.scenarios if only is None or s.name == only]
    if not chosen:
        names = ", ".join(s.name for s in settings.scenarios)
        raise ConfigError(f"no scenario {only!r}; this project's are: {names}")
    return [
        Scenario(
            s.name,
            replace(
                s.settings,
                archive=s.archive or scenario_archive(settings.archive, s.name),
                scenarios=(),
            ),
        )
        for s in chosen
    ]


def overall_verdict(verdicts: Sequence[str]) -> str:
    """Blocked if any scenario blocks; otherwise the worst of the others."""
    return min(verdicts, key=SEVERITY.index) if verdicts else "no baseline"


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    """One scenario's part of a release: its verdict and its Markdown report."""

    name: str
    verdict: str
    markdown: str


def combined_markdown(release: str, reports: Sequence[ScenarioReport]) -> str:
    """One report: the verdict of the release, then a section per scenario.

    Links to a scenario's pictures (``(flamegraph.svg)``) are made relative to the combined
    report, whose scenario reports lie in folders named after the scenarios.
    """
    verdict = overall_verdict([r.verdict for r in reports])
    lines = [f"## {release}: {verdict}", "", "| scenario | verdict |", "|:--|:--|"]
    lines += [f"| {r.name} | {r.verdict} |" for r in reports]
    for report in reports:
        body = report.markdown.rstrip()
        for picture in ("flamegraph.svg", "delta.png", "report.html"):
            body = body.replace(f"]({picture})", f"]({report.name}/{picture})")
        lines += ["", f"## Scenario {report.name}", "", body]
    return "\n".join(lines) + "\n"


def combined_json(release: str, reports: Sequence[ScenarioReport]) -> str:
    """The release's verdict and each scenario's, pointing at the scenario's own report."""
    document = {
        "kind": "flamediff.scenarios",
        "release": release,
        "verdict": overall_verdict([r.verdict for r in reports]),
        "scenarios": [
            {"name": r.name, "verdict": r.verdict, "report": f"{r.name}/report.json"}
            for r in reports
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
