"""The session protocol, its limits, and ``continue_session``: what every front end does with a session id.

Ids live in namespaces per front end: the HTTP chat only continues ids of its own random ``web-``
form (``is_web_session_id``), never Slack's predictable ``slack:<team>:<channel>:<ts>``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from qa.errors import ConfigurationError, SessionError, SessionStoreUnavailableError
from qa.schema import Turn

#: Turns kept per session (QA_MAX_SESSION_TURNS), in every store; older ones are dropped on append.
MAX_STORED_TURNS = 200
#: Sessions kept by the SQLite store (QA_MAX_SESSIONS): 100k sessions of 200 short turns stay well
#: under a few GB; past it the least recently used session goes first.
MAX_SESSIONS = 100_000
#: The HTTP chat's ids: this prefix and ``secrets.token_urlsafe(18)`` (24 url-safe characters).
WEB_SESSION_PREFIX = "web-"
_WEB_TOKEN_CHARS = 24
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


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


class BaseSessionStore:
    """What every store shares: checked ``ttl_s`` and ``max_turns``, and ids from ``new_session_id``."""

    def __init__(self, *, ttl_s: int, max_turns: int) -> None:
        if ttl_s <= 0:
            raise ConfigurationError(f"session_ttl_s must be a positive number of seconds, got {ttl_s}.")
        if max_turns < 1:
            raise ConfigurationError(f"max_session_turns must be at least 1, got {max_turns}.")
        self.ttl_s = ttl_s
        self.max_turns = max_turns

    def new_id(self) -> str:
        """A fresh random, url-safe session id (``new_session_id``)."""
        return new_session_id()


@dataclass(frozen=True, slots=True)
class Conversation:
    """A session as a front end continues it: its id and the turns so far (none for a fresh one)."""

    session_id: str
    history: tuple[Turn, ...] = ()


def continue_session(
    store: SessionStore,
    session_id: str | None,
    *,
    missing: Literal["raise", "new"] = "raise",
    accepts: Callable[[str], bool] | None = None,
) -> Conversation:
    """The conversation to continue: ``session_id``'s turns, or a fresh session when it is None.

    An id that is unknown, expired, or refused by ``accepts`` (another front end's namespace)
    raises SessionError (404) with ``missing="raise"`` (the HTTP chat), or starts over under the
    same id with ``missing="new"`` (a Slack thread, the terminal chat). A store that cannot be
    reached raises SessionStoreUnavailableError either way.
    """
    if session_id is None:
        return Conversation(store.new_id())
    if accepts is None or accepts(session_id):
        try:
            return Conversation(session_id, tuple(store.history(session_id)))
        except SessionStoreUnavailableError:
            raise
        except SessionError:
            pass
    if missing == "raise":
        raise unknown_session(session_id)
    return Conversation(session_id)


def unknown_session(session_id: str) -> SessionError:
    """The one error for a session id that is unknown or expired."""
    return SessionError(f"Chat session {session_id!r} is unknown or expired. Start a new chat (omit session_id).")


def new_session_id() -> str:
    """A fresh id in the HTTP chat's namespace: ``web-`` and 144 random bits, url-safe."""
    return WEB_SESSION_PREFIX + secrets.token_urlsafe(18)


def is_web_session_id(session_id: str) -> bool:
    """True only for ids of ``new_session_id``'s form (so never a Slack thread's id)."""
    token = session_id.removeprefix(WEB_SESSION_PREFIX)
    return session_id.startswith(WEB_SESSION_PREFIX) and len(token) == _WEB_TOKEN_CHARS and set(token) <= _URLSAFE
