"""`flamediff comment` against a local stand-in for GitHub's REST API that records requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from builders import run_cli, sample_runs

REPO = "acme/shop"
TOKEN = "ghs_test_token"
BOT = {"login": "github-actions[bot]", "type": "Bot"}
PERSON = {"login": "alice", "type": "User"}


@dataclass
class FakeGitHub:
    """Issue comments and check runs of one repository, in memory; every request recorded."""

    url: str = ""
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    authorizations: set[str] = field(default_factory=set)
    refuse: int | None = None
    next_id: int = 1000

    def add_comment(self, number: int, body: str, user: dict[str, str]) -> int:
        self.next_id += 1
        self.comments.setdefault(number, []).append(
            {"id": self.next_id, "body": body, "user": user}
        )
        return self.next_id

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        parsed = urlparse(path)
        parts = parsed.path.strip("/").split("/")
        if self.refuse is not None:
            return self.refuse, {"message": "Resource not accessible by integration"}
        if parts[:3] != ["repos", *REPO.split("/")]:
            return 404, {"message": "Not Found"}
        rest = parts[3:]
        if rest[:1] == ["issues"] and rest[2:] == ["comments"]:
            number = int(rest[1])
            if method == "GET":
                query = parse_qs(parsed.query)
                size, page = int(query["per_page"][0]), int(query["page"][0])
                listed = self.comments.get(number, [])
                return 200, listed[(page - 1) * size : page * size]
            if method == "POST":
                assert body is not None
                new = self.add_comment(number, body["body"], BOT)
                return 201, {"id": new, "html_url": f"https://github.test/c/{new}"}
        if rest[:2] == ["issues", "comments"] and method == "PATCH":
            assert body is not None
            for listed in self.comments.values():
                for comment in listed:
                    if comment["id"] == int(rest[2]):
                        comment["body"] = body["body"]
                        return 200, {
                            "id": comment["id"],
                            "html_url": f"https://github.test/c/{comment['id']}",
                        }
            return 404, {"message": "Not Found"}
        if rest == ["check-runs"] and method == "POST":
            assert body is not None
            self.check_runs.append(body)
            return 201, {"id": len(self.check_runs), "html_url": "https://github.test/runs/1"}
        return 404, {"message": "Not Found"}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((self.command, self.path, body))
            fake.authorizations.add(self.headers.get("Authorization", ""))
            status, answer = fake.handle(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, github: FakeGitHub) -> Path:
    """The environment of a GitHub Actions job on pull request #7; returns the event file."""
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"number": 7, "pull_request": {"number": 7, "head": {"sha": "abc123"}}}),
        encoding="utf-8",
    )
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_SHA", "merge999")
    return event


def report_folder(
    tmp_path: Path, verdict: str | None, markdown: str = "### v2 against v1\n"
) -> Path:
    folder = tmp_path / f"report-{verdict}"
    folder.mkdir()
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    if verdict is not None:
        document = {"base": {"name": "v1"}, "head": {"name": "v2"}, "gate": {"verdict": verdict}}
        (folder / "report.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_first_push_creates_the_comment_and_a_failing_check_run(capsys, tmp_path, job, github):
    folder = report_folder(tmp_path, "block", "### v2 against v1: blocked\n| f | +40% |\n")
    code, _, err = run_cli(capsys, "comment", str(folder))
    assert code == 0, err
    (created,) = github.comments[7]
    assert (
        created["body"] == "<!-- flamediff:report -->\n### v2 against v1: blocked\n| f | +40% |\n"
    )
    (check,) = github.check_runs
    assert check["head_sha"] == "abc123"  # the pull request's head, not the merge commit
    assert check["conclusion"] == "failure"
    assert check["status"] == "completed"
    assert check["name"] == "flamediff"
    assert check["output"]["title"] == "v2 against v1: blocked: a significant regression"
    assert "+40%" in check["output"]["summary"]
    assert github.authorizations == {f"Bearer {TOKEN}"}
    assert "created the comment https://github.test/c/" in err


def test_the_next_push_edits_the_same_comment(capsys, tmp_path, job, github):
    github.add_comment(7, "LGTM", PERSON)
    ours = github.add_comment(7, "<!-- flamediff:report -->\nold report", BOT)
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, "pass", "new report\n")))
    assert code == 0, err
    assert [c["body"] for c in github.comments[7]] == [
        "LGTM",
        "<!-- flamediff:report -->\nnew report\n",
    ]
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{ours}") in [
        (method, path) for method, path, _ in github.requests
    ]
    assert not any(method == "POST" and "/issues/7/" in path for method, path, _ in github.requests)
    assert github.check_runs[-1]["conclusion"] == "success"


def test_the_earlier_comment_is_found_past_the_first_page(capsys, tmp_path, job, github):
    for index in range(150):
        github.add_comment(7, f"comment {index}", PERSON)
    ours = github.add_comment(7, "<!-- flamediff:report -->\nold", BOT)
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, "warn")))
    assert code == 0, err
    assert len(github.comments[7]) == 151
    assert github.comments[7][-1]["id"] == ours
    assert github.comments[7][-1]["body"].endswith("### v2 against v1\n")
    assert github.check_runs[-1]["conclusion"] == "neutral"


def test_a_persons_comment_quoting_the_marker_is_left_alone(capsys, tmp_path, job, github):
    quoted = "<!-- flamediff:report -->\nwhy does it say this?"
    github.add_comment(7, quoted, PERSON)
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, "pass")))
    assert code == 0, err
    assert [c["body"] for c in github.comments[7]] == [
        quoted,
        "<!-- flamediff:report -->\n### v2 against v1\n",
    ]


def test_each_key_keeps_its_own_comment(capsys, tmp_path, job, github):
    github.add_comment(7, "<!-- flamediff:startup -->\nstart-up report", BOT)
    code, _, err = run_cli(
        capsys, "comment", str(report_folder(tmp_path, "pass")), "--key", "batch"
    )
    assert code == 0, err
    assert [c["body"].splitlines()[0] for c in github.comments[7]] == [
        "<!-- flamediff:startup -->",
        "<!-- flamediff:batch -->",
    ]


def test_a_push_gets_only_the_check_run(capsys, tmp_path, job, github, monkeypatch):
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main"}), encoding="utf-8")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(push))
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, "pass")))
    assert code == 0, err
    assert github.comments == {}
    assert [c["head_sha"] for c in github.check_runs] == ["merge999"]
    assert "no pull request" in err


def test_the_first_release_is_a_neutral_check(capsys, tmp_path, job, github):
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, None)), "--pr", "9")
    assert code == 0, err
    assert 9 in github.comments
    assert github.check_runs[-1]["conclusion"] == "neutral"
    assert github.check_runs[-1]["output"]["title"] == "no baseline: the first release"


def test_a_long_report_is_cut_to_what_github_accepts(capsys, tmp_path, job, github):
    long = "| row |\n" * 20_000
    code, _, err = run_cli(
        capsys, "comment", str(report_folder(tmp_path, "pass", long)), "--check", ""
    )
    assert code == 0, err
    body = github.comments[7][0]["body"]
    assert len(body) <= 65_536
    assert body.endswith("the whole report is in the job's artifacts)*\n")
    assert github.check_runs == []


def test_a_refusal_exits_2_and_says_what_the_token_needs(capsys, tmp_path, job, github):
    github.refuse = 403
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, "pass")))
    assert code == 2
    assert "GitHub answered 403 (Resource not accessible by integration)" in err
    assert "pull-requests: write" in err


def test_without_a_token_nothing_is_sent(capsys, tmp_path, job, github, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, "pass")))
    assert (code, err) == (
        2,
        "error: no GitHub token: set GITHUB_TOKEN (the job's token will do)\n",
    )
    assert github.requests == []


def test_an_unreachable_api_exits_2(capsys, tmp_path, job, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")
    code, _, err = run_cli(capsys, "comment", str(report_folder(tmp_path, "pass")))
    assert code == 2
    assert "GitHub cannot be reached" in err


def test_a_missing_report_exits_2(capsys, tmp_path, job, github):
    code, _, err = run_cli(capsys, "comment", str(tmp_path / "nowhere"))
    assert code == 2
    assert "report.md: cannot read the report" in err
    assert github.requests == []


def test_the_release_report_folder_is_published(capsys, tmp_path, job, github, replay):
    replay({"load-v1": sample_runs("v1"), "load-v2": sample_runs("v2")})
    archive, out = str(tmp_path / "archive"), tmp_path / "out"
    for name in ("v1", "v2"):
        run_cli(
            capsys, "release", name, "--out", str(out), "--archive", archive, "--archived-base",
            "--", "python", f"load-{name}",
        )  # fmt: skip
    code, _, err = run_cli(capsys, "comment", str(out))
    assert code == 0, err
    (check,) = github.check_runs
    assert check["conclusion"] == "failure"
    assert check["output"]["title"] == "v2 against v1: blocked: a significant regression"
    assert "apply\\_discounts" in github.comments[7][0]["body"]
