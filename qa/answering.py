"""Answerers turn retrieved chunks into a Draft: a short answer, its sentence and evidence.

``ReaderAnswerer`` (the default when the trained reader's weights are installed) reads the top
chunks with the extractive reader (``qa.reader``) and answers the best span, its confidence
blended with the support of the span's sentence. ``SentenceAnswerer`` needs no trained model: it
picks the best supporting sentence (dense similarity plus word overlap with the question) and,
where the question type allows, a short span inside it; the reader answerer uses its sentence
scores. An LLM plugs in through the same ``Answerer`` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.chunking import sentence_spans
from qa.embedding import Embedder
from qa.reader import has_answer_confidence
from qa.schema import Draft, Evidence, Hit
from qa.spans import SpanCandidate, content_words, expects_specific, short_answer

# Chosen with `qa eval --sweep-abstention` (docs/EVALUATION.md). On SQuAD 2.0 dev (300-question
# sample, adversarial unanswerable questions about the same paragraphs) the best overall accuracy
# sits at 0.62-0.71, but there it answers under half of the answerable questions. On the seed
# set the unanswerable questions score <= 0.23 (or fail the number check) and correct answers
# 0.50-0.91, so 0.45 sits between the two; QA_ABSTAIN_THRESHOLD moves it.
DEFAULT_SENTENCE_THRESHOLD = 0.45
# For typed questions, a slightly lower-scored sentence holding a candidate of the right type
# (a name for "who") beats a top sentence with none.
TYPED_MARGIN = 0.08
# Weight of dense similarity vs. share of question words found in the sentence.
DENSE_WEIGHT = 0.6


class Answerer(Protocol):
    """Turns a question and its retrieved hits into a Draft."""

    name: str

    def answer(self, question: str, hits: Sequence[Hit]) -> Draft:
        """Answer from ``hits`` only; abstain (``Draft.abstained``) when they do not say."""
        ...


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """A sentence of a retrieved chunk with its support score."""

    hit: Hit
    start: int  # document offsets
    end: int
    text: str
    dense: float
    overlap: float
    score: float


class SentenceAnswerer:
    """Extractive answers without a trained model: best sentence plus a heuristic short span."""

    name = "sentence"

    def __init__(self, embedder: Embedder, *, threshold: float | None = None, max_hits: int = 5) -> None:
        self._embedder = embedder
        self.threshold = DEFAULT_SENTENCE_THRESHOLD if threshold is None else threshold
        self._max_hits = max_hits

    def score_sentences(self, question: str, hits: Sequence[Hit]) -> list[ScoredSentence]:
        """Every distinct sentence of the top hits, best supported first."""
        seen: set[tuple[str, int]] = set()
        located: list[tuple[Hit, int, int, str]] = []
        for hit in hits[: self._max_hits]:
            chunk = hit.chunk
            for start, end in sentence_spans(chunk.text):
                key = (chunk.doc_id, chunk.start + start)
                if key not in seen:
                    seen.add(key)
                    located.append((hit, chunk.start + start, chunk.start + end, chunk.text[start:end]))
        if not located:
            return []
        question_vector = self._embedder.embed_query(question)
        dense = self._embedder.embed_documents([text for *_, text in located]) @ question_vector
        question_words = content_words(question)
        scored = []
        for (hit, start, end, text), cosine in zip(located, np.asarray(dense, dtype=float), strict=True):
            overlap = len(question_words & content_words(text)) / len(question_words) if question_words else 0.0
            score = DENSE_WEIGHT * float(cosine) + (1 - DENSE_WEIGHT) * overlap
            scored.append(ScoredSentence(hit, start, end, text, float(cosine), overlap, score))
        return sorted(scored, key=lambda s: -s.score)

    def answer(self, question: str, hits: Sequence[Hit]) -> Draft:
        """The best sentence and short span; abstains below the threshold or on a type mismatch."""
        ranked = self.score_sentences(question, hits)
        if not ranked:
            return Draft(None, None, (), 0.0, True)
        best, span = _best_with_span(question, ranked)
        if best.score < self.threshold or (expects_specific(question) and span is None):
            return Draft(None, None, (), best.score, True)
        evidence = Evidence(chunk=best.hit.chunk, start=best.start, end=best.end, score=best.score)
        return Draft(
            answer=span.text if span else best.text,
            sentence=best.text,
            evidence=(evidence,),
            confidence=best.score,
            abstained=False,
        )


def _best_with_span(question: str, ranked: Sequence[ScoredSentence]) -> tuple[ScoredSentence, SpanCandidate | None]:
    """The top sentence, or a close runner-up that holds a short answer of the expected type."""
    for sentence in ranked:
        if sentence.score < ranked[0].score - TYPED_MARGIN:
            break
        span = short_answer(question, sentence.text)
        if span is not None:
            return sentence, span
    return ranked[0], None


class SpanPrediction(Protocol):
    """What a span reader returns per passage (``qa.reader.SpanPrediction`` fits)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def no_answer_score(self) -> float: ...


class SpanReader(Protocol):
    """A trained extractive reader: the best span of each passage."""

    def read(self, question: str, passages: Sequence[str]) -> Sequence[SpanPrediction]:
        """One prediction per passage, offsets into that passage."""
        ...


# How the reader answerer weighs the reader's has-answer confidence against the support score of
# the sentence holding the span, and where it abstains. Both are fitted on held-out SQuAD 2.0
# articles by scripts/calibrate_answerer.py and shipped in reader_config.json; these are fallbacks.
DEFAULT_READER_WEIGHT = 0.5
DEFAULT_READER_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class ReadSpan:
    """A span the reader found in one retrieved chunk, scored for answering."""

    hit: Hit
    text: str
    start: int  # document offsets of the span
    end: int
    sentence_start: int  # document offsets of the sentence(s) around it
    sentence_end: int
    sentence: str
    reader_confidence: float  # sigmoid(span score - the chunk's no-answer score)
    sentence_score: float  # SentenceAnswerer support score of that sentence (0 when unscored)
    confidence: float  # the blend abstention looks at


class ReaderAnswerer:
    """The default answerer with the trained reader: read the top chunks, answer the best span.

    The reader reads each of the top ``max_passages`` chunks and proposes its best span with a
    has-answer confidence (span score against that chunk's no-answer score). Each span is scored
    ``reader_weight * reader confidence + (1 - reader_weight) * support of its sentence``, the
    sentence support being the sentence answerer's retrieval-side score (dense similarity and
    word overlap with the question). The best span is the answer, the sentence around it the
    citation; below ``threshold`` the answerer abstains.
    """

    name = "reader"

    def __init__(
        self,
        sentences: SentenceAnswerer,
        reader: SpanReader,
        *,
        threshold: float | None = None,
        reader_weight: float = DEFAULT_READER_WEIGHT,
        max_passages: int = 5,
    ) -> None:
        self._sentences = sentences
        self._reader = reader
        self.threshold = DEFAULT_READER_THRESHOLD if threshold is None else threshold
        self.reader_weight = reader_weight
        self._max_passages = max_passages

    def candidates(self, question: str, hits: Sequence[Hit]) -> list[ReadSpan]:
        """One span per top chunk that has one, best first."""
        top = list(hits[: self._max_passages])
        if not top or not question.strip():
            return []
        predictions = self._reader.read(question, [hit.chunk.text for hit in top])
        # every sentence of the top chunks, once, in document offsets (overlapping chunks share them)
        scored = self._sentences.score_sentences(question, top)
        spans = []
        for hit, prediction in zip(top, predictions, strict=True):
            if not prediction.text.strip():
                continue  # the reader found no valid span in this chunk
            chunk = hit.chunk
            start, end = tidy_span(chunk.text, *snap_to_words(chunk.text, prediction.start, prediction.end))
            if start >= end:
                continue
            start, end = chunk.start + start, chunk.start + end
            around = [
                s
                for s in scored
                if s.hit.chunk.doc_id == chunk.doc_id and chunk.start <= s.start < end and start < s.end <= chunk.end
            ]
            sentence_start = min([start, *(s.start for s in around)])
            sentence_end = max([end, *(s.end for s in around)])
            sentence_score = max((s.score for s in around), default=0.0)
            reader_confidence = has_answer_confidence(prediction.score, prediction.no_answer_score)
            spans.append(
                ReadSpan(
                    hit=hit,
                    text=chunk.text[start - chunk.start : end - chunk.start],
                    start=start,
                    end=end,
                    sentence_start=sentence_start,
                    sentence_end=sentence_end,
                    sentence=chunk.text[sentence_start - chunk.start : sentence_end - chunk.start],
                    reader_confidence=reader_confidence,
                    sentence_score=sentence_score,
                    confidence=self.reader_weight * reader_confidence + (1 - self.reader_weight) * sentence_score,
                )
            )
        return sorted(spans, key=lambda span: -span.confidence)

    def answer(self, question: str, hits: Sequence[Hit]) -> Draft:
        """The best-scored span with its sentence as evidence; abstains below the threshold."""
        spans = self.candidates(question, hits)
        if not spans or spans[0].confidence < self.threshold:
            return Draft(None, None, (), spans[0].confidence if spans else 0.0, True)
        best = spans[0]
        evidence = Evidence(
            chunk=best.hit.chunk, start=best.sentence_start, end=best.sentence_end, score=best.confidence
        )
        return Draft(
            answer=best.text,
            sentence=best.sentence,
            evidence=(evidence,),
            confidence=best.confidence,
            abstained=False,
        )


# A name followed by one of these reads as the name alone: "Baykar company" -> "Baykar". SQuAD-style
# training data labels both ways, and the short form is the one a person asking "who" wants.
_TRAILING_DESCRIPTORS = frozenset({"company", "companies", "firm", "corporation", "group", "manufacturer", "maker"})


def tidy_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim punctuation and a trailing descriptor off a span; close a bracket it opened."""
    while start < end and text[start] in " ,;:":
        start += 1
    while end > start and text[end - 1] in " ,;:":
        end -= 1
    span = text[start:end]
    if span.count("(") > span.count(")") and text[end : end + 1] == ")":
        end += 1  # "Turkish Aerospace Industries (TAI" -> "... (TAI)"
    words = text[start:end].rsplit(" ", 1)
    if len(words) == 2 and words[1].lower() in _TRAILING_DESCRIPTORS and words[0][-1:].isalnum():
        last_name = words[0].rsplit(" ", 1)[-1]
        if last_name[:1].isupper():
            end = start + len(words[0])
    return start, end


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a sub-word span to whole words ("ka-3" -> "Anka-3", "corvette" -> "corvettes")."""

    def joins(i: int) -> bool:
        # Letters and digits join; so does a hyphen between two of them ("Ivchenko-Progress").
        if not 0 <= i < len(text):
            return False
        if text[i].isalnum():
            return True
        return text[i] in "-'’" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()

    while start > 0 and joins(start - 1):
        start -= 1
    while end < len(text) and joins(end):
        end += 1
    return start, end
