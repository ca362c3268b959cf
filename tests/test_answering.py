from dataclasses import dataclass

import pytest

from qa import HashingEmbedder, QAService
from qa.answering import SentenceAnswerer, SentenceReaderAnswerer, snap_to_words


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("a new drone, Anka-3, flew", (15, 19), "Anka-3"),
        ("where corvettes are built", (6, 14), "corvettes"),
        ("the company Ivchenko-Progress made", (12, 20), "Ivchenko-Progress"),
        ("Baykar company", (0, 6), "Baykar"),
    ],
)
def test_snap_to_words(text: str, span: tuple[int, int], expected: str) -> None:
    start, end = snap_to_words(text, *span)
    assert text[start:end] == expected


@dataclass(frozen=True)
class Prediction:
    start: int
    end: int
    text: str
    score: float
    no_answer_score: float


class ScriptedReader:
    """Returns the span of a fixed phrase with a fixed margin, and records what it read."""

    def __init__(self, phrase: str, margin: float) -> None:
        self.phrase, self.margin, self.read_passages = phrase, margin, []

    def read(self, question: str, passages):  # type: ignore[no-untyped-def]
        self.read_passages.extend(passages)
        start = passages[0].find(self.phrase)
        return [Prediction(start, start + len(self.phrase), self.phrase, self.margin, 0.0)]


def _answerer(phrase: str, margin: float) -> tuple[SentenceReaderAnswerer, ScriptedReader]:
    reader = ScriptedReader(phrase, margin)
    return SentenceReaderAnswerer(SentenceAnswerer(HashingEmbedder(), threshold=0.3), reader), reader


def test_a_confident_reader_cuts_the_short_answer_from_the_chosen_sentence(fake_service: QAService) -> None:
    answerer, reader = _answerer("privately-owned Baykar", margin=3.0)
    question = "Which company manufactures the Bayraktar TB2 drone?"
    draft = answerer.answer(question, fake_service.search(question))
    assert draft.answer == "privately-owned Baykar"
    assert reader.read_passages == [draft.sentence]  # only the evidence sentence is read
    assert "Baykar company, which manufactures the Bayraktar TB2 drone" in draft.evidence[0].quote


def test_an_unsure_reader_keeps_the_heuristic_answer(fake_service: QAService) -> None:
    answerer, _ = _answerer("Russians", margin=0.1)
    question = "Which company manufactures the Bayraktar TB2 drone?"
    draft = answerer.answer(question, fake_service.search(question))
    assert draft.answer != "Russians" and draft.answer and "Baykar" in draft.answer


def test_abstentions_are_not_sent_to_the_reader(fake_service: QAService) -> None:
    answerer, reader = _answerer("anything", margin=9.0)
    draft = answerer.answer("Who won the 2022 World Cup?", fake_service.search("Who won the 2022 World Cup?"))
    assert draft.abstained and reader.read_passages == []
