"""QAService: the one object every front end holds. ``ingest()``, ``ask()``, ``search()``."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.answering import Answerer, SentenceAnswerer
from qa.answering.conversation import condense
from qa.config import Settings
from qa.embedding import Embedder, build_embedder
from qa.errors import (
    ConfigurationError,
    DocumentNotFoundError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotReadyError,
)
from qa.ingest.chunking import chunk_documents, embedding_text
from qa.ingest.loading import LoadResult, SkippedFile, load_documents
from qa.schema import ABSTAIN_MESSAGE, Answer, Citation, Document, Draft, Hit, Turn
from qa.stores import IndexWriter, SearchIndex, Store, build_store
from qa.stores.manifest import IndexConfig, Manifest, check_compatible
from qa.validation import validate_question

logger = logging.getLogger(__name__)

#: Embeds chunk texts in order: the service's embedder by default, a Ray pool with `qa ingest --ray`.
EmbedFunction = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest changed."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]
    chunks: int
    embedded_chunks: int
    seconds: float
    rebuilt: bool

    @property
    def changed(self) -> bool:
        """Whether the index on disk was rewritten."""
        return bool(self.added or self.updated or self.removed or self.rebuilt)


class QAService:
    """Ingests a folder of documents and answers questions over it with citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        answerer: Answerer | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._answerer = answerer
        self._store: Store | None = None
        self._loaded: SearchIndex | None = None
        self._lock = threading.RLock()
        self.building = False

    # Parts, created on first use so `import qa` and `qa --help` stay fast -------------------

    @property
    def embedder(self) -> Embedder:
        """The configured embedder (loads the model on first use)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = build_embedder(self.settings)
            return self._embedder

    @property
    def answerer(self) -> Answerer:
        """The configured answerer."""
        with self._lock:
            if self._answerer is None:
                self._answerer = build_answerer(self.settings, self.embedder)
            return self._answerer

    @property
    def store(self) -> Store:
        """Where the index lives (``settings.vector_store``): FAISS files or a Qdrant collection."""
        with self._lock:
            if self._store is None:
                self._store = build_store(self.settings, self.embedder)
            return self._store

    def index_config(self) -> IndexConfig:
        """The index configuration the current settings call for."""
        return IndexConfig(
            model_id=self.embedder.model_id,
            embedding_backend=self.embedder.backend,
            dim=self.embedder.dim,
            chunk_max_tokens=self.settings.chunk_max_tokens,
            chunk_overlap_sentences=self.settings.chunk_overlap_sentences,
        )

    # Index lifecycle ----------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        """True once an index is loaded in memory."""
        return self._loaded is not None

    def load(self) -> Manifest:
        """Load the committed index and swap it in atomically."""
        loaded = self.store.load(self.index_config())
        self._loaded = loaded
        return loaded.manifest

    def ensure_index(self, *, show_progress: bool = False) -> None:
        """Load the index, building it first when there is none on disk."""
        try:
            self.load()
        except IndexNotReadyError:
            self.ingest(show_progress=show_progress)

    def ingest(
        self, *, rebuild: bool = False, show_progress: bool = False, embed: EmbedFunction | None = None
    ) -> IngestReport:
        """(Re)build the index from the seeds folder, re-embedding only changed files.

        The new index is committed atomically; an interrupted ingest leaves the previous one.
        ``embed`` replaces the in-process embedding (qa.ingest.distributed embeds on a Ray cluster).
        """
        started = time.perf_counter()
        with _ingest_lock(self.settings.index_dir):
            self.building = True
            try:
                report = self._ingest(rebuild=rebuild, show_progress=show_progress, embed=embed, started=started)
            finally:
                self.building = False
        self.load()
        return report

    def _ingest(
        self, *, rebuild: bool, show_progress: bool, embed: EmbedFunction | None, started: float
    ) -> IngestReport:
        loaded: LoadResult = load_documents(self.settings.seeds_dir, max_bytes=self.settings.max_document_bytes)
        config = self.index_config()
        writer, previous = self._open_writer(config, rebuild=rebuild)
        old_files = previous.files if previous else {}
        current = {doc.source: doc for doc in loaded.documents}
        unchanged = [s for s, d in current.items() if old_files.get(s) == d.content_hash]
        added = [s for s in current if s not in old_files]
        updated = [s for s in current if s in old_files and s not in unchanged]
        removed = [s for s in old_files if s not in current]
        new_chunks = chunk_documents(
            [current[s] for s in added + updated],
            count_tokens=self.embedder.count_tokens,
            max_tokens=self.settings.chunk_max_tokens,
            overlap_sentences=self.settings.chunk_overlap_sentences,
        )
        texts = [embedding_text(c) for c in new_chunks]
        new_vectors = embed(texts) if embed else self._embed_with_progress(texts, show_progress=show_progress)
        if previous and not (added or updated or removed):
            logger.info("Index is up to date (%d files).", len(unchanged))
            chunk_count = previous.chunk_count
        else:
            writer.delete_sources(updated + removed)
            writer.upsert(new_chunks, new_vectors)
            files = {s: d.content_hash for s, d in current.items()}
            chunk_count = writer.commit(files=files, documents=loaded.documents).chunk_count
        return IngestReport(
            added=tuple(added),
            updated=tuple(updated),
            removed=tuple(removed),
            unchanged=tuple(unchanged) if previous else (),
            skipped=loaded.skipped,
            chunks=chunk_count,
            embedded_chunks=len(new_chunks),
            seconds=time.perf_counter() - started,
            rebuilt=previous is None,
        )

    def _open_writer(self, config: IndexConfig, *, rebuild: bool) -> tuple[IndexWriter, Manifest | None]:
        """A writer over the committed index when it matches ``config``, else one that rebuilds."""
        if not rebuild:
            try:
                previous = self.store.read_manifest()
                check_compatible(previous.config, config)
                return self.store.writer(config, rebuild=False), previous
            except IndexNotReadyError:
                pass
            except (IndexMismatchError, IndexCorruptError) as exc:
                logger.warning("Rebuilding the whole index: %s", exc.message)
        return self.store.writer(config, rebuild=True), None

    def _embed_with_progress(self, texts: Sequence[str], *, show_progress: bool) -> np.ndarray:
        from tqdm import tqdm

        batch = self.settings.embedding_batch_size
        parts = [np.zeros((0, self.embedder.dim), dtype=np.float32)]
        with tqdm(total=len(texts), desc="Embedding chunks", unit="chunk", disable=not show_progress) as bar:
            for offset in range(0, len(texts), batch):
                parts.append(self.embedder.embed_documents(texts[offset : offset + batch]))
                bar.update(len(texts[offset : offset + batch]))
        return np.concatenate(parts)

    # Questions ----------------------------------------------------------------------------

    def _require_index(self) -> SearchIndex:
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self.load()
                loaded = self._loaded
        assert loaded is not None
        return loaded

    def retrieval_query(self, question: str, history: Sequence[Turn] = ()) -> str:
        """A standalone query for retrieval; an answerer with ``condense`` (the LLM) rewrites it."""
        if not history:
            return question
        condenser = getattr(self.answerer, "condense", None)
        return str(condenser(question, history)) if condenser else condense(question, history)

    def search(self, query: str, *, top_k: int | None = None) -> list[Hit]:
        """Hybrid retrieval only: the best chunks for ``query``."""
        text = validate_question(query, max_chars=self.settings.max_question_chars)
        return self._require_index().search(text, top_k=top_k or self.settings.top_k)

    def ask(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question`` from the indexed documents, with citations, or abstain."""
        text = validate_question(question, max_chars=self.settings.max_question_chars)
        loaded = self._require_index()
        started = time.perf_counter()
        query = self.retrieval_query(text, history)
        shown = top_k or self.settings.top_k
        # The reader reads reader_passages chunks however many the answer lists.
        hits = loaded.search(query, top_k=max(shown, self.settings.reader_passages))
        retrieved = time.perf_counter()
        # A follow-up is answered as its standalone form, so "they" resolves to the earlier subject.
        draft = self.answerer.answer(query, hits)
        finished = time.perf_counter()
        timings = {
            "retrieve": (retrieved - started) * 1000,
            "answer": (finished - retrieved) * 1000,
            "total": (finished - started) * 1000,
        }
        return self.to_answer(text, draft, hits[:shown], timings=timings, query=query)

    def to_answer(
        self, question: str, draft: Draft, hits: Sequence[Hit], *, timings: dict[str, float], query: str | None = None
    ) -> Answer:
        """Turn an answerer's Draft into the final Answer, numbering citations."""
        if draft.abstained or not draft.evidence:
            return Answer(
                question=question,
                answer=None,
                status="abstained",
                sentence=None,
                citations=(),
                hits=tuple(hits),
                timings_ms=timings,
                confidence=draft.confidence,
                mode=draft.mode,
                message=draft.note or ABSTAIN_MESSAGE,
                retrieval_query=query,
            )
        citations = tuple(
            Citation(
                n=n,
                source=ev.chunk.source,
                title=ev.chunk.title,
                doc_id=ev.chunk.doc_id,
                chunk_id=ev.chunk.id,
                start=ev.start,
                end=ev.end,
                quote=ev.quote,
                score=ev.score,
                supported=draft.supported[n - 1] if draft.supported else None,
                page=ev.chunk.page,
            )
            for n, ev in enumerate(draft.evidence, start=1)
        )
        return Answer(
            question=question,
            answer=draft.answer,
            status="answered",
            sentence=draft.sentence,
            citations=citations,
            hits=tuple(hits),
            timings_ms=timings,
            confidence=draft.confidence,
            mode=draft.mode,
            message=draft.note,
            retrieval_query=query,
        )

    # Documents ----------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """Every indexed document, in seeds order."""
        return self._require_index().documents()

    def document(self, doc_id: str) -> Document:
        """One indexed document by id; DocumentNotFoundError otherwise (never reads the disk)."""
        found = self._require_index().document(doc_id)
        if found is None:
            raise DocumentNotFoundError(f"No indexed document has id {doc_id!r}. List ids with GET /api/documents.")
        return found

    @property
    def manifest(self) -> Manifest:
        """The manifest of the loaded index."""
        return self._require_index().manifest


def build_answerer(settings: Settings, embedder: Embedder) -> Answerer:
    """The answerer the settings ask for.

    Offline: with the trained reader's weights shipped ("auto") or required ("reader"), the
    reader answers from the top ``reader_passages`` chunks (its calibrated answer model and threshold);
    otherwise, or with "sentence", the sentence answerer. QA_ABSTAIN_THRESHOLD overrides the
    chosen answerer's threshold. With QA_LLM_BASE_URL and QA_LLM_MODEL set, a generative answerer
    wraps the offline one, which stays its fallback.
    """
    offline: Answerer = SentenceAnswerer(embedder, threshold=settings.abstain_threshold)
    if settings.answerer in ("auto", "reader"):
        from qa.answering import READ_FEATURES, AnswerModel, ReaderAnswerer
        from qa.onnx_export import configure_threads
        from qa.reader import answerer_calibration, load_default_reader

        configure_threads(settings.threads)
        reader = load_default_reader(num_threads=None, backend=settings.reader_backend, cache_dir=settings.models_path)
        calibration = answerer_calibration()
        if reader is not None and calibration is not None:
            if calibration.features != READ_FEATURES:
                raise ConfigurationError(
                    f"reader_config.json's answer model weighs {calibration.features}, this version reads "
                    f"{READ_FEATURES}; refit it: scripts/calibrate_answerer.py --write."
                )
            model = AnswerModel(calibration.coef, calibration.intercept, calibration.threshold)
            offline = ReaderAnswerer(
                reader, model=model, threshold=settings.abstain_threshold, max_passages=settings.reader_passages
            )
        elif settings.answerer == "reader":
            raise ConfigurationError("The trained reader's weights are not installed; set QA_ANSWERER=sentence.")
    if settings.llm_base_url and settings.llm_model:
        from qa.answering.generative import build_generative_answerer

        return build_generative_answerer(settings, embedder=embedder, fallback=offline)
    return offline


@contextlib.contextmanager
def _ingest_lock(index_dir: Path) -> Iterator[None]:
    """One ingest at a time per index folder (an advisory lock file)."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".ingest.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
