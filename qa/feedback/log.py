"""Every answer given, and the feedback on it, in one SQLite file under the data folder.

The log is what chat history (``GET /api/sessions``), feedback (``POST /api/feedback``), the
test-set export (``qa feedback export``) and the gaps list (``qa gaps``) read. Each answer is kept
whole (its JSON: question, answer, citations, confidence) with who asked (the key's name), in
which collection and session, and the index generation that answered; each cited file's sha256
is kept beside it, so an export can tell a quote whose file has changed since.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qa.errors import AnswerNotFoundError, InvalidQuestionError, SessionStoreUnavailableError
from qa.schema import Answer

Vote = Literal["up", "down"]
#: Longest feedback comment or corrected answer kept (characters).
MAX_FEEDBACK_CHARS = 2000
#: Answers kept; past it the oldest without feedback go first (checked every ``_PURGE_EVERY`` records).
#: A logged answer is about 2 KB, so the default stays under half a gigabyte.
MAX_ANSWERS = 200_000
_PURGE_EVERY = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    session_id TEXT,
    owner TEXT NOT NULL,
    collection TEXT NOT NULL,
    question TEXT NOT NULL,
    status TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    file_hashes TEXT NOT NULL,
    generation TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_session ON answers(session_id, created);
CREATE INDEX IF NOT EXISTS answers_owner ON answers(owner, created);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    vote TEXT NOT NULL,
    comment TEXT,
    correction TEXT,
    source TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (answer_id, owner)
);
"""


@dataclass(frozen=True, slots=True)
class LoggedAnswer:
    """An answer as the log keeps it."""

    id: str
    session_id: str | None
    owner: str
    collection: str
    question: str
    status: str
    answer: dict[str, Any]  # Answer.to_dict()
    file_hashes: dict[str, str]  # cited source -> sha256 when answered
    generation: str | None
    created: float


@dataclass(frozen=True, slots=True)
class Feedback:
    """A vote on an answer, with an optional comment and corrected answer."""

    answer_id: str
    owner: str
    vote: Vote
    comment: str | None
    correction: str | None
    source: str  # "api", "page" or "slack"
    created: float


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One past chat: its id, first question, turns and when it was last used."""

    session_id: str
    collection: str
    title: str
    turns: int
    last_at: float


class AnswerLog:
    """The answer and feedback log; safe to share between threads. ``path=None`` keeps it in memory."""

    def __init__(
        self, path: Path | None, *, max_answers: int = MAX_ANSWERS, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.max_answers = max_answers
        self._clock = clock
        self._recorded = 0
        self._lock = threading.Lock()
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                ":memory:" if path is None else path, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # One fsync per checkpoint instead of per answer: a power cut may lose the last few
            # answers' records, never corrupt the file; every answer otherwise waited on the disk.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SessionStoreUnavailableError(
                f"Cannot open the answer log at {path} ({exc}). Check that QA_DATA_DIR is writable."
            ) from None

    # Answers --------------------------------------------------------------------------------

    def record(
        self,
        answer: Answer,
        *,
        owner: str,
        collection: str,
        session_id: str | None = None,
        generation: str | None = None,
        file_hashes: Mapping[str, str] | None = None,
    ) -> None:
        """Keep ``answer`` whole; ``file_hashes`` (source -> sha256) of the files it cites."""
        cited = {c.source for c in answer.citations}
        hashes = {s: h for s, h in (file_hashes or {}).items() if s in cited}
        self._run(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                answer.id,
                session_id,
                owner,
                collection,
                answer.question,
                answer.status,
                json.dumps(answer.to_dict(), ensure_ascii=False),
                json.dumps(hashes),
                generation,
                self._clock(),
            ),
        )
        self._recorded += 1
        if self._recorded % _PURGE_EVERY == 0:
            self._purge()

    def _purge(self) -> None:
        """Drop the oldest answers past ``max_answers``, keeping those with feedback (the test set)."""
        self._run(
            "DELETE FROM answers WHERE id IN (SELECT id FROM answers WHERE id NOT IN (SELECT answer_id FROM feedback) "
            "ORDER BY created LIMIT max(0, (SELECT COUNT(*) FROM answers) - ?))",
            (self.max_answers,),
        )

    def get(self, answer_id: str, *, owner: str | None = None) -> LoggedAnswer:
        """One answer (only ``owner``'s, when given); AnswerNotFoundError otherwise."""
        rows = self._select("WHERE id = ?", (answer_id,))
        if not rows or (owner is not None and rows[0].owner != owner):
            raise AnswerNotFoundError(f"No answer has id {answer_id[:60]!r} for this key; send the id an answer gave.")
        return rows[0]

    def answers(
        self,
        *,
        collection: str | None = None,
        session_id: str | None = None,
        status: str | None = None,
        limit: int = 10_000,
    ) -> list[LoggedAnswer]:
        """Logged answers oldest first, narrowed by the given fields."""
        where, params = _where({"collection": collection, "session_id": session_id, "status": status})
        return self._select(f"{where} ORDER BY created, rowid LIMIT ?", (*params, limit))

    # Sessions -------------------------------------------------------------------------------

    def session_owner(self, session_id: str) -> tuple[str, str] | None:
        """``(owner, collection)`` of a logged session, or None when nothing is logged under it."""
        with self._lock:
            row = self._query(
                "SELECT owner, collection FROM answers WHERE session_id = ? ORDER BY created LIMIT 1", (session_id,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def sessions(
        self, owner: str, *, collections: frozenset[str] | None = None, limit: int = 50
    ) -> list[SessionSummary]:
        """``owner``'s chats, most recently used first."""
        with self._lock:
            rows = self._query(
                "SELECT session_id, collection, MIN(created), MAX(created), COUNT(*) FROM answers "
                "WHERE owner = ? AND session_id IS NOT NULL GROUP BY session_id ORDER BY MAX(created) DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
            summaries = []
            for session_id, collection, first, last, turns in rows:
                if collections is not None and collection not in collections:
                    continue
                title = self._query(
                    "SELECT question FROM answers WHERE session_id = ? AND created = ? LIMIT 1", (session_id, first)
                ).fetchone()
                summaries.append(SessionSummary(session_id, collection, (title[0] if title else "")[:120], turns, last))
        return summaries

    # Feedback -------------------------------------------------------------------------------

    def add_feedback(
        self,
        answer_id: str,
        *,
        owner: str,
        vote: Vote,
        comment: str | None = None,
        correction: str | None = None,
        source: str = "api",
    ) -> Feedback:
        """Record (or replace) ``owner``'s vote on an answer; AnswerNotFoundError for an unknown id."""
        if vote not in ("up", "down"):
            raise InvalidQuestionError(f"vote must be 'up' or 'down', got {vote!r}.")
        for name, text in (("comment", comment), ("correction", correction)):
            if text is not None and len(text) > MAX_FEEDBACK_CHARS:
                raise InvalidQuestionError(
                    f"The {name} is {len(text)} characters long; the limit is {MAX_FEEDBACK_CHARS}. Shorten it."
                )
        self.get(answer_id)
        feedback = Feedback(answer_id, owner, vote, comment or None, correction or None, source, self._clock())
        self._run(
            "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?)",
            (answer_id, owner, vote, feedback.comment, feedback.correction, source, feedback.created),
        )
        return feedback

    def feedback(self, *, collection: str | None = None) -> list[tuple[Feedback, LoggedAnswer]]:
        """Every vote with the answer it is on, oldest first."""
        with self._lock:
            rows = self._query(
                "SELECT f.answer_id, f.owner, f.vote, f.comment, f.correction, f.source, f.created, a.collection "
                "FROM feedback f JOIN answers a ON a.id = f.answer_id ORDER BY f.created",
                (),
            ).fetchall()
        pairs = []
        for row in rows:
            if collection is not None and row[7] != collection:
                continue
            pairs.append((Feedback(*row[:7]), self.get(row[0])))
        return pairs

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # Plumbing -------------------------------------------------------------------------------

    def _select(self, where: str, params: tuple[object, ...]) -> list[LoggedAnswer]:
        with self._lock:
            rows = self._query(
                "SELECT id, session_id, owner, collection, question, status, answer_json, file_hashes, generation, "
                f"created FROM answers {where}",
                params,
            ).fetchall()
        return [
            LoggedAnswer(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), json.loads(r[7]), r[8], r[9])
            for r in rows
        ]

    def _run(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            self._query(sql, params)

    def _query(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise SessionStoreUnavailableError(f"Cannot use the answer log ({exc}); try again.") from None


def _where(fields: Mapping[str, object]) -> tuple[str, tuple[object, ...]]:
    """``WHERE a = ? AND b = ?`` over the fields that are not None (names are ours, never a caller's)."""
    given = {k: v for k, v in fields.items() if v is not None}
    if not given:
        return "", ()
    return "WHERE " + " AND ".join(f"{k} = ?" for k in given), tuple(given.values())
