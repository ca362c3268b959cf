"""Hybrid retrieval: dense (vector store) and keyword (BM25) rankings, fused by qa/retrieval/fusion.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qa.embedding import Embedder
from qa.retrieval.fusion import FusionConfig, blend_dense, fuse
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
            sentence_weight=settings.fusion_sentence_weight,
            lexical_weight=settings.fusion_lexical_weight,
        )
        return cls(candidates=settings.retrieval_candidates, fusion=fusion)


class HybridRetriever:
    """A dense and a keyword ranking fused (``qa.retrieval.fusion.fuse``).

    Every candidate of either ranking is scored by ``blend_dense`` (its best sentence's and its
    chunk vector's cosine); a hit carries that blend (``dense_score``) and its BM25 score when the
    keyword ranking found it.
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
        keyword = self._keyword.search(query, candidates)
        union = sorted({p for p, _ in self._store.search(vector, candidates)} | {p for p, _ in keyword})
        dense = blend_dense(
            union,
            self._store.similarity(vector, union),
            self._store.sentence_similarity(vector, union),
            self._config.fusion,
        )
        fused = fuse(
            dense,
            keyword,
            self._config.fusion,
            query=query,
            text_of=lambda p: chunks[p].text,
            context_of=lambda p: chunks[p].context,
        )[:top_k]
        dense_scores, keyword_scores = dict(dense), dict(keyword)
        return [
            Hit(
                chunk=chunks[position],
                score=score,
                rank=rank,
                dense_score=dense_scores[position],
                keyword_score=keyword_scores.get(position),
            )
            for rank, (position, score) in enumerate(fused, start=1)
        ]
