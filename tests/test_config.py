from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flamediff import vocabulary
from flamediff.config import Settings, load_settings
from flamediff.errors import ConfigError


def write_pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_a_pyproject(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings == Settings()
    assert settings.runs == 8
    assert settings.rate == vocabulary.RATE_HZ == 500
    assert settings.block == pytest.approx(0.10)
    assert settings.warn == pytest.approx(0.03)


def test_table_is_found_from_a_subfolder_and_archive_is_relative_to_it(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        """
[tool.flamediff]
archive = "perf/archive"
load = "python bench/load.py --quick"
runs = 10
block = 0.2
hot = ["shop.orders.*"]

[[tool.flamediff.waiver]]
function = "render_*"
max_regression = 0.25
reason = "new layout"
expires = 2027-03-31
""",
    )
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    settings = load_settings(sub)
    assert settings.archive == tmp_path / "perf" / "archive"
    assert settings.load == ("python", "bench/load.py", "--quick")
    assert settings.runs == 10
    assert settings.block == pytest.approx(0.2)
    assert settings.hot == ("shop.orders.*",)
    (waiver,) = settings.waivers
    assert waiver.expires == dt.date(2027, 3, 31)
    assert waiver.max_regression == pytest.approx(0.25)


def test_environment_overrides_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_pyproject(tmp_path, '[tool.flamediff]\narchive = "a"\n')
    monkeypatch.setenv("FLAMEDIFF_ARCHIVE", str(tmp_path / "b"))
    assert load_settings(tmp_path).archive == tmp_path / "b"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.flamediff]\nrunz = 3\n", "unknown setting tool.flamediff.runz"),
        ("[tool.flamediff]\nruns = 'many'\n", "bad value"),
        ("[tool.flamediff\n", "pyproject.toml"),
        (
            '[[tool.flamediff.waiver]]\nfunction = "x"\nmax_regression = 0.1\nreason = " "\n'
            "expires = 2027-01-01\n",
            "empty reason",
        ),
        ('[[tool.flamediff.waiver]]\nfunction = "x"\n', "lacks expires, max_regression, reason"),
        ("[tool.flamediff]\nmax_runs = 'auto'\n", "max_runs must be a whole number of runs"),
        ("[tool.flamediff]\nmax_runs = 0\n", "max_runs must be a whole number of runs"),
        ("[tool.flamediff]\ncalls = 'yes'\n", "calls must be true or false"),
        ("[tool.flamediff]\nprofiler = 'perf'\n", "profiler must be one of py-spy, cpu-timer"),
    ],
)
def test_bad_settings_name_the_file(tmp_path: Path, body: str, message: str) -> None:
    path = write_pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_max_runs_comes_from_the_table(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.flamediff]\nruns = 6\nmax_runs = 20\n")
    settings = load_settings(tmp_path)
    assert (settings.runs, settings.max_runs) == (6, 20)
    assert Settings().max_runs is None  # unset: twice the runs, in compare and release


def test_the_profiler_and_the_call_counts_come_from_the_table(tmp_path: Path) -> None:
    from flamediff.pipeline.capture import capture_settings

    write_pyproject(tmp_path, '[tool.flamediff]\nprofiler = "cpu-timer"\ncalls = true\n')
    settings = load_settings(tmp_path)
    how = capture_settings(settings)
    assert (how.profiler, how.calls) == ("cpu-timer", True)
    # The command line's --profiler still wins over the table.
    assert capture_settings(settings, profiler="py-spy").profiler == "py-spy"
    assert capture_settings(Settings()).profiler == vocabulary.PROFILER
