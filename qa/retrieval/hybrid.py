"""Hybrid retrieval: dense (vector store) and keyword (BM25) rankings, fused by qa/retrieval/fusion.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qa.embedding import Embedder
from qa.retrieval.fusion import FusionConfig, fuse
from qa.retrieval.keyword import KeywordIndex
from qa.schema import Hit
from qa.stores.base import VectorIndex

if TYPE_CHECKING:
    from qa.config import Settings


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """How many candidates each retriever contributes (QA_RETRIEVAL_CANDIDATES) and how they are fused."""

    candidates: int
    fusion: FusionConfig = field(default_factory=FusionConfig)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalConfig:
        fusion = FusionConfig(
            method=settings.fusion,
            dense_weight=settings.fusion_dense_weight,
            identifier_bonus=settings.fusion_identifier_bonus,
            rrf_k=settings.rrf_k,
        )
        return cls(candidates=settings.retrieval_candidates, fusion=fusion)


class HybridRetriever:
    """A dense and a keyword ranking fused (``qa.retrieval.fusion.fuse``).

    Every hit carries its cosine (``dense_score``), which abstention uses as an absolute
    relevance signal, and its BM25 score when the keyword ranking found it.
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
        fused = dict(fuse(dense, keyword, self._config.fusion, query=query, text_of=lambda p: chunks[p].text)[:top_k])
        best = list(fused)
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
