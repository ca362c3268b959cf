"""The sentence model: a sentence answer for a how-to, why or yes/no question the reader has no span for."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from qa.answering import SENTENCE_FEATURES, AnswerModel, ReaderAnswerer, SentenceChooser
from qa.answering.sentence_choice import sentence_features
from qa.embedding import HashingEmbedder
from qa.reader.prediction import SpanPrediction
from qa.schema import Chunk, Hit


class NoSpanReader:
    """A reader that finds no span anywhere (what it does for "Can I take the elevator?")."""

    def read(self, question: str, passages: Sequence[str]) -> list[SpanPrediction]:
        return [SpanPrediction(i, 0, 0, "", float("-inf"), 0.0) for i, _ in enumerate(passages)]


def _hits(*texts: str) -> list[Hit]:
    hits, offset = [], 0
    for rank, text in enumerate(texts, start=1):
        chunk = Chunk(f"c{rank}", f"d{rank}", f"doc{rank}.txt", "Doc", text, offset, offset + len(text))
        hits.append(Hit(chunk=chunk, score=1 / rank, rank=rank, dense_score=0.5))
        offset += len(text) + 1
    return hits


def _model(threshold: float, **weights: float) -> AnswerModel:
    assert set(weights) <= set(SENTENCE_FEATURES), weights
    return AnswerModel(tuple(weights.get(name, 0.0) for name in SENTENCE_FEATURES), 0.0, threshold)


PROCEDURE = _hits(
    "How do I leave the building? Use the nearest staircase. Never use the lifts during a fire alarm.",
    "The fire alarm is tested every Wednesday at 11:00.",
)
# Only the share of question words counts: "lifts fire alarm" shares 3 of the question's words.
BY_OVERLAP = _model(0.5, overlap=8.0)


def test_every_sentence_but_a_question_is_scored_once_with_every_feature() -> None:
    rows = sentence_features("Can I use the lifts in a fire alarm?", PROCEDURE + PROCEDURE[:1], HashingEmbedder())
    texts = [text for *_, text, _ in rows]
    # the FAQ's own question answers nothing; the chunk read twice is scored once
    assert texts == [
        "Use the nearest staircase.",
        "Never use the lifts during a fire alarm.",
        "The fire alarm is tested every Wednesday at 11:00.",
    ]
    for hit, start, end, text, features in rows:
        assert len(features) == len(SENTENCE_FEATURES)
        assert hit.chunk.text[start - hit.chunk.start : end - hit.chunk.start] == text  # document offsets
    gap = SENTENCE_FEATURES.index("cosine_gap")
    assert min(features[gap] for *_, features in rows) == 0.0  # the closest sentence


def test_a_yes_no_question_without_a_span_gets_the_sentence_that_rules_on_it() -> None:
    answerer = ReaderAnswerer(
        NoSpanReader(), threshold=0.5, max_passages=2, sentences=SentenceChooser(HashingEmbedder(), BY_OVERLAP)
    )
    draft = answerer.answer("Can I use the lifts when the fire alarm goes off?", PROCEDURE)
    assert not draft.abstained
    assert draft.answer == draft.sentence == "Never use the lifts during a fire alarm."
    (evidence,) = draft.evidence
    assert evidence.chunk.text[evidence.start - evidence.chunk.start : evidence.end - evidence.chunk.start] == (
        draft.answer
    )
    assert draft.confidence >= BY_OVERLAP.threshold


def test_below_its_threshold_or_for_a_short_answer_question_the_sentence_model_stays_silent() -> None:
    strict = SentenceChooser(HashingEmbedder(), _model(0.99, overlap=1.0))
    answerer = ReaderAnswerer(NoSpanReader(), threshold=0.5, max_passages=2, sentences=strict)
    assert answerer.answer("Can I use the lifts when the fire alarm goes off?", PROCEDURE).abstained
    # a who/when/how-many question needs a span of its type: a sentence never stands in for it
    lenient = SentenceChooser(HashingEmbedder(), BY_OVERLAP)
    answerer = ReaderAnswerer(NoSpanReader(), threshold=0.5, max_passages=2, sentences=lenient)
    assert answerer.answer("When is the fire alarm tested?", PROCEDURE).abstained


def test_a_sentence_naming_a_rival_code_weighs_less() -> None:
    hits = _hits("Error code E7 indicates a failed lamp. Replace the lamp.")
    rows = sentence_features("Why does error code E4 appear?", hits, HashingEmbedder())
    conflict = SENTENCE_FEATURES.index("term_conflict")
    absent = SENTENCE_FEATURES.index("code_absent")
    first = rows[0][-1]
    assert first[conflict] == 1.0 and first[absent] == 1.0


def test_a_model_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="one weight per feature"):
        SentenceChooser(HashingEmbedder(), AnswerModel((1.0,), 0.0, 0.5))
