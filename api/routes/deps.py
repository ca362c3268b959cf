"""``Annotated`` dependency aliases, so route signatures read like prose; routes reach ``app.state`` only here.

Each alias reads the object ``create_app`` put on ``app.state``; ``ServiceDep`` also answers 503
until the index is loaded (``LoadingServiceDep`` is for the routes that check ``is_ready`` themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from api.background import IndexLoader, Reindexer
from api.ingest_worker import IngestWorker
from api.metrics import Metrics
from qa.config import Settings
from qa.service import QAService
from qa.sessions import SessionStore


def app_state(name: str) -> Callable[[Request], Any]:
    """A dependency that returns ``app.state.<name>``."""

    def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    dependency.__name__ = f"get_{name}"
    return dependency


def get_service(request: Request) -> QAService:
    """The service, once its index is loaded (503 before that)."""
    index: IndexLoader = request.app.state.index
    index.require_ready()
    return index.service


SettingsDep = Annotated[Settings, Depends(app_state("settings"))]
IndexLoaderDep = Annotated[IndexLoader, Depends(app_state("index"))]
ServiceDep = Annotated[QAService, Depends(get_service)]
LoadingServiceDep = Annotated[QAService, Depends(app_state("service"))]
SessionsDep = Annotated[SessionStore, Depends(app_state("sessions"))]
MetricsDep = Annotated[Metrics, Depends(app_state("metrics"))]
ReindexerDep = Annotated[Reindexer, Depends(app_state("reindexer"))]
IngestWorkerDep = Annotated[IngestWorker, Depends(app_state("ingest"))]
