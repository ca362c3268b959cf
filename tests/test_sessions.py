"""SQLiteSessionStore (turns kept per session, expiry, restarts, threads) and continue_session on every store."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from qa import Settings, Turn
from qa.errors import ConfigurationError, SessionError, SessionStoreUnavailableError
from qa.sessions import (
    Conversation,
    SessionStore,
    SQLiteSessionStore,
    build_session_store,
    continue_session,
    is_web_session_id,
)
from tests.support import RedisServer


class Clock:
    """A settable clock, so expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> SQLiteSessionStore:
    return SQLiteSessionStore(tmp_path / "sessions.sqlite3", ttl_s=60, clock=clock)


def test_store_satisfies_the_protocol(store: SQLiteSessionStore) -> None:
    assert isinstance(store, SessionStore)


def test_new_ids_are_random_and_url_safe(store: SQLiteSessionStore) -> None:
    ids = {store.new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{20,}", i) for i in ids)


def test_append_creates_the_session_and_history_keeps_order(store: SQLiteSessionStore) -> None:
    sid = store.new_id()
    assert not store.exists(sid)
    store.append(sid, Turn("Who makes the TB2?", "Baykar"))
    store.append(sid, Turn("Where did they open a factory?", None))
    assert store.exists(sid)
    assert store.history(sid) == [Turn("Who makes the TB2?", "Baykar"), Turn("Where did they open a factory?", None)]


def test_sessions_are_separate(store: SQLiteSessionStore) -> None:
    store.append("a", Turn("qa", "x"))
    store.append("b", Turn("qb", "y"))
    assert store.history("a") == [Turn("qa", "x")]
    assert store.history("b") == [Turn("qb", "y")]


def test_unknown_session_history_raises_session_error(store: SQLiteSessionStore) -> None:
    with pytest.raises(SessionError) as info:
        store.history("nope")
    assert info.value.status_code == 404
    assert "nope" in info.value.message


def test_sessions_expire_after_ttl_and_appends_refresh_expiry(store: SQLiteSessionStore, clock: Clock) -> None:
    store.append("s", Turn("q1", "a1"))
    clock.now += 50
    store.append("s", Turn("q2", "a2"))  # refreshes: expires at +110 now
    clock.now += 50
    assert store.exists("s")
    clock.now += 11
    assert not store.exists("s")
    with pytest.raises(SessionError):
        store.history("s")


def test_an_expired_id_appended_again_starts_empty(store: SQLiteSessionStore, clock: Clock) -> None:
    store.append("s", Turn("old", "turn"))
    clock.now += 61
    store.append("s", Turn("new", None))
    assert store.history("s") == [Turn("new", None)]


def test_expired_sessions_are_purged_from_disk(tmp_path: Path, store: SQLiteSessionStore, clock: Clock) -> None:
    store.append("old", Turn("q", "a"))
    clock.now += 3600
    store.append("fresh", Turn("q", "a"))
    rows = store._db.execute("SELECT id FROM sessions").fetchall()
    turns = store._db.execute("SELECT COUNT(*) FROM turns WHERE session_id = 'old'").fetchone()[0]
    assert rows == [("fresh",)]
    assert turns == 0


def test_sessions_survive_reopening_the_file(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "data" / "sessions.sqlite3"
    first = SQLiteSessionStore(path, ttl_s=60, clock=clock)
    first.append("s", Turn("Who makes the TB2?", "Baykar"))
    first.close()
    second = SQLiteSessionStore(path, ttl_s=60, clock=clock)
    assert second.history("s") == [Turn("Who makes the TB2?", "Baykar")]
    assert second._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_parallel_appends_from_threads_all_land(store: SQLiteSessionStore) -> None:
    def worker(n: int) -> None:
        for i in range(10):
            store.append(f"s{n % 3}", Turn(f"q{n}-{i}", None))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = sum(
        len(store._db.execute("SELECT 1 FROM turns WHERE session_id = ?", (f"s{k}",)).fetchall()) for k in range(3)
    )
    assert total == 90
    assert len(store.history("s0")) == 30  # every stored turn: Chat bounds what reaches the answerer


def test_build_session_store_uses_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", session_ttl_s=5)  # type: ignore[call-arg]
    store = build_session_store(settings)
    store.append("s", Turn("q", None))
    assert settings.sessions_path.is_file()
    assert isinstance(store, SQLiteSessionStore) and store.ttl_s == 5


def test_redis_store_needs_a_url(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, session_store="redis")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="QA_REDIS_URL"):
        build_session_store(settings)


def test_continue_session_starts_a_new_session_without_an_id(store: SQLiteSessionStore) -> None:
    conversation = continue_session(store, None)
    assert conversation.history == ()
    assert is_web_session_id(conversation.session_id) and not store.exists(conversation.session_id)


def test_continue_session_returns_the_turns_so_far(store: SQLiteSessionStore) -> None:
    store.append("s", Turn("Who makes the TB2?", "Baykar"))
    conversation = continue_session(store, "s")
    assert conversation == Conversation("s", (Turn("Who makes the TB2?", "Baykar"),))


def test_continue_session_on_an_unknown_or_expired_id_raises_or_starts_over(
    store: SQLiteSessionStore, clock: Clock
) -> None:
    store.append("s", Turn("q", "a"))
    clock.now += 61
    with pytest.raises(SessionError, match="'s' is unknown or expired") as info:
        continue_session(store, "s", missing="raise")
    assert info.value.status_code == 404
    assert continue_session(store, "s", missing="new") == Conversation("s", ())
    assert continue_session(store, "never-seen", missing="new") == Conversation("never-seen")


def test_continue_session_refuses_ids_outside_the_namespace(store: SQLiteSessionStore) -> None:
    store.append("slack:T:C:1.0", Turn("private", "secret"))
    with pytest.raises(SessionError):
        continue_session(store, "slack:T:C:1.0", accepts=is_web_session_id)
    assert continue_session(store, "slack:T:C:1.0", missing="new", accepts=is_web_session_id).history == ()


def test_continue_session_reports_an_unreachable_store_whatever_missing_says(store: SQLiteSessionStore) -> None:
    store.close()
    for missing in ("raise", "new"):
        with pytest.raises(SessionStoreUnavailableError):
            continue_session(store, "s", missing=missing)  # type: ignore[arg-type]


def test_an_in_memory_store_keeps_turns_under_the_same_caps(clock: Clock) -> None:
    memory = SQLiteSessionStore(None, ttl_s=60, max_turns=3, clock=clock)
    for i in range(5):
        memory.append("s", Turn(f"q{i}", None))
    assert [t.question for t in memory.history("s")] == ["q2", "q3", "q4"]
    clock.now += 61
    assert not memory.exists("s")


@pytest.mark.scale
def test_continue_session_means_the_same_on_redis(redis_server: RedisServer) -> None:
    settings = Settings(_env_file=None, session_store="redis", redis_url=redis_server.url)  # type: ignore[call-arg]
    redis_store = build_session_store(settings)
    redis_store.append("web-r", Turn("Who makes the TB2?", "Baykar"))
    assert continue_session(redis_store, "web-r").history == (Turn("Who makes the TB2?", "Baykar"),)
    with pytest.raises(SessionError, match="'web-gone' is unknown or expired"):
        continue_session(redis_store, "web-gone")
    assert continue_session(redis_store, "web-gone", missing="new") == Conversation("web-gone")
    redis_server.stop()
    with pytest.raises(SessionStoreUnavailableError):
        continue_session(redis_store, "web-r", missing="new")
