"""Probes and metrics: ``/healthz`` (alive), ``/readyz`` (index loaded), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.routes.deps import IndexLoaderDep, MetricsDep, SettingsDep
from api.security import presents_valid_key

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers HTTP (never touches the index)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Index missing, loading or failed"}})
async def readyz(request: Request, settings: SettingsDep, index: IndexLoaderDep) -> dict[str, Any]:
    """Readiness: 200 once the index is loaded, 503 with the reason before that.

    Public (probes carry no key): the reason's details (paths, the Qdrant URL) only go to callers
    with a configured API key; others get its code and fix.
    """
    index.require_ready(detailed=presents_valid_key(request.scope, request.app.state.keyring))
    return {"status": "ready", "documents": len(index.service.documents())}


@router.get("/metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    """Request counts, latencies and answer-stage timings in the Prometheus text format."""
    return Response(metrics.render(), media_type=metrics.content_type)
