"""Named collections: each a knowledge base with its own documents, index, jobs; the models are shared.

``default`` is the seeds folder (QA_SEEDS_DIR) and today's index (QA_INDEX_DIR); every other
collection lives under ``<data_dir>/collections/<name>/`` (``documents/`` filled by hand,
``uploads/``, ``trash/``, ``index/``, and ``collection.json``, which marks it). Each collection's
service uses the default service's embedder and answerer, so a model is loaded once per process.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field

from qa.collections.jobs import IndexLoader, Reindexer
from qa.collections.library import (
    DEFAULT_COLLECTION,
    UPLOADS_PREFIX,
    DocumentLibrary,
    FileState,
    FileStatus,
    collection_home,
    library_for,
)
from qa.collections.worker import IngestWorker
from qa.config import Settings
from qa.errors import (
    CollectionExistsError,
    CollectionNotFoundError,
    ConflictError,
    DocumentNotFoundError,
    InvalidCollectionNameError,
)
from qa.ingest.loading import document_id
from qa.service import QAService

logger = logging.getLogger(__name__)

_MARKER = "collection.json"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
MAX_NAME_CHARS = 40


def check_collection_name(name: str) -> str:
    """``name`` when it is 1-40 lowercase letters, digits and dashes, not starting with a dash."""
    if not name or len(name) > MAX_NAME_CHARS or not set(name) <= _NAME_CHARS or name.startswith("-"):
        raise InvalidCollectionNameError(
            f"Collection name {name[:60]!r} is not valid: use 1-{MAX_NAME_CHARS} lowercase letters, digits and "
            "dashes, starting with a letter or digit (e.g. 'hr' or 'eng-docs')."
        )
    return name


def _is_valid_name(name: str) -> bool:
    try:
        check_collection_name(name)
    except InvalidCollectionNameError:
        return False
    return True


@dataclass(eq=False)
class Collection:
    """One knowledge base: its files, its service (index), and the jobs that keep the index current."""

    name: str
    library: DocumentLibrary
    service: QAService
    worker: IngestWorker
    loader: IndexLoader = field(init=False)
    reindexer: Reindexer = field(init=False)

    def __post_init__(self) -> None:
        self.loader = IndexLoader(self.service)
        self.reindexer = Reindexer(self.service)

    def start(self) -> None:
        """Load (or build) the index in the background and start re-ingesting on changes."""
        self.loader.start()
        self.worker.start()

    def stop(self) -> None:
        """Stop watching; a running ingest commits nothing unfinished."""
        self.worker.stop()

    def file_statuses(self) -> list[FileStatus]:
        """Every file of the collection or its index, with where it stands."""
        folder = set(self.library.files())
        indexed = set(self.service.manifest.files) if self.service.is_ready else set()
        waiting = self.worker.waiting_sources()
        report = self.worker.last_report
        skipped = {s.source: s.reason for s in report.skipped} if report else {}
        files = []
        for source in sorted(folder | indexed):
            reason = None
            status: FileState
            if source not in folder:
                status = "removing"
            elif source in waiting:
                status = "indexing"
            elif source in skipped and source not in indexed:
                status, reason = "skipped", skipped[source]
            elif source in indexed:
                status = "indexed"
            else:
                status = "indexing" if self.worker.busy else "not_indexed"
            uploaded = source.startswith(UPLOADS_PREFIX)
            files.append(FileStatus(document_id(source), source, status, reason, uploaded))
        return files

    def delete_document(self, doc_id: str) -> FileStatus:
        """Take a document out of the index (its file to the trash, or hidden when placed by hand)."""
        known = self.service.manifest.files if self.service.is_ready else {}
        source = self.library.find(doc_id, known)
        if source is None:
            raise DocumentNotFoundError(f"No file has id {doc_id!r}. List ids with GET /api/documents.")
        if source in self.library.files():
            self.library.delete(source)
        self.worker.request([source])
        return FileStatus(doc_id, source, "removing", uploaded=source.startswith(UPLOADS_PREFIX))

    def restore_document(self, entry_id: str) -> FileStatus:
        """Bring a deleted document back from the trash and index it again."""
        entry = self.library.restore(entry_id)
        self.worker.request([entry.source])
        return FileStatus(document_id(entry.source), entry.source, "indexing", uploaded=entry.kind == "moved")


class CollectionRegistry:
    """The collections of one data directory; safe to share between threads."""

    def __init__(self, settings: Settings, *, service: QAService | None = None, watch: bool | None = None) -> None:
        self.settings = settings
        self.watch = settings.watch if watch is None else watch
        self.root = settings.data_dir / "collections"
        self._default = service or QAService(settings)
        self._open: dict[str, Collection] = {}
        self._lock = threading.RLock()
        self._started = False

    @property
    def default(self) -> Collection:
        """The ``default`` collection (the seeds folder)."""
        return self.get(DEFAULT_COLLECTION)

    def names(self) -> list[str]:
        """``default`` first, then the others by name."""
        markers = self.root.glob(f"*/{_MARKER}") if self.root.is_dir() else ()
        found = sorted(p.parent.name for p in markers if p.parent.name != DEFAULT_COLLECTION)
        return [DEFAULT_COLLECTION, *found]

    def get(self, name: str) -> Collection:
        """The collection ``name`` (opened on first use); CollectionNotFoundError otherwise."""
        with self._lock:
            opened = self._open.get(name)
            if opened is not None:
                return opened
            # A name no collection can have ("../x", 5,000 characters) names none: no path is built from it.
            valid = name == DEFAULT_COLLECTION or _is_valid_name(name)
            if name != DEFAULT_COLLECTION and not (valid and (self.root / name / _MARKER).is_file()):
                raise CollectionNotFoundError(
                    f"No collection is named {name[:60]!r}. "
                    "List them with GET /api/collections or `qa collections list`."
                )
            opened = self._build(name)
            self._open[name] = opened
            if self._started:
                opened.start()
            return opened

    def create(self, name: str) -> Collection:
        """A new, empty collection; put files in its ``documents/`` folder or upload them."""
        check_collection_name(name)
        with self._lock:
            if name in self.names():
                raise CollectionExistsError(f"A collection named {name!r} exists already; pick another name.")
            if len(self.names()) >= self.settings.max_collections:
                raise ConflictError(
                    f"There are {self.settings.max_collections} collections already (QA_MAX_COLLECTIONS); "
                    "delete one or raise the limit."
                )
            home = collection_home(self.settings, name)
            for folder in ("documents", "uploads"):
                (home / folder).mkdir(parents=True, exist_ok=True)
            (home / _MARKER).write_text(json.dumps({"name": name, "created_at": time.time()}), "utf-8")
            return self.get(name)

    def delete(self, name: str) -> str:
        """Retire a collection: its folder moves to ``collections/.deleted/`` (nothing is erased); where it went."""
        if name == DEFAULT_COLLECTION:
            raise ConflictError("The default collection cannot be deleted; delete its documents instead.")
        with self._lock:
            collection = self.get(name)
            collection.stop()
            self._open.pop(name, None)
            # A fresh name every time: the same collection may be created and deleted twice a second.
            kept = self.root / ".deleted" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(self.root / name, kept)
            logger.info("Collection %s deleted; its files are kept in %s.", name, kept)
            return str(kept)

    def start(self) -> None:
        """Start every collection's jobs (the server's lifespan)."""
        with self._lock:
            self._started = True
            for name in self.names():
                self.get(name).start()

    def stop(self) -> None:
        """Stop every open collection's jobs."""
        with self._lock:
            self._started = False
            for collection in self._open.values():
                collection.stop()

    def _build(self, name: str) -> Collection:
        if name == DEFAULT_COLLECTION:
            service = self._default
        else:
            home = collection_home(self.settings, name)
            settings = self.settings.model_copy(
                update={
                    "seeds_dir": home / "documents",
                    "index_dir": home / "index",
                    "qdrant_collection": f"{self.settings.qdrant_collection}-{name}",
                }
            )
            service = QAService(settings, library=library_for(self.settings, name), models_from=self._default)
        worker = IngestWorker(service, watch=self.watch, debounce_ms=self.settings.watch_debounce_ms)
        return Collection(name, service.library, service, worker)
