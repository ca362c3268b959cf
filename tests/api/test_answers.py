"""POST /api/ask and /api/chat: the answer contract, sessions, follow-ups and SSE."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import create_app
from qa import QAService, Settings
from tests.support import BAYKAR_QUOTE, KYIV_PASSAGE, LiveServer, fast_service


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of a Server-Sent Events body."""
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_ask_returns_the_cli_json_contract(client: TestClient, api_service: QAService) -> None:
    response = client.post("/api/ask", json={"question": "Who makes the TB2?"})
    assert response.status_code == 200
    body = response.json()
    assert body["answer"] == "Baykar" and body["status"] == "answered"
    expected = api_service.ask("Who makes the TB2?").to_dict()
    assert set(body) == {*expected, "collection"} and body["collection"] == "default"
    # Every answer has its own id (feedback names it); the rest is the CLI's JSON.
    assert body["id"].startswith("ans-") and body["id"] != expected["id"]
    assert {k: v for k, v in body.items() if k not in ("timings_ms", "id", "collection")} == {
        k: v for k, v in expected.items() if k not in ("timings_ms", "id")
    }
    assert BAYKAR_QUOTE in body["citations"][0]["quote"]


def test_ask_abstains_when_the_documents_do_not_say(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": "What is the capital of France?"}).json()
    assert body["status"] == "abstained" and body["answer"] is None and body["citations"] == []
    assert body["message"] == "The documents don't cover this."


def test_an_abstention_carries_the_closest_passages(client: TestClient, api_service: QAService) -> None:
    body = client.post("/api/ask", json={"question": "How much does the TB2 cost?"}).json()
    assert body["status"] == "abstained" and body["citations"] == []
    assert body["related"] and "Bayraktar TB2" in body["related"][0]["quote"]
    passage = body["related"][0]
    assert api_service.document(passage["doc_id"]).text[passage["start"] : passage["end"]] == passage["quote"]
    # The OpenAPI schema documents the field with the citation's shape.
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    related = schema["CollectionAnswerModel"]["properties"]["related"]
    assert related["items"] == {"$ref": "#/components/schemas/CitationModel"} and "abstained" in related["description"]


def test_ask_top_k_and_hits(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": "Who makes the TB2?", "top_k": 1, "include_hits": True}).json()
    assert len(body["hits"]) == 1
    assert "hits" not in client.post("/api/ask", json={"question": "Who makes the TB2?"}).json()


def test_chat_follow_up_retrieves_the_kyiv_factory_passage(client: TestClient) -> None:
    first = client.post("/api/chat", json={"message": "Who makes the TB2?"}).json()
    assert first["answer"] == "Baykar" and first["session_id"]
    follow = client.post(
        "/api/chat",
        json={"message": "Where did they open a factory?", "session_id": first["session_id"], "include_hits": True},
    ).json()
    assert follow["session_id"] == first["session_id"]
    assert follow["retrieval_query"] == "Where did they open a factory? Who makes the TB2? Baykar"
    assert KYIV_PASSAGE in follow["hits"][0]["text"]
    # Without the conversation the same question ranks another passage first.
    alone = client.post("/api/chat", json={"message": "Where did they open a factory?", "include_hits": True}).json()
    assert alone["session_id"] != first["session_id"]
    assert KYIV_PASSAGE not in alone["hits"][0]["text"]


def test_chat_unknown_session_is_404_in_the_error_shape(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "Who makes the TB2?", "session_id": "no-such-session"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"


def test_chat_expired_session_is_404(tmp_path: Any, api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"session_ttl_s": 1})
    service = fast_service(settings)
    with TestClient(create_app(service=service)) as client:
        sid = client.post("/api/chat", json={"message": "Who makes the TB2?"}).json()["session_id"]
        store = client.app.state.sessions  # type: ignore[attr-defined]
        store._clock = lambda: 10**10  # far in the future: past the 1 s TTL
        response = client.post("/api/chat", json={"message": "And then?", "session_id": sid})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"


def test_chat_stream_sends_citations_deltas_and_done(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "Who makes the TB2?", "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and "delta" in kinds
    assert "".join(data["text"] for kind, data in events if kind == "delta") == "Baykar"
    done = events[-1][1]
    assert done["answer"] == "Baykar" and done["session_id"] == response.headers["x-session-id"]
    assert events[0][1]["citations"] == done["citations"]
    # The streamed turn is saved: a follow-up in the same session uses it.
    follow = client.post(
        "/api/chat",
        json={"message": "Where did they open a factory?", "session_id": done["session_id"], "stream": True},
    )
    follow_done = parse_sse(follow.text)[-1][1]
    assert follow_done["retrieval_query"].endswith("Who makes the TB2? Baykar")


def test_chat_stream_rejects_bad_input_before_streaming(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "\x00bad", "stream": True})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_question"
    response = client.post("/api/chat", json={"message": "hi", "session_id": "gone", "stream": True})
    assert response.status_code == 404


def test_sse_over_a_real_server_arrives_as_separate_events(live_server: LiveServer) -> None:
    with httpx.stream(
        "POST", f"{live_server.url}/api/chat", json={"message": "Who makes the TB2?", "stream": True}, timeout=30
    ) as response:
        assert response.status_code == 200
        blocks = [line for line in response.iter_lines() if line.startswith("event: ")]
    assert blocks[0] == "event: citations" and blocks[-1] == "event: done"


def test_sessions_survive_an_app_restart(api_settings: Settings, serve: Callable[[FastAPI], LiveServer]) -> None:
    first = serve(create_app(service=fast_service(api_settings)))
    sid = httpx.post(f"{first.url}/api/chat", json={"message": "Who makes the TB2?"}, timeout=30).json()["session_id"]
    first.stop()
    second = serve(create_app(service=fast_service(api_settings)))  # new service, store and process state
    body = httpx.post(
        f"{second.url}/api/chat",
        json={"message": "Where did they open a factory?", "session_id": sid, "include_hits": True},
        timeout=30,
    ).json()
    assert body["session_id"] == sid
    assert body["retrieval_query"].endswith("Who makes the TB2? Baykar")
    assert KYIV_PASSAGE in body["hits"][0]["text"]


def test_documents_list_and_text(client: TestClient, api_service: QAService) -> None:
    listing = client.get("/api/documents").json()["documents"]
    assert listing == [
        {"id": d.id, "title": d.title, "source": d.source, "length": len(d.text)} for d in api_service.documents()
    ]
    doc = client.get(f"/api/documents/{listing[0]['id']}").json()
    citation = client.post("/api/ask", json={"question": "Who makes the TB2?"}).json()["citations"][0]
    assert doc["text"][citation["start"] : citation["end"]] == citation["quote"]
    assert doc["source"] == "zelensky-istanbul-turkish-drones.txt"


def test_documents_never_read_request_paths(client: TestClient) -> None:
    for doc_id in ("..%2F..%2Fetc%2Fpasswd", "zelensky-istanbul-turkish-drones.txt", "%2Fetc%2Fpasswd"):
        response = client.get(f"/api/documents/{doc_id}")
        assert response.status_code == 404
        assert "root:" not in response.text
