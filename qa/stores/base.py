"""The storage protocols: a ``Store`` backend hands out a ``SearchIndex`` and an ``IndexWriter``;
a ``VectorIndex`` is the dense half that ``HybridRetriever`` fuses with BM25. See ``qa.stores``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import numpy as np

from qa.retrieval.sentences import ChunkVectors
from qa.schema import Chunk, Document, Hit
from qa.stores.manifest import IndexConfig, Manifest


class VectorIndex(Protocol):
    """Chunks with their vectors, searched by cosine: what HybridRetriever fuses with BM25."""

    def chunks(self) -> Sequence[Chunk]:
        """Every stored chunk, in a stable order."""
        ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(position in ``chunks()``, cosine) of the ``k`` nearest chunks."""
        ...

    def similarity(self, query: np.ndarray, positions: Sequence[int]) -> np.ndarray:
        """Cosine between ``query`` and the chunks at ``positions``."""
        ...

    def sentence_similarity(self, query: np.ndarray, positions: Sequence[int]) -> np.ndarray:
        """For each chunk at ``positions``, the cosine between ``query`` and its closest sentence."""
        ...


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

    def upsert(self, chunks: Sequence[Chunk], vectors: ChunkVectors) -> None:
        """Add chunks with their vectors (chunk i's are ``vectors``' i-th); same id replaces."""
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
