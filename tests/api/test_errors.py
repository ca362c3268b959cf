"""Errors in one shape: 422, 413, 404, 401 with API keys, 503 before the index, CORS, headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import create_app
from qa import HashingEmbedder, QAService, Settings
from tests.support import fast_service, fast_settings


def assert_error(response: object, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"question": ""}, "invalid_question"),
        ({"question": "   "}, "invalid_question"),
        ({"question": "x" * 2001}, "invalid_question"),
        ({"question": "bell\x07 in it"}, "invalid_question"),
        ({"question": 42}, "invalid_question"),
        ({}, "invalid_question"),
        ({"question": "ok", "top_k": 0}, "invalid_request"),
        ({"question": "ok", "unknown": 1}, "invalid_request"),
    ],
)
def test_invalid_requests_are_422(client: TestClient, payload: dict[str, object], code: str) -> None:
    assert_error(client.post("/api/ask", json=payload), 422, code)


def test_too_long_question_message_names_the_limit(client: TestClient) -> None:
    error = assert_error(client.post("/api/ask", json={"question": "x" * 2001}), 422, "invalid_question")
    assert "2001" in error["message"] and "2000" in error["message"]


def test_malformed_json_is_422_invalid_request(client: TestClient) -> None:
    response = client.post("/api/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_request")


def test_body_over_the_limit_is_413(tmp_path: Path) -> None:
    service = fast_service(fast_settings(tmp_path, max_body_bytes=1000))
    with TestClient(create_app(service=service)) as client:
        big = {"question": "Who makes the TB2? " + "x" * 2000}
        assert_error(client.post("/api/ask", json=big), 413, "body_too_large")

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit still holds
            yield b'{"question": "'
            yield b"y" * 2000
            yield b'"}'

        assert_error(client.post("/api/ask", content=chunked()), 413, "body_too_large")
        assert client.post("/api/ask", json={"question": "Who makes the TB2?"}).status_code == 200


def test_unknown_document_and_route_are_404(client: TestClient) -> None:
    assert_error(client.get("/api/documents/deadbeef"), 404, "document_not_found")
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/ask"), 405, "method_not_allowed")


KEY_ONE, KEY_TWO = "k-one-0123456789abcdef", "k-two-0123456789abcdef"  # 16+ characters, as start-up requires


def test_api_keys_guard_every_route_but_probes_and_the_page(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr(KEY_ONE), SecretStr(KEY_TWO)])
    with TestClient(create_app(service=fast_service(settings))) as client:
        for path in ("/api/documents", "/metrics", "/v1/models", "/openapi.json", "/docs"):
            assert_error(client.get(path), 401, "unauthorized")
        assert_error(client.post("/api/ask", json={"question": "Who makes the TB2?"}), 401, "unauthorized")
        wrong = client.get("/api/documents", headers={"Authorization": "Bearer k-three"})
        assert "Invalid API key" in assert_error(wrong, 401, "unauthorized")["message"]
        assert_error(client.get("/api/documents", headers={"Authorization": f"Basic {KEY_ONE}"}), 401, "unauthorized")
        for key in (KEY_ONE, KEY_TWO):
            ok = client.post(
                "/api/ask", json={"question": "Who makes the TB2?"}, headers={"Authorization": f"Bearer {key}"}
            )
            assert ok.json()["answer"] == "Baykar"
        for path in ("/healthz", "/readyz", "/", "/static/app.js", "/static/app.css"):
            assert client.get(path).status_code == 200, path


def test_keys_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_API_KEYS", '["alpha-0123456789abcdef", "beta-0123456789abcdef"]')
    settings = fast_settings(tmp_path)
    assert [k.get_secret_value() for k in settings.api_keys] == ["alpha-0123456789abcdef", "beta-0123456789abcdef"]
    with TestClient(create_app(service=fast_service(settings))) as client:
        assert client.get("/v1/models").status_code == 401
        assert client.get("/v1/models", headers={"Authorization": "Bearer beta-0123456789abcdef"}).status_code == 200


class GatedEmbedder(HashingEmbedder):
    """Blocks document embedding until released, so the test sees the server mid-build."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) > 1:  # building the index, not a question
            assert self.release.wait(30)
        return super().embed_documents(texts)


def test_503_until_the_index_is_built_then_ready(tmp_path: Path) -> None:
    embedder = GatedEmbedder()
    service = QAService(fast_settings(tmp_path), embedder=embedder)
    with TestClient(create_app(service=service)) as client:
        try:
            assert client.get("/healthz").json() == {"status": "ok"}
            assert_error(client.get("/readyz"), 503, "index_building")
            response = client.post("/api/ask", json={"question": "Who makes the TB2?"})
            assert_error(response, 503, "index_building")
            assert response.headers["retry-after"]
            assert_error(client.get("/api/documents"), 503, "index_building")
        finally:
            embedder.release.set()
        assert client.app.state.index.wait(30)  # type: ignore[attr-defined]
        assert client.get("/readyz").json() == {"status": "ready", "documents": 1}
        assert client.post("/api/ask", json={"question": "Who makes the TB2?"}).json()["answer"] == "Baykar"


def test_a_failed_build_is_reported_by_readyz(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    for path in settings.seeds_dir.iterdir():
        path.unlink()
    service = QAService(settings, embedder=HashingEmbedder())
    with TestClient(create_app(service=service)) as client:
        client.app.state.index.wait(30)  # type: ignore[attr-defined]
        error = assert_error(client.get("/readyz"), 503, "index_not_ready")
        assert "failed to load" in error["message"]


def test_security_headers_on_page_api_and_errors(client: TestClient) -> None:
    for response in (client.get("/"), client.get("/healthz"), client.get("/api/documents/nope")):
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_cors_is_closed_by_default_and_configurable(client: TestClient, tmp_path: Path) -> None:
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/api/ask", headers=preflight).headers
    assert (
        "access-control-allow-origin" not in client.get("/healthz", headers={"Origin": "https://example.org"}).headers
    )
    settings = fast_settings(tmp_path / "cors", cors_origins=["https://example.org"], api_keys=[SecretStr(KEY_ONE)])
    with TestClient(create_app(service=fast_service(settings))) as open_client:
        response = open_client.options("/api/ask", headers=preflight)  # preflight needs no key
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://example.org"
        other = open_client.options("/api/ask", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_settings_are_read_by_the_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings: Settings = fast_settings(tmp_path)
    for name, value in {
        "QA_SEEDS_DIR": settings.seeds_dir,
        "QA_INDEX_DIR": settings.index_dir,
        "QA_DATA_DIR": settings.data_dir,
        "QA_EMBEDDER": "hashing",
        "QA_ANSWERER": "sentence",
    }.items():
        monkeypatch.setenv(name, str(value))
    app = create_app()
    assert app.state.settings.data_dir == settings.data_dir
    assert app.state.sessions.path == settings.sessions_path
