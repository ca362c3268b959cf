import math
from dataclasses import dataclass

import pytest

from qa import HashingEmbedder, QAService
from qa.answering import ReaderAnswerer, SentenceAnswerer, snap_to_words, tidy_span


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


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("the privately-owned [Baykar company], which", "Baykar"),
        ("Turkish Aerospace Industries [(TAI]) and", "(TAI)"),
        ("the [French army] marched", "French army"),
        ("a [small company] nearby", "small company"),
        ("some [800,000, ]rounds", "800,000"),
    ],
)
def test_tidy_span(marked: str, expected: str) -> None:
    # [ and ] mark the reader's span inside the text
    start = marked.index("[")
    end = marked.index("]") - 1
    text = marked.replace("[", "").replace("]", "")
    got_start, got_end = tidy_span(text, start, end)
    assert text[got_start:got_end] == expected


@dataclass(frozen=True)
class Prediction:
    start: int
    end: int
    text: str
    score: float
    no_answer_score: float


class ScriptedReader:
    """Finds a fixed phrase in whichever passage holds it, with a fixed margin; records what it read."""

    def __init__(self, phrase: str, margin: float) -> None:
        self.phrase, self.margin, self.read_passages = phrase, margin, []

    def read(self, question: str, passages):  # type: ignore[no-untyped-def]
        self.read_passages.extend(passages)
        out = []
        for passage in passages:
            start = passage.find(self.phrase)
            if start < 0:
                out.append(Prediction(0, 0, "", float("-inf"), 0.0))
            else:
                out.append(Prediction(start, start + len(self.phrase), self.phrase, self.margin, 0.0))
        return out


def _answerer(phrase: str, margin: float, **kwargs) -> tuple[ReaderAnswerer, ScriptedReader]:  # type: ignore[no-untyped-def]
    reader = ScriptedReader(phrase, margin)
    return ReaderAnswerer(SentenceAnswerer(HashingEmbedder()), reader, **kwargs), reader


QUESTION = "Which company manufactures the Bayraktar TB2 drone?"


def test_the_reader_reads_every_top_chunk_and_answers_the_span(fake_service: QAService) -> None:
    answerer, reader = _answerer("Baykar", margin=4.0, threshold=0.3)
    hits = fake_service.search(QUESTION)
    draft = answerer.answer(QUESTION, hits)
    assert reader.read_passages == [hit.chunk.text for hit in hits[:5]]
    assert draft.answer == "Baykar" and not draft.abstained
    (evidence,) = draft.evidence
    document = fake_service.document(evidence.chunk.doc_id)
    # the citation is the whole sentence around the span, with offsets into the file's text
    assert document.text[evidence.start : evidence.end] == draft.sentence == evidence.quote
    assert "the privately-owned Baykar company, which manufactures the Bayraktar TB2 drone" in evidence.quote
    assert evidence.quote.endswith(".")


def test_the_blend_weighs_reader_confidence_against_sentence_support(fake_service: QAService) -> None:
    hits = fake_service.search(QUESTION)
    answerer, _ = _answerer("Baykar", margin=4.0, reader_weight=0.25)
    (best, *_) = answerer.candidates(QUESTION, hits)
    assert best.text == "Baykar"
    assert best.reader_confidence == pytest.approx(1 / (1 + math.exp(-4.0)))
    assert 0.0 < best.sentence_score < 1.0
    assert best.confidence == pytest.approx(0.25 * best.reader_confidence + 0.75 * best.sentence_score)


def test_an_unsure_reader_abstains(fake_service: QAService) -> None:
    answerer, _ = _answerer("Baykar", margin=-6.0, threshold=0.5, reader_weight=0.8)
    draft = answerer.answer(QUESTION, fake_service.search(QUESTION))
    assert draft.abstained and draft.answer is None and draft.evidence == ()
    assert 0.0 < draft.confidence < 0.5


def test_a_sub_word_span_is_widened_to_whole_words(fake_service: QAService) -> None:
    answerer, _ = _answerer("aykar", margin=4.0, threshold=0.0)
    assert answerer.answer(QUESTION, fake_service.search(QUESTION)).answer == "Baykar"


def test_no_hits_or_no_span_abstains(fake_service: QAService) -> None:
    answerer, reader = _answerer("a phrase that is nowhere", margin=9.0, threshold=0.0)
    assert answerer.answer(QUESTION, []).abstained
    assert reader.read_passages == []
    assert answerer.answer(QUESTION, fake_service.search(QUESTION)).abstained
