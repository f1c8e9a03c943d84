"""The registry names every report format once: the CLI's choices and the pipeline's dispatch."""

import json

import pytest

from flamediff.cli.diff import diff
from flamediff.pipeline.reports import report_text
from flamediff.render.registry import REPORTS, ReportFormat, format_help, render_report, renderer


def test_every_format_has_a_renderer_an_extension_and_a_line_of_help():
    assert set(REPORTS) == set(ReportFormat)
    assert len({spec.extension for spec in REPORTS.values()}) == len(REPORTS)
    for spec in REPORTS.values():
        assert spec.extension.startswith(".")
        assert spec.format.value in format_help()


def test_the_release_folder_holds_markdown_and_json():
    kept = [spec.format for spec in REPORTS.values() if spec.in_release_folder]
    assert kept == [ReportFormat.MARKDOWN, ReportFormat.JSON]


@pytest.mark.parametrize("output_format", list(ReportFormat))
def test_each_format_renders_through_the_registry(comparison, result, output_format):
    text = render_report(comparison, result, output_format)
    assert text.strip()
    assert text == report_text(comparison, result, output_format)
    if output_format is ReportFormat.JSON:
        assert json.loads(text)["gate"]["verdict"] == "accepted"


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="yaml"):
        renderer("yaml")


def test_diffs_format_choices_are_the_registrys():
    import inspect
    from typing import get_args

    annotation = inspect.signature(diff).parameters["output_format"].annotation
    assert get_args(annotation)[0] is ReportFormat
