"""Keyword (BM25) search over chunk texts with bm25s; catches exact tokens like "TB2" or "155 mm"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

# bm25s logs every index build at DEBUG through its own handler.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# \w+ rather than bm25s' default \w\w+: single characters matter in names like "Anka-3".
TOKEN_PATTERN = r"(?u)\b\w+\b"


def _stemmer() -> Callable[[list[str]], list[str]] | None:
    try:
        import Stemmer
    except ImportError:  # PyStemmer is a declared dependency; stay usable without it.
        return None
    stem_words: Callable[[list[str]], list[str]] = Stemmer.Stemmer("english").stemWords
    return stem_words


class KeywordIndex:
    """An in-memory BM25 index, rebuilt from the stored chunks at load (fast: no model involved)."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self._bm25s = bm25s
        self._stem = _stemmer()
        self._size = len(texts)
        self._retriever: Any = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), token_pattern=TOKEN_PATTERN, stemmer=self._stem, show_progress=False)
            self._retriever.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(position, BM25 score) of up to ``k`` chunks sharing at least one query term."""
        if not self._size:
            return []
        query_tokens = self._bm25s.tokenize(
            [query], token_pattern=TOKEN_PATTERN, stemmer=self._stem, return_ids=False, show_progress=False
        )
        known = [token for token in query_tokens[0] if token in self._retriever.vocab_dict]
        if not known:
            return []
        ids, scores = self._retriever.retrieve([known], k=min(k, self._size), show_progress=False)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
