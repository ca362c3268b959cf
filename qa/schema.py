"""Frozen types that flow between modules: Document -> Chunk -> Hit -> Draft -> Answer."""

from __future__ import annotations

import secrets
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["answered", "abstained"]

ABSTAIN_MESSAGE = "The documents don't cover this."
#: What a front end shows above an abstention's closest passages (``Answer.related``).
NOT_STATED_MESSAGE = "Not stated directly. Closest passages:"

#: The timed stages of answering a question, the keys of ``Answer.timings_ms`` (and of the
#: latency metrics and charts built from them).
STAGES = ("retrieve", "answer", "total")


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded source file. ``text`` is the cleaned text; offsets into it are citation offsets.

    For plain-text and Markdown files ``text`` has the same length as the file's text and
    matches it outside stripped boilerplate (which is blanked with spaces) and wrapped lines
    (whose newline reads as a space: ``qa.text.join_wrapped_lines``, for PDF text too), so
    offsets point straight into the file.
    """

    id: str
    source: str
    title: str
    text: str
    content_hash: str
    # Where each page (PDF) or slide (PPTX) starts in ``text``: page n starts at pages[n - 1].
    # Empty for formats without pages.
    pages: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.pages, tuple):  # a list read back from JSON
            object.__setattr__(self, "pages", tuple(self.pages))

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character ``offset``, or None for a format without pages."""
        return max(1, bisect_right(self.pages, offset)) if self.pages else None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of whole sentences of one document; ``text == document.text[start:end]``.

    A chunk never crosses a page break, so ``page`` (1-based; None for formats without pages)
    is the page of every quote taken from it. ``headings`` is the chunk's place in its document,
    outermost first: the sections above it (title > section > subsection, the slide's title)
    and, for a table row, the table's header row. What is embedded and keyword-indexed is
    ``chunking.embedding_text``: the document title and heading path before ``text``; quotes
    and offsets are those of ``text`` alone.
    """

    id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    page: int | None = None
    headings: tuple[str, ...] = ()  # the heading path above the chunk (embedded, never quoted)

    def __post_init__(self) -> None:
        if not isinstance(self.headings, tuple):  # a list read back from JSON
            object.__setattr__(self, "headings", tuple(self.headings))

    @property
    def context(self) -> str:
        """The document title and heading path, "Title > Section > Subsection" (repeats left out)."""
        parts: list[str] = []
        for part in (self.title, *self.headings):
            if part and part.casefold() not in (p.casefold() for p in parts):
                parts.append(part)
        return " > ".join(parts)


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk with its fused score and the per-retriever scores behind it."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    keyword_score: float | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """A supporting span chosen by an answerer; offsets are into the document text."""

    chunk: Chunk
    start: int
    end: int
    score: float

    @property
    def quote(self) -> str:
        """The exact document text the span covers."""
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """What an answerer returns before the service turns it into an ``Answer``."""

    answer: str | None
    sentence: str | None
    evidence: tuple[Evidence, ...]
    confidence: float
    abstained: bool
    mode: str = "extractive"
    note: str | None = None
    # One flag per evidence item, set by a citation checker (generative answers); None otherwise.
    supported: tuple[bool, ...] | None = None
    # A sentence answer's key phrase (the reader's short span): [start, end) offsets into ``sentence``.
    highlight: tuple[int, int] | None = None

    @classmethod
    def abstain(cls, *, confidence: float = 0.0, mode: str = "extractive", note: str | None = None) -> Draft:
        """No answer: nothing to cite, with the best ``confidence`` seen and why (``note``)."""
        return cls(answer=None, sentence=None, evidence=(), confidence=confidence, abstained=True, mode=mode, note=note)


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered pointer to an exact quote: ``quote == document.text[start:end]``."""

    n: int
    source: str
    title: str
    doc_id: str
    chunk_id: str
    start: int
    end: int
    quote: str
    score: float
    supported: bool | None = None
    page: int | None = None  # 1-based page (PDF) or slide (PPTX) of the quote; None without pages


@dataclass(frozen=True, slots=True)
class Turn:
    """One exchange of a conversation, used to resolve follow-up questions."""

    question: str
    answer: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    """The final, citable answer that every front end converts at its edge."""

    question: str
    answer: str | None
    status: Status
    sentence: str | None
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0
    mode: str = "extractive"
    message: str | None = None
    retrieval_query: str | None = None
    # An abstention's closest passages (qa.answering.related): pointers, not citations; empty
    # when the answer is answered or nothing retrieved shares a word with the question.
    related: tuple[Citation, ...] = ()
    # Feedback, chat history and the gaps list refer to an answer by this id.
    id: str = field(default_factory=lambda: new_answer_id())
    # A sentence answer's key phrase: ``sentence[start:end]`` (Draft.highlight); None otherwise.
    highlight: tuple[int, int] | None = None

    @classmethod
    def from_draft(
        cls,
        question: str,
        draft: Draft,
        hits: Sequence[Hit],
        *,
        timings: dict[str, float],
        query: str | None = None,
        related: Sequence[Citation] = (),
    ) -> Answer:
        """An answerer's Draft as the final Answer, its evidence numbered as citations.

        ``related`` (the closest passages) is kept only when the answer abstains.
        """
        answered = not draft.abstained and bool(draft.evidence)
        citations = tuple(
            Citation(
                n=n,
                source=ev.chunk.source,
                title=ev.chunk.title,
                doc_id=ev.chunk.doc_id,
                chunk_id=ev.chunk.id,
                start=ev.start,
                end=ev.end,
                quote=ev.quote,
                score=ev.score,
                supported=draft.supported[n - 1] if draft.supported else None,
                page=ev.chunk.page,
            )
            for n, ev in enumerate(draft.evidence if answered else (), start=1)
        )
        return cls(
            question=question,
            answer=draft.answer if answered else None,
            status="answered" if answered else "abstained",
            sentence=draft.sentence if answered else None,
            citations=citations,
            hits=tuple(hits),
            timings_ms=timings,
            confidence=draft.confidence,
            mode=draft.mode,
            message=draft.note if answered else draft.note or ABSTAIN_MESSAGE,
            retrieval_query=query,
            related=() if answered else tuple(related),
            highlight=draft.highlight if answered else None,
        )

    def to_dict(self, *, include_hits: bool = False) -> dict[str, Any]:
        """The JSON contract shared by the CLI, HTTP API and Slack."""
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "status": self.status,
            "sentence": self.sentence,
            "message": self.message,
            "mode": self.mode,
            "confidence": round(self.confidence, 4),
            "citations": [citation_to_dict(c) for c in self.citations],
            "related": [citation_to_dict(c) for c in self.related],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.retrieval_query and self.retrieval_query != self.question:
            data["retrieval_query"] = self.retrieval_query
        if self.highlight is not None:
            data["highlight"] = list(self.highlight)
        if include_hits:
            data["hits"] = [hit_to_dict(h) for h in self.hits]
        return data


def new_answer_id() -> str:
    """A fresh answer id: ``ans-`` and 96 random bits, url-safe."""
    return "ans-" + secrets.token_urlsafe(12)


def answer_text(answer: Answer) -> str:
    """What a reader sees: the answer, or the message saying why there is none."""
    if answer.status == "answered" and answer.answer:
        return answer.answer
    return answer.message or ABSTAIN_MESSAGE


def stage_timings(started: float, retrieved: float, finished: float) -> dict[str, float]:
    """Milliseconds per stage (``STAGES``) from three ``time.perf_counter()`` readings."""
    return dict(
        zip(
            STAGES,
            ((retrieved - started) * 1000, (finished - retrieved) * 1000, (finished - started) * 1000),
            strict=True,
        )
    )


EventKind = Literal["citations", "delta", "done"]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event of an answer stream (``QAService.ask_stream``).

    citations  ``data`` is the answer's numbered citations (a tuple of Citation)
    delta      ``data`` is a piece of the answer text (str); the pieces join to the answer,
               or to the abstention message when the documents don't cover the question
    done       ``data`` is the final Answer, the one ``QAService.ask`` returns
    """

    kind: EventKind
    data: tuple[Citation, ...] | str | Answer

    def to_dict(self) -> Any:
        """The event's data as JSON-ready values (the wire format of SSE and Slack)."""
        if isinstance(self.data, Answer):
            return self.data.to_dict()
        if isinstance(self.data, tuple):
            return [citation_to_dict(c) for c in self.data]
        return self.data


def final_answer(events: Iterable[StreamEvent]) -> Answer:
    """The Answer of a stream's last event (``done``): ``ask`` derived from ``ask_stream``."""
    done = None
    for event in events:
        done = event.data
    assert isinstance(done, Answer)  # an answer stream always ends with "done"
    return done


def citation_to_dict(citation: Citation) -> dict[str, Any]:
    """A citation as a JSON object (``supported`` only when a checker set it)."""
    data: dict[str, Any] = {
        "n": citation.n,
        "source": citation.source,
        "title": citation.title,
        "doc_id": citation.doc_id,
        "chunk_id": citation.chunk_id,
        "start": citation.start,
        "end": citation.end,
        "quote": citation.quote,
        "score": round(citation.score, 4),
        "page": citation.page,
    }
    if citation.supported is not None:
        data["supported"] = citation.supported
    return data


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    """A retrieval hit as a JSON object."""
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 4),
        "keyword_score": None if hit.keyword_score is None else round(hit.keyword_score, 4),
        "chunk_id": hit.chunk.id,
        "doc_id": hit.chunk.doc_id,
        "source": hit.chunk.source,
        "title": hit.chunk.title,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "page": hit.chunk.page,
        "text": hit.chunk.text,
    }
