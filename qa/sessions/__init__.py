"""Chat sessions: the turns of a conversation, kept so follow-up questions can use them.

- ``base``: the ``SessionStore`` protocol, the caps, and ``continue_session`` (what an unknown or
  expired id means: an error for the HTTP chat, a fresh start for a Slack thread or the terminal).
- ``sqlite``: the default store, one SQLite file under the data folder (or in memory).
- ``redis_store``: one Redis list per session, shared by every API replica (``QA_SESSION_STORE=redis``).

- ``chat``: ``Chat``, the one conversation object: continue, bound the history, ask, save the turn.

The HTTP chat, ``/v1``, the Slack bot and ``qa chat`` all hold conversations through ``Chat``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.errors import ConfigurationError
from qa.sessions.base import (
    MAX_SESSIONS,
    MAX_STORED_TURNS,
    WEB_SESSION_PREFIX,
    BaseSessionStore,
    Conversation,
    SessionStore,
    continue_session,
    is_web_session_id,
    new_session_id,
    unknown_session,
)
from qa.sessions.sqlite import SQLiteSessionStore

if TYPE_CHECKING:
    from qa.config import Settings

__all__ = [
    "MAX_SESSIONS",
    "MAX_STORED_TURNS",
    "WEB_SESSION_PREFIX",
    "BaseSessionStore",
    "Conversation",
    "SQLiteSessionStore",
    "SessionStore",
    "build_session_store",
    "continue_session",
    "is_web_session_id",
    "new_session_id",
    "unknown_session",
]


def build_session_store(settings: Settings) -> SessionStore:
    """The session store the settings ask for (QA_SESSION_STORE, default "sqlite"), capped by QA_MAX_SESSION_TURNS."""
    if settings.session_store == "redis":
        if not settings.redis_url:
            raise ConfigurationError("QA_SESSION_STORE=redis needs QA_REDIS_URL, e.g. redis://localhost:6379/0.")
        from qa.sessions.redis_store import RedisSessionStore

        return RedisSessionStore(
            settings.redis_url,
            ttl_s=settings.session_ttl_s,
            max_turns=settings.max_session_turns,
            max_sessions=settings.max_sessions,
        )
    return SQLiteSessionStore(
        settings.sessions_path,
        ttl_s=settings.session_ttl_s,
        max_turns=settings.max_session_turns,
        max_sessions=settings.max_sessions,
    )
