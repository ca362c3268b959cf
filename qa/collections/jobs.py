"""One-shot background jobs on the service, each in one daemon thread at a time, never on the event loop.

- ``BackgroundJob``: the thread wrapper both jobs share (``running``, start-at-most-once, ``join``).
- ``IndexLoader``: loads (or builds) the index at start-up so probes answer at once; ``/readyz``
  and every answering route ask it why the index is not ready yet (``require_ready``).
- ``Reindexer``: ``POST /api/admin/reindex`` re-ingests a collection and remembers how it went.
- ``run_logged``: a failure in a thread is logged and kept, never lost with the thread.

The coalescing ingest worker and the folder watcher live in ``qa.collections.worker``; every
collection (``qa.collections.registry``) holds one of each, so the HTTP server and ``qa slack``
run the same jobs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from qa.errors import IndexBuildingError, IndexCorruptError, IndexMismatchError, IndexNotReadyError, QAError
from qa.service import QAService
from qa.stores.manifest import REBUILD_HINT

logger = logging.getLogger(__name__)

#: Load failures a rebuild repairs; /readyz names that fix even to anonymous callers.
REBUILD_CODES = frozenset({IndexCorruptError.code, IndexMismatchError.code})

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ReindexStatus:
    """Where a re-ingest stands; answers come from the previous index meanwhile."""

    state: Literal["idle", "running", "succeeded", "failed"]
    started_at: float | None = None
    finished_at: float | None = None
    message: str | None = None
    documents: int | None = None
    chunks: int | None = None


def run_logged(call: Callable[[], _T], *, what: str, unexpected: str) -> _T | QAError:
    """``call()``'s result, or the QAError it failed with, logged as ``what``.

    Any other exception is logged with its traceback and becomes a QAError whose message is
    ``unexpected`` (``{exc}`` stands for the exception): a thread that dies silently would leave
    the server waiting for a job that never ends.
    """
    try:
        return call()
    except QAError as error:
        logger.error("%s: %s", what, error.message)
        return error
    except Exception as exc:
        logger.exception(what)
        return QAError(unexpected.format(exc=exc))


class BackgroundJob:
    """Runs ``_run`` in one daemon thread named ``thread_name``, at most one at a time."""

    thread_name = "qa-job"

    def __init__(self, service: QAService) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the job's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Block until the current run ends, or ``timeout`` seconds."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _launch(self, *args: Any) -> bool:
        """Start ``_run(*args)`` in a thread; False when a run is going on already."""
        with self._lock:
            if self.running:
                return False
            self._starting()
            self._thread = threading.Thread(target=self._run, args=args, name=self.thread_name, daemon=True)
            self._thread.start()
            return True

    def _starting(self) -> None:
        """Reset what the last run left (under the lock, before the new thread starts)."""

    def _run(self, *args: Any) -> None:
        raise NotImplementedError


class IndexLoader(BackgroundJob):
    """Loads (or builds) the index in a background thread so probes answer at once."""

    thread_name = "qa-index-loader"

    def __init__(self, service: QAService) -> None:
        super().__init__(service)
        self.error: QAError | None = None

    def start(self) -> None:
        """Start loading unless the index is loaded already or loading."""
        if not self.service.is_ready:
            self._launch()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading ends; True when the index is ready."""
        self.join(timeout)
        return self.service.is_ready

    def require_ready(self, *, detailed: bool = True) -> None:
        """Raise the 503-class error that says why the index cannot answer yet.

        ``detailed=False`` (anonymous callers of /readyz) gives the failure's code and fix but not
        its message, which can hold absolute paths or the Qdrant URL.
        """
        if self.service.is_ready:
            return
        if self.error is not None:
            if not detailed:
                fix = REBUILD_HINT if self.error.code in REBUILD_CODES else "The server log has the cause and the fix."
                raise IndexNotReadyError(f"The index failed to load ({self.error.code}). {fix}")
            raise IndexNotReadyError(f"The index failed to load: {self.error.message}")
        if self.service.building:
            raise IndexBuildingError("The index is being built from the seeds folder; retry in a few seconds.")
        raise IndexNotReadyError("The index is loading; retry in a few seconds.")

    def _starting(self) -> None:
        self.error = None

    def _run(self) -> None:
        def load() -> int:
            self.service.ensure_index()
            return len(self.service.documents())

        outcome = run_logged(
            load,
            what="Cannot load the index",
            unexpected="Loading the index failed ({exc}); see the server log, fix, restart.",
        )
        if isinstance(outcome, QAError):
            self.error = outcome
        else:
            logger.info("Index loaded: %d documents.", outcome)


class Reindexer(BackgroundJob):
    """Runs ``service.ingest()`` in one background thread at a time and remembers how it went."""

    thread_name = "qa-reindex"

    def __init__(self, service: QAService) -> None:
        super().__init__(service)
        self._status = ReindexStatus(state="idle")

    def status(self) -> ReindexStatus:
        """The current or last run."""
        return self._status

    def start(self, *, rebuild: bool = False) -> bool:
        """Start a re-ingest; False when one is already running."""
        return self._launch(rebuild)

    def wait(self, timeout: float | None = None) -> ReindexStatus:
        """Block until the current run ends (tests, shutdown); its status."""
        self.join(timeout)
        return self._status

    def _starting(self) -> None:
        self._status = ReindexStatus(state="running", started_at=time.time())

    def _run(self, rebuild: bool) -> None:
        started = self._status.started_at
        report = run_logged(
            lambda: self.service.ingest(rebuild=rebuild),
            what="Re-ingest failed",
            unexpected="Re-ingest failed; the server log has the details. The previous index is still in use.",
        )
        if isinstance(report, QAError):
            self._status = ReindexStatus(
                state="failed", started_at=started, finished_at=time.time(), message=report.message
            )
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
