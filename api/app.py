"""The app factory: ``create_app(settings=None, service=None)``; ``uvicorn api.app:app`` also works."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from api.errors import install_error_handlers
from api.limit_storage import build_limit_storage
from api.limits import ConcurrencyLimitMiddleware, RateLimitMiddleware
from api.logs import RequestIdMiddleware, log_config
from api.metrics import Metrics, MetricsMiddleware
from api.routes import admin, answers, collections, completions, documents, feedback, health, trash
from api.routes import sessions as session_routes
from api.routes.pages import mount_pages
from api.security import (
    APIKeyMiddleware,
    BodyLimitMiddleware,
    LoopbackOnlyMiddleware,
    SecurityHeadersMiddleware,
    check_exposure,
)
from qa import __version__
from qa.collections.access import KeyRing
from qa.collections.registry import CollectionRegistry
from qa.config import Settings
from qa.errors import QAError
from qa.feedback.log import AnswerLog
from qa.service import QAService
from qa.sessions import SessionStore, build_session_store
from qa.sessions.chat import Chat

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start loading every collection's index in the background; the server answers /healthz meanwhile."""
    # Each collection's index loader and ingest worker (uploads, deletes and, with QA_WATCH, its live folders).
    app.state.collections.start()
    yield
    app.state.collections.stop()


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    """Build the HTTP app; the service (and its index) come from ``settings`` unless given.

    Raises UnsafeExposureError for a keyless non-loopback QA_HOST or short keys (``check_exposure``).
    """
    settings = settings or (service.settings if service is not None else Settings())
    check_exposure(settings)
    service = service or QAService(settings)  # lazy: the model and index load in the lifespan
    sessions: SessionStore = build_session_store(settings)
    keyring = KeyRing.from_settings([k.get_secret_value() for k in settings.api_keys], settings.keys_file)
    registry = CollectionRegistry(settings, service=service)
    answer_log = AnswerLog(settings.answers_path)
    limit_storage = build_limit_storage(settings)
    metrics = Metrics()
    app = FastAPI(
        title="seed-qa",
        version=__version__,
        summary="Cited answers from the documents in the seeds folder.",
        lifespan=lifespan,
        docs_url=None,  # served offline by api.routes.pages
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keyring = keyring
    app.state.collections = registry
    app.state.sessions = sessions
    app.state.answer_log = answer_log
    app.state.chat = Chat.from_settings(settings, sessions, answer_log)
    app.state.metrics = metrics
    # The default collection's parts, under the names the probes and older tests use.
    default = registry.default
    app.state.service = default.service
    app.state.index = default.loader
    app.state.reindexer = default.reindexer
    app.state.ingest = default.worker

    install_error_handlers(app)
    for module in (answers, completions, documents, trash, collections, session_routes, feedback, health, admin):
        app.include_router(module.router)
    mount_pages(app)
    if settings.slack_bot_token and settings.slack_signing_secret:
        from api.slack.app import mount_slack

        mount_slack(app, collections=registry, settings=settings, chat=app.state.chat)

    # Starlette runs the last-added middleware first: the request id is set before anything can
    # log or fail, metrics see every response (401, 413, 429 included), and a request is checked
    # (key, rate, size) before it may wait for an answer slot.
    app.add_middleware(
        ConcurrencyLimitMiddleware,
        max_concurrent=settings.max_concurrent_answers,
        max_queue=settings.max_queue,
        timeout_s=settings.request_timeout_s,
        max_wait_s=settings.max_wait_s,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, streamed_paths=documents.UPLOAD_PATHS)
    if settings.rate_limit_per_minute:
        app.add_middleware(
            RateLimitMiddleware,
            per_minute=settings.rate_limit_per_minute,
            keys=keyring,
            storage=limit_storage,
        )
    if not keyring and not settings.allow_public_without_keys:
        app.add_middleware(LoopbackOnlyMiddleware)
    if keyring:
        app.add_middleware(
            APIKeyMiddleware,
            keys=keyring,
            failures_per_minute=settings.auth_failures_per_minute,
            storage=limit_storage,
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Session-Id", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    return app


_default_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # `uvicorn api.app:app` reads settings from the environment; building the app lazily keeps
    # `import api.app` free of side effects (no data folder or SQLite file created on import).
    # It logs as `qa serve` does (JSON lines, secrets masked), replacing uvicorn's own set-up.
    global _default_app
    if name == "app":
        if _default_app is None:
            settings = Settings()
            logging.config.dictConfig(log_config(settings))
            try:
                _default_app = create_app(settings)
            except QAError as error:
                logger.error("Cannot start: %s", error.message)
                raise SystemExit(f"error: {error.message}") from None
        return _default_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
