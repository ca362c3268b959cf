"""``POST /api/admin/reindex``: the server answers from the previous index while a re-ingest runs,
then switches to the new one at once (every request sees the old index or the new one)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

from api import create_app
from qa import HashingEmbedder, QAService
from tests.support import TB2_QUESTION, GatedEmbedder, LiveServer, fast_settings

LIGHTHOUSE = (
    "Kestrel Point lighthouse\n\n"
    "The Kestrel Point lighthouse keeper is Orla Finch, who has kept the light since 2009.\n"
)
LIGHTHOUSE_QUESTION = "Who is the Kestrel Point lighthouse keeper?"


def test_reindex_keeps_answering_then_switches_atomically(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    settings = fast_settings(tmp_path)
    embedder = GatedEmbedder("qa-reindex")  # holds the re-ingest thread
    service = QAService(settings, embedder=embedder)
    service.ensure_index()
    live = serve(create_app(service=service))
    (settings.seeds_dir / "kestrel-point.txt").write_text(LIGHTHOUSE, encoding="utf-8")

    started = httpx.post(f"{live.url}/api/admin/reindex", json={}, timeout=10)
    assert started.status_code == 202 and started.json()["state"] == "running"
    assert embedder.reached.wait(30)
    # Mid-ingest: the old index answers, the new document is not there yet, a second reindex waits.
    assert httpx.post(f"{live.url}/api/ask", json={"question": TB2_QUESTION}, timeout=30).json()["answer"] == "Baykar"
    before = httpx.post(f"{live.url}/api/ask", json={"question": LIGHTHOUSE_QUESTION}, timeout=30).json()
    assert not any(c["source"] == "kestrel-point.txt" for c in before["citations"])
    assert len(httpx.get(f"{live.url}/api/documents", timeout=10).json()["documents"]) == 1
    again = httpx.post(f"{live.url}/api/admin/reindex", timeout=10)
    assert again.status_code == 409 and again.json()["error"]["code"] == "reindex_running"
    assert httpx.get(f"{live.url}/readyz", timeout=10).status_code == 200

    counts: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # document counts seen around the swap
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                counts.append(len(client.get(f"{live.url}/api/documents").json()["documents"]))

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(0.2)
    embedder.release.set()
    deadline = time.monotonic() + 60
    while (status := httpx.get(f"{live.url}/api/admin/reindex", timeout=10).json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    watcher.join(10)

    assert status["state"] == "succeeded" and status["documents"] == 2, status
    assert set(counts) <= {1, 2} and counts[-1] == 2
    assert counts == sorted(counts), "a request saw the old index after the new one"
    after = httpx.post(f"{live.url}/api/ask", json={"question": LIGHTHOUSE_QUESTION}, timeout=30).json()
    assert after["status"] == "answered" and "Orla Finch" in (after["answer"] or "") + (after["sentence"] or "")
    assert after["citations"][0]["source"] == "kestrel-point.txt"


def test_failed_reindex_keeps_the_previous_index(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    settings = fast_settings(tmp_path)
    service = QAService(settings, embedder=HashingEmbedder())
    service.ensure_index()
    live = serve(create_app(service=service))
    for path in settings.seeds_dir.iterdir():
        path.unlink()  # nothing left to index: the re-ingest must fail, not empty the index
    assert httpx.post(f"{live.url}/api/admin/reindex", timeout=10).status_code == 202
    deadline = time.monotonic() + 60
    while (status := httpx.get(f"{live.url}/api/admin/reindex", timeout=10).json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status["state"] == "failed" and "seeds" in status["message"].lower(), status
    assert httpx.post(f"{live.url}/api/ask", json={"question": TB2_QUESTION}, timeout=30).json()["answer"] == "Baykar"


def test_server_with_a_damaged_index_names_the_fix_and_reindex_repairs_it(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    settings = fast_settings(tmp_path)
    QAService(settings, embedder=HashingEmbedder()).ensure_index()
    vectors = next(settings.index_dir.glob("vectors-*.faiss"))
    vectors.write_bytes(vectors.read_bytes()[:100])  # truncated
    live = serve(create_app(service=QAService(settings, embedder=HashingEmbedder())))
    deadline = time.monotonic() + 30
    while "failed to load" not in (ready := httpx.get(f"{live.url}/readyz", timeout=10)).text:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.05)
    assert ready.status_code == 503 and "qa ingest --rebuild" in ready.json()["error"]["message"]
    refused = httpx.post(f"{live.url}/api/ask", json={"question": TB2_QUESTION}, timeout=30)
    assert refused.status_code == 503 and "qa ingest --rebuild" in refused.json()["error"]["message"]
    assert httpx.post(f"{live.url}/api/admin/reindex", json={"rebuild": True}, timeout=10).status_code == 202
    while httpx.get(f"{live.url}/api/admin/reindex", timeout=10).json()["state"] == "running":
        assert time.monotonic() < deadline + 30
        time.sleep(0.05)
    assert httpx.get(f"{live.url}/readyz", timeout=10).status_code == 200
    assert httpx.post(f"{live.url}/api/ask", json={"question": TB2_QUESTION}, timeout=30).json()["answer"] == "Baykar"
