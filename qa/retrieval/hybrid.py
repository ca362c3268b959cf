"""Hybrid retrieval: dense (vector store) and keyword (BM25) rankings fused with RRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.embedding import Embedder
from qa.retrieval.keyword import KeywordIndex
from qa.schema import Hit
from qa.stores.base import VectorIndex

if TYPE_CHECKING:
    from qa.config import Settings


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """How many candidates each retriever contributes and the RRF constant (QA_RETRIEVAL_CANDIDATES, QA_RRF_K)."""

    candidates: int
    rrf_k: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalConfig:
        return cls(candidates=settings.retrieval_candidates, rrf_k=settings.rrf_k)


class HybridRetriever:
    """Reciprocal rank fusion of a dense and a keyword ranking.

    RRF needs no score calibration between the two retrievers; every hit still carries its
    cosine (``dense_score``), which abstention uses as an absolute relevance signal.
    """

    def __init__(
        self, store: VectorIndex, keyword: KeywordIndex, embedder: Embedder, *, config: RetrievalConfig
    ) -> None:
        self._store = store
        self._keyword = keyword
        self._embedder = embedder
        self._config = config

    def search(self, query: str, *, top_k: int) -> list[Hit]:
        """The ``top_k`` chunks for ``query``, best first."""
        chunks = self._store.chunks()
        if not chunks:
            return []
        vector = self._embedder.embed_query(query)
        candidates = max(self._config.candidates, top_k)
        dense = self._store.search(vector, candidates)
        keyword = self._keyword.search(query, candidates)
        fused: dict[int, float] = {}
        for ranking in (dense, keyword):
            for rank, (position, _score) in enumerate(ranking):
                fused[position] = fused.get(position, 0.0) + 1.0 / (self._config.rrf_k + rank + 1)
        best = sorted(fused, key=lambda p: (-fused[p], p))[:top_k]
        keyword_scores = dict(keyword)
        cosines = self._store.similarity(vector, best)
        return [
            Hit(
                chunk=chunks[position],
                score=fused[position],
                rank=rank,
                dense_score=float(cosine),
                keyword_score=keyword_scores.get(position),
            )
            for rank, (position, cosine) in enumerate(zip(best, cosines, strict=True), start=1)
        ]
