"""Faults downstream: Slack's Web API slow, refusing or failing, and the LLM likewise. Bounded
waits and retries, a clear message or the offline fallback, no hang, and never a second Slack post."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from qa import HashingEmbedder, QAService
from tests.support import TB2_QUESTION


class FaultySlack:
    """Slack's Web API on loopback; ``chat.postMessage`` misbehaves as ``mode`` says."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.posts: list[float] = []
        faulty = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.split("?")[0].removeprefix("/api/")
                status, body, headers = 200, {"ok": True, "ts": "1.000001", "channel": "C1"}, {}
                if method == "auth.test":
                    body = {"ok": True, "team_id": "T0SEED", "user_id": "UBOT", "bot_id": "BBOT"}
                elif method == "chat.postMessage":
                    faulty.posts.append(time.monotonic())
                    if faulty.mode == "slow":
                        time.sleep(3)
                    elif faulty.mode == "500":
                        status, body = 500, {"ok": False, "error": "internal_error"}
                    elif faulty.mode == "429-once" and len(faulty.posts) == 1:
                        status, body, headers = 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api/"


@pytest.fixture
def slack_app(tmp_path: Path) -> Iterator[Any]:
    from tests.slack.conftest import make_settings
    from tests.slack.slack_standin import Slack
    from tests.support import serving

    started: list[FaultySlack] = []

    def run(mode: str) -> Any:
        faulty = FaultySlack(mode) if mode != "refused" else None
        if faulty:
            started.append(faulty)
        url = faulty.api_url if faulty else closed_port_url()
        settings = make_settings(tmp_path / mode, api_url=url, slack_timeout_s=1.0)
        service = QAService(settings, embedder=HashingEmbedder())
        service.ensure_index()
        return faulty, serving(create_app(service=service)), Slack

    yield run
    for faulty in started:
        faulty.close()


@pytest.mark.parametrize(("mode", "posts"), [("slow", 1), ("500", 1), ("refused", 0), ("429-once", 2)])
def test_slack_api_faults_never_hang_or_post_twice(
    slack_app: Any, mode: str, posts: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    faulty, server, slack_class = slack_app(mode)
    with server as url:
        slack = slack_class(url, faulty)
        started = time.monotonic()
        response = slack.mention("who makes the Bayraktar TB2 drone?", channel="C0FAULT")
        if mode == "refused":  # not even auth.test gets through: Slack is told to retry later
            assert response.status_code == 503 and response.headers["Retry-After"]
            assert time.monotonic() - started < 10 and "Slack will retry" in caplog.text
            return
        assert response.status_code == 200
        deadline = started + 15
        while mode != "429-once" and "Could not post the answer" not in caplog.text:
            assert time.monotonic() < deadline, f"{mode}: the bot neither posted nor gave up"
            time.sleep(0.1)
        time.sleep(3.5 if mode != "429-once" else 4)  # room for any (wrong) retry to arrive
    if faulty is not None:
        assert len(faulty.posts) == posts, f"{mode}: {len(faulty.posts)} chat.postMessage calls"
    if mode == "429-once":
        assert faulty.posts[1] - faulty.posts[0] >= 0.9  # waited for Retry-After
        assert "Could not post the answer" not in caplog.text


@pytest.fixture
def llm_standin() -> Iterator[Any]:
    pytest.importorskip("openai")
    from tests.llm import standin

    fake, server = standin.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("fault", ["500", "slow", "refused"])
def test_llm_faults_fall_back_to_the_offline_answer_in_bounded_time(
    tmp_path: Path, llm_standin: Any, fault: str
) -> None:
    from fastapi.testclient import TestClient

    from tests.llm.standin import Reply
    from tests.support import fast_settings

    llm_standin.reply_with(Reply(status=500) if fault == "500" else Reply("Baykar [1].", delay_s=5.0))
    base_url = closed_port_url().removesuffix("/api/") + "/v1" if fault == "refused" else llm_standin.base_url
    settings = fast_settings(tmp_path, llm_base_url=base_url, llm_model="standin", llm_timeout_s=1.0)
    service = QAService(settings, embedder=HashingEmbedder())
    service.ensure_index()
    with TestClient(create_app(service=service)) as client:
        started = time.monotonic()
        response = client.post("/api/ask", json={"question": TB2_QUESTION})
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"] == "Baykar" and body["citations"], body  # the offline answerer's answer
    assert elapsed < 10, f"{fault}: {elapsed:.1f} s"
    assert len(llm_standin.requests) <= 3  # bounded retries
