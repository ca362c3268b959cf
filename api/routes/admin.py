"""``/api/admin/reindex``: re-ingest the seeds folder in the background, then swap the index in.

Questions keep being answered from the previous index while the new one is built; the service
swaps the loaded index in one assignment when the ingest commits, so every request sees either
the old index or the new one. Like every ``/api`` route it needs a key when ``QA_API_KEYS`` is
set; without keys, bind the server to loopback (the default) or anyone who reaches it can reindex.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from api.errors import error_response
from api.models import ERROR_RESPONSES, ReindexRequest, ReindexStatus
from qa.errors import QAError
from qa.service import QAService

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES)


class Reindexer:
    """Runs ``service.ingest()`` in one background thread at a time and remembers how it went."""

    def __init__(self, service: QAService) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._status = ReindexStatus(state="idle")

    @property
    def running(self) -> bool:
        """True while an ingest runs."""
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> ReindexStatus:
        """The current or last run."""
        return self._status

    def start(self, *, rebuild: bool = False) -> bool:
        """Start a re-ingest; False when one is already running."""
        with self._lock:
            if self.running:
                return False
            self._status = ReindexStatus(state="running", started_at=time.time())
            self._thread = threading.Thread(target=self._run, args=(rebuild,), name="qa-reindex", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> ReindexStatus:
        """Block until the current run ends (tests, shutdown); its status."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._status

    def _run(self, rebuild: bool) -> None:
        started = self._status.started_at
        try:
            report = self.service.ingest(rebuild=rebuild)
        except QAError as error:
            logger.error("Re-ingest failed: %s", error.message)
            self._status = ReindexStatus(
                state="failed", started_at=started, finished_at=time.time(), message=error.message
            )
            return
        except Exception:
            logger.exception("Re-ingest failed")
            message = "Re-ingest failed; the server log has the details. The previous index is still in use."
            self._status = ReindexStatus(state="failed", started_at=started, finished_at=time.time(), message=message)
            return
        summary = (
            f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
            f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped"
        )
        logger.info("Re-ingest done: %s.", summary)
        self._status = ReindexStatus(
            state="succeeded",
            started_at=started,
            finished_at=time.time(),
            message=summary,
            documents=len(self.service.documents()),
            chunks=report.chunks,
        )


def get_reindexer(request: Request) -> Reindexer:
    """The app's reindexer (one per app)."""
    reindexer: Reindexer = request.app.state.reindexer
    return reindexer


@router.post("/reindex", status_code=202, responses={409: ERROR_RESPONSES[422] | {"description": "Already running"}})
async def reindex(request: Request, body: Annotated[ReindexRequest | None, Body()] = None) -> JSONResponse:
    """Re-ingest the seeds folder in the background; answers come from the previous index until it is done."""
    reindexer = get_reindexer(request)
    if not reindexer.start(rebuild=body.rebuild if body else False):
        return error_response(
            409, "reindex_running", "A re-ingest is already running; poll GET /api/admin/reindex until it ends."
        )
    return JSONResponse(reindexer.status().model_dump(), status_code=202)


@router.get("/reindex")
async def reindex_status(request: Request) -> ReindexStatus:
    """The state of the current or last re-ingest."""
    return get_reindexer(request).status()
