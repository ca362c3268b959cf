"""Chat sessions in one SQLite file (the default store), or in memory for the terminal chat.

Sessions survive a restart and are forgotten ``ttl_s`` seconds after their last turn. At most
``max_turns`` turns per session and ``max_sessions`` sessions are kept, the least recently used
session going first.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from qa.errors import ConfigurationError, SessionStoreUnavailableError
from qa.schema import Turn
from qa.sessions.base import MAX_SESSIONS, MAX_STORED_TURNS, BaseSessionStore, unknown_session

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


class SQLiteSessionStore(BaseSessionStore):
    """Sessions in one SQLite file (WAL), or in memory when ``path`` is None; safe to share between threads."""

    def __init__(
        self,
        path: Path | None,
        *,
        ttl_s: int,
        max_turns: int = MAX_STORED_TURNS,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(ttl_s=ttl_s, max_turns=max_turns)
        if max_sessions < 1:
            raise ConfigurationError(f"max_sessions must be at least 1, got {max_sessions}.")
        self.path = path
        self.max_sessions = max_sessions
        self._clock = clock
        self._lock = threading.Lock()
        self._last_purge = 0.0
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            where = ":memory:" if path is None else path
            self._db = sqlite3.connect(where, check_same_thread=False, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SessionStoreUnavailableError(
                f"Cannot open the session store at {path} ({exc}). Check that QA_DATA_DIR is writable."
            ) from None

    def exists(self, session_id: str) -> bool:
        """False if the session is unknown or expired."""
        with self._lock:
            row = self._query("SELECT expires FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None and row[0] > self._clock()

    def history(self, session_id: str) -> list[Turn]:
        """The stored turns (at most ``max_turns``), oldest first; SessionError if unknown or expired."""
        if not self.exists(session_id):
            raise unknown_session(session_id)
        with self._lock:
            rows = self._query(
                "SELECT question, answer FROM turns WHERE session_id = ? ORDER BY seq DESC LIMIT ?",
                (session_id, self.max_turns),
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
