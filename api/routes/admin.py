"""``/api/admin/reindex``: re-ingest a collection in the background, then swap its index in.

Questions keep being answered from the previous index while the new one is built; the service
swaps the loaded index in one assignment when the ingest commits, so every request sees either
the old index or the new one. Editors and admins only (``?collection=NAME``, default ``default``);
without keys, bind the server to loopback (the default) or anyone who reaches it can reindex.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from api.errors import error_response
from api.models import ERROR_RESPONSES, ReindexRequest, ReindexStatus
from api.routes.deps import CollectionsDep, PrincipalDep, collection_for

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.post("/reindex", status_code=202, responses={409: ERROR_RESPONSES[409] | {"description": "Already running"}})
async def reindex(
    collections: CollectionsDep,
    principal: PrincipalDep,
    body: Annotated[ReindexRequest | None, Body()] = None,
    collection: str | None = None,
) -> JSONResponse:
    """Re-ingest the collection in the background; answers come from the previous index until it is done."""
    principal.require_edit(collection or "default", doing="re-index")
    reindexer = collection_for(collections, principal, collection).reindexer
    if not reindexer.start(rebuild=body.rebuild if body else False):
        return error_response(
            409, "reindex_running", "A re-ingest is already running; poll GET /api/admin/reindex until it ends."
        )
    return JSONResponse(_status(reindexer.status()).model_dump(), status_code=202)


@router.get("/reindex")
async def reindex_status(
    collections: CollectionsDep, principal: PrincipalDep, collection: str | None = None
) -> ReindexStatus:
    """The state of the current or last re-ingest."""
    return _status(collection_for(collections, principal, collection).reindexer.status())


def _status(status: object) -> ReindexStatus:
    return ReindexStatus(**dataclasses.asdict(status))  # type: ignore[call-overload]
