"""A real uvicorn server: parallel answers, a responsive event loop, metrics, the docs page."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import FastAPI

from api import create_app
from qa import Draft, HashingEmbedder, Hit, QAService, SentenceAnswerer
from qa.answering import BaseAnswerer
from tests.support import LiveServer, fast_settings


def test_fifty_parallel_asks_all_answer_correctly(live_server: LiveServer) -> None:
    def ask(_: int) -> httpx.Response:
        return httpx.post(f"{live_server.url}/api/ask", json={"question": "Who makes the TB2?"}, timeout=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(ask, range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    for response in responses:
        body = response.json()
        assert "Baykar" in (body["answer"] or "") or "Baykar" in (body["sentence"] or "")


class SlowAnswerer(BaseAnswerer):
    """Blocks for a while, like a heavy model would."""

    name = "slow"
    threshold = None

    def __init__(self, inner: SentenceAnswerer, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.started = threading.Event()

    def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
        self.started.set()
        time.sleep(self.seconds)
        yield self.inner.answer(question, hits)


def test_healthz_stays_fast_while_answers_run(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    slow = SlowAnswerer(SentenceAnswerer(HashingEmbedder(), threshold=0.3, max_passages=5), seconds=3)
    service = QAService(fast_settings(tmp_path), embedder=HashingEmbedder(), answerer=slow)
    service.ensure_index()
    live = serve(create_app(service=service))
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = pool.submit(httpx.post, f"{live.url}/api/ask", json={"question": "Who makes the TB2?"}, timeout=30)
        assert slow.started.wait(10)
        started = time.perf_counter()
        assert httpx.get(f"{live.url}/healthz", timeout=5).json() == {"status": "ok"}
        assert time.perf_counter() - started < 1.0
        assert not pending.done()
        assert pending.result().json()["answer"] == "Baykar"


def test_metrics_count_requests_and_stage_latencies(live_server: LiveServer) -> None:
    httpx.post(f"{live_server.url}/api/ask", json={"question": "Who makes the TB2?"}, timeout=30)
    httpx.post(f"{live_server.url}/api/ask", json={"question": ""}, timeout=30)
    text = httpx.get(f"{live_server.url}/metrics", timeout=10).text
    assert 'qa_http_requests_total{method="POST",route="/api/ask",status="200"} 1.0' in text
    assert 'qa_http_requests_total{method="POST",route="/api/ask",status="422"} 1.0' in text
    for stage in ("retrieve", "answer", "total"):
        assert f'qa_answer_stage_seconds_count{{stage="{stage}"}} 1.0' in text
    assert 'qa_answers_total{collection="default",status="answered"} 1.0' in text
    assert 'qa_http_request_duration_seconds_count{route="/api/ask"} 2.0' in text


def test_openapi_docs_are_served_offline(live_server: LiveServer) -> None:
    docs = httpx.get(f"{live_server.url}/docs", timeout=10)
    assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text  # no CDN
    assert httpx.get(f"{live_server.url}/docs/assets/swagger-ui-bundle.js", timeout=10).status_code == 200
    schema = httpx.get(f"{live_server.url}/openapi.json", timeout=10).json()
    assert {"/api/ask", "/api/chat", "/v1/chat/completions", "/api/documents/{doc_id}"} <= set(schema["paths"])
