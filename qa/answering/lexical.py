"""Word statistics over the chunks read for one question, shared by the span and sentence models.

Linear in the text: ``content_words`` tokenises with a non-backtracking pattern (``qa.text``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from qa.answering.agreement import TermIndex
from qa.schema import Chunk
from qa.text import content_words


def chunk_idf(words: set[str], chunks: Sequence[str]) -> dict[str, float]:
    """Each word's share of the words' summed inverse document frequency over ``chunks`` (smoothed:
    a word in all of them keeps some weight); the shares add up to 1."""
    chunk_words = [content_words(text) for text in chunks]
    idf = {word: math.log((len(chunks) + 1) / (0.5 + sum(word in c for c in chunk_words))) for word in words}
    total = sum(idf.values())
    return {word: value / total for word, value in idf.items()} if total > 0 else {}


def rarity(words: set[str], chunks: Sequence[str]) -> dict[str, float]:
    """Each word's inverse document frequency over ``chunks``, scaled to [0, 1] (1: in none of them)."""
    chunk_words = [content_words(text) for text in chunks]
    top = math.log((len(chunks) + 1) / 0.5)
    return {word: math.log((len(chunks) + 1) / (0.5 + sum(word in c for c in chunk_words))) / top for word in words}


def weighted_share(weights: dict[str, float], text: str) -> float:
    """The summed weight of the words found among the content words of ``text``."""
    return sum(weights[word] for word in content_words(text) & weights.keys())


def rarest_missing(rarities: dict[str, float], text: str) -> float:
    """How rare the rarest question word missing from ``text`` is (0: none missing)."""
    return max((rarities[word] for word in rarities.keys() - content_words(text)), default=0.0)


def says_more(question: str, text: str) -> bool:
    """Whether ``text`` has a content word the question lacks: "Passwords are not changed on a
    schedule." only restates "Why are passwords not changed on a schedule?" and answers nothing."""
    return bool(content_words(text) - content_words(question))


def chunk_terms(cache: dict[str, TermIndex], chunk: Chunk) -> TermIndex:
    """The terms of a chunk with its document's title and its headings ("Ledgerly" in the title of the
    FAQ, "3rd floor" in a table's header row), indexed once."""
    found = cache.get(chunk.id)
    if found is None:
        found = cache[chunk.id] = TermIndex.of(" \n".join((chunk.title, *chunk.headings, chunk.text)))
    return found
