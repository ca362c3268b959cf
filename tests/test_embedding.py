from collections.abc import Sequence

import numpy as np
import pytest

from qa import HashingEmbedder
from qa.embedding import QueryTunedEmbedder, Vectors
from qa.errors import ModelNotFoundError


class NegatedEmbedder(HashingEmbedder):
    """A stand-in query encoder whose vectors differ from the passage model's."""

    def __init__(self, dim: int = 384) -> None:
        super().__init__(dim)
        self.model_id = "negated"

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return -super().embed_documents(texts)


def test_query_tuned_embedder_embeds_questions_with_the_query_encoder() -> None:
    documents, queries = HashingEmbedder(), NegatedEmbedder()
    embedder = QueryTunedEmbedder(documents, queries)
    text = "Who makes the Bayraktar TB2?"
    assert np.array_equal(embedder.embed_documents([text]), documents.embed_documents([text]))
    assert np.array_equal(embedder.embed_query(text), -documents.embed_query(text))
    assert embedder.count_tokens(text) == documents.count_tokens(text) == 5
    # The index manifest checks the passage model only: the stored vectors are its.
    assert (embedder.model_id, embedder.backend, embedder.dim) == ("hashing-bow-384", "hashing", 384)
    assert embedder.query_model_id == "negated"


def test_query_encoder_of_another_dimension_is_refused() -> None:
    with pytest.raises(ModelNotFoundError, match="makes 128-dimensional vectors, the passage model"):
        QueryTunedEmbedder(HashingEmbedder(384), NegatedEmbedder(128))


def test_the_shipped_query_encoder_is_used_when_present(tmp_path, monkeypatch) -> None:
    from qa import embedding
    from qa.config import Settings

    monkeypatch.setattr(embedding, "SHIPPED_QUERY_ENCODER", tmp_path / "query")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert embedding.query_model_for(settings) is None  # absent: the bundled model embeds questions too
    (tmp_path / "query").mkdir()
    (tmp_path / "query" / "model.safetensors").write_bytes(b"weights")
    assert embedding.query_model_for(settings) == str(tmp_path / "query")
    assert embedding.query_model_for(settings.model_copy(update={"embedding_query_model": ""})) is None
    assert embedding.query_model_for(settings.model_copy(update={"embedding_query_model": "/q"})) == "/q"
    # Tuned against the bundled model's passages: another passage model does not get it.
    assert embedding.query_model_for(settings.model_copy(update={"embedding_model": str(tmp_path)})) is None
