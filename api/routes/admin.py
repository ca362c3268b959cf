"""``/api/admin/reindex``: re-ingest the seeds folder in the background, then swap the index in.

Questions keep being answered from the previous index while the new one is built; the service
swaps the loaded index in one assignment when the ingest commits, so every request sees either
the old index or the new one. Like every ``/api`` route it needs a key when ``QA_API_KEYS`` is
set; without keys, bind the server to loopback (the default) or anyone who reaches it can reindex.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from api.errors import error_response
from api.models import ERROR_RESPONSES, ReindexRequest, ReindexStatus
from api.routes.deps import ReindexerDep

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.post("/reindex", status_code=202, responses={409: ERROR_RESPONSES[422] | {"description": "Already running"}})
async def reindex(reindexer: ReindexerDep, body: Annotated[ReindexRequest | None, Body()] = None) -> JSONResponse:
    """Re-ingest the seeds folder in the background; answers come from the previous index until it is done."""
    if not reindexer.start(rebuild=body.rebuild if body else False):
        return error_response(
            409, "reindex_running", "A re-ingest is already running; poll GET /api/admin/reindex until it ends."
        )
    return JSONResponse(reindexer.status().model_dump(), status_code=202)


@router.get("/reindex")
async def reindex_status(reindexer: ReindexerDep) -> ReindexStatus:
    """The state of the current or last re-ingest."""
    return reindexer.status()
