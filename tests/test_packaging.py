"""What a first-time user installs is this project, under a name nobody else holds."""

import re
import tomllib

from builders import REPO

# Taken on PyPI by an unrelated project (version 0.1.0).
TAKEN_ON_PYPI = {"flamediff"}


def distribution_name() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"]


def test_the_distribution_is_not_named_after_another_project() -> None:
    assert distribution_name() not in TAKEN_ON_PYPI


def test_the_example_workflow_installs_this_project() -> None:
    workflow = (REPO / "examples" / "github-actions.yml").read_text()
    installs = re.findall(r"pip install ([^\n]+)", workflow)
    for line in installs:
        packages = [word for word in line.split() if not word.startswith("-")]
        assert not set(packages) & TAKEN_ON_PYPI, line
    # The workflow uses the action at the top of the repository, which installs itself.
    assert re.search(r"uses: [\w.-]+/flamediff@", workflow), "the workflow does not use the action"
    action = (REPO / "action.yml").read_text()
    (install,) = re.findall(r"pip install ([^\n]+)", action)
    assert install.split()[-1] == '"$GITHUB_ACTION_PATH"', install
