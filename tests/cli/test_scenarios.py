"""Scenarios: several loads, each archived, compared and gated on its own; one verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import run_cli, sample_runs

from flamediff.archive import Archive
from flamediff.config import load_settings
from flamediff.errors import ConfigError
from flamediff.pipeline.scenarios import overall_verdict, scenarios_of

PYPROJECT = """
[tool.flamediff]
runs = 8
warmup = 0
rate = 250
load = "python default"

[[tool.flamediff.waiver]]
function = "render_invoice*"
max_regression = 0.5
reason = "layout, for every scenario"
expires = 2999-12-31

[tool.flamediff.scenario.checkout]
load = "python checkout"
hot = ["apply_discounts*"]

[tool.flamediff.scenario.startup]
load = "python startup"
block = 0.5

[[tool.flamediff.scenario.startup.waiver]]
function = "apply_discounts*"
max_regression = 100
reason = "start-up only reads the rules once"
expires = 2999-12-31
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return tmp_path


def test_each_scenario_has_the_top_level_as_defaults(project: Path) -> None:
    settings = load_settings(project)
    checkout, startup = settings.scenarios
    assert (checkout.name, startup.name) == ("checkout", "startup")
    assert checkout.settings.load == ("python", "checkout")
    assert checkout.settings.rate == startup.settings.rate == 250
    assert checkout.settings.warmup == startup.settings.warmup == 0
    assert checkout.settings.hot == ("apply_discounts*",)
    assert startup.settings.hot == ()
    assert (checkout.settings.block, startup.settings.block) == (0.10, 0.5)
    assert [w.function for w in checkout.settings.waivers] == ["render_invoice*"]
    assert [w.function for w in startup.settings.waivers] == ["render_invoice*", "apply_discounts*"]
    streams = scenarios_of(settings)
    # Under the top-level archive, which is .flamediff/ of the working directory by default.
    assert [s.settings.archive for s in streams] == [
        Path(".flamediff/.scenarios/checkout"),
        Path(".flamediff/.scenarios/startup"),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[tool.flamediff.scenario.checkout]\nruns = 'many'\n",
            "tool.flamediff.scenario.checkout.runs has a bad value",
        ),
        (
            "[tool.flamediff.scenario.checkout]\nspeed = 1\n",
            "unknown setting tool.flamediff.scenario.checkout.speed",
        ),
        ("[tool.flamediff.scenario.'a b']\nload = 'x'\n", "a scenario's name is letters"),
        ("[tool.flamediff]\nscenario = 3\n", "must hold tables"),
        (
            "[tool.flamediff.scenario.a.scenario.b]\nload = 'x'\n",
            "[tool.flamediff.scenario.a] cannot hold scenarios",
        ),
        (
            "[[tool.flamediff.scenario.a.waiver]]\nfunction = 'f'\n",
            "[[tool.flamediff.scenario.a.waiver]] #1 lacks",
        ),
    ],
)
def test_a_bad_scenario_names_its_table(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_settings(tmp_path)


def test_only_a_named_scenario_and_only_one_that_exists(project: Path) -> None:
    settings = load_settings(project)
    assert [s.name for s in scenarios_of(settings, only="startup")] == ["startup"]
    with pytest.raises(
        ConfigError, match="no scenario 'batch'; this project's are: checkout, startup"
    ):
        scenarios_of(settings, only="batch")


def test_the_worst_verdict_wins() -> None:
    assert overall_verdict(["pass", "block", "warn"]) == "block"
    assert overall_verdict(["pass", "accepted", "warn"]) == "accepted"
    assert overall_verdict(["no baseline", "pass"]) == "pass"
    assert overall_verdict(["no baseline"]) == "no baseline"


def test_release_gates_every_scenario_and_blocks_if_one_blocks(
    project: Path, capsys, replay
) -> None:
    out = project / "report"
    replay({"checkout": sample_runs("v1"), "startup": sample_runs("v1")})
    code, stdout, err = run_cli(capsys, "release", "v1", "--out", str(out), "--archived-base")
    assert code == 0, err
    assert "## v1: no baseline (checkout no baseline, startup no baseline)" in stdout
    # Both loads got slower in apply_discounts; start-up waives it, checkout's hot path blocks.
    replay({"checkout": sample_runs("v2"), "startup": sample_runs("v2")})
    code, stdout, err = run_cli(capsys, "release", "v2", "--out", str(out), "--archived-base")
    assert code == 1, stdout + err
    assert "## v2: block (checkout block, startup warn)" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "block"
    assert [(s["name"], s["verdict"]) for s in report["scenarios"]] == [
        ("checkout", "block"),
        ("startup", "warn"),
    ]
    startup = json.loads((out / "startup" / "report.json").read_text())
    assert [f["function"] for f in startup["gate"]["waived"]][:1] == [
        "apply_discounts (shop/pricing.py)"
    ]
    markdown = (out / "report.md").read_text()
    assert markdown.startswith("## v2: block\n")
    assert markdown.index("## Scenario checkout") < markdown.index("## Scenario startup")
    assert "](checkout/flamegraph.svg)" in markdown
    for name in ("checkout", "startup"):
        store = Archive(project / ".flamediff" / ".scenarios" / name)
        assert store.names() == ["v1", "v2"]
        assert store.previous("v2") == "v1"
        assert store.info("v2").command == ("python", name)
        assert len(store.info("v2").runs) == 8
        assert store.info("v2").rate_hz == 250
    assert not (project / ".flamediff" / "v1").exists()


def test_one_scenario_at_a_time(project: Path, capsys, replay) -> None:
    replay({"checkout": sample_runs("v1"), "startup": sample_runs("v1")})
    code, _, err = run_cli(capsys, "capture", "v1", "--scenario", "startup")
    assert code == 0, err
    assert "scenario startup" in err
    code, _, err = run_cli(capsys, "--scenario", "checkout", "capture", "v1")
    assert code == 0, err
    code, stdout, err = run_cli(capsys, "--scenario", "startup", "list", "--format", "json")
    assert code == 0, err
    assert [r["name"] for r in json.loads(stdout)["releases"]] == ["v1"]


def test_reading_commands_need_the_scenario_named(project: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "list")
    assert code == 2
    assert "this project has scenarios (checkout, startup): choose one" in err
    code, _, err = run_cli(capsys, "--scenario", "batch", "list")
    assert (code, err) == (2, "error: no scenario 'batch'; this project's are: checkout, startup\n")


def test_a_command_after_the_dashes_is_one_load(project: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "capture", "v1", "--", "python", "other")
    assert code == 2
    assert "choose its scenario with --scenario" in err


def test_the_comment_publishes_the_release_verdict(project: Path, capsys, replay) -> None:
    from flamediff.pipeline.comment import read_report

    out = project / "report"
    replay({"checkout": sample_runs("v1"), "startup": sample_runs("v1")})
    run_cli(capsys, "release", "v1", "--out", str(out), "--archived-base")
    replay({"checkout": sample_runs("v1"), "startup": sample_runs("v2")})
    code, _, err = run_cli(capsys, "release", "v2", "--out", str(out), "--archived-base")
    assert code == 0, err
    report = read_report(out)
    assert report.verdict in {"pass", "warn"}
    assert "## Scenario startup" in report.markdown
