"""qa/ingest/run.py: batches embedded longest first still come back in the texts' order."""

from __future__ import annotations

import numpy as np

from qa import HashingEmbedder
from qa.ingest.run import embed_in_batches


class RecordingEmbedder(HashingEmbedder):
    """The hashing embedder, noting the texts of each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.batches.append(list(texts))
        return super().embed_documents(texts)


def test_vectors_come_back_in_order_and_batches_hold_similar_lengths() -> None:
    texts = ["a b", "a much longer text about drones and shells", "mid length text", "x", "another long text here"]
    embedder = RecordingEmbedder()
    vectors = embed_in_batches(embedder, texts, batch_size=2)
    assert np.allclose(vectors, HashingEmbedder().embed_documents(texts))
    assert embedder.batches == [
        ["a much longer text about drones and shells", "another long text here"],
        ["mid length text", "a b"],
        ["x"],
    ]


def test_no_texts_no_batches() -> None:
    embedder = RecordingEmbedder()
    assert embed_in_batches(embedder, [], batch_size=4).shape == (0, embedder.dim)
    assert embedder.batches == []
