"""The report formats: one place that names each, its file extension and its renderer.

The CLI's ``--format`` choices (:class:`ReportFormat`) and help, and the pipeline's dispatch
(:func:`render_report`), read this table, so adding a format is one entry here and one module
under :mod:`flamediff.render` defining::

    def render_report(comparison, result, *, color: bool, width: int) -> str

``comparison`` is a comparison frame (:mod:`flamediff.analysis.compare`), ``result`` the gate's
:class:`~flamediff.gate.GateResult` or None; ``color`` and ``width`` are for a terminal, and
other formats ignore them. The module is imported only when its format is rendered: this one
imports nothing heavy, as the CLI reads it at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Protocol, cast

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GateResult


class ReportFormat(StrEnum):
    """The formats a comparison report is rendered in."""

    TABLE = "table"
    MARKDOWN = "markdown"
    JSON = "json"
    CSV = "csv"


class _ReportModule(Protocol):
    def render_report(
        self, comparison: pd.DataFrame, result: GateResult | None, *, color: bool, width: int
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class ReportRenderer:
    """One format: ``extension`` of its files, ``audience`` for ``--format``'s help, the
    ``module`` that renders it, and whether a release's report folder holds it."""

    format: ReportFormat
    extension: str
    audience: str
    module: str
    in_release_folder: bool = False

    def render(
        self,
        comparison: pd.DataFrame,
        result: GateResult | None,
        *,
        color: bool = False,
        width: int = 100,
    ) -> str:
        module = cast(_ReportModule, importlib.import_module(self.module))
        return module.render_report(comparison, result, color=color, width=width)


REPORTS: Final[Mapping[ReportFormat, ReportRenderer]] = {
    spec.format: spec
    for spec in (
        ReportRenderer(ReportFormat.TABLE, ".txt", "terminal", "flamediff.render.terminal"),
        ReportRenderer(
            ReportFormat.MARKDOWN,
            ".md",
            "PR, release notes",
            "flamediff.render.markdown",
            in_release_folder=True,
        ),
        ReportRenderer(
            ReportFormat.JSON, ".json", "machines", "flamediff.render.json", in_release_folder=True
        ),
        ReportRenderer(ReportFormat.CSV, ".csv", "spreadsheets", "flamediff.render.csv"),
    )
}


def renderer(output_format: str) -> ReportRenderer:
    """The renderer of ``output_format`` (a :class:`ReportFormat` value); ValueError if none."""
    return REPORTS[ReportFormat(output_format)]


def render_report(
    comparison: pd.DataFrame,
    result: GateResult | None,
    output_format: str,
    *,
    color: bool = False,
    width: int = 100,
) -> str:
    """``comparison`` (and the gate's ``result``) in ``output_format``."""
    return renderer(output_format).render(comparison, result, color=color, width=width)


def format_help() -> str:
    """``--format``'s help: every format with whom it is for."""
    return ", ".join(f"{spec.format.value} ({spec.audience})" for spec in REPORTS.values()) + "."
