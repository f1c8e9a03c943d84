"""The composite action's shell: what it hands flamediff, run in bash with stand-ins."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from builders import REPO

ACTION = REPO / "action.yml"


def step_script(name: str) -> str:
    """The `run: |` block of the step called ``name`` (read as text: no YAML parser needed)."""
    lines = ACTION.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"    - name: {name}")
    run = next(i for i in range(start, len(lines)) if lines[i].strip() == "run: |")
    body = []
    for line in lines[run + 1 :]:
        if line.strip() and not line.startswith(" " * 8):
            break
        body.append(line[8:])
    return "\n".join(body) + "\n"


def executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def runner(tmp_path: Path):
    """Run the gate step with `sudo` and `flamediff` replaced; the arguments flamediff got."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # sudo's options, then `env PATH=...`, then the command: run the command as it is.
    executable(
        bin_dir / "sudo",
        '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done\n'
        'if [ "$1" = env ]; then shift; shift; fi\nexec "$@"\n',
    )
    args_file = tmp_path / "args"
    executable(
        bin_dir / "flamediff",
        f'#!/bin/sh\nfor a in "$@"; do printf \'%s\\n\' "$a"; done > {args_file}\nexit 1\n',
    )
    executable(bin_dir / "python", f'#!/bin/sh\nexec {sys.executable} "$@"\n')

    def run(load: str, pr_body: str = "", archive: str = ".flamediff") -> tuple[list[str], str]:
        output = tmp_path / "github_output"
        output.write_text("", encoding="utf-8")
        (tmp_path / ".flamediff").mkdir(exist_ok=True)
        (tmp_path / "flamediff-report").mkdir(exist_ok=True)
        env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "LOAD": load,
            "ARCHIVE": archive,
            "PR_BODY": pr_body,
            "GITHUB_REF_NAME": "feature/faster",
            "GITHUB_SHA": "0123456789abcdef",
            "GITHUB_OUTPUT": str(output),
        }
        script = step_script("Capture, compare and gate")
        done = subprocess.run(
            [bash, "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return args_file.read_text(encoding="utf-8").splitlines(), output.read_text()

    return run


def test_the_load_is_split_like_a_shell_line_and_the_status_kept(runner):
    args, output = runner("python bench/load.py --size 'very large'")
    assert args == [
        "release", "feature-faster-01234567", "--out", "flamediff-report", "--archive",
        ".flamediff", "--", "python", "bench/load.py", "--size", "very large",
    ]  # fmt: skip
    assert output == "status=1\n"


def test_without_a_load_the_pyproject_decides(runner):
    args, _ = runner("")
    assert args == [
        "release", "feature-faster-01234567", "--out", "flamediff-report", "--archive",
        ".flamediff",
    ]  # fmt: skip


def test_a_perf_accept_line_becomes_the_justification(runner):
    body = "Faster checkout.\n\nperf-accept: the new tax rules cost 5%, agreed in #12\n"
    args, _ = runner("python load.py", body)
    assert args[args.index("--justify") + 1] == "the new tax rules cost 5%, agreed in #12"


def test_an_archive_in_a_bucket_is_passed_on_as_its_url(runner):
    args, output = runner("python bench/load.py", archive="s3://team-perf/flamediff")
    assert args[args.index("--archive") + 1] == "s3://team-perf/flamediff"
    assert output == "status=1\n"
