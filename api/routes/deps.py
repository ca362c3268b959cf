"""``Annotated`` dependency aliases, so route signatures read like prose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.metrics import Metrics
from qa.config import Settings
from qa.service import QAService
from qa.sessions import SessionStore


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_service(request: Request) -> QAService:
    """The service, once its index is loaded (503 before that)."""
    request.app.state.index.require_ready()
    service: QAService = request.app.state.service
    return service


def get_sessions(request: Request) -> SessionStore:
    """The chat session store."""
    sessions: SessionStore = request.app.state.sessions
    return sessions


def get_metrics(request: Request) -> Metrics:
    """The app's Prometheus metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[QAService, Depends(get_service)]
SessionsDep = Annotated[SessionStore, Depends(get_sessions)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
