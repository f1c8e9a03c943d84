"""Settings: built-in defaults, overridden by ``[tool.flamediff]`` in pyproject.toml.

Command-line flags override both; the CLI applies them with ``dataclasses.replace``. Every
setting of every command lives in the one table, e.g.::

    [tool.flamediff]
    archive = ".flamediff"
    load = "python bench/load.py"
    runs = 8
    rate = 500
    block = 0.10
    warn = 0.03
    hot = ["myapp.orders.*"]
    anchor = -10            # or a release name: the creep is measured since it

    [[tool.flamediff.waiver]]
    function = "render_invoice*"
    max_regression = 0.25
    reason = "new invoice layout, accepted in review #123"
    expires = 2027-03-31

Scenarios. A project with several loads gives each a table ``[tool.flamediff.scenario.NAME]``
holding any of the keys above, its own ``load`` first of all; the top-level table is the
default of every scenario: a key a scenario sets replaces the top-level one, and its
``[[tool.flamediff.scenario.NAME.waiver]]`` entries come after the top-level waivers, which
apply to every scenario. Each scenario is a release stream of its own, archived in
``ARCHIVE/.scenarios/NAME/`` unless its table sets ``archive`` (see
:mod:`flamediff.pipeline.scenarios`)::

    [tool.flamediff.scenario.startup]
    load = "python -c 'import shop.app'"
    block = 0.2

    [tool.flamediff.scenario.checkout]
    load = "python bench/checkout.py"
    hot = ["shop.orders.*"]
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from flamediff import vocabulary as default
from flamediff.errors import ConfigError
from flamediff.vocabulary import Normalisation

DEFAULT_ARCHIVE = Path(".flamediff")
ARCHIVE_ENV = "FLAMEDIFF_ARCHIVE"


def archive_location(text: str, relative_to: Path | None = None) -> Path | str:
    """Where an archive is, as written: a URL (``s3://bucket/prefix``) kept as text, since a
    Path would collapse its ``//``; a ``file://`` URL or a folder as a Path, a relative
    folder taken from ``relative_to`` when given."""
    from flamediff.archive.remote import is_url

    if is_url(text):
        return text.rstrip("/")
    folder = Path(text.removeprefix("file://"))
    return relative_to / folder if relative_to is not None else folder


@dataclass(frozen=True, slots=True)
class WaiverSetting:
    """A reviewed, in-repo permission for one function pattern to regress up to a limit."""

    function: str
    max_regression: float
    reason: str
    expires: dt.date


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting with its default; ``source`` names where the overrides came from."""

    # A folder, or the URL of an archive on object storage.
    archive: Path | str = DEFAULT_ARCHIVE
    load: tuple[str, ...] = ()
    runs: int = default.RUNS
    max_runs: int | None = None  # None: MAX_RUNS_FACTOR times runs
    calls: bool = False  # one more run under a tracer, for exact call counts
    profiler: str = default.PROFILER
    warmup: int = default.WARMUP
    rate: float = default.RATE_HZ
    block: float = default.BLOCK
    warn: float = default.WARN
    alpha: float = default.ALPHA
    min_share: float = default.MIN_SHARE
    hot: tuple[str, ...] = ()
    normalise: Normalisation = default.NORMALISATION
    waivers: tuple[WaiverSetting, ...] = ()
    anchor: str | None = None
    scenarios: tuple[ScenarioSetting, ...] = ()
    source: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ScenarioSetting:
    """A scenario's settings, the top-level table's applied beneath its own.

    ``archive`` is None unless the scenario's table names one: the scenario's archive is then
    derived from the top-level archive, whichever way that is chosen (``--archive``, the
    environment, the table).
    """

    name: str
    settings: Settings
    archive: Path | str | None = None


_SIMPLE_KEYS = {f.name for f in fields(Settings)} - {
    "waivers",
    "source",
    "load",
    "hot",
    "anchor",
    "scenarios",
    "max_runs",
    "calls",
    "profiler",
}
# A scenario's name is part of paths and report headings: a short word.
_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Other spellings of a key, accepted as they are written elsewhere (inferno's --normalize).
_ALIASES = {"normalize": "normalise"}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start``."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _waiver(path: Path, index: int, raw: Any, table: str = "tool.flamediff") -> WaiverSetting:
    where = f"[[{table}.waiver]] #{index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    missing = {"function", "max_regression", "reason", "expires"} - raw.keys()
    if missing:
        raise ConfigError(f"{path}: {where} lacks {', '.join(sorted(missing))}")
    reason = str(raw["reason"]).strip()
    if not reason:
        raise ConfigError(f"{path}: {where} has an empty reason")
    expires = raw["expires"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise ConfigError(f"{path}: {where}: expires is not a date: {expires!r}") from None
    if not isinstance(expires, dt.date):
        raise ConfigError(f"{path}: {where}: expires must be a date like 2027-03-31")
    try:
        limit = float(raw["max_regression"])
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {where}: max_regression must be a number") from None
    return WaiverSetting(str(raw["function"]), limit, reason, expires)


def parse_table(path: Path, table: dict[str, Any], name: str = "tool.flamediff") -> Settings:
    """Settings from the contents of a ``[tool.flamediff]`` table read from ``path``."""
    values: dict[str, Any] = {}
    for key, raw in table.items():
        key = _ALIASES.get(key, key)
        if key == "waiver":
            if not isinstance(raw, list):
                raise ConfigError(f"{path}: {name}.waiver must be an array of tables")
            values["waivers"] = tuple(_waiver(path, i, w, name) for i, w in enumerate(raw))
        elif key == "scenario" and name == "tool.flamediff":
            values["scenarios"] = _scenarios(path, table, raw)
        elif key == "load":
            values["load"] = tuple(shlex.split(raw) if isinstance(raw, str) else map(str, raw))
        elif key == "anchor":
            # A count back may be written as a TOML integer: anchor = -10.
            if not isinstance(raw, str | int) or isinstance(raw, bool) or not str(raw).strip():
                raise ConfigError(f"{path}: tool.flamediff.anchor must be a release name or -N")
            values["anchor"] = str(raw).strip()
        elif key == "max_runs":
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
                raise ConfigError(f"{path}: {name}.max_runs must be a whole number of runs")
            values["max_runs"] = raw
        elif key == "profiler":
            from flamediff.capture.runners import PROFILERS

            if raw not in PROFILERS:
                raise ConfigError(
                    f"{path}: {name}.profiler must be one of {', '.join(PROFILERS)}, not {raw!r}"
                )
            values["profiler"] = raw
        elif key == "calls":
            if not isinstance(raw, bool):
                raise ConfigError(f"{path}: {name}.calls must be true or false")
            values["calls"] = raw
        elif key == "archive":
            if not isinstance(raw, str) or not raw.strip():
                raise ConfigError(f"{path}: {name}.archive must be a folder or a URL")
            values["archive"] = archive_location(raw, relative_to=path.parent)
        elif key == "hot":
            values["hot"] = (raw,) if isinstance(raw, str) else tuple(map(str, raw))
        elif key in _SIMPLE_KEYS:
            current = getattr(Settings(), key)
            try:
                values[key] = type(current)(raw)
            except (TypeError, ValueError):
                choices = (
                    f" (one of {', '.join(type(current))})" if isinstance(current, StrEnum) else ""
                )
                raise ConfigError(
                    f"{path}: {name}.{key} has a bad value {raw!r}{choices}"
                ) from None
        else:
            raise ConfigError(f"{path}: unknown setting {name}.{key}")
    return Settings(**values, source=str(path))


def _scenarios(path: Path, top: dict[str, Any], raw: Any) -> tuple[ScenarioSetting, ...]:
    """Each ``[tool.flamediff.scenario.NAME]`` over the top-level table, in written order."""
    if not isinstance(raw, dict) or not all(isinstance(t, dict) for t in raw.values()):
        raise ConfigError(
            f"{path}: tool.flamediff.scenario must hold tables: [tool.flamediff.scenario.NAME]"
        )
    defaults = {key: value for key, value in top.items() if key not in ("scenario", "waiver")}
    scenarios = []
    for name, own in raw.items():
        where = f"tool.flamediff.scenario.{name}"
        if not _SCENARIO_NAME.match(name):
            raise ConfigError(
                f"{path}: [{where}]: a scenario's name is letters, digits, '.', '_' and '-'"
            )
        if "scenario" in own:
            raise ConfigError(f"{path}: [{where}] cannot hold scenarios of its own")
        merged = parse_table(path, {**defaults, **own}, where)
        top_waivers = parse_table(path, {"waiver": top.get("waiver", [])}).waivers
        merged = replace(merged, waivers=(*top_waivers, *merged.waivers))
        archive = merged.archive if "archive" in own else None
        scenarios.append(ScenarioSetting(name, merged, archive))
    return tuple(scenarios)


def load_settings(start: Path | None = None) -> Settings:
    """Defaults, then the nearest pyproject's table, then ``$FLAMEDIFF_ARCHIVE``."""
    pyproject = find_pyproject(start or Path.cwd())
    settings = Settings()
    if pyproject is not None:
        try:
            document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{pyproject}: {error}") from None
        table = document.get("tool", {}).get("flamediff")
        if table is not None:
            settings = parse_table(pyproject, table)
    env_archive = os.environ.get(ARCHIVE_ENV)
    if env_archive:
        settings = replace(settings, archive=archive_location(env_archive))
    return settings
