"""Which scenario a command works on: `flamediff --scenario NAME COMMAND`, or every one.

`capture` and `release` run every scenario of the project unless one is chosen; every other
command reads one release stream, so a project with scenarios must name one (see
:mod:`flamediff.pipeline.scenarios`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import replace
from typing import Annotated

import typer

from flamediff.archive import Archive
from flamediff.config import Settings, archive_location, load_settings
from flamediff.errors import ConfigError
from flamediff.pipeline.scenarios import Scenario, scenarios_of

_selected: ContextVar[str | None] = ContextVar("flamediff_scenario", default=None)

SCENARIO_HELP = (
    "The scenario ([tool.flamediff.scenario.NAME]) to work on; each is archived, compared "
    "and gated on its own."
)
ScenarioOption = Annotated[
    str | None,
    typer.Option(
        "--scenario", help=f"{SCENARIO_HELP} Default: every scenario.", show_default=False
    ),
]


def select(name: str | None) -> None:
    """Choose the scenario of this invocation (the global ``--scenario``)."""
    _selected.set(name)


def selected() -> str | None:
    return _selected.get()


def open_scenarios(
    archive: str | None, only: str | None, *groups: object
) -> list[tuple[Scenario, Archive]]:
    """The scenarios to run, each with its archive and its settings, flags applied last."""
    from flamediff.cli.options import apply_to

    settings = load_settings()
    if archive is not None:
        settings = replace(settings, archive=archive_location(archive))
    chosen = scenarios_of(settings, only=only or selected())
    return [
        (replace(s, settings=apply_to(s.settings, *groups)), Archive(s.settings.archive))
        for s in chosen
    ]


def one_stream(settings: Settings) -> Settings:
    """The settings of the one release stream a reading command works on."""
    name = selected()
    if settings.scenarios and name is None:
        names = ", ".join(s.name for s in settings.scenarios)
        raise ConfigError(
            f"this project has scenarios ({names}): choose one, e.g. "
            f"`flamediff --scenario {settings.scenarios[0].name} ...`"
        )
    if name is None:
        return settings
    (scenario,) = scenarios_of(settings, only=name)
    return scenario.settings
