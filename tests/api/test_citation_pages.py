"""A citation from a PDF carries its page over HTTP, in /api/ask and /v1/chat/completions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

from api import create_app
from tests.support import LiveServer, fast_service, fast_settings
from tests.test_formats import PDF_PAGES, _write_pdf

QUESTION = "What is the crane quota at the northern quay?"


def test_pdf_citations_carry_their_page_over_http(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    settings = fast_settings(tmp_path)
    _write_pdf(settings.seeds_dir / "handbook.pdf", PDF_PAGES)
    server = serve(create_app(service=fast_service(settings)))
    body = httpx.post(f"{server.url}/api/ask", json={"question": QUESTION}, timeout=30).json()
    assert body["status"] == "answered", body
    (citation,) = [c for c in body["citations"] if c["source"] == "handbook.pdf"][:1]
    assert citation["page"] == 2 and "twelve lifts per day" in citation["quote"]
    assert all(c["page"] is None for c in body["citations"] if c["source"].endswith(".txt"))
    completion = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "seed-qa", "messages": [{"role": "user", "content": QUESTION}]},
        timeout=30,
    ).json()
    assert completion["citations"][0]["page"] == 2
