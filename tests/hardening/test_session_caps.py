"""The session stores are bounded: turns per session (the same setting for SQLite and Redis) and,
for SQLite, the number of sessions, the least recently used going first."""

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
