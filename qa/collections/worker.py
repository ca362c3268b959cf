"""Background re-ingest for uploads, deletes and the live document folders; never on the event loop.

- ``IngestWorker``: one thread runs ``service.ingest()`` (incremental: only changed files are
  embedded) whenever something asks; requests made while an ingest runs coalesce into one more
  run after it, so a burst of uploads costs at most two ingests. Questions keep being answered
  from the previous index until the service swaps the new one in.
- ``SeedsWatcher``: with ``QA_WATCH`` on (the default), watches a collection's folders (the hand
  folder and the uploads folder; ``watchfiles``, debounced by ``QA_WATCH_DEBOUNCE_MS``) and asks
  the worker for an ingest when files are added, changed or removed. On start it also catches up
  with changes made while the server was down.

The one-shot jobs (the index loader, re-index) are in ``qa.collections.jobs``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from pathlib import Path

from qa.collections.jobs import run_logged
from qa.collections.library import UPLOADS_PREFIX, DocumentLibrary
from qa.errors import IndexNotReadyError, QAError
from qa.ingest.run import IngestReport
from qa.service import QAService

logger = logging.getLogger(__name__)

#: How long one wait inside watchfiles lasts: the watch is known to be set up after the first one.
_READY_TIMEOUT_MS = 300


class IngestWorker:
    """Re-ingests the seeds folder in one background thread, coalescing requests."""

    def __init__(self, service: QAService, *, watch: bool = False, debounce_ms: int = 500) -> None:
        self.service = service
        self.last_report: IngestReport | None = None
        self.last_error: str | None = None
        self.runs = 0
        self._cond = threading.Condition()
        self._pending: set[str] = set()  # sources waiting for the next run
        self._in_flight: set[str] = set()  # sources the running ingest was asked about
        self._requested = False
        self._running = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.watcher = (
            SeedsWatcher(service.library, self.request, debounce_ms=debounce_ms, on_start=self.catch_up)
            if watch
            else None
        )

    # Lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread and, when configured, the folder watcher."""
        with self._cond:
            self._stopping = False
            self._ensure_thread()
        if self.watcher is not None:
            self.watcher.start()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="qa-ingest-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching and wait up to ``timeout`` for a running ingest (an unfinished one commits nothing)."""
        if self.watcher is not None:
            self.watcher.stop()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    # Requests -----------------------------------------------------------------------------

    def request(self, sources: Collection[str] = ()) -> None:
        """Ask for an ingest soon; ``sources`` are the files it is for (shown as indexing meanwhile)."""
        with self._cond:
            self._pending.update(sources)
            self._requested = True
            self._cond.notify_all()
            if not self._stopping:
                self._ensure_thread()  # an app served without its lifespan still ingests

    def catch_up(self) -> None:
        """Ask for an ingest when the folder differs from the committed index (changes made while stopped)."""
        try:
            manifest = self.service.store.read_manifest()
        except IndexNotReadyError:
            return  # no index yet: the index loader builds it from the folder as it is
        except QAError as error:
            logger.warning("Cannot compare the seeds folder with the index: %s", error.message)
            return
        changes = self.service.library.changes(manifest.files)
        if changes.stale:
            logger.info("The seeds folder changed since the index was built: %s.", changes.describe())
            self.request((*changes.added, *changes.changed, *changes.removed))

    @property
    def busy(self) -> bool:
        """True while an ingest runs or is waiting to run."""
        with self._cond:
            return self._running or self._requested

    def waiting_sources(self) -> set[str]:
        """Sources an ingest has been asked for and not finished yet."""
        with self._cond:
            return self._pending | self._in_flight

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no ingest runs or waits (tests, shutdown); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._running or self._requested), timeout)

    # The thread ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._requested or self._stopping)
                if self._stopping:
                    return
                self._requested = False
                self._running = True
                self._in_flight, self._pending = self._pending, set()
            try:
                self._ingest()
            finally:
                with self._cond:
                    self._running = False
                    self._in_flight = set()
                    self._cond.notify_all()

    def _ingest(self) -> None:
        report = run_logged(
            self.service.ingest,
            what="Background ingest failed",
            unexpected="The ingest failed; the server log has the details. The previous index is still in use.",
        )
        if isinstance(report, QAError):
            self.last_error = report.message
            return
        self.runs += 1
        self.last_report, self.last_error = report, None
        if report.changed:
            logger.info(
                "Ingested the seeds folder: %d added, %d updated, %d removed, %d skipped.",
                len(report.added),
                len(report.updated),
                len(report.removed),
                len(report.skipped),
            )


class SeedsWatcher:
    """Calls ``on_change(sources)`` after files of ``library`` change (debounced), from its own thread."""

    def __init__(
        self,
        library: DocumentLibrary,
        on_change: Callable[[Collection[str]], None],
        *,
        debounce_ms: int = 500,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self.library = library
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.on_start = on_start
        self._roots: dict[Path, str] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching in a daemon thread (set up within ``_READY_TIMEOUT_MS``)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="qa-seeds-watcher", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the watch is set up (tests); False on timeout."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _visible(self, _change: object, path: str) -> bool:
        # Hidden files and folders are skipped by the loader, and uploads are written to a hidden
        # temp file first: only the final rename counts.
        relative = self._relative(path)
        return relative is None or not any(part.startswith(".") for part in Path(relative[1]).parts)

    def _run(self) -> None:
        from watchfiles import watch

        self.library.uploads_dir.mkdir(parents=True, exist_ok=True)  # so an upload's folder is watched
        folders = ((self.library.hand_dir, ""), (self.library.uploads_dir, UPLOADS_PREFIX))
        self._roots = {folder.resolve(): prefix for folder, prefix in folders if folder.is_dir()}
        if not self._roots:
            logger.warning("Not watching %s: the folder does not exist.", self.library.hand_dir)
            self._ready.set()
            return
        changes = watch(
            *self._roots,
            watch_filter=self._visible,
            debounce=self.debounce_ms,
            step=50,
            stop_event=self._stop,
            rust_timeout=_READY_TIMEOUT_MS,
            yield_on_timeout=True,  # the first (maybe empty) batch says the watch is set up
            raise_interrupt=False,
        )
        try:
            for batch in changes:
                if not self._ready.is_set():
                    self._ready.set()
                    # Changes made before the watch was set up are caught by comparing hashes.
                    if self.on_start is not None:
                        self.on_start()
                if batch:
                    sources = {self._source(path) for _change, path in batch}
                    logger.info("Documents changed: %s.", ", ".join(sorted(sources)[:5]))
                    self.on_change(sources)
        except Exception:
            logger.exception("Watching the document folders failed; restart the server to watch again")
        finally:
            self._ready.set()

    def _relative(self, path: str) -> tuple[str, str] | None:
        for root, prefix in self._roots.items():
            try:
                return prefix, Path(path).relative_to(root).as_posix()
            except ValueError:
                continue
        return None

    def _source(self, path: str) -> str:
        relative = self._relative(path)
        return path if relative is None else relative[0] + relative[1]
