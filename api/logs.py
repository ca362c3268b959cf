"""Request ids and server logs: one JSON object per line carrying the request's id, or (on a
terminal) one short readable line each.

``RequestIdMiddleware`` takes the id from an incoming ``X-Request-ID`` header (when it looks like
an id) or makes one, keeps it in a context variable for the request's lifetime (worker threads
started with ``run_in_threadpool`` inherit it), and echoes it in the response's ``X-Request-ID``.
Error bodies carry it as ``error.request_id`` (api/errors.py), so a user's report points at the
server's log lines. Slack events are answered in Bolt's worker threads, outside any HTTP request:
``bound_request_id`` gives those log lines ``slack-<event id>``.

Secrets from the settings are masked in every line as a last line of defence; nothing logs them
on purpose.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.config import Settings
from qa.console import QuietThirdParty, use_json

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("qa_request_id", default=None)
# A client's own id is kept only when it is short and plain (no control characters to forge log lines).
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str | None:
    """The id of the request being handled in this context, if any."""
    return _request_id.get()


@contextlib.contextmanager
def bound_request_id(request_id: str) -> Iterator[None]:
    """Log lines (and error bodies) inside the block carry ``request_id``: for work outside a request."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    """Give every HTTP request an id: in the context for logs and errors, and in ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _CLIENT_ID.match(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode("latin-1"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Put the current request id (or ``-``) on every record as ``record.request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the traceback)."""

    def __init__(self, *, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id() or "-",
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask(json.dumps(entry, ensure_ascii=False), self.secrets)


class TextFormatter(logging.Formatter):
    """One short line for people: ``HH:MM:SS message``, the level only from WARNING up, the request
    id only inside a request; secrets masked."""

    def __init__(self, *, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(message)s", datefmt="%H:%M:%S")
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if record.levelno >= logging.WARNING:
            time_part, _, message = line.partition(" ")
            line = f"{time_part} {record.levelname.lower()}: {message}"
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id and request_id != "-":
            line = f"{line} [{request_id}]"
        return mask(line, self.secrets)


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value in the settings: API keys and tokens, to mask in logs."""
    values = [key.get_secret_value() for key in settings.api_keys]
    for name in ("slack_bot_token", "slack_signing_secret", "slack_app_token", "llm_api_key", "qdrant_api_key"):
        secret = getattr(settings, name, None)
        if secret is not None:
            values.append(secret.get_secret_value())
    return [v for v in values if v]


def log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server (uvicorn's loggers included).

    JSON lines unless ``settings.log_format`` is text, or auto with stderr on a terminal; at
    ``QA_LOG_LEVEL`` (other packages' lines below WARNING only at debug: ``QuietThirdParty``).
    On a terminal uvicorn's start-up lines are left out below debug: ``run_server`` says where to
    open the page once the socket is bound.
    """
    as_json = use_json(settings.log_format)
    formatter = "api.logs.JsonFormatter" if as_json else "api.logs.TextFormatter"
    level = settings.log_level.upper()
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["request_id", "quiet"],
        "stream": "ext://sys.stderr",
    }
    loggers = {name: {"handlers": [], "level": level, "propagate": True} for name in ("uvicorn", "uvicorn.access")}
    chatty = not as_json and settings.log_level != "debug"
    loggers["uvicorn.error"] = {"handlers": [], "level": "WARNING" if chatty else level, "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "quiet": {"()": QuietThirdParty, "level": settings.log_level},
        },
        "formatters": {"default": {"()": formatter, "secrets": settings_secrets(settings)}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": loggers,
    }
