"""The closest passages to show when an answer abstains: pointers, not citations.

An abstention that shows nothing leaves the reader to search alone, even when the passage that
holds the answer was retrieved first. ``related_passages`` takes the top retrieved chunks and,
from each, the sentence that shares the most of the question's words, as ``Citation``s (same
fields, so every front end links them to the source viewer) that ``Answer.related`` carries.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.schema import Citation, Hit
from qa.text import content_words, sentence_spans

#: How many passages an abstention points to: two or three are read, a longer list is not.
RELATED_PASSAGES = 3


def related_passages(question: str, hits: Sequence[Hit], *, limit: int = RELATED_PASSAGES) -> tuple[Citation, ...]:
    """Up to ``limit`` passages closest to ``question``: from each top hit, its sentence sharing most words.

    A chunk none of whose sentences shares a content word with the question is not close, and a
    sentence already shown (overlapping chunks) is shown once. Offsets and quotes are exact.
    """
    words = content_words(question)
    found: list[Citation] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits:
        if len(found) >= limit:
            break
        chunk = hit.chunk
        best: tuple[int, int, int] | None = None  # (shared words, start, end) in the chunk's text
        for start, end in sentence_spans(chunk.text):
            shared = len(words & content_words(chunk.text[start:end]))
            if shared and (best is None or shared > best[0]):
                best = (shared, start, end)
        if best is None or (chunk.doc_id, chunk.start + best[1]) in seen:
            continue
        seen.add((chunk.doc_id, chunk.start + best[1]))
        found.append(
            Citation(
                n=len(found) + 1,
                source=chunk.source,
                title=chunk.title,
                doc_id=chunk.doc_id,
                chunk_id=chunk.id,
                start=chunk.start + best[1],
                end=chunk.start + best[2],
                quote=chunk.text[best[1] : best[2]],
                score=hit.score,
                page=chunk.page,
            )
        )
    return tuple(found)
