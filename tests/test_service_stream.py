"""QAService.ask_stream: citations, text deltas and a final Answer equal to what ask() gives."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from qa import Draft, HashingEmbedder, Hit, QAService, SentenceAnswerer, Turn
from qa.answering import BaseAnswerer
from qa.errors import InvalidQuestionError, QAError
from qa.schema import ABSTAIN_MESSAGE, Answer, StreamEvent
from qa.text import word_pieces
from tests.support import FAST_THRESHOLD, HASHING, settings_under


def make_service(tmp_path: Path, answerer: object = None, *, reader_passages: int = 10) -> QAService:
    settings = settings_under(tmp_path, **HASHING, abstain_threshold=FAST_THRESHOLD, reader_passages=reader_passages)
    service = QAService(settings, embedder=HashingEmbedder(), answerer=answerer)  # type: ignore[arg-type]
    service.ensure_index()
    return service


def comparable(answer: Answer) -> dict[str, object]:
    data = answer.to_dict()
    data.pop("timings_ms")
    data.pop("id")  # every answer has its own
    return data


@pytest.mark.parametrize("words", [1, 3, 5])
def test_word_pieces_join_back_exactly(words: int) -> None:
    text = "  The documents don't  cover\nthis. "
    pieces = word_pieces(text, words=words)
    assert "".join(pieces) == text
    assert len(pieces) > 1 or words >= 5


def test_offline_answer_streams_citations_then_deltas_then_done(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    events = list(service.ask_stream("Who makes the TB2?"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    done = events[-1].data
    assert isinstance(done, Answer) and done.answer == "Baykar"
    assert "".join(str(e.data) for e in events if e.kind == "delta") == "Baykar"
    assert events[0].data == done.citations
    assert comparable(done) == comparable(service.ask("Who makes the TB2?"))
    assert events[0].to_dict()[0]["quote"].startswith("In January, executives from the privately-owned Baykar")


def test_abstention_streams_the_message(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    events = list(service.ask_stream("What is the capital of France?"))
    assert events[0] == StreamEvent("citations", ())
    assert "".join(str(e.data) for e in events if e.kind == "delta") == ABSTAIN_MESSAGE
    assert events[-1].to_dict()["status"] == "abstained"


def test_follow_up_uses_history(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    history = [Turn("Who makes the TB2?", "Baykar")]
    done = list(service.ask_stream("Where did they open a factory?", history=history))[-1].data
    assert isinstance(done, Answer)
    assert done.retrieval_query == "Where did they open a factory? Who makes the TB2? Baykar"
    assert "outskirts of Kyiv" in done.hits[0].chunk.text


class StreamingAnswerer(BaseAnswerer):
    """An answerer with answer_stream, as the LLM answerer has: deltas, then the final Draft."""

    name = "fake-llm"
    threshold = None

    def __init__(self, inner: SentenceAnswerer, *, final: bool = True) -> None:
        self.inner = inner
        self.final = final
        self.seen_hits: list[Hit] = []
        self.seen_questions: list[str] = []

    def answer(self, question: str, hits: Sequence[Hit]) -> Draft:
        raise AssertionError("ask_stream must use answer_stream")

    def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
        self.seen_hits = list(hits)
        self.seen_questions.append(question)
        draft = self.inner.answer(question, hits)
        yield "Bay"
        yield "kar"
        if self.final:
            yield draft


def test_answerer_with_answer_stream_streams_its_own_deltas(tmp_path: Path) -> None:
    answerer = StreamingAnswerer(SentenceAnswerer(HashingEmbedder(), threshold=0.3, max_passages=5))
    service = make_service(tmp_path, answerer, reader_passages=2)  # the answerer reads max(top_k, reader_passages)
    events = list(service.ask_stream("  Who makes the TB2? ", top_k=2))
    assert [e.kind for e in events] == ["delta", "delta", "citations", "done"]
    assert [e.data for e in events[:2]] == ["Bay", "kar"]
    done = events[-1].data
    assert isinstance(done, Answer)
    assert done.question == "Who makes the TB2?" and done.answer == "Baykar"
    assert events[2].data == done.citations and done.citations[0].start == 1655
    assert len(answerer.seen_hits) == 2
    assert set(done.timings_ms) == {"retrieve", "answer", "total"}


def test_answer_stream_gets_the_standalone_follow_up(tmp_path: Path) -> None:
    answerer = StreamingAnswerer(SentenceAnswerer(HashingEmbedder(), threshold=0.3, max_passages=5))
    service = make_service(tmp_path, answerer)
    history = [Turn("Who makes the TB2?", "Baykar")]
    done = list(service.ask_stream("Where did they open a factory?", history=history))[-1].data
    assert answerer.seen_questions == ["Where did they open a factory? Who makes the TB2? Baykar"]
    assert isinstance(done, Answer) and done.question == "Where did they open a factory?"
    assert "outskirts of Kyiv" in answerer.seen_hits[0].chunk.text


def test_answer_stream_without_a_final_draft_is_an_error(tmp_path: Path) -> None:
    answerer = StreamingAnswerer(SentenceAnswerer(HashingEmbedder(), threshold=0.3, max_passages=5), final=False)
    service = make_service(tmp_path, answerer)
    with pytest.raises(QAError, match="without a final answer"):
        list(service.ask_stream("Who makes the TB2?"))


def test_invalid_question_is_rejected_before_any_event(tmp_path: Path) -> None:
    answerer = StreamingAnswerer(SentenceAnswerer(HashingEmbedder(), threshold=0.3, max_passages=5))
    service = make_service(tmp_path, answerer)
    with pytest.raises(InvalidQuestionError):
        next(service.ask_stream("   "))
