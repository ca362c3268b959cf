"""Structured logs: every server log line is JSON with a request id; ``X-Request-ID`` goes in and
out and into error bodies; secrets never appear in the log."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support import TB2_QUESTION, start_server_process

KEY = "log-test-key-5f2a9c"
SLACK_TOKEN = "xoxb-log-test-token-77"
SIGNING = "log-test-signing-secret-31"


def test_json_log_lines_carry_request_ids_and_no_secrets(tmp_path: Path) -> None:
    server = start_server_process(
        tmp_path, QA_API_KEYS=KEY, QA_SLACK_BOT_TOKEN=SLACK_TOKEN, QA_SLACK_SIGNING_SECRET=SIGNING
    )
    try:
        auth = {"Authorization": f"Bearer {KEY}"}
        ok = httpx.post(
            f"{server.url}/api/ask", json={"question": TB2_QUESTION}, headers={**auth, "X-Request-ID": "trace-ok-1"}
        )
        assert ok.status_code == 200 and ok.headers["X-Request-ID"] == "trace-ok-1"
        bad = httpx.get(f"{server.url}/api/documents", headers={"Authorization": f"Bearer {KEY}-wrong"})
        assert bad.json()["error"]["request_id"] == bad.headers["X-Request-ID"]
        forged = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": '"} {"level": "forged"'})
        assert forged.headers["X-Request-ID"] != '"} {"level": "forged"'  # not a plain id: replaced
        missing = httpx.get(f"{server.url}/api/documents/nope", headers={**auth, "X-Request-ID": "trace-404"})
        assert missing.json()["error"]["request_id"] == "trace-404"
    finally:
        server.stop()
    text = server.log.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in entries)
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert any(e["request_id"] == "trace-ok-1" and "/api/ask" in e["message"] for e in access), access
    assert any(e["request_id"] == "trace-404" for e in access)
    for secret in (KEY, SLACK_TOKEN, SIGNING):
        assert secret not in text
