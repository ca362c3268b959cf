"""Answers as a stream of events, for front ends that show text as it arrives (SSE, OpenAI chunks).

    citations  the numbered citations of the answer (a tuple of Citation)
    delta      a piece of the answer text (str); the pieces join to the answer, or to the
               abstention message when the documents don't cover the question
    done       the final Answer, the same one ``QAService.ask`` returns

An answerer with ``answer_stream(question, hits)`` (the LLM) streams its own deltas, and the
citations follow them, since they are only known at the end; otherwise the answer is computed
first and its citations come before its text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from qa.errors import QAError
from qa.schema import ABSTAIN_MESSAGE, Answer, Citation, Draft, Hit, Turn, citation_to_dict
from qa.validation import validate_question

if TYPE_CHECKING:
    from qa.service import QAService

EventKind = Literal["citations", "delta", "done"]
AnswerStream = Callable[[str, Sequence[Hit]], Iterable["str | Draft"]]

# Words per delta when an offline answer is replayed as a stream.
_WORDS_PER_PIECE = 3
_PIECE = re.compile(r"\S+\s*")


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event of an answer stream; ``data`` is Citation tuple, str or Answer (see module doc)."""

    kind: EventKind
    data: tuple[Citation, ...] | str | Answer

    def to_dict(self) -> Any:
        """The event's data as JSON-ready values (the wire format of SSE and Slack)."""
        if isinstance(self.data, Answer):
            return self.data.to_dict()
        if isinstance(self.data, tuple):
            return [citation_to_dict(c) for c in self.data]
        return self.data


def answer_text(answer: Answer) -> str:
    """What a reader sees: the answer, or the message saying why there is none."""
    if answer.status == "answered" and answer.answer:
        return answer.answer
    return answer.message or ABSTAIN_MESSAGE


def word_pieces(text: str, *, words: int = _WORDS_PER_PIECE) -> list[str]:
    """Split ``text`` into pieces of a few words that join back to exactly ``text``."""
    tokens = _PIECE.findall(text)
    leading = text[: len(text) - len(text.lstrip())]
    pieces = ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    if leading:
        pieces = [leading + pieces[0], *pieces[1:]] if pieces else [leading]
    return pieces


def stream_answer(
    service: QAService, question: str, *, history: Sequence[Turn] = (), top_k: int | None = None
) -> Iterator[StreamEvent]:
    """Answer ``question`` as citations, text deltas and a final ``done`` carrying the Answer."""
    streamer = cast("AnswerStream | None", getattr(service.answerer, "answer_stream", None))
    if streamer is None:
        answer = service.ask(question, top_k=top_k, history=history)
        yield StreamEvent("citations", answer.citations)
        for piece in word_pieces(answer_text(answer)):
            yield StreamEvent("delta", piece)
        yield StreamEvent("done", answer)
        return
    yield from _stream_from_answerer(service, streamer, question, history=history, top_k=top_k)


def _stream_from_answerer(
    service: QAService,
    streamer: AnswerStream,
    question: str,
    *,
    history: Sequence[Turn],
    top_k: int | None,
) -> Iterator[StreamEvent]:
    max_chars = service.settings.max_question_chars
    text = validate_question(question, max_chars=max_chars)
    started = time.perf_counter()
    query = service.retrieval_query(text, history)
    # search() checks the length; the offline condensed query appends the last turn after the
    # question, so trimming its tail keeps the question itself.
    hits = service.search(query[:max_chars], top_k=top_k)
    retrieved = time.perf_counter()
    draft: Draft | None = None
    streamed = False
    # As in QAService.ask, a follow-up is answered as its standalone form.
    for item in streamer(query, hits):
        if isinstance(item, Draft):
            draft = item
        elif item:
            streamed = True
            yield StreamEvent("delta", item)
    if draft is None:
        raise QAError("The answerer's stream ended without a final answer; check the answerer's answer_stream.")
    finished = time.perf_counter()
    timings = {
        "retrieve": (retrieved - started) * 1000,
        "answer": (finished - retrieved) * 1000,
        "total": (finished - started) * 1000,
    }
    answer = service.to_answer(text, draft, hits, timings=timings, query=query)
    if not streamed:  # e.g. an abstention decided before any text: readers still get the message
        for piece in word_pieces(answer_text(answer)):
            yield StreamEvent("delta", piece)
    yield StreamEvent("citations", answer.citations)
    yield StreamEvent("done", answer)
