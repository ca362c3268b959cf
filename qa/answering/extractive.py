"""``ReaderAnswerer``: answers with the trained extractive reader (``qa.reader``).

It reads the top chunks, scores every chunk's span on one scale (``AnswerModel``, a logistic
model over the reader's scores, the chunk's retrieval rank and the question's words around the
span, and whether its sentence names what the question names: ``READ_FEATURES``), adds up chunks
that agree and answers the likeliest answer, citing the sentence around it. A span of the wrong
type for the question (``qa.answering.agreement``) is never a candidate; a sentence naming what a
likely span's sentence lacks is read again alone; a how-to or why question is answered by the
span's sentence. The reader itself is anything with ``read(question, passages)`` returning
``qa.reader.prediction.SpanPrediction``s (``SpanReader``), so this module never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from qa.answering.agreement import (
    NO_TERMS,
    Expected,
    TermIndex,
    agrees,
    complete_date,
    is_sentence_question,
    negation_mismatch,
    question_parts,
    question_terms,
    states,
    term_features,
)
from qa.answering.base import BaseAnswerer
from qa.answering.units import with_unit
from qa.errors import ConfigurationError
from qa.ingest.chunking import ReaderPassage, reader_passage
from qa.reader.prediction import SpanPrediction
from qa.schema import Chunk, Draft, Evidence, Hit
from qa.text import WORD, content_words, in_heading_line, is_item_label, sentence_spans, snap_to_words, tidy_span


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
#   runner_up        how far the span scores below its chunk's best span (0 for the best; the reader's
#                    next-best spans of a chunk are candidates too: SpanPrediction.alternatives)
#   shared_log_prob  span score - logsumexp of every span and no-answer score of the chunks read
#                    (a softmax shared across the chunks of one question)
#   log_rank         log of the chunk's retrieval rank (1 = best)
#   idf_overlap      share of the question's content words in the span's sentence (no model pass),
#                    each weighed by its inverse frequency among the chunks read: a word every chunk
#                    mentions ("Ukraine" in an article about Ukraine) tells them apart less than a
#                    word few mention ("defense")
#   proximity        how close to the span those words are: each found one counts
#                    exp(-words between / PROXIMITY_WORDS) ("his defense minister, [Rustem Umerov]"
#                    beats "Ukraine ... Foreign Minister [Dmytro Kuleba]" for the defense minister)
#   term_absent      1 when the span's chunk (with its title and headings) lacks one of the question's proper names
#                    or roles (qa.answering.agreement)
#   code_absent      1 when it lacks one of the question's codes or numbers (E12, "2nd floor", 2.2):
#                    an identifier has no paraphrase, a name often has one ("Ukrainian" for "Ukraine")
#   term_outside     share of them in the chunk but not in the span's sentence (tied to it, not in it)
#   term_conflict    1 when the sentence names a rival of the same shape instead of an asked term
#                    (E7 for E4, UV-12 for CF-300, the foreign minister for the defense minister)
#   negation         1 when the question says "not" and the span's sentence does not
#   unmatched        how rare among the chunks read is the rarest question word missing from the span's
#                    sentence (0: none missing; 1: in no chunk read) -- a swapped word ("Galileo" for
#                    "Aristotle", "Germany" for "Poland") is rare, a paraphrased one common
#   typed            1 when the question asks for a number, a price or a date (every span left agrees with it:
#                    a span of the wrong type is never a candidate), 0 otherwise
READ_FEATURES = (
    "margin",
    "runner_up",
    "shared_log_prob",
    "log_rank",
    "idf_overlap",
    "proximity",
    "term_absent",
    "code_absent",
    "term_outside",
    "term_conflict",
    "negation",
    "unmatched",
    "typed",
)
CONFLICT = READ_FEATURES.index("term_conflict")
PROXIMITY_WORDS = 4.0
# P(span is right) = 0.5: the span and "no answer" score alike, the reader's own decision point.
READER_DECISION = 0.5
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
# sigmoid(margin), span beats no-answer at READER_DECISION.
DEFAULT_ANSWER_MODEL = AnswerModel(
    coef=(1.0,) + (0.0,) * (len(READ_FEATURES) - 1), intercept=0.0, threshold=READER_DECISION
)
# The likeliest spans whose chunks' other sentences are read again when they name what the span's
# sentence does not (ReaderAnswerer._refocus): the answer is almost always among the first three.
FOCUS_SPANS = 3
# Steps after a sentence that ends in a colon ("If your laptop is stolen:") join the answer, at most:
MAX_STEPS = 8


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


class ReaderAnswerer(BaseAnswerer):
    """The default answerer with the trained reader: read the top chunks, answer the likeliest answer.

    The reader reads each of the top ``max_passages`` chunks (the top ``first_passages`` first,
    the rest only when those leave the question unsettled) and proposes its best span. Each span
    gets a probability of being right from the reader's scores, the chunk's retrieval rank and
    the question's words around the span (``AnswerModel`` over ``READ_FEATURES``), so spans of
    different chunks compare. The same answer found in several places adds up
    (``1 - prod(1 - p)``): agreement is evidence. The likeliest answer is given, cited by the
    sentence around its most probable span; below ``threshold`` the answerer abstains
    (``qa.answering.factory`` decides it: QA_ABSTAIN_THRESHOLD or the model's calibrated one).
    """

    name = "reader"

    def __init__(
        self,
        reader: SpanReader,
        *,
        threshold: float,
        max_passages: int,
        first_passages: int | None = None,
        stop_confidence: float = 1.0,
        model: AnswerModel = DEFAULT_ANSWER_MODEL,
    ) -> None:
        self._reader = reader
        self.model = model
        if len(self.model.coef) != len(READ_FEATURES):
            raise ConfigurationError(
                f"The answer model has {len(self.model.coef)} weights, the answerer needs one per feature "
                f"{READ_FEATURES}; refit them with scripts/calibrate_answerer.py --write."
            )
        self.threshold = threshold
        self._max_passages = max_passages
        self._first_passages = max_passages if first_passages is None else max(1, first_passages)
        self._stop_confidence = stop_confidence

    def candidates(self, question: str, hits: Sequence[Hit]) -> list[ReadSpan]:
        """The reader's spans of the chunks read (its best and next-best ones), the likeliest answer first.

        The reader reads the top ``first_passages`` chunks; only when their likeliest answer is
        below ``stop_confidence`` (or ``threshold``, if higher) does it read the rest of the top
        ``max_passages`` and score all of them together. Most answerable questions are settled by
        their first chunks, and the reader's time grows with the chunks it reads.
        """
        top = list(hits[: self._max_passages])
        if not top or not question.strip():
            return []
        passages = [section_passage(hit.chunk) for hit in top]
        first = min(self._first_passages, len(top))
        predictions = self._read(question, passages[:first])
        spans = self._score(question, top[:first], predictions)
        # Stopping below the threshold would abstain where the other chunks might still agree.
        settled = max(self._stop_confidence, self.threshold)
        if first < len(top) and not (spans and spans[0].confidence >= settled):
            first = len(top)
            predictions += self._read(question, passages[len(predictions) :])
            spans = self._score(question, top, predictions)
        return self._refocus(question, top[:first], predictions, spans)

    def _read(self, question: str, passages: Sequence[ReaderPassage]) -> list[SpanPrediction]:
        """The reader's span of each chunk read behind its context line, as offsets into the chunk.

        A span in the context line (a heading cannot be quoted) leaves that chunk without a span;
        its no-answer score still counts.
        """
        read = self._reader.read(question, [passage.text for passage in passages])
        predictions: list[SpanPrediction] = []
        for i, (p, passage) in enumerate(zip(read, passages, strict=True)):
            span = passage.chunk_span(p.start, p.end) if p.text.strip() else None
            if span is None:  # no span, or one in the context line
                predictions.append(SpanPrediction(i, 0, 0, "", -math.inf, p.no_answer_score))
                continue
            alternatives = tuple(
                SpanPrediction(i, *where, alt.text, alt.score, alt.no_answer_score)
                for alt in p.alternatives
                if (where := passage.chunk_span(alt.start, alt.end)) is not None
            )
            predictions.append(SpanPrediction(i, *span, p.text, p.score, p.no_answer_score, alternatives))
        return predictions

    def _refocus(
        self, question: str, top: Sequence[Hit], predictions: Sequence[SpanPrediction], spans: list[ReadSpan]
    ) -> list[ReadSpan]:
        """Read again, alone, the sentences that name what a likely span's sentence does not.

        The reader proposes one span per chunk; when a chunk holds both "Error code E4 ..." and
        "Error code E7 ...", or the foreign and the defense minister, its one span may come from
        the wrong sentence. The sentences of the ``FOCUS_SPANS`` likeliest spans' chunks that name a
        question term the span's sentence lacks are read on their own, and their spans join the
        candidates (same chunk, same rank).
        """
        terms = question_terms(question)
        if not terms:
            return spans
        focus: list[tuple[Hit, int, str]] = []
        seen: set[tuple[str, int]] = set()
        for span in spans[:FOCUS_SPANS]:
            in_sentence = TermIndex.of(span.sentence)
            missing = [term for term in terms if not in_sentence.has(term)]
            chunk = span.hit.chunk
            for start, end in sentence_spans(chunk.text) if missing else ():
                text = chunk.text[start:end]
                if (chunk.id, start) in seen:
                    continue
                names = TermIndex.of(text)
                if any(names.has(term) for term in missing):
                    seen.add((chunk.id, start))
                    focus.append((span.hit, start, text))
        if not focus:
            return spans
        read = list(self._reader.read(question, [text for _, _, text in focus]))
        shifted = [
            SpanPrediction(i, p.start + start, p.end + start, p.text, p.score, p.no_answer_score)
            for i, (p, (_, start, _)) in enumerate(zip(read, focus, strict=True))
        ]
        return self._score(
            question, top, predictions, [(hit, p) for (hit, _, _), p in zip(focus, shifted, strict=True)]
        )

    def _score(
        self,
        question: str,
        top: Sequence[Hit],
        predictions: Sequence[SpanPrediction],
        focused: Sequence[tuple[Hit, SpanPrediction]] = (),
    ) -> list[ReadSpan]:
        """The spans of the chunks read (and of sentences read again alone), scored on one scale,
        the likeliest answer first."""
        positions = {hit.chunk.id: position for position, hit in enumerate(top, start=1)}
        reads = [*zip(top, predictions, strict=True), *focused]
        scores = [p.score for _, p in reads if p.text.strip()] + [p.no_answer_score for _, p in reads]
        normaliser = _logsumexp([s for s in scores if math.isfinite(s)])
        question_words = content_words(question)
        idf = _chunk_idf(question_words, [hit.chunk.text for hit in top])
        rarity = _rarity(question_words, [hit.chunk.text for hit in top])
        parts = question_parts(question)
        terms = question_terms(question)
        typed = float(parts[0] in (Expected.QUANTITY, Expected.PRICE, Expected.DATE))
        short = not is_sentence_question(question)
        chunk_terms: dict[str, TermIndex] = {}  # each chunk's terms (with its title and headings), indexed once
        found: list[tuple[ReadSpan, str]] = []
        for hit, best, prediction in _with_alternatives(reads):
            chunk = hit.chunk
            start, end = tidy_span(chunk.text, *snap_to_words(chunk.text, prediction.start, prediction.end))
            if parts[0] is Expected.DATE:  # "[March 2026]" after "3": the whole date
                start = complete_date(chunk.text, start, end)
            if start >= end or not any(agrees(part, chunk.text[start:end]) for part in parts):
                continue  # a span of the wrong type (a place for "how many") is never the answer
            if is_item_label(chunk.text, start, end) or (short and in_heading_line(chunk.text, start, end)):
                # "6.1" of "6.1 Every document belongs to ...", "Data classification" of its heading;
                # a how-to question's heading line opens the steps below it (``answer_sentences``).
                continue
            around = [(s, e) for s, e in sentence_spans(chunk.text) if s < end and start < e]
            sentence_start = min([start, *(s for s, _ in around)])
            sentence_end = max([end, *(e for _, e in around)])
            sentence = chunk.text[sentence_start:sentence_end]
            margin = max(-MARGIN_CLIP, min(MARGIN_CLIP, prediction.score - prediction.no_answer_score))
            features = (
                margin,
                min(MARGIN_CLIP, best.score - prediction.score),
                prediction.score - normaliser,
                math.log(positions[hit.chunk.id]),
                _weighted_share(idf, sentence),
                _proximity(question_words, chunk.text[sentence_start:start], chunk.text[end:sentence_end]),
                *(
                    term_features(terms, TermIndex.of(sentence), _chunk_terms(chunk_terms, chunk))
                    if terms
                    else NO_TERMS
                ),
                negation_mismatch(question, sentence),
                max((rarity[w] for w in rarity.keys() - content_words(sentence)), default=0.0),
                typed,
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
        found, lists = _nested_as_one(found)
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
        # One answer read with several boundaries shares its confidence: its likeliest reading goes
        # first, unless that reading runs on over another answer ("Rustem Umerov, Zelensky").
        return sorted(
            spans,
            key=lambda span: (
                not self._settled(span),
                -span.confidence,
                (span.hit.chunk.doc_id, span.start, span.end) in lists,
                -span.probability,
            ),
        )

    def _settled(self, span: ReadSpan) -> bool:
        """Above the threshold and its sentence names no rival of an asked term: such an answer
        goes before one whose sentence names E7 for E4 or the foreign minister for the defense
        minister, however the two confidences compare (with none, the likeliest goes first)."""
        return span.confidence >= self.threshold and span.features[CONFLICT] == 0.0

    def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
        """The likeliest answer with its sentence as evidence, at once; abstains below the threshold.

        A how-to, why, what-should-I-do or yes/no question (``Expected.SENTENCE``) is answered by
        the span's sentence itself, with the steps after it when it ends in a colon, unless that only
        restates the question; a question that asks two things is answered by the sentence and the
        adjacent one that holds the other part (each cited).
        """
        spans = self.candidates(question, hits)
        parts = question_parts(question)
        short = not is_sentence_question(question)
        if not short:  # "Passwords are not changed on a schedule." answers no "Why are passwords not changed ...?"
            spans = [span for span in spans if _says_more(question, span.hit.chunk, answer_sentences(span, parts))]
        if not spans or spans[0].confidence < self.threshold:
            yield Draft.abstain(confidence=spans[0].confidence if spans else 0.0)
            return
        best = spans[0]
        pieces = [(best.sentence_start, best.sentence_end)] if short else answer_sentences(best, parts)
        chunk = best.hit.chunk
        evidence = tuple(Evidence(chunk=chunk, start=s, end=e, score=best.confidence) for s, e in pieces)
        quotes = " ".join(ev.quote for ev in evidence)
        answer = quotes
        if short:  # "EUR 1,200", not "1,200"
            at = (best.start - chunk.start, best.end - chunk.start)
            widened = with_unit(chunk.text, *at)
            answer = best.text if widened == at else chunk.text[widened[0] : widened[1]]
        yield Draft(
            answer=answer,
            sentence=quotes,
            evidence=evidence,
            confidence=best.confidence,
            abstained=False,
            highlight=None if short else _highlight(best, pieces),
        )


def section_passage(chunk: Chunk) -> ReaderPassage:
    """What the reader reads of a chunk: its text behind the headings above it that it does not repeat.

    A table row or slide bullet ("5 TB storage") is read with its section ("Premium plan") even when
    the chunk starts below that heading. The document title is left out: the reader was trained on
    paragraphs without one, and a title on every passage read draws spans to it
    (docs/EVALUATION.md, issue 28's second round).
    """
    text = chunk.text.casefold()
    missing = tuple(heading for heading in chunk.headings if heading.casefold() not in text)
    return reader_passage(replace(chunk, title="", headings=missing))


def answer_sentences(span: ReadSpan, parts: Sequence[Expected]) -> list[tuple[int, int]]:
    """Document offsets of the sentences that answer a sentence question or a two-part one.

    The span's sentence; the list items after it when it ends in a colon or is a line without a full
    stop, a heading (the steps); for each
    part its sentence does not answer (a date for "and when ...?"), the next or else the previous
    sentence of the chunk when that one does.
    """
    chunk = span.hit.chunk
    sentences = [(chunk.start + s, chunk.start + e) for s, e in sentence_spans(chunk.text)]
    at = next((i for i, (s, e) in enumerate(sentences) if s < span.end and span.start < e), None)
    if at is None:
        return [(span.sentence_start, span.sentence_end)]
    chosen = [(span.sentence_start, span.sentence_end)]
    # "If your laptop is stolen:" or a heading line ("If you discover a fire") introduces the steps.
    if not _text(chunk, chosen[0]).rstrip().endswith((".", "!", "?")):
        chosen += sentences[at + 1 : at + 1 + MAX_STEPS]
        chosen = chosen[: 1 + _steps(chunk, chosen[1:])]
    for part in parts:
        if any(states(part, _text(chunk, piece)) for piece in chosen):
            continue
        for neighbour in (at + 1, at - 1):
            if 0 <= neighbour < len(sentences) and states(part, _text(chunk, sentences[neighbour])):
                chosen.append(sentences[neighbour])
                break
    return sorted(set(chosen))


def _highlight(span: ReadSpan, pieces: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The span's [start, end) in the sentences joined by single spaces; None when it is all of one
    (nothing to pick out) or outside them."""
    offset = 0
    for start, end in pieces:
        if start <= span.start and span.end <= end:
            if (span.start, span.end) == (start, end):
                return None
            return offset + span.start - start, offset + span.end - start
        offset += end - start + 1
    return None


def _steps(chunk: Chunk, pieces: Sequence[tuple[int, int]]) -> int:
    """How many of ``pieces`` in a row read as list items (a number or a bullet first)."""
    count = 0
    for piece in pieces:
        text = _text(chunk, piece).lstrip()
        if not text or not (text[0].isdigit() or text[0] in "-*•–"):
            break
        count += 1
    return count


def _says_more(question: str, chunk: Chunk, pieces: Sequence[tuple[int, int]]) -> bool:
    """Whether the sentences at ``pieces`` have a content word the question lacks: one that only
    restates the question answers nothing."""
    return bool(content_words(" ".join(_text(chunk, piece) for piece in pieces)) - content_words(question))


def _text(chunk: Chunk, piece: tuple[int, int]) -> str:
    return chunk.text[piece[0] - chunk.start : piece[1] - chunk.start]


def _chunk_terms(cache: dict[str, TermIndex], chunk: Chunk) -> TermIndex:
    """The terms of a chunk with its document's title and its headings ("Ledgerly" in the title of the
    FAQ, "3rd floor" in a table's header row), indexed once."""
    found = cache.get(chunk.id)
    if found is None:
        found = cache[chunk.id] = TermIndex.of(" \n".join((chunk.title, *chunk.headings, chunk.text)))
    return found


def _nested_as_one(
    found: list[tuple[ReadSpan, str]],
) -> tuple[list[tuple[ReadSpan, str]], set[tuple[str, int, int]]]:
    """A span that holds shorter spans of the same document ("that the incoming water pressure is
    too low" around "too low") is the likeliest of them read with wider boundaries: it takes that
    one's key, so the readings add up as one answer. Also returned: the spans that hold spans of two
    answers or more ("Rustem Umerov, Zelensky"), a list rather than an answer, by place."""
    keyed: list[tuple[ReadSpan, str]] = []
    lists: set[tuple[str, int, int]] = set()
    for span, key in sorted(found, key=lambda item: item[0].end - item[0].start):
        inside = [
            (other.probability, inner_key)
            for other, inner_key in keyed
            if other.hit.chunk.doc_id == span.hit.chunk.doc_id and span.start <= other.start and other.end <= span.end
        ]
        keyed.append((span, max(inside)[1] if inside else key))
        if len({inner_key for _, inner_key in inside}) > 1:
            lists.add((span.hit.chunk.doc_id, span.start, span.end))
    return keyed, lists


def _with_alternatives(
    reads: Sequence[tuple[Hit, SpanPrediction]],
) -> Iterator[tuple[Hit, SpanPrediction, SpanPrediction]]:
    """(hit, the chunk's best span, a span) for every span read: the best ones and their alternatives."""
    for hit, best in reads:
        if best.text.strip():  # else the reader found no valid span in this chunk
            for prediction in (best, *best.alternatives):
                yield hit, best, prediction


def _chunk_idf(words: set[str], chunks: Sequence[str]) -> dict[str, float]:
    """Each word's share of the words' summed inverse document frequency over ``chunks`` (smoothed:
    a word in all of them keeps some weight); the shares add up to 1."""
    chunk_words = [content_words(text) for text in chunks]
    idf = {word: math.log((len(chunks) + 1) / (0.5 + sum(word in c for c in chunk_words))) for word in words}
    total = sum(idf.values())
    return {word: value / total for word, value in idf.items()} if total > 0 else {}


def _rarity(words: set[str], chunks: Sequence[str]) -> dict[str, float]:
    """Each word's inverse document frequency over ``chunks``, scaled to [0, 1] (1: in none of them)."""
    chunk_words = [content_words(text) for text in chunks]
    top = math.log((len(chunks) + 1) / 0.5)
    return {word: math.log((len(chunks) + 1) / (0.5 + sum(word in c for c in chunk_words))) / top for word in words}


def _weighted_share(weights: dict[str, float], text: str) -> float:
    """The summed weight of the words found among the content words of ``text``."""
    return sum(weights[word] for word in content_words(text) & weights.keys())


def _proximity(words: set[str], before: str, after: str) -> float:
    """Question words near the span weigh more: sum of exp(-distance / PROXIMITY_WORDS), shared out."""
    if not words:
        return 0.0
    distance: dict[str, int] = {}
    for side in (WORD.findall(before)[::-1], WORD.findall(after)):
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
    words = WORD.findall(text.lower())
    if words and words[0] in ("a", "an", "the"):
        words = words[1:]
    return " ".join(words)
