"""Sentence-aware chunking with overlap; every chunk keeps offsets into its document."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

from qa.schema import Chunk, Document

# Words that end with a full stop without ending a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "eg",
        "ie",
        "al",
        "inc",
        "ltd",
        "co",
        "corp",
        "gen",
        "col",
        "lt",
        "sgt",
        "rep",
        "sen",
        "gov",
        "no",
        "nos",
        "fig",
        "figs",
        "vol",
        "pp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ft",
        "approx",
        "dept",
        "est",
        "u.s",
        "u.k",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    ]
)
# A candidate boundary: a whole run of terminal punctuation (never starting inside one: the
# lookbehind), optional closing quotes/brackets, then whitespace. Possessive runs and the
# lookbehind keep it linear; ``[.!?…]+...(?=\s)`` took 8 s on 20,000 dots by retrying every
# suffix of the run. Starting with the character class lets the engine skip ordinary text fast.
_BOUNDARY = re.compile(r"[.!?…](?<![.!?…][.!?…])[.!?…]*+[\"'”’)\]]*+(?=\s)")
_LINE = re.compile(r"[^\n]+")
_NON_SPACE = re.compile(r"\S")
_WORD_BEFORE_DOT = re.compile(r"[\w.]+$")
# A line at least this fraction of its paragraph's widest line was wrapped (a single newline
# inside a sentence); a shorter one without a final stop is a headline or a label.
_WRAPPED_WIDTH = 0.6
_LIST_MARKERS = ("- ", "* ", "+ ", "• ", "– ", "|")
_FENCES = ("```", "~~~")
# A paragraph of one sentence this short without a final stop is a heading.
_HEADING_MAX_CHARS = 120


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in ``text``, whitespace trimmed.

    Line-wrapped paragraphs are joined first: a single newline inside a paragraph reads as a
    space, while blank lines, headings, list items, table rows, code and short headline-like
    lines end a sentence. Full stops after common abbreviations, initials and inside numbers
    do not. Offsets point into ``text`` (a sentence may span a line break). Linear in
    ``len(text)``: it runs on whole documents and on questions.
    """
    spans: list[tuple[int, int]] = []
    for seg_start, seg_end in _prose_segments(text):
        start = seg_start
        for boundary in _BOUNDARY.finditer(text, seg_start, seg_end):
            end = boundary.end()
            if _is_abbreviation(text, boundary.start()) or _is_item_number(text, start, boundary.start()):
                continue
            following = _NON_SPACE.search(text, end, seg_end)
            if following and following.group(0).islower():
                continue
            spans.append((start, end))
            start = end
        spans.append((start, seg_end))
    return [trimmed for s, e in spans if (trimmed := _trim(text, s, e))[1] > trimmed[0]]


def _prose_segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of lines that reads as one piece of prose (wrapped lines joined)."""
    blocks: list[list[tuple[int, int, str]]] = []
    previous_end = -2
    for match in _LINE.finditer(text):
        line = match.group(0).strip()
        if not line:
            previous_end = -2
            continue
        if match.start() != previous_end + 1:
            blocks.append([])
        blocks[-1].append((match.start(), match.end(), line))
        previous_end = match.end()
    segments: list[tuple[int, int]] = []
    in_fence = False
    for block in blocks:
        widest = max(len(line) for _, _, line in block)
        seg_start = block[0][0]
        for i, (_, end, line) in enumerate(block):
            fence = line.startswith(_FENCES)
            hard = in_fence or fence or i + 1 == len(block)
            in_fence = in_fence != fence
            if not hard:
                following = block[i + 1][2]
                hard = (
                    _is_heading(line)
                    or line.startswith("|")
                    or _starts_item(following)
                    or following.startswith(_FENCES)
                    or (len(line) < _WRAPPED_WIDTH * widest and not following[0].islower())
                )
            if hard:
                segments.append((seg_start, end))
                if i + 1 < len(block):
                    seg_start = block[i + 1][0]
    return segments


def _is_heading(line: str) -> bool:
    return line.startswith("#") and line.lstrip("#")[:1] in ("", " ", "\t")


def _starts_item(line: str) -> bool:
    if _is_heading(line) or line.startswith(_LIST_MARKERS):
        return True
    digits = len(line) - len(line.lstrip("0123456789"))
    return 0 < digits <= 3 and line[digits : digits + 2] in (". ", ") ")


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    match = _WORD_BEFORE_DOT.search(text, max(0, dot - 12), dot)
    if not match:
        return False
    word = match.group(0).lower().strip(".")
    # Single letters are initials ("J. Smith"); listed words are abbreviations.
    return (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS


def _is_item_number(text: str, start: int, dot: int) -> bool:
    # "1. Install it." opens a numbered list item; its number is not a sentence.
    return dot - start <= 8 and text[start:dot].strip().isdigit()


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    # str.lstrip/rstrip rather than a per-character loop: a span can be megabytes of spaces.
    segment = text[start:end]
    left = segment.lstrip()
    return start + len(segment) - len(left), end - (len(left) - len(left.rstrip()))


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
