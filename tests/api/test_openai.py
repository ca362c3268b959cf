"""The official openai client against /v1/chat/completions, streaming and not."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

from qa import QAService, Turn
from tests.support import BAYKAR_QUOTE, LiveServer


@pytest.fixture
def oai(live_server: LiveServer) -> OpenAI:
    return OpenAI(base_url=f"{live_server.url}/v1", api_key="unused", max_retries=0, timeout=30)


def test_models_lists_one_model(oai: OpenAI) -> None:
    assert [m.id for m in oai.models.list()] == ["seed-qa"]


def test_completion_has_markers_and_citations(oai: OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="seed-qa", messages=[{"role": "user", "content": "Who makes the TB2?"}]
    )
    assert completion.choices[0].message.content == "Baykar [1]"
    assert completion.choices[0].finish_reason == "stop"
    citations = completion.model_extra["citations"]  # type: ignore[index]
    assert citations[0]["n"] == 1 and BAYKAR_QUOTE in citations[0]["quote"]


def test_abstention_says_the_documents_do_not_cover_it(oai: OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="seed-qa", messages=[{"role": "user", "content": "What is the capital of France?"}]
    )
    assert completion.choices[0].message.content == "The documents don't cover this."
    assert completion.model_extra["citations"] == []  # type: ignore[index]


def test_a_model_that_is_no_collection_is_404(oai: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="No collection is named 'anything'"):
        oai.chat.completions.create(model="anything", messages=[{"role": "user", "content": "Who makes the TB2?"}])


def test_streaming_completion(oai: OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="seed-qa", messages=[{"role": "user", "content": "Who makes the TB2?"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Baykar [1]"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert BAYKAR_QUOTE in chunks[-1].model_extra["citations"][0]["quote"]  # type: ignore[index]


def test_messages_are_the_conversation(oai: OpenAI, api_service: QAService, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, list[Turn]]] = []
    ask_stream = api_service.ask_stream

    def spy(question: str, **kwargs: Any) -> Any:
        seen.append((question, list(kwargs.get("history", ()))))
        return ask_stream(question, **kwargs)

    monkeypatch.setattr(api_service, "ask_stream", spy)
    oai.chat.completions.create(
        model="seed-qa",
        messages=[
            {"role": "system", "content": "Answer from the documents."},
            {"role": "user", "content": "Who makes the TB2?"},
            {"role": "assistant", "content": "Baykar [1]"},
            {"role": "user", "content": "Is it armed?"},
            {"role": "assistant", "content": "The documents don't cover this."},
            {"role": "user", "content": [{"type": "text", "text": "Where did they open a factory?"}]},
        ],
        extra_body={"top_k": 3},
    )
    # Markers are stripped from earlier answers; an abstained turn is left out, so the follow-up
    # leans on the last answered one.
    assert seen == [("Where did they open a factory?", [Turn("Who makes the TB2?", "Baykar")])]


def test_last_message_must_be_the_users(oai: OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError):
        oai.chat.completions.create(
            model="seed-qa",
            messages=[{"role": "user", "content": "Who makes the TB2?"}, {"role": "assistant", "content": "Baykar"}],
            stream=True,
        )


def test_invalid_question_is_a_422_the_client_raises(oai: OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as info:
        oai.chat.completions.create(model="seed-qa", messages=[{"role": "user", "content": ""}])
    assert info.value.body["code"] == "invalid_question"  # type: ignore[index]
