"""The embedded default store: FAISS files plus BM25 in the API process (qa/index.py on disk)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from qa.embedding import Embedder
from qa.errors import IndexCorruptError
from qa.index import REBUILD_HINT, FaissStore, IndexConfig, Manifest, read_artifact, read_manifest
from qa.retrieval.hybrid import HybridRetriever, RetrievalConfig
from qa.retrieval.keyword import KeywordIndex
from qa.schema import Chunk, Document, Hit


class FaissSearchIndex:
    """A loaded FAISS generation: dense and BM25 rankings fused by HybridRetriever."""

    def __init__(
        self, store: FaissStore, manifest: Manifest, documents: Sequence[Document], retriever: HybridRetriever
    ) -> None:
        self.store = store
        self.manifest = manifest
        self._documents = {d.id: d for d in documents}
        self._retriever = retriever

    def search(self, query: str, *, top_k: int) -> list[Hit]:
        """The ``top_k`` chunks for ``query``, best first."""
        return self._retriever.search(query, top_k=top_k)

    def documents(self) -> list[Document]:
        """Every indexed document, in seeds order."""
        return list(self._documents.values())

    def document(self, doc_id: str) -> Document | None:
        """One indexed document by id, or None."""
        return self._documents.get(doc_id)


class FaissWriter:
    """Collects the next generation in memory; ``commit`` writes it and replaces the manifest."""

    def __init__(
        self, index_dir: Path, config: IndexConfig, previous: FaissStore | None, exact_max_chunks: int
    ) -> None:
        self._index_dir = index_dir
        self._config = config
        self._exact_max_chunks = exact_max_chunks
        self._chunks: list[Chunk] = list(previous.chunks()) if previous else []
        self._vectors = previous.vectors() if previous else np.zeros((0, config.dim), dtype=np.float32)

    def delete_sources(self, sources: Collection[str]) -> None:
        """Drop the chunks of these source files."""
        self._keep([i for i, c in enumerate(self._chunks) if c.source not in sources])

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add chunks; an existing chunk with the same id is replaced."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        ids = {c.id for c in chunks}
        self._keep([i for i, c in enumerate(self._chunks) if c.id not in ids])
        self._chunks.extend(chunks)
        self._vectors = np.concatenate(
            [self._vectors, np.asarray(vectors, dtype=np.float32).reshape(-1, self._config.dim)]
        )

    def commit(self, *, files: dict[str, str], documents: Sequence[Document]) -> Manifest:
        """Write the generation (chunks in seeds order) and commit it by replacing the manifest."""
        order = {d.source: i for i, d in enumerate(documents)}
        ranked = sorted(
            range(len(self._chunks)),
            key=lambda i: (order.get(self._chunks[i].source, len(order)), self._chunks[i].start),
        )
        store = FaissStore(
            [self._chunks[i] for i in ranked],
            self._vectors[ranked],
            dim=self._config.dim,
            exact_max_chunks=self._exact_max_chunks,
        )
        lines = "".join(json.dumps(asdict(d), ensure_ascii=False) + "\n" for d in documents)
        return store.save(
            self._index_dir,
            config=self._config,
            files=files,
            extra_artifacts={"documents": lines.encode("utf-8")},
        )

    def _keep(self, positions: list[int]) -> None:
        if len(positions) != len(self._chunks):
            self._chunks = [self._chunks[i] for i in positions]
            self._vectors = self._vectors[positions]


class FaissFileStore:
    """FAISS files in ``index_dir``; searches keep the vectors and a BM25 index in this process."""

    def __init__(self, index_dir: Path, *, embedder: Embedder, rrf_k: int, exact_max_chunks: int) -> None:
        self.index_dir = index_dir
        self._embedder = embedder
        self._rrf_k = rrf_k
        self._exact_max_chunks = exact_max_chunks

    def read_manifest(self) -> Manifest:
        """The committed manifest."""
        return read_manifest(self.index_dir)

    def load(self, expected: IndexConfig) -> FaissSearchIndex:
        """Load the committed generation, its documents and a BM25 index over its chunks."""
        store, manifest = FaissStore.load(self.index_dir, expected=expected)
        try:
            rows = read_artifact(self.index_dir, manifest, "documents").decode("utf-8").splitlines()
            documents = [Document(**json.loads(row)) for row in rows if row]
        except (ValueError, TypeError) as exc:
            raise IndexCorruptError(f"The stored documents are unreadable ({exc}). {REBUILD_HINT}") from None
        keyword = KeywordIndex([chunk.text for chunk in store.chunks()])
        retriever = HybridRetriever(store, keyword, self._embedder, config=RetrievalConfig(rrf_k=self._rrf_k))
        return FaissSearchIndex(store, manifest, documents, retriever)

    def writer(self, config: IndexConfig, *, rebuild: bool) -> FaissWriter:
        """A writer seeded with the committed generation's chunks and vectors (none when ``rebuild``)."""
        previous = None if rebuild else FaissStore.load(self.index_dir, expected=config)[0]
        return FaissWriter(self.index_dir, config, previous, self._exact_max_chunks)
