"""Approximate FAISS past faiss_exact_max_chunks: HNSW with recall@10 >= 0.95 against exact search."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa import HashingEmbedder, QAService, Settings
from qa.retrieval.sentences import ChunkVectors
from qa.schema import Chunk
from qa.stores.faiss_store import FaissSearchIndex, FaissVectors
from qa.stores.manifest import IndexConfig

DIM = 384


def clustered_vectors(n: int, *, seed: int, clusters: int = 50) -> np.ndarray:
    """Unit vectors around random topic centres, as sentence embeddings are (not uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _chunks(n: int) -> list[Chunk]:
    return [
        Chunk(id=f"c{i}", doc_id="d", source="s.txt", title="S", text=f"t{i}", start=i, end=i + 1) for i in range(n)
    ]


def test_hnsw_recall_at_10_against_exact_search(tmp_path: Path) -> None:
    vectors = clustered_vectors(4000, seed=0)
    queries = clustered_vectors(200, seed=1)
    exact = FaissVectors(_chunks(4000), ChunkVectors.single_sentences(vectors), dim=DIM, exact_max_chunks=None)
    approximate = FaissVectors(_chunks(4000), ChunkVectors.single_sentences(vectors), dim=DIM, exact_max_chunks=1000)
    assert approximate.approximate and not exact.approximate
    config = IndexConfig("m", DIM, 160, 1)
    approximate.save(tmp_path, config=config, files={})
    loaded, _ = FaissVectors.load(tmp_path, expected=config)
    assert loaded.approximate  # the graph is loaded as saved, not rebuilt
    recall = []
    for query in queries:
        truth = {i for i, _ in exact.search(query, 10)}
        found = [i for i, _ in loaded.search(query, 10)]
        recall.append(len(truth & set(found)) / 10)
    assert np.mean(recall) >= 0.95
    positions = [p for p, _ in loaded.search(queries[0], 3)]
    assert np.allclose(loaded.similarity(queries[0], positions), vectors[positions] @ queries[0], atol=1e-5)
    assert np.allclose(loaded.vectors().chunks, vectors, atol=1e-6)


def test_the_service_switches_to_hnsw_past_the_threshold(fake_settings: Settings) -> None:
    settings = fake_settings.model_copy(update={"faiss_exact_max_chunks": 2})
    service = QAService(settings, embedder=HashingEmbedder())
    service.ingest()
    exact = QAService(
        fake_settings.model_copy(update={"index_dir": fake_settings.index_dir.parent / "exact"}),
        embedder=HashingEmbedder(),
    )
    exact.ingest()
    assert service.manifest.chunk_count > 2
    loaded = service.store.load(service.index_config())
    assert isinstance(loaded, FaissSearchIndex) and loaded.vectors.approximate
    answer = service.ask("Which company manufactures the Bayraktar TB2 drone?")
    assert answer.status == "answered" and answer.answer == "Baykar"
    question = "Where did Baykar open a factory?"
    assert [h.chunk.id for h in service.search(question)] == [h.chunk.id for h in exact.search(question)]
