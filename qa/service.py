"""QAService: the one object every front end holds. ``ingest()``, ``ask()``/``ask_stream()``, ``search()``.

An ingest run's lock, embedding batches and report live in qa/ingest/run.py; ``ask_stream`` is the
one answering pipeline.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator, Sequence

from qa.answering.base import Answerer, missing_draft
from qa.answering.factory import build_answerer
from qa.answering.related import related_passages
from qa.collections.library import DocumentLibrary, default_library
from qa.config import Settings
from qa.embedding import Embedder, build_embedder
from qa.errors import (
    DocumentNotFoundError,
    IndexCorruptError,
    IndexFormatError,
    IndexMismatchError,
    IndexNotReadyError,
)
from qa.ingest.chunking import chunk_documents
from qa.ingest.loading import LoadResult
from qa.ingest.run import EmbedFunction, IngestReport, embed_in_batches, ingest_lock
from qa.onnx_export import export_recipe
from qa.retrieval.sentences import embed_chunks
from qa.schema import (
    Answer,
    Document,
    Draft,
    Hit,
    StreamEvent,
    Turn,
    answer_text,
    final_answer,
    stage_timings,
)
from qa.stores import IndexWriter, SearchIndex, Store, build_store
from qa.stores.manifest import IndexConfig, Manifest, check_compatible
from qa.text import word_pieces
from qa.validation import validate_question

logger = logging.getLogger(__name__)


class QAService:
    """Ingests a folder of documents and answers questions over it with citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        answerer: Answerer | None = None,
        library: DocumentLibrary | None = None,
        models_from: QAService | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self._answerer = answerer
        # Another collection's service whose models this one uses (loaded once, shared).
        self._models_from = models_from
        #: The files this service indexes: by default the seeds folder and the default collection's uploads.
        self.library = library or default_library(self.settings)
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
                shared = self._models_from
                self._embedder = shared.embedder if shared else build_embedder(self.settings)
            return self._embedder

    @property
    def answerer(self) -> Answerer:
        """The configured answerer."""
        with self._lock:
            if self._answerer is None:
                shared = self._models_from
                self._answerer = shared.answerer if shared else build_answerer(self.settings, self.embedder)
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
            embedding_export=export_recipe(self.embedder.backend),
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
        """Load the index, building it first when there is none on disk or an older seed-qa wrote
        it in a format this one does not read (an upgrade needs no `qa ingest --rebuild`)."""
        try:
            self.load()
        except IndexNotReadyError:
            self.ingest(show_progress=show_progress)
        except IndexFormatError as exc:
            logger.warning("Rebuilding the index: %s", exc.message)
            self.ingest(show_progress=show_progress)

    def ingest(
        self, *, rebuild: bool = False, show_progress: bool = False, embed: EmbedFunction | None = None
    ) -> IngestReport:
        """(Re)build the index from the library's folders, re-embedding only changed files.

        The new index is committed atomically; an interrupted ingest leaves the previous one.
        ``embed`` replaces the in-process embedding (qa.ingest.distributed embeds on a Ray cluster).
        """
        started = time.perf_counter()
        with ingest_lock(self.settings.index_dir):
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
        loaded: LoadResult = self.library.load(
            max_bytes=self.settings.max_document_bytes, zip_limits=self.settings.zip_limits
        )
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
        embed_texts = embed or functools.partial(
            embed_in_batches,
            self.embedder,
            batch_size=self.settings.embedding_batch_size,
            show_progress=show_progress,
        )
        new_vectors = embed_chunks(new_chunks, embed_texts, dim=self.embedder.dim)
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
        """A standalone query for retrieval: the answerer condenses a follow-up (the LLM rewrites it)."""
        return self.answerer.condense(question, history) if history else question

    def search(self, query: str, *, top_k: int | None = None) -> list[Hit]:
        """Hybrid retrieval only: the best chunks for ``query``."""
        text = validate_question(query, max_chars=self.settings.max_question_chars)
        return self._require_index().search(text, top_k=top_k or self.settings.top_k)

    def ask(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question`` from the indexed documents, with citations, or abstain.

        The final event of ``ask_stream``: one pipeline for whole and streamed answers.
        """
        return final_answer(self.ask_stream(question, top_k=top_k, history=history))

    def ask_stream(
        self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = ()
    ) -> Iterator[StreamEvent]:
        """Answer ``question`` as events: text ``delta``s, its ``citations``, then ``done`` with the Answer.

        An answerer that writes as it goes (the LLM) streams its own deltas and the citations
        follow, since they are known only at the end. One that answers at once sends its citations
        first, then its text (or the abstention message) in pieces of a few words.
        """
        max_chars = self.settings.max_question_chars
        text = validate_question(question, max_chars=max_chars)
        loaded = self._require_index()
        started = time.perf_counter()
        query = self.retrieval_query(text, history)
        shown = top_k or self.settings.top_k
        # The offline condensed query appends the last turn after the question, so cutting its
        # tail keeps the question itself. The reader reads reader_passages chunks however many
        # the answer lists.
        hits = loaded.search(query[:max_chars], top_k=max(shown, self.settings.reader_passages))
        retrieved = time.perf_counter()
        draft: Draft | None = None
        streamed = False
        # A follow-up is answered as its standalone form, so "they" resolves to the earlier subject.
        for item in self.answerer.answer_stream(query, hits):
            if isinstance(item, Draft):
                draft = item
            elif item:
                streamed = True
                yield StreamEvent("delta", item)
        if draft is None:
            raise missing_draft()
        timings = stage_timings(started, retrieved, time.perf_counter())
        related = related_passages(query, hits) if draft.abstained or not draft.evidence else ()
        answer = Answer.from_draft(text, draft, hits[:shown], timings=timings, query=query, related=related)
        yield StreamEvent("citations", answer.citations)
        if not streamed:  # answered at once, or abstained before any text: readers still get the text
            for piece in word_pieces(answer_text(answer)):
                yield StreamEvent("delta", piece)
        yield StreamEvent("done", answer)

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
