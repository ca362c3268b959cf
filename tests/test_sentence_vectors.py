"""A vector per sentence (qa/retrieval/sentences.py): one embedding pass, chunk vectors from it,
stored by the FAISS store, and a chunk scored by its best sentence in the fusion."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from qa import HashingEmbedder, QAService, Settings
from qa.retrieval.fusion import FusionConfig, blend_dense
from qa.retrieval.sentences import ChunkVectors, best_sentence_cosines, chunk_sentences, embed_chunks
from qa.schema import Chunk
from qa.stores.faiss_store import FaissVectors
from qa.stores.manifest import IndexConfig


def _chunk(text: str, i: int = 0, headings: tuple[str, ...] = ("Warranty",)) -> Chunk:
    return Chunk(
        id=f"c{i}", doc_id="d", source="m.txt", title="Manual", text=text, start=0, end=len(text), headings=headings
    )


class CountingEmbedder(HashingEmbedder):
    """Records every text it is asked to embed."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.seen: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed_documents(texts)


def test_each_distinct_sentence_and_context_is_embedded_once() -> None:
    chunks = [
        _chunk("The warranty lasts two years. Register online for a third year.", 0),
        _chunk("Register online for a third year. Keep the receipt.", 1),  # overlaps chunk 0 by a sentence
    ]
    embedder = CountingEmbedder()
    vectors = embed_chunks(chunks, embedder.embed_documents, dim=64)
    assert sorted(embedder.seen) == sorted(
        [
            "The warranty lasts two years.",
            "Register online for a third year.",
            "Keep the receipt.",
            "Manual > Warranty",
        ]
    )
    assert list(vectors.counts) == [2, 2] and vectors.sentences.shape == (4, 64)
    sentences = embedder.embed_documents([*chunk_sentences(chunks[0]), chunks[0].context])
    mean = sentences.mean(axis=0)
    np.testing.assert_allclose(vectors.chunks[0], mean / np.linalg.norm(mean), atol=1e-6)
    np.testing.assert_allclose(vectors.split()[1][0], vectors.split()[0][1])  # the shared sentence


def test_a_chunk_without_sentence_boundaries_is_one_sentence() -> None:
    assert chunk_sentences(_chunk("Storage: 5 TB")) == ["Storage: 5 TB"]


def test_the_best_sentence_of_each_chunk_is_its_score() -> None:
    sentences = np.array([[1, 0], [0, 1], [0.6, 0.8], [1, 0]], dtype=np.float32)
    offsets = np.array([0, 2, 3, 4])  # chunk 0: rows 0-1, chunk 1: row 2, chunk 2: row 3
    query = np.array([0, 1], dtype=np.float32)
    np.testing.assert_allclose(best_sentence_cosines(query, sentences, offsets, [2, 0, 1]), [0.0, 1.0, 0.8])
    assert best_sentence_cosines(query, sentences, offsets, []).shape == (0,)


def test_blend_dense_weighs_the_best_sentence_against_the_whole_chunk() -> None:
    ranking = blend_dense([3, 7], [0.9, 0.5], [0.4, 1.0], FusionConfig(sentence_weight=0.5))
    assert ranking == [(7, pytest.approx(0.75)), (3, pytest.approx(0.65))]
    assert blend_dense([3, 7], [0.9, 0.5], [0.4, 1.0], FusionConfig(sentence_weight=0.0))[0][0] == 3
    with pytest.raises(ValueError, match="sentence_weight"):
        FusionConfig(sentence_weight=1.5)


def test_mismatched_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="do not match"):
        ChunkVectors(np.zeros((2, 4)), np.zeros((3, 4)), np.array([1, 1]))
    with pytest.raises(ValueError, match="at least one"):
        ChunkVectors(np.zeros((2, 4)), np.zeros((2, 4)), np.array([2, 0]))


def test_sentence_vectors_survive_save_and_load(tmp_path: Path) -> None:
    chunks = [_chunk("A. B.", 0), _chunk("C.", 1)]
    sentences = np.eye(3, 4, dtype=np.float32)
    vectors = ChunkVectors(np.eye(2, 4, dtype=np.float32), sentences, np.array([2, 1]))
    config = IndexConfig(model_id="m", dim=4, chunk_max_tokens=10, chunk_overlap_sentences=1)
    FaissVectors(chunks, vectors, dim=4).save(tmp_path, config=config, files={})
    loaded, _ = FaissVectors.load(tmp_path, expected=config)
    query = np.array([0, 1, 0, 0], dtype=np.float32)  # chunk 0's second sentence
    np.testing.assert_allclose(loaded.sentence_similarity(query, [0, 1]), [1.0, 0.0])
    np.testing.assert_allclose(loaded.similarity(query, [0, 1]), [0.0, 1.0])
    assert list(loaded.vectors().counts) == [2, 1]


def test_a_chunk_is_found_by_its_one_matching_sentence(tmp_path: Path) -> None:
    """A long chunk whose one sentence answers beats one that shares scattered words with the
    question, once the best sentence counts (the keyword side cannot tell them apart here)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(
        "The lobby has a coffee machine. Visitors sign in at reception. The parking garage opens at 7. "
        "Badges are printed on site. The descaling kit ships with the purifier.",
        "utf-8",
    )
    (seeds / "b.txt").write_text("Descaling. The kit. Ships. Purifier. Lobby.", "utf-8")

    def service(weight: float) -> QAService:
        settings = Settings(
            seeds_dir=seeds,
            index_dir=tmp_path / f"index-{weight}",
            data_dir=tmp_path / "data",
            answerer="sentence",
            fusion_dense_weight=1.0,
            fusion_sentence_weight=weight,
            _env_file=None,  # type: ignore[call-arg]
        )
        built = QAService(settings, embedder=HashingEmbedder())
        built.ingest()
        return built

    question = "Does the descaling kit ship with the purifier?"
    assert service(1.0).search(question, top_k=1)[0].chunk.source == "a.txt"
    assert service(0.0).search(question, top_k=1)[0].chunk.source == "b.txt"
