"""Access: with API keys every route but the probes, the page and Slack's signed webhook is closed;
keys never reach a log or a response; CORS is closed unless configured; document ids are never
paths, and symlinks in the seeds folder that lead outside it are not read."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api import create_app
from api.security import is_public
from qa import HashingEmbedder, QAService
from qa.ingest.loading import load_documents
from tests.support import TB2_QUESTION, LiveServer, fast_service, fast_settings

KEY = "k3y-with-enough-entropy-0123456789"
SECRET_TEXT = "TOPSECRET launch codes are 0000 and the vault is behind the painting."


def test_every_non_public_route_needs_a_key(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    # Many wrong keys from one address on purpose: lift the 401 budget that would answer 429 instead.
    settings = fast_settings(tmp_path, api_keys=[SecretStr(KEY)], auth_failures_per_minute=1000)
    app = create_app(service=fast_service(settings))
    live = serve(app)
    paths = app.openapi()["paths"]
    routes = [(method.upper(), path) for path, operations in paths.items() for method in operations]
    routes += [("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/assets/swagger-ui-bundle.js")]
    checked = 0
    for method, path in routes:
        url = live.url + path.replace("{doc_id}", "anything")
        if is_public(path):
            continue
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": KEY},
            {"Authorization": f"Basic {KEY}"},
        ):
            response = httpx.request(method, url, headers=headers, timeout=10)
            assert response.status_code == 401, f"{method} {path} with {headers}: {response.status_code}"
            assert response.json()["error"]["code"] == "unauthorized" and KEY not in response.text
            checked += 1
        ok = httpx.request(method, url, headers={"Authorization": f"Bearer {KEY}"}, json={}, timeout=30)
        assert ok.status_code != 401, f"{method} {path} refused the right key"
    assert checked >= 4 * 10
    assert {"/api/admin/reindex", "/metrics", "/api/ask"} <= {p for _, p in routes}
    for public in ("/healthz", "/readyz", "/", "/static/app.js"):
        assert httpx.get(live.url + public, timeout=10).status_code == 200


def test_keys_and_secrets_never_reach_the_log(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    live = serve(create_app(service=fast_service(fast_settings(tmp_path, api_keys=[SecretStr(KEY)]))))
    httpx.get(f"{live.url}/api/documents", headers={"Authorization": f"Bearer {KEY}x"}, timeout=10)
    httpx.post(f"{live.url}/api/ask", json={"question": TB2_QUESTION}, headers={"Authorization": f"Bearer {KEY}"})
    httpx.get(f"{live.url}/api/documents/nope", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert caplog.records and KEY not in caplog.text


def test_cors_is_closed_unless_configured(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    closed = serve(create_app(service=fast_service(fast_settings(tmp_path / "a"))))
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    for live, origin_ok in ((closed, None),):
        response = httpx.options(f"{live.url}/api/ask", headers=preflight, timeout=10)
        assert "access-control-allow-origin" not in response.headers, origin_ok
        simple = httpx.post(
            f"{live.url}/api/ask", json={"question": TB2_QUESTION}, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in simple.headers
    settings = fast_settings(tmp_path / "b", cors_origins=["https://intranet.example"])
    opened = serve(create_app(service=fast_service(settings)))
    allowed = httpx.options(
        f"{opened.url}/api/ask", headers={**preflight, "Origin": "https://intranet.example"}, timeout=10
    )
    assert allowed.headers["access-control-allow-origin"] == "https://intranet.example"
    refused = httpx.options(f"{opened.url}/api/ask", headers=preflight, timeout=10)
    assert "access-control-allow-origin" not in refused.headers


def test_symlinks_out_of_the_seeds_folder_are_not_read(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    settings = fast_settings(tmp_path)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secrets.txt").write_text(SECRET_TEXT, encoding="utf-8")
    (settings.seeds_dir / "secrets.txt").symlink_to(outside / "secrets.txt")
    (settings.seeds_dir / "private-dir").symlink_to(outside, target_is_directory=True)
    (settings.seeds_dir / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    (settings.seeds_dir / "loop.txt").symlink_to(settings.seeds_dir / "loop.txt")
    inside = settings.seeds_dir / "zelensky-istanbul-turkish-drones.txt"
    (settings.seeds_dir / "alias.md").symlink_to(inside)  # a link that stays inside is fine

    with caplog.at_level(logging.WARNING, logger="qa.ingest.loading"):
        loaded = load_documents(settings.seeds_dir)
    assert {d.source for d in loaded.documents} == {inside.name, "alias.md"}
    assert {s.source for s in loaded.skipped} == {"secrets.txt", "dangling.txt", "loop.txt"}
    assert "secrets.txt" in caplog.text and "outside the seeds folder" in caplog.text

    service = QAService(settings, embedder=HashingEmbedder())
    service.ensure_index()
    live = serve(create_app(service=service))
    documents = httpx.get(f"{live.url}/api/documents", timeout=10).json()["documents"]
    assert all(SECRET_TEXT not in httpx.get(f"{live.url}/api/documents/{d['id']}").text for d in documents)
    answer = httpx.post(f"{live.url}/api/ask", json={"question": "What are the TOPSECRET launch codes?"}).json()
    assert all("secrets" not in c["source"] for c in answer["citations"])


@pytest.mark.parametrize(
    "doc_id",
    [
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%2Fetc%2Fpasswd",
        "..%5c..%5cetc%5cpasswd",
        "%252e%252e%252fetc%252fpasswd",
        "zelensky-istanbul-turkish-drones.txt",
        "..",
        "%00",
    ],
)
def test_document_ids_that_look_like_paths_are_404(live_server: LiveServer, doc_id: str) -> None:
    response = httpx.get(f"{live_server.url}/api/documents/{doc_id}", timeout=10)
    assert response.status_code == 404 and "root:" not in response.text
    assert response.json()["error"]["code"] in ("document_not_found", "not_found")
