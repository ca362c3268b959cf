"""qa/answering/related.py: an abstention's closest passages, exact and few."""

from __future__ import annotations

from dataclasses import replace

from qa import QAService
from qa.answering.related import RELATED_PASSAGES, related_passages
from qa.schema import Chunk, Hit

TEXT = (
    "Error codes. Error code E4 means the incoming pressure is too low. Error code E7 means a failed lamp.\n\n"
    "Cleaning. Wipe the housing with a damp cloth once a month.\n\n"
    "Warranty. The warranty lasts 24 months from the date of purchase."
)


def _hit(rank: int, start: int, end: int, *, doc: str = "d") -> Hit:
    text = TEXT[start:end]
    chunk = Chunk(id=f"c{rank}", doc_id=doc, source=f"{doc}.txt", title="Manual", text=text, start=start, end=end)
    chunk = replace(chunk, page=2)
    return Hit(chunk=chunk, score=1.0 / rank, rank=rank)


def _paragraphs() -> list[tuple[int, int]]:
    spans, start = [], 0
    for part in TEXT.split("\n\n"):
        spans.append((start, start + len(part)))
        start += len(part) + 2
    return spans


def test_each_passage_is_the_sentence_sharing_most_words_with_exact_offsets() -> None:
    hits = [_hit(rank, *span) for rank, span in enumerate(_paragraphs(), start=1)]
    related = related_passages("What does the error code E4 on the display mean for the pressure?", hits)
    assert [r.quote for r in related] == ["Error code E4 means the incoming pressure is too low."]
    (passage,) = related
    assert TEXT[passage.start : passage.end] == passage.quote
    assert (passage.n, passage.source, passage.page, passage.chunk_id) == (1, "d.txt", 2, "c1")


def test_at_most_three_in_retrieval_order_and_a_sentence_once() -> None:
    errors, cleaning, warranty = _paragraphs()
    whole = _hit(1, 0, len(TEXT))
    hits = [whole, _hit(2, *cleaning), _hit(3, *errors), _hit(4, *cleaning, doc="e"), _hit(5, *warranty)]
    related = related_passages("cloth months error", hits)
    cloth = "Wipe the housing with a damp cloth once a month."
    # The whole text and its cleaning paragraph hold the same best sentence: shown once.
    assert [(r.n, r.doc_id, r.quote) for r in related] == [(1, "d", cloth), (2, "d", "Error codes."), (3, "e", cloth)]
    assert len(related) == RELATED_PASSAGES
    assert [r.score for r in related] == [1.0, 1 / 3, 1 / 4]


def test_nothing_shared_nothing_shown() -> None:
    hits = [_hit(rank, *span) for rank, span in enumerate(_paragraphs(), start=1)]
    assert related_passages("Who won the 2022 World Cup?", hits) == ()
    assert related_passages("anything", []) == ()


def test_an_abstention_points_to_the_closest_passages(fake_service: QAService) -> None:
    # Issue 28: "An abstention says only 'The documents don't cover this.' and shows nothing,
    # even when the passage that holds the answer was retrieved first."
    answer = fake_service.ask("How much does the TB2 cost?")
    assert answer.status == "abstained" and answer.citations == ()
    assert answer.related and "Bayraktar TB2" in answer.related[0].quote
    for passage in answer.related:
        raw = (fake_service.settings.seeds_dir / passage.source).read_text("utf-8")
        assert raw[passage.start : passage.end] == passage.quote and "\n" not in passage.quote
    data = answer.to_dict()
    assert data["related"][0]["quote"] == answer.related[0].quote and data["citations"] == []
    assert set(data["related"][0]) == set(data["related"][0]) & {
        "n", "source", "title", "doc_id", "chunk_id", "start", "end", "quote", "score", "page", "supported"
    }  # fmt: skip


def test_an_answer_or_an_untouched_question_has_none(fake_service: QAService) -> None:
    answered = fake_service.ask("Which company manufactures the Bayraktar TB2 drone?")
    assert answered.status == "answered" and answered.related == () and answered.to_dict()["related"] == []
    off_topic = fake_service.ask("What is the capital of France?")
    assert off_topic.status == "abstained" and off_topic.related == ()
