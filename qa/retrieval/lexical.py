"""The lexical side of a candidate's best sentence: how much of the question it says in words.

The dense score already takes a chunk's best sentence (qa/retrieval/sentences.py); BM25 counts the
question's words anywhere in the chunk. A question is usually answered by one sentence that repeats
most of its rarer words ("Which company manufactures the TB2?" -> "...the Baykar company, which
manufactures the Bayraktar TB2 drone..."), so a chunk whose words come together in one sentence is
likelier than one that scatters them. ``best_sentence_coverage`` scores that, and the fusion adds it
to the top candidates (``qa.retrieval.fusion.fuse``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from qa.text import content_words, sentence_spans

# Chunks whose sentences' words are kept between queries: a few megabytes.
SENTENCE_CACHE = 8192


@functools.lru_cache(maxsize=SENTENCE_CACHE)
def sentence_words(text: str) -> tuple[frozenset[str], ...]:
    """The content words of each sentence of ``text`` (a chunk's: the same chunks come back query after
    query, so they are split once while they stay among the ``SENTENCE_CACHE`` last used)."""
    return tuple(frozenset(content_words(text[start:end])) for start, end in sentence_spans(text))


def best_sentence_coverage(query: str, texts: Sequence[str], contexts: Sequence[str] = ()) -> list[float]:
    """For each text, the share of the query's content words that its best sentence holds, each word
    weighed by its rarity among ``texts`` (inverse document frequency over the candidates, smoothed:
    a word every candidate holds tells them apart least). 0.0 for a query without content words.

    ``contexts`` (one per text: its title and heading path) are read with every sentence: "Storage
    is five terabytes" under the heading "Premium" answers "premium storage".
    """
    words = content_words(query)
    if not words or not texts:
        return [0.0] * len(texts)
    around: list[frozenset[str]] = (
        [frozenset(content_words(context) & words) for context in contexts] if contexts else [frozenset()] * len(texts)
    )
    found = [
        [(sentence & words) | context for sentence in sentence_words(text)] or [context]
        for text, context in zip(texts, around, strict=True)
    ]
    holding = {word: sum(any(word in sentence for sentence in sentences) for sentences in found) for word in words}
    weight = {word: math.log((len(texts) + 1) / (0.5 + count)) for word, count in holding.items()}
    total = sum(weight.values())
    if total <= 0:
        return [0.0] * len(texts)
    return [
        max((sum(weight[word] for word in sentence) for sentence in sentences), default=0.0) / total
        for sentences in found
    ]
