"""Sentence-aware chunking with overlap; every chunk keeps offsets into its document."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from qa.schema import Chunk, Document
from qa.text import sentence_spans

# A paragraph of one sentence this short without a final stop is a heading.
_HEADING_MAX_CHARS = 120


def chunk_id(source: str, text: str, start: int) -> str:
    """Content-derived id: the same source, text and position give the same id on every rebuild."""
    digest = hashlib.sha256(f"{source}\x00{start}\x00{text}".encode()).hexdigest()
    return digest[:20]


def chunk_document(
    document: Document,
    *,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Group whole sentences into chunks of at most ``max_tokens`` model tokens, following structure.

    Paragraphs (blank-line separated) stay whole where they fit: a chunk takes in the next
    paragraph only if all of it fits, and a heading only together with what follows it. A
    paragraph over the limit is cut between sentences, consecutive pieces sharing
    ``overlap_sentences`` sentences so an answer near a cut is seen whole. A sentence longer
    than the limit is a chunk of its own (never split). No chunk crosses a page break, so its
    ``page`` is every quote's page. Each chunk records the section heading above it.
    """
    text = document.text
    spans = sentence_spans(text)
    lengths = [count_tokens(text[s:e]) for s, e in spans]
    pages = [document.page_at(s) for s, _ in spans]
    para = _paragraph_numbers(text, spans)
    para_tokens: dict[int, int] = {}
    for number, length in zip(para, lengths, strict=True):
        para_tokens[number] = para_tokens.get(number, 0) + length
    heading = [_is_heading_paragraph(text, spans, para, i) for i in range(len(spans))]
    sections: list[str | None] = []
    for i, (start, end) in enumerate(spans):
        sections.append(text[start:end].lstrip("#").strip() if heading[i] else (sections[-1] if sections else None))

    def fits_whole(i: int, budget: int) -> bool:
        # The paragraph starting at sentence i fits whole; a heading (one sentence) only with the next.
        need = para_tokens[para[i]] + (para_tokens[para[i + 1]] if heading[i] and i + 1 < len(spans) else 0)
        return need <= budget

    chunks: list[Chunk] = []
    first = 0
    while first < len(spans):
        last, total, only_headings = first, lengths[first], heading[first]
        while last + 1 < len(spans) and pages[last + 1] == pages[first]:
            following = last + 1
            if para[following] != para[last] and not only_headings and not fits_whole(following, max_tokens - total):
                break
            if total + lengths[following] > max_tokens:
                break
            last, total, only_headings = following, total + lengths[following], only_headings and heading[following]
        chunk = _make_chunk(document, spans[first][0], spans[last][1], page=pages[first], heading=sections[first])
        chunks.append(chunk)
        if last + 1 >= len(spans):
            break
        # Step back for overlap inside a paragraph, but always advance at least one sentence; a new
        # paragraph or page starts afresh.
        fresh = para[last + 1] != para[last] or pages[last + 1] != pages[last]
        first = last + 1 if fresh else max(first + 1, last + 1 - overlap_sentences)
    return chunks


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its document title and section heading, then its text.

    The quote (``chunk.text``) never includes them; they place a paragraph that never names its
    subject ("It was founded in 1920.") in its document.
    """
    context: list[str] = []
    for part in (chunk.title, chunk.heading):
        if part and part not in context and not chunk.text.startswith(part):
            context.append(part)
    return "\n".join([*context, chunk.text])


def _paragraph_numbers(text: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    # A blank line in the whitespace before a sentence starts a new paragraph.
    numbers: list[int] = []
    number = 0
    for i, (start, _) in enumerate(spans):
        if i and text.count("\n", spans[i - 1][1], start) >= 2:
            number += 1
        numbers.append(number)
    return numbers


def _is_heading_paragraph(text: str, spans: Sequence[tuple[int, int]], para: Sequence[int], i: int) -> bool:
    alone = (i == 0 or para[i - 1] != para[i]) and (i + 1 == len(spans) or para[i + 1] != para[i])
    if not alone:
        return False
    start, end = spans[i]
    if text.startswith("#", start):
        return True
    return end - start <= _HEADING_MAX_CHARS and not text[start:end].endswith((".", "!", "?", ":", ";", ","))


def _make_chunk(document: Document, start: int, end: int, *, page: int | None, heading: str | None) -> Chunk:
    text = document.text[start:end]
    return Chunk(
        id=chunk_id(document.source, text, start),
        doc_id=document.id,
        source=document.source,
        title=document.title,
        text=text,
        start=start,
        end=end,
        page=page,
        heading=heading,
    )


def chunk_documents(
    documents: Sequence[Document],
    *,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Chunk several documents, in order."""
    return [
        chunk
        for document in documents
        for chunk in chunk_document(
            document, count_tokens=count_tokens, max_tokens=max_tokens, overlap_sentences=overlap_sentences
        )
    ]
