"""Chat sessions: the turns of a conversation, kept so follow-up questions can use them.

The HTTP chat and the Slack bot share one ``SessionStore``; the default keeps sessions in a
SQLite file under the data folder, so they survive a restart, and forgets them ``ttl_s``
seconds after their last turn. Each front end has its own id namespace: the HTTP chat only ever
continues ids of its own random ``web-`` form (``is_web_session_id``), never Slack's predictable
``slack:<team>:<channel>:<ts>``. Both stores keep at most ``max_turns`` turns per session; the
SQLite store also keeps at most ``max_sessions`` sessions, dropping the least recently used.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from qa.errors import ConfigurationError, SessionError, SessionStoreUnavailableError
from qa.schema import Turn

if TYPE_CHECKING:
    from qa.config import Settings

#: Turns returned by ``history``: follow-ups only lean on the recent past.
MAX_HISTORY_TURNS = 20
#: Turns kept per session (QA_MAX_SESSION_TURNS), in every store; older ones are dropped on append.
MAX_STORED_TURNS = 200
#: Sessions kept by the SQLite store (QA_MAX_SESSIONS): 100k sessions of 200 short turns stay well
#: under a few GB; past it the least recently used session goes first.
MAX_SESSIONS = 100_000
#: The HTTP chat's ids: this prefix and ``secrets.token_urlsafe(18)`` (24 url-safe characters).
WEB_SESSION_PREFIX = "web-"
_WEB_TOKEN_CHARS = 24
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# Purge expired sessions at most this often (seconds), on writes.
_PURGE_EVERY_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires);
"""


@runtime_checkable
class SessionStore(Protocol):
    """Where chat turns live between requests."""

    def new_id(self) -> str:
        """A fresh random, url-safe session id."""
        ...

    def exists(self, session_id: str) -> bool:
        """False if the session is unknown or expired."""
        ...

    def history(self, session_id: str) -> list[Turn]:
        """The session's turns, oldest first; SessionError if unknown or expired."""
        ...

    def append(self, session_id: str, turn: Turn) -> None:
        """Add a turn, creating the session if new and refreshing its expiry."""
        ...


def new_session_id() -> str:
    """A fresh id in the HTTP chat's namespace: ``web-`` and 144 random bits, url-safe."""
    return WEB_SESSION_PREFIX + secrets.token_urlsafe(18)


def is_web_session_id(session_id: str) -> bool:
    """True only for ids of ``new_session_id``'s form (so never a Slack thread's id)."""
    token = session_id.removeprefix(WEB_SESSION_PREFIX)
    return session_id.startswith(WEB_SESSION_PREFIX) and len(token) == _WEB_TOKEN_CHARS and set(token) <= _URLSAFE


def check_caps(*, max_turns: int, max_sessions: int | None = None) -> None:
    """ConfigurationError unless the session caps are positive."""
    if max_turns < 1:
        raise ConfigurationError(f"max_session_turns must be at least 1, got {max_turns}.")
    if max_sessions is not None and max_sessions < 1:
        raise ConfigurationError(f"max_sessions must be at least 1, got {max_sessions}.")


class SQLiteSessionStore:
    """Sessions in one SQLite file (WAL); safe to share between threads."""

    def __init__(
        self,
        path: Path,
        *,
        ttl_s: int,
        max_turns: int = MAX_STORED_TURNS,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_s <= 0:
            raise ConfigurationError(f"session_ttl_s must be a positive number of seconds, got {ttl_s}.")
        check_caps(max_turns=max_turns, max_sessions=max_sessions)
        self.path = path
        self.ttl_s = ttl_s
        self.max_turns = max_turns
        self.max_sessions = max_sessions
        self._clock = clock
        self._lock = threading.Lock()
        self._last_purge = 0.0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SessionStoreUnavailableError(
                f"Cannot open the session store at {path} ({exc}). Check that QA_DATA_DIR is writable."
            ) from None

    def new_id(self) -> str:
        """A fresh random, url-safe session id (``new_session_id``)."""
        return new_session_id()

    def exists(self, session_id: str) -> bool:
        """False if the session is unknown or expired."""
        with self._lock:
            row = self._query("SELECT expires FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None and row[0] > self._clock()

    def history(self, session_id: str) -> list[Turn]:
        """The last MAX_HISTORY_TURNS turns, oldest first; SessionError if unknown or expired."""
        if not self.exists(session_id):
            raise SessionError(
                f"Chat session {session_id!r} is unknown or expired. Start a new chat (omit session_id)."
            )
        with self._lock:
            rows = self._query(
                "SELECT question, answer FROM turns WHERE session_id = ? ORDER BY seq DESC LIMIT ?",
                (session_id, MAX_HISTORY_TURNS),
            ).fetchall()
        return [Turn(question=q, answer=a) for q, a in reversed(rows)]

    def append(self, session_id: str, turn: Turn) -> None:
        """Add a turn, creating the session if new and refreshing its expiry."""
        now = self._clock()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                # An expired session with the same id starts over rather than resurrecting old turns.
                self._db.execute("DELETE FROM sessions WHERE id = ? AND expires <= ?", (session_id, now))
                created = self._db.execute(
                    "INSERT OR IGNORE INTO sessions (id, created, expires) VALUES (?, ?, ?)",
                    (session_id, now, now + self.ttl_s),
                ).rowcount
                if not created:
                    self._db.execute("UPDATE sessions SET expires = ? WHERE id = ?", (now + self.ttl_s, session_id))
                self._db.execute(
                    "INSERT INTO turns (session_id, seq, question, answer, created) VALUES "
                    "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE session_id = ?), ?, ?, ?)",
                    (session_id, session_id, turn.question, turn.answer, now),
                )
                self._db.execute(
                    "DELETE FROM turns WHERE session_id = ? AND seq <= "
                    "(SELECT MAX(seq) FROM turns WHERE session_id = ?) - ?",
                    (session_id, session_id, self.max_turns),
                )
                if created:
                    # Every session expires ttl_s after its last turn: the smallest expiry is the least
                    # recently used session, the first to go past the cap.
                    self._db.execute(
                        "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY expires "
                        "LIMIT max(0, (SELECT COUNT(*) FROM sessions) - ?))",
                        (self.max_sessions,),
                    )
                if now - self._last_purge >= _PURGE_EVERY_S:
                    self._db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
                    self._last_purge = now
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SessionStoreUnavailableError(f"Cannot save the chat turn ({exc}); try again.") from None

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise SessionStoreUnavailableError(f"Cannot read chat sessions ({exc}); try again.") from None


def build_session_store(settings: Settings) -> SessionStore:
    """The session store the settings ask for (QA_SESSION_STORE, default "sqlite")."""
    if settings.session_store == "redis":
        if not settings.redis_url:
            raise ConfigurationError("QA_SESSION_STORE=redis needs QA_REDIS_URL, e.g. redis://localhost:6379/0.")
        from qa.sessions.redis_store import RedisSessionStore

        return RedisSessionStore(settings.redis_url, ttl_s=settings.session_ttl_s, max_turns=settings.max_session_turns)
    return SQLiteSessionStore(
        settings.sessions_path,
        ttl_s=settings.session_ttl_s,
        max_turns=settings.max_session_turns,
        max_sessions=settings.max_sessions,
    )
