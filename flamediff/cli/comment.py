"""`flamediff comment`: the report on the pull request, one comment edited in place, and a
check run with the verdict."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from flamediff.cli.common import note
from flamediff.errors import ConfigError


def comment(
    report: Annotated[
        Path,
        typer.Argument(
            help="Report folder written by `release`, `gate --out` or `compare --out` "
            "(report.md, and report.json for the verdict).",
        ),
    ] = Path("flamediff-report"),
    pr: Annotated[
        int | None,
        typer.Option(
            "--pr",
            help="Pull request number. Default: the pull request of $GITHUB_EVENT_PATH; "
            "on a push there is none, and only the check run is made.",
            show_default=False,
        ),
    ] = None,
    sha: Annotated[
        str | None,
        typer.Option(
            "--sha",
            help="Commit for the check run. Default: the pull request's head commit, "
            "else $GITHUB_SHA.",
            show_default=False,
        ),
    ] = None,
    repository: Annotated[
        str | None,
        typer.Option(
            "--repository",
            envvar="GITHUB_REPOSITORY",
            help="OWNER/NAME. Default: $GITHUB_REPOSITORY.",
            show_default=False,
        ),
    ] = None,
    api_url: Annotated[
        str,
        typer.Option(
            "--api-url",
            envvar="GITHUB_API_URL",
            help="GitHub's REST API: $GITHUB_API_URL on GitHub Enterprise.",
        ),
    ] = "https://api.github.com",
    key: Annotated[
        str,
        typer.Option(
            "--key",
            help="Tells apart the comments of several flamediff jobs on one pull request "
            "(one per key is kept up to date).",
        ),
    ] = "report",
    author: Annotated[
        str | None,
        typer.Option(
            "--author",
            help="Login that writes the comment, when the token is a person's: only that "
            "author's comment is edited. Default: any bot (the job's token).",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        str,
        typer.Option(
            "--check",
            help="Name of the check run with the verdict; an empty name makes none.",
        ),
    ] = "flamediff",
) -> None:
    """Post REPORT's Markdown on the pull request, editing flamediff's earlier comment there
    rather than adding one per push, and create a check run with the verdict.

    Reads the token from $GITHUB_TOKEN. Exit 0 when published, 2 when GitHub refused.
    """
    from flamediff.pipeline.comment import GitHub, PullRequest, event_context, publish, read_report

    loaded = read_report(report)
    if repository is None:
        raise ConfigError("no repository: give --repository OWNER/NAME or set GITHUB_REPOSITORY")
    github = GitHub(api_url, repository, os.environ.get("GITHUB_TOKEN", ""))
    event = os.environ.get("GITHUB_EVENT_PATH")
    context = event_context(Path(event) if event else None, os.environ.get("GITHUB_SHA"))
    context = PullRequest(
        pr if pr is not None else context.number, sha if sha is not None else context.head_sha
    )
    if context.number is None and not (check and context.head_sha):
        raise ConfigError(
            "nothing to publish on: no pull request (--pr, $GITHUB_EVENT_PATH) and no commit "
            "for a check run (--sha, $GITHUB_SHA)"
        )
    published = publish(github, loaded, context, key=key, author=author, check_name=check or None)
    if published.comment_action is not None:
        note(f"{published.comment_action} the comment {published.comment_url or ''}".rstrip())
    else:
        note("no pull request: no comment")
    if published.check_url is not None:
        note(f"check run {check}: {loaded.verdict} {published.check_url}")
