"""The comparison, one release's top functions and the archive's releases as CSV.

Every renderer takes data and returns ``str`` with a header row and ``\\n`` line ends; empty
cells for NaN. Every column is kept, one row per function (or release). Names are kept as they
are, except that a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'`` (:func:`flamediff.render.cells.spreadsheet_cell`): a frame named
``=HYPERLINK(...)`` is text in a spreadsheet, not a formula it runs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from flamediff.gate import GateResult


def frame_csv(frame: pd.DataFrame) -> str:
    """Every column of ``frame`` as CSV with a header; text cells safe in a spreadsheet."""
    from flamediff.render.cells import spreadsheet_cell

    safe = frame.copy()
    for column in safe.columns:
        values = safe[column].tolist()
        if any(isinstance(value, str) for value in values):
            safe[column] = [
                spreadsheet_cell(value) if isinstance(value, str) else value for value in values
            ]
    return str(safe.to_csv(index=False, lineterminator="\n"))


def render_csv(comparison: pd.DataFrame) -> str:
    """Every column of the comparison frame as CSV with a header; empty cells for NaN."""
    return frame_csv(comparison)


def render_report(
    comparison: pd.DataFrame, result: GateResult | None, *, color: bool, width: int
) -> str:
    """The registry's entry point (:mod:`flamediff.render.registry`); CSV holds no verdict."""
    return render_csv(comparison)


def render_top_csv(top: pd.DataFrame) -> str:
    """One release's top functions as CSV, both rankings, with the ``by`` column."""
    return frame_csv(top)


def render_releases_csv(rows: Sequence[dict[str, object]]) -> str:
    """The archive's releases (rows of :func:`flamediff.render.cells.release_row`)."""
    from flamediff.model import ReleaseInfo
    from flamediff.render.cells import release_row, spreadsheet_cell

    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(release_row(ReleaseInfo("", "")).keys()), lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(
        {
            key: spreadsheet_cell(value) if isinstance(value, str) else value
            for key, value in row.items()
        }
        for row in rows
    )
    return buffer.getvalue()
