"""The session stores are bounded: turns per session and the number of sessions, the least
recently used going first (the same settings for SQLite and Redis)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from qa import Settings, Turn
from qa.errors import ConfigurationError
from qa.sessions import MAX_STORED_TURNS, SQLiteSessionStore, build_session_store
from tests.support import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _rows(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(sql).fetchone()[0])


def test_sqlite_keeps_at_most_max_turns_per_session(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    store = SQLiteSessionStore(path, ttl_s=3600, max_turns=5)
    for i in range(500):
        store.append("web-flood", Turn(f"q{i}", f"a{i}"))
    assert _rows(path, "SELECT COUNT(*) FROM turns") == 5
    assert [t.question for t in store.history("web-flood")] == [f"q{i}" for i in range(495, 500)]


def test_sqlite_keeps_at_most_max_sessions_dropping_the_least_recently_used(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "sessions.sqlite3"
    store = SQLiteSessionStore(path, ttl_s=3600, max_sessions=3, clock=clock)
    for name in ("s1", "s2", "s3"):
        clock.now += 1
        store.append(name, Turn(name, None))
    clock.now += 1
    store.append("s1", Turn("s1 again", None))  # s1 is now the most recently used
    for i in range(200):
        clock.now += 1
        store.append(f"flood-{i}", Turn("x", None))
    assert _rows(path, "SELECT COUNT(*) FROM sessions") == 3
    assert _rows(path, "SELECT COUNT(*) FROM turns") == 3  # the dropped sessions' turns went with them
    assert {n for n in ("s1", "s2", "s3") if store.exists(n)} == set()
    assert [store.exists(f"flood-{i}") for i in (196, 197, 198, 199)] == [False, True, True, True]


def test_recent_sessions_survive_when_an_old_one_is_continued(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteSessionStore(tmp_path / "s.sqlite3", ttl_s=3600, max_sessions=2, clock=clock)
    store.append("a", Turn("a1", None))
    clock.now += 1
    store.append("b", Turn("b1", None))
    clock.now += 1
    store.append("a", Turn("a2", None))  # continuing a session never evicts anyone
    assert store.exists("a") and store.exists("b")
    clock.now += 1
    store.append("c", Turn("c1", None))  # b is the least recently used now
    assert store.exists("a") and store.exists("c") and not store.exists("b")


def test_caps_come_from_the_settings_and_default_to_one_number(tmp_path: Path) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.max_session_turns == MAX_STORED_TURNS >= defaults.max_history_turns
    settings = Settings(_env_file=None, data_dir=tmp_path, max_session_turns=7, max_sessions=11)  # type: ignore[call-arg]
    store = build_session_store(settings)
    assert isinstance(store, SQLiteSessionStore) and (store.max_turns, store.max_sessions) == (7, 11)
    with pytest.raises(ConfigurationError, match="max_session_turns"):
        SQLiteSessionStore(tmp_path / "x.sqlite3", ttl_s=60, max_turns=0)


@pytest.mark.scale
def test_redis_trims_to_the_same_setting(redis_server: RedisServer) -> None:
    settings = Settings(_env_file=None, session_store="redis", redis_url=redis_server.url, max_session_turns=4)  # type: ignore[call-arg]
    store = build_session_store(settings)
    for i in range(50):
        store.append("web-flood", Turn(f"q{i}", None))
    import redis

    assert redis.Redis.from_url(redis_server.url).llen("qa:session:web-flood") == 4
    assert [t.question for t in store.history("web-flood")] == ["q46", "q47", "q48", "q49"]


@pytest.mark.scale
def test_redis_keeps_at_most_max_sessions_dropping_the_least_recently_used(redis_server: RedisServer) -> None:
    import redis

    from qa.sessions.redis_store import RedisSessionStore

    clock = Clock()
    store = RedisSessionStore(redis_server.url, ttl_s=3600, max_sessions=3, clock=clock)
    for name in ("s1", "s2", "s3"):
        clock.now += 1
        store.append(name, Turn(name, None))
    clock.now += 1
    store.append("s1", Turn("s1 again", None))  # s1 is now the most recently used
    clock.now += 1
    store.append("s4", Turn("s4", None))  # s2 is the least recently used: it goes
    assert [store.exists(n) for n in ("s1", "s2", "s3", "s4")] == [True, False, True, True]
    for i in range(200):
        clock.now += 1
        store.append(f"flood-{i}", Turn("x", None))
    client = redis.Redis.from_url(redis_server.url)
    assert len(client.keys("qa:session:*")) == 3 + 1  # three sessions and the recency set
    assert client.zcard(store.recent_key) == 3
    assert [store.exists(f"flood-{i}") for i in (196, 197, 198, 199)] == [False, True, True, True]


@pytest.mark.scale
def test_redis_sessions_that_expired_leave_the_count(redis_server: RedisServer) -> None:
    from qa.sessions.redis_store import RedisSessionStore

    clock = Clock()
    store = RedisSessionStore(redis_server.url, ttl_s=60, max_sessions=2, clock=clock)
    store.append("old", Turn("q", None))
    clock.now += 120  # "old" expired (Redis dropped its list; the set forgets it at the next append)
    store.append("a", Turn("q", None))
    store.append("b", Turn("q", None))  # two live sessions: within the cap, nobody evicted
    assert store.exists("a") and store.exists("b")


def test_the_redis_store_takes_the_session_cap_from_the_settings() -> None:
    pytest.importorskip("redis")
    url = "redis://127.0.0.1:1/0"  # never reached: the store connects on first use
    settings = Settings(_env_file=None, session_store="redis", redis_url=url, max_sessions=11)  # type: ignore[call-arg]
    store = build_session_store(settings)
    assert store.max_sessions == 11  # type: ignore[attr-defined]
