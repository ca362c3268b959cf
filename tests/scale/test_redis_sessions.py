"""Chat sessions in a real redis-server: shared by two API processes, TTL expiry, and Redis outages."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa import HashingEmbedder, QAService, SessionError, SessionStoreUnavailableError, Settings, Turn
from qa.sessions import SessionStore, build_session_store
from tests.support import REPO, RedisServer, ServerProcess, fast_settings, free_port, http_ok, launch, settings_env

pytestmark = pytest.mark.scale


def _store(redis_server: RedisServer, ttl_s: int = 60, max_turns: int = 20) -> SessionStore:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        session_store="redis",
        redis_url=redis_server.url,
        session_ttl_s=ttl_s,
        max_session_turns=max_turns,
    )
    return build_session_store(settings)


def test_turns_round_trip_and_expire(redis_server: RedisServer) -> None:
    store = _store(redis_server, ttl_s=1)
    assert isinstance(store, SessionStore)
    session = store.new_id()
    assert session != store.new_id() and not store.exists(session)
    with pytest.raises(SessionError, match="unknown or expired"):
        store.history(session)
    for i in range(20 + 3):
        store.append(session, Turn(f"q{i}", None if i % 2 else f"a{i}"))
    history = store.history(session)  # the newest max_session_turns (20 here)
    assert len(history) == 20 and history[-1] == Turn("q22", "a22")
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


def _launch_api(settings: Settings, redis_url: str, log: Path) -> ServerProcess:
    port = free_port()
    env = settings_env(settings, QA_SESSION_STORE="redis", QA_REDIS_URL=redis_url)
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
    return launch(command, url=f"http://127.0.0.1:{port}", log=log, env=env, cwd=REPO)


@pytest.fixture
def two_apis(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes of api.app:app over one index, sharing the Redis sessions."""
    settings = fast_settings(tmp_path)
    QAService(settings, embedder=HashingEmbedder()).ingest()  # built once, before both start
    started = [_launch_api(settings, redis_server.url, tmp_path / f"api-{i}.log") for i in range(2)]
    try:
        for api in started:  # both start up at once
            api.wait_ready(http_ok(f"{api.url}/readyz", timeout_s=1), timeout_s=60)
        yield started[0].url, started[1].url
    finally:
        for api in started:
            api.stop()


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
