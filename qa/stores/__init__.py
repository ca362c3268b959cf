"""Where the index lives: FAISS files (the embedded default) or a Qdrant collection.

QAService talks to one ``Store``, chosen by ``settings.vector_store`` in ``build_store``:

    Store.read_manifest()          the committed manifest (IndexNotReadyError if none)
    Store.load(expected)           -> SearchIndex: search(query, top_k), documents(), document(id)
    Store.writer(config, rebuild)  -> IndexWriter: delete_sources(), upsert(chunks, vectors), commit()

A writer starts from the committed index (or an empty one when ``rebuild``) and nothing it does
is visible through the manifest until ``commit``; the FAISS store builds a whole new generation,
the Qdrant store updates the collection in place (or fills a new one and moves the alias).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.index import IndexConfig, Manifest
from qa.schema import Chunk, Document, Hit

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.embedding import Embedder


class SearchIndex(Protocol):
    """A committed index, ready for questions."""

    manifest: Manifest

    def search(self, query: str, *, top_k: int) -> list[Hit]:
        """The ``top_k`` chunks for ``query`` (dense and keyword rankings fused), best first."""
        ...

    def documents(self) -> list[Document]:
        """Every indexed document, in seeds (source path) order."""
        ...

    def document(self, doc_id: str) -> Document | None:
        """One indexed document by id, or None."""
        ...


class IndexWriter(Protocol):
    """Changes to an index, made visible together by ``commit``."""

    def delete_sources(self, sources: Collection[str]) -> None:
        """Drop every chunk (and document) of these source files."""
        ...

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add chunks with their vectors (row i belongs to ``chunks[i]``); same id replaces."""
        ...

    def commit(self, *, files: dict[str, str], documents: Sequence[Document]) -> Manifest:
        """Write the manifest (``files``: source -> content hash) and the current ``documents``."""
        ...


class Store(Protocol):
    """One backend: reads the committed index and writes new versions of it."""

    def read_manifest(self) -> Manifest:
        """The committed manifest; IndexNotReadyError when there is none, IndexCorruptError if unreadable."""
        ...

    def load(self, expected: IndexConfig) -> SearchIndex:
        """The committed index; IndexMismatchError when it was built with another configuration."""
        ...

    def writer(self, config: IndexConfig, *, rebuild: bool) -> IndexWriter:
        """A writer starting from the committed index, or from an empty one when ``rebuild``."""
        ...


def build_store(settings: Settings, embedder: Embedder) -> Store:
    """The store ``settings.vector_store`` names: "faiss" (files in QA_INDEX_DIR) or "qdrant"."""
    if settings.vector_store == "qdrant":
        from qa.stores.qdrant_store import QdrantStore

        return QdrantStore.from_settings(settings, embedder)
    from qa.stores.faiss_store import FaissFileStore

    return FaissFileStore(
        settings.index_dir,
        embedder=embedder,
        rrf_k=settings.rrf_k,
        exact_max_chunks=settings.faiss_exact_max_chunks,
    )


__all__ = ["IndexWriter", "SearchIndex", "Store", "build_store"]
