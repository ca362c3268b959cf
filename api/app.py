"""The app factory: ``create_app(settings=None, service=None)``; ``uvicorn api.app:app`` also works."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from api.background import IndexLoader, Reindexer
from api.errors import install_error_handlers
from api.ingest_worker import IngestWorker
from api.limit_storage import build_limit_storage
from api.limits import ConcurrencyLimitMiddleware, RateLimitMiddleware
from api.logs import RequestIdMiddleware, log_config
from api.metrics import Metrics, MetricsMiddleware
from api.routes import admin, answers, completions, documents, health
from api.routes.pages import mount_pages
from api.security import (
    APIKeyMiddleware,
    BodyLimitMiddleware,
    LoopbackOnlyMiddleware,
    SecurityHeadersMiddleware,
    check_exposure,
)
from qa import __version__
from qa.config import Settings
from qa.errors import QAError
from qa.service import QAService
from qa.sessions import SessionStore, build_session_store

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start loading the index in the background; the server answers /healthz meanwhile."""
    app.state.index.start()
    app.state.ingest.start()  # uploads, deletes and (QA_WATCH) the live seeds folder
    yield
    app.state.ingest.stop()


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    """Build the HTTP app; the service (and its index) come from ``settings`` unless given.

    Raises UnsafeExposureError for a keyless non-loopback QA_HOST or short keys (``check_exposure``).
    """
    settings = settings or (service.settings if service is not None else Settings())
    check_exposure(settings)
    service = service or QAService(settings)  # lazy: the model and index load in the lifespan
    sessions: SessionStore = build_session_store(settings)
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
    app.state.service = service
    app.state.sessions = sessions
    app.state.metrics = metrics
    app.state.index = IndexLoader(service)
    app.state.reindexer = Reindexer(service)
    app.state.ingest = IngestWorker(service, watch=settings.watch, debounce_ms=settings.watch_debounce_ms)

    install_error_handlers(app)
    for module in (answers, completions, documents, health, admin):
        app.include_router(module.router)
    mount_pages(app)
    if settings.slack_bot_token and settings.slack_signing_secret:
        from api.slack.app import mount_slack

        mount_slack(app, service=service, settings=settings, sessions=sessions)

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
            keys=settings.api_keys,
            storage=limit_storage,
        )
    if not settings.api_keys and not settings.allow_public_without_keys:
        app.add_middleware(LoopbackOnlyMiddleware)
    if settings.api_keys:
        app.add_middleware(
            APIKeyMiddleware,
            keys=settings.api_keys,
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
