import pytest

from qa import InvalidQuestionError, QAService, Turn
from qa.errors import IndexNotReadyError


def test_answer_cites_exact_offsets_into_the_seed_file(fake_service: QAService) -> None:
    answer = fake_service.ask("Which company manufactures the Bayraktar TB2 drone?")
    assert answer.status == "answered"
    citation = answer.citations[0]
    raw = (fake_service.settings.seeds_dir / citation.source).read_text("utf-8")
    assert raw[citation.start : citation.end] == citation.quote
    assert "Baykar company, which manufactures the Bayraktar TB2 drone" in citation.quote
    data = answer.to_dict()
    assert set(data) >= {"question", "answer", "status", "sentence", "citations", "timings_ms"}
    assert set(data["citations"][0]) >= {"n", "source", "title", "chunk_id", "start", "end", "quote", "score"}


def test_off_topic_question_abstains_without_citations(fake_service: QAService) -> None:
    answer = fake_service.ask("Who won the 2022 World Cup?")
    assert answer.status == "abstained" and answer.answer is None and answer.citations == ()
    assert answer.message and "don't cover" in answer.message


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001, "who\x00 makes it", "bell\x07"])
def test_bad_questions_are_rejected(fake_service: QAService, question: str) -> None:
    with pytest.raises(InvalidQuestionError):
        fake_service.ask(question)


def test_follow_up_uses_the_previous_turn(fake_service: QAService) -> None:
    history = [Turn("Who makes the TB2?", "Baykar")]
    query = fake_service.retrieval_query("Where did they open a factory?", history)
    assert "Baykar" in query
    answer = fake_service.ask("Where did they open a factory?", history=history)
    assert any("factory" in hit.chunk.text and "Kyiv" in hit.chunk.text for hit in answer.hits[:2])


def test_asking_without_an_index_says_to_ingest(fake_settings) -> None:  # type: ignore[no-untyped-def]
    from qa import HashingEmbedder

    with pytest.raises(IndexNotReadyError, match="qa ingest"):
        QAService(fake_settings, embedder=HashingEmbedder()).ask("Who makes the TB2?")


def test_documents_are_served_from_the_index(fake_service: QAService) -> None:
    (document,) = fake_service.documents()
    assert fake_service.document(document.id).text.startswith("\n\nUkrainian President")
    from qa import DocumentNotFoundError

    with pytest.raises(DocumentNotFoundError):
        fake_service.document("../../etc/passwd")


def test_the_answerer_reads_reader_passages_chunks_and_the_answer_lists_top_k(fake_settings) -> None:  # type: ignore[no-untyped-def]
    from collections.abc import Iterator, Sequence

    from qa import HashingEmbedder
    from qa.answering import BaseAnswerer
    from qa.schema import Draft, Hit

    class Recording(BaseAnswerer):
        name = "recording"
        threshold = None

        def __init__(self) -> None:
            self.seen: list[int] = []

        def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
            self.seen.append(len(hits))
            yield Draft.abstain()

    answerer = Recording()
    settings = fake_settings.model_copy(update={"top_k": 1, "reader_passages": 3})
    service = QAService(settings, embedder=HashingEmbedder(), answerer=answerer)
    service.ingest()
    assert len(service.search("Who makes the TB2 drone?", top_k=3)) == 3
    answer = service.ask("Who makes the TB2 drone?")
    assert answerer.seen[-1] == 3 and len(answer.hits) == 1
    answer = service.ask("Who makes the TB2 drone?", top_k=2)  # asking for more lists more, reads no fewer
    assert answerer.seen[-1] == 3 and len(answer.hits) == 2
