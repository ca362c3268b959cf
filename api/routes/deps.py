"""``Annotated`` dependency aliases, so route signatures read like prose; routes reach ``app.state`` only here.

Each alias reads the object ``create_app`` put on ``app.state``. ``PrincipalDep`` is who is asking
(the API key's role and collections; an admin of everything on a keyless loopback server);
``collection_for`` opens the collection a request names after checking that key may read it, and
``ready_service`` answers 503 until that collection's index is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from api.metrics import Metrics
from qa.collections.access import LOCAL, Principal
from qa.collections.jobs import IndexLoader
from qa.collections.registry import Collection, CollectionRegistry
from qa.config import Settings
from qa.feedback.log import AnswerLog
from qa.service import QAService
from qa.sessions.chat import Chat


def app_state(name: str) -> Callable[[Request], Any]:
    """A dependency that returns ``app.state.<name>``."""

    def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    dependency.__name__ = f"get_{name}"
    return dependency


def get_principal(request: Request) -> Principal:
    """The key's principal (set by APIKeyMiddleware), or LOCAL on a server without keys."""
    principal = request.scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else LOCAL


def collection_for(registry: CollectionRegistry, principal: Principal, name: str | None) -> Collection:
    """The collection ``name`` (default when None): 403 ``collection_forbidden`` first, then 404 if unknown."""
    chosen = name or registry.default.name
    principal.require_read(chosen)
    return registry.get(chosen)


def ready_service(collection: Collection) -> QAService:
    """The collection's service once its index is loaded; the 503 that says why not otherwise."""
    collection.loader.require_ready()
    return collection.service


SettingsDep = Annotated[Settings, Depends(app_state("settings"))]
IndexLoaderDep = Annotated[IndexLoader, Depends(app_state("index"))]
MetricsDep = Annotated[Metrics, Depends(app_state("metrics"))]
CollectionsDep = Annotated[CollectionRegistry, Depends(app_state("collections"))]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ChatDep = Annotated[Chat, Depends(app_state("chat"))]
AnswerLogDep = Annotated[AnswerLog, Depends(app_state("answer_log"))]
