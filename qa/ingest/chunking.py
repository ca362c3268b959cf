"""Sentence-aware chunking with overlap; every chunk keeps offsets into its document and its heading path.

``embedding_text`` is what is embedded and BM25-indexed for a chunk, ``reader_passage`` what the reader
may read: both put the title and heading path before the chunk's own text, which alone is ever quoted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.schema import Chunk, Document
from qa.text import CLAUSE_ENDS, is_heading, is_table_row, section_number, sentence_spans

#: What a chunk is made of changed: 2 added heading paths (``Chunk.headings``), embedded and
#: keyword-indexed with the title, and spans that stop at headings, list items and table rows.
#: 3: a headline after a finished sentence (PDF pages) and the rows of a plain-text table ("Basic | EUR 9")
#: keep lines of their own (``qa.text.sentence_spans``).
#: An index built with another version is rebuilt (``qa.stores.manifest.check_compatible``).
CHUNKING_VERSION = 3

# A paragraph of one sentence this short without a final stop is a heading.
_HEADING_MAX_CHARS = 120
_ITEM_MARKERS = ("- ", "* ", "+ ", "• ", "– ")
# Formats whose pages are slides: each slide's headings start afresh.
_SLIDE_SUFFIXES = (".pptx",)


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
    ``page`` is every quote's page. Each chunk records its heading path (``_heading_paths``).
    """
    text = document.text
    spans = sentence_spans(text)
    lengths = [count_tokens(text[s:e]) for s, e in spans]
    pages = [document.page_at(s) for s, _ in spans]
    section = [_is_section_line(text, start, end) for start, end in spans]
    para = _paragraph_numbers(text, spans, section)
    para_tokens: dict[int, int] = {}
    for number, length in zip(para, lengths, strict=True):
        para_tokens[number] = para_tokens.get(number, 0) + length
    heading = [_is_heading_paragraph(text, spans, para, i) for i in range(len(spans))]
    paths = _heading_paths(document, spans, heading)
    headers = _table_headers(text, spans)

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
        headings = _chunk_headings(paths, headers, heading, first, last)
        chunk = _make_chunk(document, spans[first][0], spans[last][1], page=pages[first], headings=headings)
        chunks.append(chunk)
        if last + 1 >= len(spans):
            break
        # Step back for overlap inside a paragraph, but always advance at least one sentence; a new
        # paragraph or page starts afresh.
        fresh = para[last + 1] != para[last] or pages[last + 1] != pages[last]
        first = last + 1 if fresh else max(first + 1, last + 1 - overlap_sentences)
    return chunks


def embedding_text(chunk: Chunk) -> str:
    """What is embedded and keyword-indexed for a chunk: its title and heading path, then its text.

    The quote (``chunk.text``) never includes them; they place a paragraph that never names its
    subject ("It was founded in 1920.", "Storage: 5 TB") in its document and section.
    """
    context = chunk.context
    return f"{context}\n{chunk.text}" if context and not chunk.text.startswith(context) else chunk.text


@dataclass(frozen=True, slots=True)
class ReaderPassage:
    """What the reader reads of a chunk: ``Chunk.context`` on a line of its own, then the chunk's text.

    The reader then sees the section a sentence sits in ("Premium > Storage: 5 TB"), while an
    answer stays a span of the chunk itself: ``chunk_span`` maps a span of ``text`` back, or
    gives None for a span in the context line (a heading cannot be quoted).
    """

    text: str
    offset: int  # where the chunk's text starts in ``text``

    def chunk_span(self, start: int, end: int) -> tuple[int, int] | None:
        """A span of ``text`` as offsets into the chunk's text; None when it starts in the context."""
        if start < self.offset:
            return None
        return start - self.offset, end - self.offset


def reader_passage(chunk: Chunk) -> ReaderPassage:
    """The chunk's text behind its context line, for the reader (see ``ReaderPassage``)."""
    context = chunk.context
    if not context:
        return ReaderPassage(chunk.text, 0)
    return ReaderPassage(f"{context}\n{chunk.text}", len(context) + 1)


def _paragraph_numbers(text: str, spans: Sequence[tuple[int, int]], section: Sequence[bool]) -> list[int]:
    # A blank line in the whitespace before a sentence starts a new paragraph; so does a numbered
    # heading on a line of its own (a PDF page has no blank lines), and the text after it.
    numbers: list[int] = []
    number = 0
    for i, (start, _) in enumerate(spans):
        if i and (text.count("\n", spans[i - 1][1], start) >= 2 or section[i] or section[i - 1]):
            number += 1
        numbers.append(number)
    return numbers


def _is_heading_paragraph(text: str, spans: Sequence[tuple[int, int]], para: Sequence[int], i: int) -> bool:
    alone = (i == 0 or para[i - 1] != para[i]) and (i + 1 == len(spans) or para[i + 1] != para[i])
    if not alone:
        return False
    start, end = spans[i]
    line = text[start:end]
    if line.startswith("#"):
        return True
    if is_table_row(line) or line.startswith(_ITEM_MARKERS):
        return False
    return end - start <= _HEADING_MAX_CHARS and not line.endswith(CLAUSE_ENDS)


def _is_section_line(text: str, start: int, end: int) -> bool:
    # A numbered heading on a line of its own inside a paragraph, as PDF pages give them.
    whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    line = text[start:end]
    return (
        whole_line
        and end - start <= _HEADING_MAX_CHARS
        and not line.endswith(CLAUSE_ENDS)
        and (is_heading(line) or section_number(line) > 0)
    )


def _heading_paths(
    document: Document, spans: Sequence[tuple[int, int]], heading: Sequence[bool]
) -> list[tuple[tuple[int, str], ...]]:
    """After each sentence, the headings in force: (sentence index, heading text), outermost first.

    A Markdown heading's level is its number of "#"s and a numbered one's its depth ("3.2" is
    2). An unmarked heading (a short line alone, as Word, HTML and slides give them) sits under
    the Markdown ones and beside numbered ones ("Action items" after "4. Customer board"); in a
    run of them the first is the section and the rest its subsections. A slide starts afresh; a
    heading that repeats the document's title is left out.
    """
    text = document.text
    slides = document.source.lower().endswith(_SLIDE_SUFFIXES)
    stack: list[tuple[float, int, str, bool]] = []  # (level, sentence index, text, Markdown?)
    paths: list[tuple[tuple[int, str], ...]] = []
    previous_heading: float | None = None  # the level of the heading just before, if any
    page = None
    for i, (start, end) in enumerate(spans):
        if slides and document.page_at(start) != page:
            page, stack, previous_heading = document.page_at(start), [], None
        line = text[start:end]
        if heading[i]:
            marks = len(line) - len(line.lstrip("#"))
            level: float = marks or section_number(line)
            if not level:
                base = max((lv for lv, _, _, markdown in stack if markdown), default=0) + 0.5
                after_unmarked = previous_heading is not None and previous_heading != int(previous_heading)
                level = base + 0.25 if after_unmarked else base
            while stack and stack[-1][0] >= level:
                stack.pop()
            name = line.strip("#").strip()
            if name and name.casefold() != document.title.casefold():
                stack.append((level, i, name, bool(marks)))
            previous_heading = level
        else:
            previous_heading = None
        paths.append(tuple((index, name) for _, index, name, _ in stack))
    return paths


def _table_headers(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, str] | None]:
    """For each sentence that is a table row below the first, that first (header) row."""
    headers: list[tuple[int, str] | None] = []
    header: tuple[int, str] | None = None
    for i, (start, end) in enumerate(spans):
        line = text[start:end]
        if not is_table_row(line):
            header = None
            headers.append(None)
        elif header is None:
            header = (i, line.strip().strip("|").strip())
            headers.append(None)
        else:
            headers.append(header)
    return headers


def _chunk_headings(
    paths: Sequence[tuple[tuple[int, str], ...]],
    headers: Sequence[tuple[int, str] | None],
    heading: Sequence[bool],
    first: int,
    last: int,
) -> tuple[str, ...]:
    # The path in force at the chunk's first sentence of text, less the headings the chunk
    # itself holds (they are in its text already); a table row's header row likewise.
    body = next((i for i in range(first, last + 1) if not heading[i]), last)
    names = [name for index, name in paths[body] if index < first]
    header = headers[body]
    if header is not None and header[0] < first and not _is_separator(header[1]):
        names.append(header[1])
    return tuple(names)


def _is_separator(row: str) -> bool:
    return not row.strip("|-: ")


def _make_chunk(document: Document, start: int, end: int, *, page: int | None, headings: tuple[str, ...]) -> Chunk:
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
        headings=headings,
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
