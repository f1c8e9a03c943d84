"""Publish a report on GitHub: one pull-request comment, edited in place, and a check run.

GitHub's REST API (https://docs.github.com/en/rest, API version 2022-11-28), four endpoints:

- ``GET /repos/{repo}/issues/{number}/comments`` (paged, 100 a page): find the earlier comment;
- ``PATCH /repos/{repo}/issues/comments/{id}``: edit it, or
  ``POST /repos/{repo}/issues/{number}/comments``: write the first one;
- ``POST /repos/{repo}/check-runs``: the verdict beside the commit, where a branch
  protection rule can require it.

A comment is flamediff's own when its body starts with a hidden marker,
``<!-- flamediff:KEY -->`` (KEY tells apart the reports of several jobs on one pull request),
and it was written by ``author`` when one is given, else by a bot (the job's token writes as
``github-actions[bot]``): a person who quotes the marker does not get the comment overwritten.

The job's token (``GITHUB_TOKEN``) needs ``pull-requests: write`` for the comment and
``checks: write`` for the check run. Only standard-library HTTP (urllib) is used.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from flamediff import __version__
from flamediff.errors import ConfigError, FlamediffError

DEFAULT_API_URL: Final = "https://api.github.com"
# GitHub refuses a comment body or check-run summary longer than this many characters.
MAX_BODY: Final = 65_536
MAX_SUMMARY: Final = 65_535
PAGE_SIZE: Final = 100
# 10,000 comments: a pull request with more is not worth reading to the end.
MAX_PAGES: Final = 100

Conclusion = Literal["success", "neutral", "failure"]
# A warning or an accepted block passes, visibly: GitHub counts `neutral` as passing for a
# required check, and shows it grey rather than green.
CONCLUSIONS: Final[Mapping[str, Conclusion]] = {
    "pass": "success",
    "warn": "neutral",
    "accepted": "neutral",
    "no baseline": "neutral",
    "block": "failure",
}
TITLES: Final[Mapping[str, str]] = {
    "pass": "passed",
    "warn": "passed with warnings",
    "accepted": "blocked, accepted with a written reason",
    "no baseline": "no baseline: the first release",
    "block": "blocked: a significant regression",
}


class GitHubError(FlamediffError):
    """GitHub refused a request or could not be reached."""


@dataclass(frozen=True, slots=True)
class Report:
    """A report folder's Markdown and the verdict of its gate (``no baseline`` if none)."""

    markdown: str
    verdict: str
    title: str


@dataclass(frozen=True, slots=True)
class Published:
    """What was written: the comment's address and whether it was ``created`` or ``updated``
    (None without a pull request), and the check run's address (None without one)."""

    comment_url: str | None
    comment_action: Literal["created", "updated"] | None
    check_url: str | None


def marker(key: str) -> str:
    return f"<!-- flamediff:{key} -->"


def read_report(folder: Path) -> Report:
    """The report written by ``release``/``gate --out``/``compare --out`` into ``folder``.

    The verdict is ``report.json``'s gate verdict, or the top-level ``verdict`` of a report
    of several scenarios; a folder with only ``report.md`` is the first release ("no
    baseline").
    """
    try:
        markdown = (folder / "report.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{folder / 'report.md'}: cannot read the report: {error}") from None
    verdict = "no baseline"
    title = ""
    json_path = folder / "report.json"
    if json_path.exists():
        try:
            document = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigError(f"{json_path}: cannot read the report: {error}") from None
        verdict, title = _verdict_in(document, json_path)
    if verdict not in CONCLUSIONS:
        raise ConfigError(f"{json_path}: unknown verdict {verdict!r}")
    return Report(markdown, verdict, title or TITLES[verdict])


def _verdict_in(document: Any, where: Path) -> tuple[str, str]:
    if isinstance(document, dict):
        if isinstance(document.get("verdict"), str):  # several scenarios
            return document["verdict"], ""
        gate = document.get("gate")
        if isinstance(gate, dict) and isinstance(gate.get("verdict"), str):
            base, head = document.get("base", {}), document.get("head", {})
            names = f"{head.get('name', '?')} against {base.get('name', '?')}"
            return gate["verdict"], f"{names}: {TITLES.get(gate['verdict'], gate['verdict'])}"
    raise ConfigError(f"{where}: holds no gate verdict")


def comment_body(markdown: str, key: str) -> str:
    """The comment: the marker, then the report, cut to what GitHub accepts."""
    head = marker(key) + "\n"
    cut_note = "\n\n*(cut to fit in a comment: the whole report is in the job's artifacts)*\n"
    if len(head) + len(markdown) <= MAX_BODY:
        return head + markdown
    return head + markdown[: MAX_BODY - len(head) - len(cut_note)] + cut_note


@dataclass(frozen=True, slots=True)
class PullRequest:
    """Where the job runs, as the event that started it says: the pull request's number
    (None for a push) and the commit to attach the check run to."""

    number: int | None
    head_sha: str | None


def event_context(event_path: Path | None, sha: str | None) -> PullRequest:
    """The pull request and commit from ``$GITHUB_EVENT_PATH``'s JSON and ``$GITHUB_SHA``.

    On a pull request ``$GITHUB_SHA`` is a merge commit nobody sees; the check run belongs on
    the pull request's head commit.
    """
    if event_path is None:
        return PullRequest(None, sha)
    try:
        event = json.loads(event_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{event_path}: cannot read the event: {error}") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if isinstance(pull, dict):
        number = pull.get("number")
        head = pull.get("head")
        head_sha = head.get("sha") if isinstance(head, dict) else None
        return PullRequest(
            number if isinstance(number, int) else None,
            head_sha if isinstance(head_sha, str) else sha,
        )
    return PullRequest(None, sha)


class GitHub:
    """A few calls of GitHub's REST API for one repository, authenticated by a token."""

    def __init__(self, api_url: str, repository: str, token: str, *, timeout: float = 30) -> None:
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise ConfigError(f"the repository must be OWNER/NAME, not {repository!r}")
        if not token:
            raise ConfigError("no GitHub token: set GITHUB_TOKEN (the job's token will do)")
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.token = token
        self.timeout = timeout

    def request(
        self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None
    ) -> Any:
        """The JSON answer of ``method path``; a refusal or no answer is a GitHubError."""
        url = f"{self.api_url}/repos/{self.repository}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", f"flamediff/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raise GitHubError(_refusal(method, url, error)) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GitHubError(f"{method} {url}: GitHub cannot be reached: {reason}") from None
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError:
            raise GitHubError(f"{method} {url}: the answer is not JSON") from None


def _refusal(method: str, url: str, error: urllib.error.HTTPError) -> str:
    try:
        message = json.loads(error.read()).get("message", "")
    except (ValueError, AttributeError, OSError):
        message = ""
    text = f"{method} {url}: GitHub answered {error.code}" + (f" ({message})" if message else "")
    if error.code in (401, 403, 404):
        text += (
            "; the token needs `pull-requests: write` and `checks: write` (a pull request "
            "from a fork gets a read-only token)"
        )
    return text


def find_comment(github: GitHub, number: int, key: str, author: str | None) -> int | None:
    """The id of flamediff's earlier comment on pull request ``number``, if any."""
    tag = marker(key)
    for page in range(1, MAX_PAGES + 1):
        comments = github.request(
            "GET",
            f"/issues/{number}/comments",
            query={"per_page": str(PAGE_SIZE), "page": str(page)},
        )
        if not isinstance(comments, list):
            raise GitHubError(f"GitHub listed the comments of #{number} as something else")
        for comment in comments:
            body = comment.get("body") or ""
            user = comment.get("user") or {}
            ours = user.get("login") == author if author else user.get("type") == "Bot"
            if body.startswith(tag) and ours:
                return int(comment["id"])
        if len(comments) < PAGE_SIZE:
            return None
    return None


def publish(
    github: GitHub,
    report: Report,
    context: PullRequest,
    *,
    key: str = "report",
    author: str | None = None,
    check_name: str | None = "flamediff",
) -> Published:
    """Write or edit the comment on the pull request, and create the check run.

    Without a pull request (a push) only the check run is made; without ``check_name`` or a
    commit, only the comment.
    """
    comment_url: str | None = None
    action: Literal["created", "updated"] | None = None
    if context.number is not None:
        body = {"body": comment_body(report.markdown, key)}
        earlier = find_comment(github, context.number, key, author)
        if earlier is None:
            answer = github.request("POST", f"/issues/{context.number}/comments", body)
            action = "created"
        else:
            answer = github.request("PATCH", f"/issues/comments/{earlier}", body)
            action = "updated"
        comment_url = _url_in(answer)
    check_url = None
    if check_name and context.head_sha:
        summary = report.markdown
        if len(summary) > MAX_SUMMARY:
            summary = summary[: MAX_SUMMARY - 40] + "\n\n*(cut to fit: see the artifacts)*\n"
        answer = github.request(
            "POST",
            "/check-runs",
            {
                "name": check_name,
                "head_sha": context.head_sha,
                "status": "completed",
                "conclusion": CONCLUSIONS[report.verdict],
                "output": {"title": report.title, "summary": summary},
            },
        )
        check_url = _url_in(answer)
    return Published(comment_url, action, check_url)


def _url_in(answer: Any) -> str | None:
    if isinstance(answer, dict):
        url = answer.get("html_url") or answer.get("url")
        return str(url) if url else None
    return None
