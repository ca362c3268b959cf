"""Where the index lives: FAISS files (the embedded default) or a Qdrant collection.

QAService talks to one ``Store``, chosen by ``settings.vector_store`` in ``build_store``:

    Store.read_manifest()          the committed manifest (IndexNotReadyError if none)
    Store.load(expected)           -> SearchIndex: search(query, top_k), documents(), document(id)
    Store.writer(config, rebuild)  -> IndexWriter: delete_sources(), upsert(chunks, vectors), commit()

A writer starts from the committed index (or an empty one when ``rebuild``) and nothing it does
is visible through the manifest until ``commit``; the FAISS store builds a whole new generation,
the Qdrant store updates the collection in place (or fills a new one and moves the alias).

The names, one meaning each:

    Store            protocol: one backend (read the manifest, load, write)       base.py
    SearchIndex      protocol: a loaded index answering text queries with Hits    base.py
    IndexWriter      protocol: changes made visible together by commit()          base.py
    VectorIndex      protocol: dense vectors searched by cosine (HybridRetriever)  base.py
    FaissVectors     a VectorIndex in memory: a FAISS flat or HNSW index          faiss_store.py
    FaissFileStore   the Store on disk: FaissVectors generations + manifest.json  faiss_store.py
    QdrantStore      the Store in a Qdrant collection behind an alias             qdrant_store.py

The modules: ``manifest.py`` (IndexConfig, Manifest, read_manifest, check_compatible,
new_generation, package_versions), ``files.py`` (atomic writes, checksums, artifact paths, the
stale-generation clean-up), ``faiss_store.py``, ``qdrant_store.py`` (needs the ``scale`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.stores.base import IndexWriter, SearchIndex, Store, VectorIndex

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.embedding import Embedder


def build_store(settings: Settings, embedder: Embedder) -> Store:
    """The store ``settings.vector_store`` names: "faiss" (files in QA_INDEX_DIR) or "qdrant"."""
    if settings.vector_store == "qdrant":
        from qa.stores.qdrant_store import QdrantStore

        return QdrantStore.from_settings(settings, embedder)
    from qa.retrieval.hybrid import RetrievalConfig
    from qa.stores.faiss_store import FaissFileStore

    return FaissFileStore(
        settings.index_dir,
        embedder=embedder,
        retrieval=RetrievalConfig.from_settings(settings),
        exact_max_chunks=settings.faiss_exact_max_chunks,
    )


__all__ = ["IndexWriter", "SearchIndex", "Store", "VectorIndex", "build_store"]
