"""The team knowledge base on a real server: two collections, keys with roles, trash, chat
history, feedback and gaps (issue 31's "done when"), over HTTP on loopback.

The server's folders sit in a git work tree laid out as the project is (tracked ``seeds/``,
ignored ``data/``), so "uploads never appear in ``git status``" is checked, not assumed.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from api import create_app
from qa.cli import app as cli
from qa.collections.access import add_key
from tests.support import TB2_QUESTION, LiveServer, copy_seeds, fast_service, fast_settings, settings_env

HR_DOC = (
    "Leave policy\n\nEvery employee gets 27 days of paid annual leave each year. "
    "Leave requests are approved by Marta Quill in People Operations.\n"
)
HR_QUESTION = "How many days of paid annual leave does an employee get?"
ENG_DOC = (
    "Deploy guide\n\nThe release train leaves every Thursday afternoon. "
    "The on-call engineer for deploys this quarter is Ravi Osei.\n"
)
ENG_QUESTION = "Who is the on-call engineer for deploys?"
GAP_QUESTIONS = ("Where can visitors park their bicycles?", "where do visitors park bicycles")


@dataclass
class Team:
    """A running server and the keys of its people."""

    live: LiveServer
    root: Path
    keys: dict[str, str]

    def call(self, method: str, path: str, who: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        return httpx.request(method, f"{self.live.url}{path}", headers=headers, timeout=30, **kwargs)

    def ask(self, who: str, question: str, collection: str) -> dict[str, Any]:
        response = self.call("POST", "/api/ask", who, json={"question": question, "collection": collection})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def upload(self, who: str, collection: str, name: str, text: str) -> httpx.Response:
        return self.call(
            "POST", f"/api/documents?collection={collection}", who, files=[("files", (name, text.encode()))]
        )

    def wait_indexed(self, who: str, collection: str, source: str, *, present: bool = True) -> None:
        deadline = time.monotonic() + 30
        while True:
            files = self.call("GET", f"/api/documents?collection={collection}", who).json()["files"]
            row = next((f for f in files if f["source"] == source), None)
            if (row is not None and row["status"] == "indexed") if present else row is None:
                return
            assert time.monotonic() < deadline, f"{source} never {'indexed' if present else 'removed'}: {row}"
            time.sleep(0.05)


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def team(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> Team:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    copy_seeds(root)
    (root / ".gitignore").write_text("/data/\n/embeddings/\n", "utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "seeds")
    keys_file = tmp_path / "keys.json"
    roles = {"admin": ("admin", None), "hr-editor": ("editor", ["hr"]), "hr-reader": ("reader", ["hr"]),
             "eng-reader": ("reader", ["eng"])}  # fmt: skip
    keys = {}
    for name, (role, collections) in roles.items():
        keys[name] = secrets.token_urlsafe(24)
        add_key(keys_file, name, role=role, collections=collections, key=keys[name])  # type: ignore[arg-type]
    settings = fast_settings(root, keys_file=keys_file)
    live = serve(create_app(service=fast_service(settings)))
    return Team(live, root, keys)


def test_two_collections_keep_their_documents_keys_and_chats_apart(team: Team) -> None:
    for name in ("hr", "eng"):
        assert team.call("POST", "/api/collections", "admin", json={"name": name}).status_code == 201
    refused = team.call("POST", "/api/collections", "hr-editor", json={"name": "x"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_forbidden"

    # An editor uploads to its collection; a reader cannot upload, even to its own.
    assert team.upload("hr-editor", "hr", "leave-policy.txt", HR_DOC).status_code == 202
    assert team.upload("admin", "eng", "deploy-guide.txt", ENG_DOC).status_code == 202
    for who, collection, code in (
        ("eng-reader", "eng", "role_forbidden"),
        ("hr-editor", "eng", "collection_forbidden"),
    ):
        response = team.upload(who, collection, "x.txt", "text")
        assert response.status_code == 403 and response.json()["error"]["code"] == code
    team.wait_indexed("hr-editor", "hr", "uploads/leave-policy.txt")
    team.wait_indexed("admin", "eng", "uploads/deploy-guide.txt")
    assert _git(team.root, "status", "--porcelain") == ""  # uploads live under the ignored data folder

    # Each collection answers from its own documents.
    hr = team.ask("hr-reader", HR_QUESTION, "hr")
    assert hr["status"] == "answered" and hr["answer"] == "27" and hr["collection"] == "hr"
    assert {c["source"] for c in hr["citations"]} == {"uploads/leave-policy.txt"}
    eng = team.ask("eng-reader", ENG_QUESTION, "eng")
    assert "Ravi Osei" in eng["answer"]
    assert team.ask("eng-reader", TB2_QUESTION, "eng")["status"] == "abstained"  # the seed article is default's
    # A reader of eng never sees hr: not its documents, answers, or a citation from it.
    for method, path, body in (
        ("GET", "/api/documents?collection=hr", None),
        ("GET", "/api/trash?collection=hr", None),
        ("POST", "/api/ask", {"question": HR_QUESTION, "collection": "hr"}),
        ("POST", "/api/chat", {"message": HR_QUESTION, "collection": "hr"}),
    ):
        response = team.call(method, path, "eng-reader", json=body)
        assert response.status_code == 403 and response.json()["error"]["code"] == "collection_forbidden", path
    leaked = team.ask("eng-reader", HR_QUESTION, "eng")
    assert all(c["source"] == "uploads/deploy-guide.txt" for c in leaked["citations"])
    assert "27" not in (leaked["answer"] or "")
    models = team.call("GET", "/v1/models", "eng-reader").json()["data"]
    assert [m["id"] for m in models] == ["eng"]
    assert [m["id"] for m in team.call("GET", "/v1/models", "admin").json()["data"]] == ["seed-qa", "eng", "hr"]
    completion = team.call("POST", "/v1/chat/completions", "hr-reader",
                           json={"model": "hr", "messages": [{"role": "user", "content": HR_QUESTION}]})  # fmt: skip
    assert "27" in completion.json()["choices"][0]["message"]["content"]
    forbidden = team.call("POST", "/v1/chat/completions", "eng-reader",
                          json={"model": "hr", "messages": [{"role": "user", "content": HR_QUESTION}]})  # fmt: skip
    assert forbidden.status_code == 403

    # Chats: own sessions only, follow-ups in the session, another key's id is unknown.
    first = team.call("POST", "/api/chat", "hr-reader", json={"message": HR_QUESTION, "collection": "hr"}).json()
    session = first["session_id"]
    team.call("POST", "/api/chat", "hr-reader", json={"message": "Who approves it?", "session_id": session,
                                                       "collection": "hr"})  # fmt: skip
    listed = team.call("GET", "/api/sessions", "hr-reader").json()["sessions"]
    assert [(s["session_id"], s["turns"], s["title"]) for s in listed] == [(session, 2, HR_QUESTION)]
    transcript = team.call("GET", f"/api/sessions/{session}", "hr-reader").json()
    assert [a["question"] for a in transcript["answers"]] == [HR_QUESTION, "Who approves it?"]
    assert transcript["answers"][0]["id"] == first["id"]
    assert team.call("GET", "/api/sessions", "hr-editor").json()["sessions"] == []
    assert team.call("GET", f"/api/sessions/{session}", "hr-editor").json()["error"]["code"] == "session_not_found"
    stolen = team.call("POST", "/api/chat", "admin", json={"message": "and?", "session_id": session,
                                                           "collection": "hr"})  # fmt: skip
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "session_not_found"

    # Feedback on an answer of a collection the key cannot read is an unknown answer.
    vote = {"answer_id": hr["id"], "vote": "up", "source": "api"}
    assert team.call("POST", "/api/feedback", "hr-reader", json=vote).status_code == 201
    other = team.call("POST", "/api/feedback", "eng-reader", json=vote)
    assert other.status_code == 404 and other.json()["error"]["code"] == "answer_not_found"

    # Gaps: the abstained questions, near-duplicates grouped; admins only.
    for question in GAP_QUESTIONS:
        assert team.ask("hr-reader", question, "hr")["status"] == "abstained"
    gaps = team.call("GET", "/api/gaps?collection=hr", "admin").json()["gaps"]
    parking = [g for g in gaps if "bicycles" in g["question"]]
    assert len(parking) == 1 and parking[0]["count"] == 2 and parking[0]["abstained"] == 2
    assert parking[0]["closest"] and parking[0]["last_asked"] > 0
    assert team.call("GET", "/api/gaps", "hr-reader").json()["error"]["code"] == "role_forbidden"

    # Delete to the trash, then restore: out of the index and back.
    doc_id = hr["citations"][0]["doc_id"]
    assert team.call("DELETE", f"/api/documents/{doc_id}?collection=hr", "hr-reader").status_code == 403
    team.upload("hr-editor", "hr", "holidays.txt", "Public holidays\n\nThe office closes on 1 May.\n")
    team.wait_indexed("hr-editor", "hr", "uploads/holidays.txt")
    assert team.call("DELETE", f"/api/documents/{doc_id}?collection=hr", "hr-editor").status_code == 202
    team.wait_indexed("hr-editor", "hr", "uploads/leave-policy.txt", present=False)
    assert team.ask("hr-reader", HR_QUESTION, "hr")["status"] == "abstained"
    (entry,) = team.call("GET", "/api/trash?collection=hr", "hr-reader").json()["entries"]
    assert entry["source"] == "uploads/leave-policy.txt" and entry["kind"] == "moved" and entry["expires_at"]
    restored = team.call("POST", f"/api/trash/{entry['id']}/restore?collection=hr", "hr-editor")
    assert restored.status_code == 202, restored.text
    team.wait_indexed("hr-editor", "hr", "uploads/leave-policy.txt")
    assert team.ask("hr-reader", HR_QUESTION, "hr")["answer"] == "27"
    assert _git(team.root, "status", "--porcelain") == ""


def test_a_hand_placed_file_is_hidden_never_erased(team: Team) -> None:
    seed = team.call("GET", "/api/documents", "admin").json()["files"][0]
    team.upload("admin", "default", "holidays.txt", "Public holidays\n\nThe office closes on 1 May.\n")
    team.wait_indexed("admin", "default", "uploads/holidays.txt")
    assert team.call("DELETE", f"/api/documents/{seed['id']}", "admin").status_code == 202
    team.wait_indexed("admin", "default", seed["source"], present=False)
    assert (team.root / "seeds" / seed["source"]).exists()  # still on disk, only left out of the index
    assert team.ask("admin", TB2_QUESTION, "default")["status"] == "abstained"
    (entry,) = team.call("GET", "/api/trash", "admin").json()["entries"]
    assert entry["kind"] == "hidden" and entry["expires_at"] is None
    assert team.call("POST", f"/api/trash/{entry['id']}/restore", "admin").status_code == 202
    team.wait_indexed("admin", "default", seed["source"])
    assert team.ask("admin", TB2_QUESTION, "default")["answer"] == "Baykar"


def test_uploads_off_refuses_every_role(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    live = serve(create_app(service=fast_service(fast_settings(tmp_path, uploads="off"))))
    response = httpx.post(f"{live.url}/api/documents", files=[("files", ("a.txt", b"text"))], timeout=10)
    assert response.status_code == 403 and response.json()["error"]["code"] == "uploads_disabled"


def test_feedback_is_exported_as_a_test_set_that_qa_eval_runs(team: Team, tmp_path: Path) -> None:
    assert team.call("POST", "/api/collections", "admin", json={"name": "hr"}).status_code == 201
    team.upload("hr-editor", "hr", "leave-policy.txt", HR_DOC)
    team.wait_indexed("hr-editor", "hr", "uploads/leave-policy.txt")
    up = team.ask("hr-reader", HR_QUESTION, "hr")
    wrong = team.ask("hr-reader", "Who approves leave requests?", "hr")
    refused = team.ask("hr-reader", GAP_QUESTIONS[0], "hr")
    votes = [
        {"answer_id": up["id"], "vote": "up"},
        {"answer_id": wrong["id"], "vote": "down", "correction": "Marta Quill", "comment": "name only"},
        {"answer_id": refused["id"], "vote": "down"},  # no correction: a gap, not a test case
    ]
    for vote in votes:
        assert team.call("POST", "/api/feedback", "hr-reader", json={**vote, "source": "page"}).status_code == 201

    settings = team.live.app.state.settings
    env = settings_env(settings, QA_KEYS_FILE=str(settings.keys_file))
    out = tmp_path / "feedback.jsonl"
    runner = CliRunner()
    exported = runner.invoke(cli, ["feedback", "export", str(out), "--collection", "hr"], env=env)
    assert exported.exit_code == 0, exported.output
    assert "Wrote 2 questions" in exported.output and "1 down-votes without a correction" in exported.output
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) == 2 and '"Marta Quill"' in lines[1] and '"uploads/leave-policy.txt"' in lines[0]
    ran = runner.invoke(cli, ["eval", str(out), "--collection", "hr", "--min", "questions=2"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "feedback.jsonl: 2 questions" in ran.output

    # The file changed since: its quote no longer counts, so the up-voted answer is dropped.
    (settings.data_dir / "collections" / "hr" / "uploads" / "leave-policy.txt").write_text(HR_DOC + "Edited.\n")
    again = runner.invoke(cli, ["feedback", "export", str(out), "--collection", "hr"], env=env)
    assert "Wrote 1 questions" in again.output and "1 answers and 1 quotes dropped" in again.output
