"""A table of hostile inputs sent to every endpoint of a real server: each gets a clear 4xx in
the one error shape (or a 200 for right-to-left and emoji questions), and the server keeps answering."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import create_app
from tests.support import TB2_QUESTION, LiveServer, fast_service, fast_settings, start_server

TEN_MB = 10 * 1024 * 1024
RTL_EMOJI = "من يصنع TB2؟ 🚁 Who makes the TB2? מי מייצר 👩🏽‍✈️"


@dataclass(frozen=True)
class Case:
    """One hostile request and the statuses that count as handling it well."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    expect: frozenset[int] = frozenset({422})
    headers: dict[str, str] = field(default_factory=dict)


def js(value: Any) -> bytes:
    return json.dumps(value).encode()


def nested(depth: int) -> bytes:
    return b'{"question": ' + b"[" * depth + b"]" * depth + b"}"


def body_cases(path: str, wrap: Any) -> list[Case]:
    """The body-level attacks for a POST endpoint; ``wrap(value)`` puts a question in its body."""
    return [
        Case("question is a number", "POST", path, js(wrap(12345))),
        Case("question is a list", "POST", path, js(wrap(["Who", "makes"]))),
        Case("question is an object", "POST", path, js(wrap({"$gt": ""}))),
        Case("question is null", "POST", path, js(wrap(None))),
        Case("body is a list", "POST", path, js([wrap(TB2_QUESTION)])),
        Case("body is a string", "POST", path, js("Who makes the TB2?")),
        Case("empty body", "POST", path, b""),
        Case("missing fields", "POST", path, js({})),
        Case("10 MB body", "POST", path, js(wrap("a" * TEN_MB)), frozenset({413})),
        Case("10 MB, no JSON", "POST", path, b"\x00" * TEN_MB, frozenset({413})),
        Case("invalid UTF-8", "POST", path, b'{"question": "\xff\xfe\xc3\x28"}', frozenset({400, 422})),
        Case("NUL byte in the question", "POST", path, js(wrap("Who makes\x00 the TB2?"))),
        Case("raw NUL byte in the JSON", "POST", path, b'{"question": "a\x00b"}', frozenset({400, 422})),
        Case("control characters", "POST", path, js(wrap("Who\x1b[31m makes\x07 the TB2?"))),
        Case("lone surrogate", "POST", path, b'{"question": "\\ud800 TB2"}', frozenset({400, 422})),
        Case("deeply nested JSON", "POST", path, nested(20_000), frozenset({400, 422})),
        Case("100k-character question", "POST", path, js(wrap("why " * 25_000)), frozenset({413, 422})),
        Case("3,000-character question", "POST", path, js(wrap("why " * 750))),
        Case("whitespace-only question", "POST", path, js(wrap(" \n\t "))),
        Case("not JSON", "POST", path, b"question=Who+makes+the+TB2", headers={"Content-Type": "text/plain"}),
        Case("truncated JSON", "POST", path, b'{"question": "Who makes'),
        Case("right-to-left and emoji", "POST", path, js(wrap(RTL_EMOJI)), frozenset({200})),
    ]


def ask(question: Any) -> Any:
    return {"question": question}


def chat(question: Any) -> Any:
    return {"message": question}


def completion(question: Any) -> Any:
    return {"model": "seed-qa", "messages": [{"role": "user", "content": question}]}


def cases() -> list[Case]:
    table = [
        *body_cases("/api/ask", ask),
        *body_cases("/api/chat", chat),
        *body_cases("/v1/chat/completions", completion),
    ]
    table += [
        Case("unknown field", "POST", "/api/ask", js({"question": TB2_QUESTION, "admin": True})),
        Case("top_k as a string", "POST", "/api/ask", js({"question": TB2_QUESTION, "top_k": "5"})),
        Case("top_k huge", "POST", "/api/ask", js({"question": TB2_QUESTION, "top_k": 10**12})),
        Case("top_k negative", "POST", "/api/ask", js({"question": TB2_QUESTION, "top_k": -1})),
        Case("include_hits as 0", "POST", "/api/ask", js({"question": TB2_QUESTION, "include_hits": 0})),
        Case("unknown chat field", "POST", "/api/chat", js({"message": TB2_QUESTION, "role": "admin"})),
        Case(
            "last message not the user's",
            "POST",
            "/v1/chat/completions",
            js({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}),
        ),
        Case("no messages", "POST", "/v1/chat/completions", js({"messages": []})),
        Case("message without a role", "POST", "/v1/chat/completions", js({"messages": [{"content": "hi"}]})),
        Case("reindex: rebuild as a string", "POST", "/api/admin/reindex", js({"rebuild": "yes"})),
        Case("reindex: unknown field", "POST", "/api/admin/reindex", js({"rebuild": False, "path": "/etc"})),
        Case("reindex: 10 MB body", "POST", "/api/admin/reindex", b"{" * TEN_MB, frozenset({413})),
        Case("reindex: invalid UTF-8", "POST", "/api/admin/reindex", b'{"rebuild": "\xff"}', frozenset({400, 422})),
    ]
    for session_id in ("../../etc/passwd", "' OR 1=1 --", "0" * 200, "x" * 201, "a\x00b", "\u202eevil", "deadbeef"):
        expect = frozenset({404, 422})
        table.append(
            Case(
                f"session_id {session_id[:12]!r}",
                "POST",
                "/api/chat",
                js({"message": TB2_QUESTION, "session_id": session_id}),
                expect,
            )
        )
    table.append(Case("session_id a number", "POST", "/api/chat", js({"message": TB2_QUESTION, "session_id": 7})))
    for doc_id in (
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%2Fetc%2Fpasswd",
        "..%5C..%5Cwindows%5Cwin.ini",
        "%00",
        "....//....//etc/passwd",
        "x" * 5000,
        "%252e%252e%252f",
    ):
        table.append(Case(f"document id {doc_id[:24]!r}", "GET", f"/api/documents/{doc_id}", expect=frozenset({404})))
    for method, path in (
        ("DELETE", "/api/ask"),
        ("PUT", "/api/documents"),
        ("GET", "/api/chat"),
        ("PATCH", "/v1/models"),
    ):
        table.append(Case(f"{method} {path}", method, path, expect=frozenset({405})))
    return table


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("hostile")
    live = start_server(create_app(service=fast_service(fast_settings(root, max_queue=256))))
    yield live
    live.stop()


TABLE = cases()


@pytest.mark.parametrize("case", TABLE, ids=[f"{c.method} {c.path[:28]} {c.name}" for c in TABLE])
def test_hostile_input_gets_a_clear_answer(hostile_server: LiveServer, case: Case) -> None:
    headers = {"Content-Type": "application/json", **case.headers} if case.body is not None else {}
    try:
        response = httpx.request(
            case.method, hostile_server.url + case.path, content=case.body, headers=headers, timeout=60
        )
    except httpx.RemoteProtocolError:
        pytest.fail(f"{case.name}: the server dropped the connection instead of answering")
    assert response.status_code in case.expect, f"{case.name}: {response.status_code} {response.text[:300]}"
    body = response.json()
    if response.status_code >= 400:
        error = body["error"]
        assert error["code"] and len(error["message"]) > 20, body
        assert error["request_id"] == response.headers["x-request-id"]
        assert "Traceback" not in error["message"] and "root:" not in response.text  # nothing read from /etc
    elif "messages" in (case.body or b"").decode("utf-8", "replace"):
        assert body["choices"][0]["message"]["content"]
    else:
        assert body["status"] in ("answered", "abstained") and body["question"] == RTL_EMOJI


def test_server_keeps_answering_after_the_table(hostile_server: LiveServer) -> None:
    for case in TABLE:  # the whole table again, back to back, on one connection pool
        with httpx.Client(timeout=60) as client:
            client.request(
                case.method,
                hostile_server.url + case.path,
                content=case.body,
                headers={"Content-Type": "application/json"} if case.body is not None else {},
            )
    assert httpx.get(f"{hostile_server.url}/healthz", timeout=5).json() == {"status": "ok"}
    answer = httpx.post(f"{hostile_server.url}/api/ask", json={"question": TB2_QUESTION}, timeout=30).json()
    assert answer["answer"] == "Baykar"


def test_a_10_mb_upload_gets_its_413_not_a_reset(hostile_server: LiveServer) -> None:
    # The whole body is sent before the answer is read, as a plain client does: a server that
    # answered and closed mid-upload would reset the connection and the 413 would be lost.
    host, port = hostile_server.url.removeprefix("http://").split(":")
    body = b"x" * (10 * 1024 * 1024)
    head = f"POST /api/ask HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"body_too_large" in reply
