"""Sparse keyword vectors for Qdrant: BM25 term weights over qa/retrieval/keyword.py's tokenisation.

Each chunk becomes {token id: saturated term frequency}; Qdrant multiplies in the IDF
(``Modifier.IDF``, computed over the collection at query time), so a query's sparse vector
(1.0 per distinct token) scores chunks as BM25 does, and "TB2" or "155 mm" still match.
The length normalisation uses a fixed average chunk length, so vectors never need
recomputing when the corpus grows (FastEmbed's BM25 does the same).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from qa.retrieval.keyword import TOKEN_PATTERN, _stemmer

K1 = 1.5  # bm25s' defaults, so keyword rankings stay close to the FAISS store's
B = 0.75
AVERAGE_TOKENS = 100.0

SparseVector = tuple[list[int], list[float]]  # (indices, values)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed word tokens, exactly as the BM25 index sees them."""
    import bm25s

    if not texts:
        return []
    tokens = bm25s.tokenize(
        list(texts), token_pattern=TOKEN_PATTERN, stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return [list(row) for row in tokens]


def token_id(token: str) -> int:
    """A stable 32-bit id per token (no shared vocabulary to keep in sync between processes)."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest(), "little")


def document_vectors(texts: Sequence[str]) -> list[SparseVector]:
    """One BM25-weighted sparse vector per chunk text."""
    vectors: list[SparseVector] = []
    for tokens in tokenize(texts):
        counts = Counter(token_id(token) for token in tokens)
        norm = K1 * (1 - B + B * len(tokens) / AVERAGE_TOKENS)
        indices = sorted(counts)
        vectors.append((indices, [counts[i] * (K1 + 1) / (counts[i] + norm) for i in indices]))
    return vectors


def query_vector(text: str) -> SparseVector:
    """1.0 per distinct query token; empty when the query has no word characters."""
    indices = sorted({token_id(token) for token in tokenize([text])[0]})
    return indices, [1.0] * len(indices)
