"""End to end with the real bundled model: answers, follow-ups and the OpenAI client over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from api import create_app
from qa import QAService
from tests.support import BAYKAR_QUOTE, KYIV_PASSAGE, LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def real_server(real_service: QAService, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    return serve(create_app(service=real_service))


def test_ask_who_makes_the_tb2(real_server: LiveServer) -> None:
    body = httpx.post(f"{real_server.url}/api/ask", json={"question": "Who makes the TB2?"}, timeout=120).json()
    assert "Baykar" in (body["answer"] or "") or "Baykar" in (body["sentence"] or "")
    assert BAYKAR_QUOTE in body["citations"][0]["quote"]


def test_chat_follow_up_retrieves_the_kyiv_factory(real_server: LiveServer) -> None:
    first = httpx.post(f"{real_server.url}/api/chat", json={"message": "Who makes the TB2?"}, timeout=120).json()
    follow = httpx.post(
        f"{real_server.url}/api/chat",
        json={"message": "Where did they open a factory?", "session_id": first["session_id"], "include_hits": True},
        timeout=120,
    ).json()
    assert "TB2" in follow["retrieval_query"]
    assert KYIV_PASSAGE in follow["hits"][0]["text"]
    if follow["status"] == "answered":
        assert "Kyiv" in (follow["sentence"] or follow["answer"])


def test_openai_client_stream_and_not(real_server: LiveServer) -> None:
    client = OpenAI(base_url=f"{real_server.url}/v1", api_key="unused", max_retries=0, timeout=120)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Who makes the TB2?"}]
    completion = client.chat.completions.create(model="seed-qa", messages=messages)
    content = completion.choices[0].message.content or ""
    assert "Baykar" in content and content.endswith("[1]")
    chunks = list(client.chat.completions.create(model="seed-qa", messages=messages, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == content
    assert chunks[-1].model_extra["citations"][0]["start"] == completion.model_extra["citations"][0]["start"]  # type: ignore[index]
