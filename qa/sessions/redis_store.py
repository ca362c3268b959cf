"""Chat sessions in Redis, shared by every API replica: ``QA_SESSION_STORE=redis`` with ``QA_REDIS_URL``.

Each session is one Redis list of JSON turns under ``<prefix><session id>``; every append
refreshes the key's TTL (``session_ttl_s``), so Redis itself forgets idle chats. As in SQLite, at
most ``max_sessions`` (``QA_MAX_SESSIONS``) sessions are kept: a sorted set ``<prefix>:recent``
scores each session by its last append, and a new session past the cap removes the least recently
used ones, in one Lua script (atomic across replicas). When Redis cannot be reached, chat calls
raise SessionStoreUnavailableError (503); nothing else depends on it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from qa.errors import ConfigurationError, SessionStoreUnavailableError
from qa.schema import Turn
from qa.sessions.base import MAX_SESSIONS, MAX_STORED_TURNS, BaseSessionStore, unknown_session

# KEYS: the session's list, the recency set. ARGV: turn, max turns, ttl, now, max sessions, key
# prefix, session id. Sessions that expired on their own leave the set first (score older than
# the TTL); then the oldest past the cap go, list and all. (The evicted keys are not in KEYS: fine
# on one Redis, not on a Redis Cluster.)
_APPEND = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('ZADD', KEYS[2], tonumber(ARGV[4]), ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[4]) - tonumber(ARGV[3])))
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #oldest, 2 do
    redis.call('DEL', ARGV[6] .. oldest[i])
  end
end
"""


class RedisSessionStore(BaseSessionStore):
    """The SessionStore protocol on Redis; safe to share between threads and processes."""

    def __init__(
        self,
        url: str,
        *,
        ttl_s: int,
        max_turns: int = MAX_STORED_TURNS,
        max_sessions: int = MAX_SESSIONS,
        prefix: str = "qa:session:",
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(ttl_s=ttl_s, max_turns=max_turns)
        if max_sessions < 1:
            raise ConfigurationError(f"max_sessions must be at least 1, got {max_sessions}.")
        self.max_sessions = max_sessions
        self._clock = clock
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "QA_SESSION_STORE=redis needs the redis package: `pip install 'seed-qa[scale]'`."
            ) from None
        self.prefix = prefix
        self.recent_key = prefix + ":recent"  # ids are web-<random> or slack:<team>:...; never ":recent"
        self.where = _redacted(url)
        self._errors = (redis.exceptions.RedisError, OSError)
        try:  # connects lazily: the API starts (and answers /api/ask) while Redis is down
            self._redis: Any = redis.Redis.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
            )
        except ValueError as exc:
            raise ConfigurationError(
                f"QA_REDIS_URL {self.where!r} is not a Redis URL ({exc}); use redis://host:6379/0."
            ) from None

    def exists(self, session_id: str) -> bool:
        """False if the session is unknown or expired."""
        with self._reaching():
            return bool(self._redis.exists(self.prefix + session_id))

    def history(self, session_id: str) -> list[Turn]:
        """The stored turns (at most ``max_turns``), oldest first; SessionError if unknown or expired."""
        with self._reaching():
            rows = self._redis.lrange(self.prefix + session_id, -self.max_turns, -1)
        if not rows:
            raise unknown_session(session_id)
        return [Turn(**json.loads(row)) for row in rows]

    def append(self, session_id: str, turn: Turn) -> None:
        """Add a turn, creating the session if new and refreshing its expiry."""
        key = self.prefix + session_id
        row = json.dumps({"question": turn.question, "answer": turn.answer}, ensure_ascii=False)
        args = (row, self.max_turns, self.ttl_s, self._clock(), self.max_sessions, self.prefix, session_id)
        with self._reaching():
            self._redis.eval(_APPEND, 2, key, self.recent_key, *args)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise SessionStoreUnavailableError(
                f"Cannot reach the session store at {self.where} ({exc}). Start Redis or check QA_REDIS_URL; "
                "questions without a chat session still work."
            ) from None


def _redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
