"""The generative path against a real llama.cpp server (llama-cpp-python) serving SmolLM2-135M.

The model is tiny and often wrong, so these tests assert the plumbing a user relies on: the
request reaches a real OpenAI-compatible server, markers come back parsed and renumbered,
streaming works, citations are checked, condensation goes through the LLM, a stopped server
falls back to the offline answer, and nothing takes unbounded time. Not the model's knowledge.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa import Answer, Draft, HashingEmbedder, QAService, Settings, Turn
from qa.answering.generative import GenerativeAnswerer
from tests.llm.conftest import LlamaServer, require_llama_cpp

pytestmark = pytest.mark.llm

QUESTIONS = [
    "Which company manufactures the Bayraktar TB2 drone?",
    "Where did Zelensky meet Erdogan?",
    "What is the capital of Peru?",
]
TIMEOUT_S = 120.0  # generous: CI's 2 cores may be busy; the bound is what is tested


@pytest.fixture
def llama_service(fake_settings: Settings, llama_server: LlamaServer) -> QAService:
    settings = fake_settings.model_copy(
        update={"llm_base_url": llama_server.base_url, "llm_model": "smollm2", "llm_timeout_s": TIMEOUT_S}
    )
    service = QAService(settings, embedder=HashingEmbedder())
    service.ingest()
    answerer = service.answerer
    assert isinstance(answerer, GenerativeAnswerer)
    answerer.max_tokens = 120  # a tiny model rambles to the limit; fewer tokens keep the suite quick
    return service


def assert_well_formed(answer: Answer, service: QAService) -> None:
    """Whatever the model said: a generative answer whose citations are checked, exact quotes."""
    assert answer.mode == "generative", answer.message  # not a fallback: the server answered
    if answer.status == "abstained":
        assert answer.answer is None and answer.citations == ()
        return
    assert answer.answer
    assert any(c.supported for c in answer.citations)
    for citation in answer.citations:
        assert isinstance(citation.supported, bool)
        assert service.document(citation.doc_id).text[citation.start : citation.end] == citation.quote
    markers = {int(n) for group in re.findall(r"\[([\d, ]+)\]", answer.answer) for n in group.split(",")}
    assert markers == set(range(1, len(answer.citations) + 1))


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_come_back_checked(llama_service: QAService, question: str) -> None:
    started = time.monotonic()

    answer = llama_service.ask(question)

    assert time.monotonic() - started < 2 * TIMEOUT_S + 5
    assert_well_formed(answer, llama_service)


def test_answers_stream_then_end_with_the_checked_draft(llama_service: QAService) -> None:
    answerer = llama_service.answerer
    assert isinstance(answerer, GenerativeAnswerer)
    question = QUESTIONS[0]

    *deltas, final = list(answerer.answer_stream(question, llama_service.search(question)))

    assert isinstance(final, Draft) and final.mode == "generative", getattr(final, "note", None)
    assert all(isinstance(d, str) for d in deltas)
    if not final.abstained:
        assert len(deltas) > 1
        assert "".join(str(d) for d in deltas) == final.answer


def test_a_follow_up_is_condensed_through_the_server(llama_service: QAService, monkeypatch: pytest.MonkeyPatch) -> None:
    answerer = llama_service.answerer
    assert isinstance(answerer, GenerativeAnswerer)
    calls: list[dict[str, Any]] = []
    create = answerer._client.chat.completions.create

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return create(**kwargs)

    monkeypatch.setattr(answerer._client.chat.completions, "create", spy)
    history = [Turn("Which company manufactures the Bayraktar TB2 drone?", "Baykar")]

    query = llama_service.retrieval_query("Where did they open a factory?", history)

    assert len(calls) == 1 and "standalone" in calls[0]["messages"][0]["content"]
    assert query.strip()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LlamaServer]:
    require_llama_cpp()
    server = LlamaServer(tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


def test_a_stopped_server_falls_back_to_the_offline_answer(fake_settings: Settings, own_server: LlamaServer) -> None:
    settings = fake_settings.model_copy(
        update={"llm_base_url": own_server.base_url, "llm_model": "smollm2", "llm_timeout_s": TIMEOUT_S}
    )
    service = QAService(settings, embedder=HashingEmbedder())
    service.ingest()
    assert service.ask(QUESTIONS[0]).mode == "generative"

    own_server.stop()
    started = time.monotonic()
    answer = service.ask(QUESTIONS[0])

    assert time.monotonic() - started < 10  # refused connections fail fast; only the retries' backoff waits
    assert answer.mode == "extractive"
    assert answer.message is not None and answer.message.startswith("LLM unavailable (connection error)")
