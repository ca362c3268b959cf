"""Answerers turn retrieved chunks into a Draft: a short answer, its sentence and evidence.

``ReaderAnswerer`` (the default when the trained reader's weights are installed) reads the top
chunks with the extractive reader (``qa.reader``), scores every chunk's span on one scale (a
fitted model over the reader's scores and the chunk's retrieval rank), adds up chunks that agree
and answers the likeliest answer, citing the sentence around it; it needs no second model pass.
``SentenceAnswerer`` needs no trained model: it picks the best supporting sentence (dense
similarity plus word overlap with the question) and, where the question type allows, a short span
inside it. An LLM plugs in through the same ``Answerer`` protocol.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from qa.answering.spans import SpanCandidate, content_words, expects_specific, short_answer
from qa.embedding import Embedder
from qa.errors import ConfigurationError
from qa.ingest.chunking import sentence_spans
from qa.schema import Draft, Evidence, Hit

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


# What the reader answerer knows about a span the reader found in one retrieved chunk. A logistic
# model over these (weights fitted by scripts/calibrate_answerer.py, stored in reader_config.json)
# turns them into the probability that the span is a right answer, so spans of different chunks
# compare on one scale:
#   margin           span score - that chunk's no-answer score (the reader's own has-answer evidence)
#   shared_log_prob  span score - logsumexp of every span and no-answer score of the chunks read
#                    (a softmax shared across the chunks of one question)
#   log_rank         log of the chunk's retrieval rank (1 = best)
#   overlap          share of the question's content words in the span's sentence (no model pass)
#   proximity        how close to the span those words are: each found one counts
#                    exp(-words between / PROXIMITY_WORDS) ("his defense minister, [Rustem Umerov]"
#                    beats "Ukraine ... Foreign Minister [Dmytro Kuleba]" for the defense minister)
READ_FEATURES = ("margin", "shared_log_prob", "log_rank", "overlap", "proximity")
PROXIMITY_WORDS = 4.0
# Margins beyond this add nothing to the evidence and would let one feature swamp the others.
MARGIN_CLIP = 12.0


@dataclass(frozen=True, slots=True)
class AnswerModel:
    """Logistic weights over ``READ_FEATURES`` and the abstention threshold on the answer probability."""

    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, features: Sequence[float]) -> float:
        """P(span is right) for one span's features."""
        z = self.intercept + sum(w * x for w, x in zip(self.coef, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


# Without fitted weights (no reader_config.json "answerer"): the reader's own per-chunk decision,
# sigmoid(margin), span beats no-answer at 0.5.
DEFAULT_ANSWER_MODEL = AnswerModel(coef=(1.0, 0.0, 0.0, 0.0, 0.0), intercept=0.0, threshold=0.5)


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
    features: tuple[float, ...]  # READ_FEATURES
    probability: float  # this span alone is right
    confidence: float  # its answer is right: the spans of all chunks with the same answer together


class ReaderAnswerer:
    """The default answerer with the trained reader: read the top chunks, answer the likeliest answer.

    The reader reads each of the top ``max_passages`` chunks and proposes its best span. Each span
    gets a probability of being right from the reader's scores, the chunk's retrieval rank and
    the question's words around the span (``AnswerModel`` over ``READ_FEATURES``), so spans of
    different chunks compare. The same answer found in several places adds up
    (``1 - prod(1 - p)``): agreement is evidence. The likeliest answer is given, cited by the
    sentence around its most probable span; below ``threshold`` the answerer abstains.
    """

    name = "reader"

    def __init__(
        self,
        reader: SpanReader,
        *,
        model: AnswerModel | None = None,
        threshold: float | None = None,
        max_passages: int = 5,
    ) -> None:
        self._reader = reader
        self.model = model or DEFAULT_ANSWER_MODEL
        if len(self.model.coef) != len(READ_FEATURES):
            raise ConfigurationError(
                f"The answer model has {len(self.model.coef)} weights, the answerer needs one per feature "
                f"{READ_FEATURES}; refit them with scripts/calibrate_answerer.py --write."
            )
        self.threshold = self.model.threshold if threshold is None else threshold
        self._max_passages = max_passages

    def candidates(self, question: str, hits: Sequence[Hit]) -> list[ReadSpan]:
        """One span per top chunk that has one, the likeliest answer first."""
        top = list(hits[: self._max_passages])
        if not top or not question.strip():
            return []
        predictions = self._reader.read(question, [hit.chunk.text for hit in top])
        scores = [p.score for p in predictions if p.text.strip()] + [p.no_answer_score for p in predictions]
        normaliser = _logsumexp([s for s in scores if math.isfinite(s)])
        question_words = content_words(question)
        found: list[tuple[ReadSpan, str]] = []
        for position, (hit, prediction) in enumerate(zip(top, predictions, strict=True), start=1):
            if not prediction.text.strip():
                continue  # the reader found no valid span in this chunk
            chunk = hit.chunk
            start, end = tidy_span(chunk.text, *snap_to_words(chunk.text, prediction.start, prediction.end))
            if start >= end:
                continue
            around = [(s, e) for s, e in sentence_spans(chunk.text) if s < end and start < e]
            sentence_start = min([start, *(s for s, _ in around)])
            sentence_end = max([end, *(e for _, e in around)])
            sentence = chunk.text[sentence_start:sentence_end]
            margin = max(-MARGIN_CLIP, min(MARGIN_CLIP, prediction.score - prediction.no_answer_score))
            features = (
                margin,
                prediction.score - normaliser,
                math.log(position),
                _share(question_words, sentence),
                _proximity(question_words, chunk.text[sentence_start:start], chunk.text[end:sentence_end]),
            )
            span = ReadSpan(
                hit=hit,
                text=chunk.text[start:end],
                start=chunk.start + start,
                end=chunk.start + end,
                sentence_start=chunk.start + sentence_start,
                sentence_end=chunk.start + sentence_end,
                sentence=sentence,
                features=features,
                probability=self.model.probability(features),
                confidence=0.0,
            )
            found.append((span, _answer_key(span.text)))
        # One answer found in several places: P(some span of it is right), the places taken as
        # independent. Overlapping chunks share sentences; a span read twice is one place.
        places: dict[tuple[str, int, int], tuple[str, float]] = {}
        for span, key in found:
            place = (span.hit.chunk.doc_id, span.start, span.end)
            places[place] = (key, max(span.probability, places.get(place, (key, 0.0))[1]))
        missed: dict[str, float] = {}
        for key, probability in places.values():
            missed[key] = missed.get(key, 1.0) * (1.0 - probability)
        spans = [replace(span, confidence=1.0 - missed[key]) for span, key in found]
        return sorted(spans, key=lambda span: (-span.confidence, -span.probability))

    def answer(self, question: str, hits: Sequence[Hit]) -> Draft:
        """The likeliest answer with its sentence as evidence; abstains below the threshold."""
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


def _share(words: set[str], text: str) -> float:
    """Share of ``words`` among the content words of ``text``."""
    return len(words & content_words(text)) / len(words) if words else 0.0


def _proximity(words: set[str], before: str, after: str) -> float:
    """Question words near the span weigh more: sum of exp(-distance / PROXIMITY_WORDS), shared out."""
    if not words:
        return 0.0
    distance: dict[str, int] = {}
    for side in (_KEY_WORD.findall(before)[::-1], _KEY_WORD.findall(after)):
        for gap, word in enumerate(side):
            for found in content_words(word) & words:
                distance[found] = min(gap, distance.get(found, gap))
    return sum(math.exp(-gap / PROXIMITY_WORDS) for gap in distance.values()) / len(words)


def _logsumexp(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _answer_key(text: str) -> str:
    """Answers that differ only in case, punctuation or a leading article are one answer."""
    words = _KEY_WORD.findall(text.lower())
    if words and words[0] in ("a", "an", "the"):
        words = words[1:]
    return " ".join(words)


_KEY_WORD = re.compile(r"\w+")


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
