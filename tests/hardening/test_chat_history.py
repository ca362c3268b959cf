"""``/v1/chat/completions`` checks every message, not just the last (issue 14, item 7).

The review sent a 48,010-character earlier user message full of control characters: it was
accepted and went on to retrieval, while the same text as the last message was a 422. Now every
user message gets the last message's checks, assistant messages are checked for control
characters and length, and only the newest turns within QA_MAX_HISTORY_TURNS and
QA_MAX_HISTORY_CHARS reach retrieval and the answerer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.models import ChatMessage
from api.routes.completions import conversation_from_messages, strip_citation_markers
from qa import HashingEmbedder, QAService
from qa.answering.conversation import bound_history
from qa.config import Settings
from qa.schema import StreamEvent, Turn
from qa.sessions import SQLiteSessionStore
from qa.sessions.chat import Chat
from tests.support import TB2_QUESTION, fast_settings

#: The review's message: 48,010 characters with control characters (and under the body limit).
REVIEW_MESSAGE = ("Who makes the TB2? " * 2600)[:48_000] + "\x01\x07\x1b" + "Baykar?"


class RecordingService(QAService):
    """The fast service, remembering the history each answer was given."""

    histories: list[Sequence[Turn]]

    def ask_stream(
        self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = ()
    ) -> Iterator[StreamEvent]:
        self.histories.append(list(history))
        return super().ask_stream(question, top_k=top_k, history=history)


@pytest.fixture
def recording(tmp_path: Path) -> RecordingService:
    settings = fast_settings(tmp_path)
    service = RecordingService(settings, embedder=HashingEmbedder())
    service.histories = []
    service.ensure_index()
    return service


@pytest.fixture
def client(recording: RecordingService) -> Iterator[TestClient]:
    with TestClient(create_app(service=recording)) as test_client:
        yield test_client


def post(client: TestClient, messages: list[dict[str, Any]]) -> Any:
    return client.post("/v1/chat/completions", json={"messages": messages})


def assert_refused(response: Any, *words: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_question" and set(error) <= {"code", "message", "request_id"}
    for word in words:
        assert word in error["message"], error["message"]


def test_the_reviews_earlier_message_is_refused_like_a_last_one(
    client: TestClient, recording: RecordingService
) -> None:
    assert len(REVIEW_MESSAGE) == 48_010
    earlier = post(
        client,
        [
            {"role": "user", "content": REVIEW_MESSAGE},
            {"role": "assistant", "content": "Baykar [1]"},
            {"role": "user", "content": "Where is it made?"},
        ],
    )
    last = post(client, [{"role": "user", "content": REVIEW_MESSAGE}])

    assert_refused(earlier, "messages[0] (user)", "48010", "2000")
    assert_refused(last, "48010", "2000")
    assert recording.histories == []  # nothing reached retrieval


@pytest.mark.parametrize(
    ("role", "content", "words"),
    [
        ("user", "Who makes\x00 the TB2?", ["messages[0] (user)", "U+0000"]),
        ("user", [{"type": "text", "text": "Who\x1b makes it?"}], ["messages[0] (user)", "U+001B"]),
        ("assistant", "Baykar\x07 [1]", ["messages[1] (assistant)", "U+0007"]),
        ("assistant", "Baykar " * 2000, ["messages[1] (assistant)", "14000", "QA_MAX_HISTORY_CHARS"]),
    ],
)
def test_earlier_messages_with_control_characters_or_too_long_are_refused(
    client: TestClient, recording: RecordingService, role: str, content: Any, words: list[str]
) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": TB2_QUESTION},
        {"role": "assistant", "content": "Baykar [1]"},
        {"role": "user", "content": "Where is it made?"},
    ]
    messages[0 if role == "user" else 1]["content"] = content

    assert_refused(post(client, messages), *words)
    assert recording.histories == []


def test_only_the_newest_turns_within_the_bounds_reach_the_answerer(
    client: TestClient, recording: RecordingService
) -> None:
    messages: list[dict[str, Any]] = []
    for i in range(40):
        messages += [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i} [1]"}]
    messages.append({"role": "user", "content": TB2_QUESTION})

    response = post(client, messages)

    assert response.status_code == 200, response.text
    (history,) = recording.histories
    limit = Settings.model_fields["max_history_turns"].default
    assert [turn.question for turn in history] == [f"Question {i}?" for i in range(40 - limit, 40)]
    assert history[-1].answer == "Answer 39"  # markers stripped


def test_history_is_bounded_by_characters_newest_first() -> None:
    history = [Turn("q" * 1000, "a" * 1000) for _ in range(10)]

    kept = bound_history(history, max_turns=10, max_chars=5000)

    assert len(kept) == 2 and kept == history[-2:]
    assert bound_history([Turn("q" * 100, "a" * 9000)], max_turns=10, max_chars=5000) == [Turn("q" * 100, None)]
    assert bound_history(history, max_turns=0, max_chars=5000) == []


def test_history_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_MAX_HISTORY_TURNS", "1")
    monkeypatch.setenv("QA_MAX_HISTORY_CHARS", "50")
    settings = Settings(_env_file=None)
    messages = [
        ChatMessage(role="user", content="First?"),
        ChatMessage(role="assistant", content="One."),
        ChatMessage(role="user", content="Second?"),
        ChatMessage(role="assistant", content="Two."),
        ChatMessage(role="user", content="Third?"),
    ]

    question, history = conversation_from_messages(messages, settings)
    chat = Chat.from_settings(settings, SQLiteSessionStore(None, ttl_s=60))
    assert question == "Third?" and chat.bound(history) == [Turn("Second?", "Two.")]
    long_answer = [messages[0], ChatMessage(role="assistant", content="x" * 51), messages[-1]]
    with pytest.raises(Exception, match="QA_MAX_HISTORY_CHARS"):
        conversation_from_messages(long_answer, settings)


@pytest.mark.parametrize(
    ("said", "plain"),
    [
        ("Baykar [1]", "Baykar"),
        ("Baykar [1][2]  ", "Baykar"),
        ("Baykar[12]", "Baykar"),
        ("Baykar [1] [2]", "Baykar [1]"),  # as before: only the markers right at the end
        ("Baykar [x]", "Baykar [x]"),
        ("[1]", ""),
        ("1]", "1]"),
        ("  plain  ", "plain"),
    ],
)
def test_citation_markers_are_stripped_as_before(said: str, plain: str) -> None:
    assert strip_citation_markers(said) == plain
