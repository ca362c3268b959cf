"""Chat sessions in a real redis-server: shared by two API processes, TTL expiry, and Redis outages."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa import HashingEmbedder, QAService, SessionError, SessionStoreUnavailableError, Settings, Turn
from qa.sessions import MAX_HISTORY_TURNS, SessionStore, build_session_store

from ..conftest import REPO
from .conftest import RedisServer, free_port, store_settings

pytestmark = pytest.mark.scale


def _store(redis_server: RedisServer, ttl_s: int = 60) -> SessionStore:
    settings = Settings(_env_file=None, session_store="redis", redis_url=redis_server.url, session_ttl_s=ttl_s)  # type: ignore[call-arg]
    return build_session_store(settings)


def test_turns_round_trip_and_expire(redis_server: RedisServer) -> None:
    store = _store(redis_server, ttl_s=1)
    assert isinstance(store, SessionStore)
    session = store.new_id()
    assert session != store.new_id() and not store.exists(session)
    with pytest.raises(SessionError, match="unknown or expired"):
        store.history(session)
    for i in range(MAX_HISTORY_TURNS + 3):
        store.append(session, Turn(f"q{i}", None if i % 2 else f"a{i}"))
    history = store.history(session)
    assert len(history) == MAX_HISTORY_TURNS and history[-1] == Turn("q22", "a22")
    assert history[0].question == "q3" and store.exists(session)
    time.sleep(1.3)  # Redis drops the key after its TTL
    assert not store.exists(session)
    store.append(session, Turn("again", "yes"))  # an expired id starts over
    assert store.history(session) == [Turn("again", "yes")]


def test_redis_down_is_a_clear_503(redis_server: RedisServer) -> None:
    url = redis_server.url.replace("redis://", "redis://user:s3cret@")
    store = build_session_store(
        Settings(_env_file=None, session_store="redis", redis_url=url)  # type: ignore[call-arg]
    )
    redis_server.stop()
    for call in (lambda: store.exists("x"), lambda: store.history("x"), lambda: store.append("x", Turn("q", "a"))):
        with pytest.raises(SessionStoreUnavailableError, match="QA_REDIS_URL") as caught:
            call()
        assert caught.value.status_code == 503 and "s3cret" not in caught.value.message


def _start_api(settings: Settings, redis_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "QA_SEEDS_DIR": str(settings.seeds_dir),
        "QA_INDEX_DIR": str(settings.index_dir),
        "QA_DATA_DIR": str(settings.data_dir),
        "QA_EMBEDDER": "hashing",
        "QA_ANSWERER": "sentence",
        "QA_ABSTAIN_THRESHOLD": "0.3",
        "QA_SESSION_STORE": "redis",
        "QA_REDIS_URL": redis_url,
    }
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API at {url} did not become ready: {log.read_text()[-2000:]}")


@pytest.fixture
def two_apis(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes of api.app:app over one index, sharing the Redis sessions."""
    settings = store_settings(tmp_path, "faiss", embedder="hashing", answerer="sentence")
    QAService(settings, embedder=HashingEmbedder()).ingest()  # built once, before both start
    started = [_start_api(settings, redis_server.url, tmp_path / f"api-{i}.log") for i in range(2)]
    try:
        for i, (process, url) in enumerate(started):
            _wait_ready(process, url, tmp_path / f"api-{i}.log")
        yield started[0][1], started[1][1]
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=15)


def test_a_chat_started_on_one_server_continues_on_another(
    two_apis: tuple[str, str], redis_server: RedisServer
) -> None:
    first, second = two_apis
    opened = httpx.post(f"{first}/api/chat", json={"message": "Who makes the TB2?"}, timeout=30).json()
    assert opened["answer"] == "Baykar"
    follow = httpx.post(
        f"{second}/api/chat",
        json={"message": "Where did they open a factory?", "session_id": opened["session_id"]},
        timeout=30,
    )
    assert follow.status_code == 200, follow.text
    assert follow.json()["session_id"] == opened["session_id"]
    assert follow.json()["retrieval_query"] == "Where did they open a factory? Who makes the TB2? Baykar"

    redis_server.stop()
    down = httpx.post(
        f"{first}/api/chat", json={"message": "And the TB2?", "session_id": opened["session_id"]}, timeout=30
    )
    assert down.status_code == 503 and down.json()["error"]["code"] == "session_store_unavailable"
    assert "QA_REDIS_URL" in down.json()["error"]["message"]
    asked = httpx.post(f"{second}/api/ask", json={"question": "Who makes the TB2?"}, timeout=30)
    assert asked.status_code == 200 and asked.json()["answer"] == "Baykar"
