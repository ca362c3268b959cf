"""qa.sessions.chat: one conversation object with one set of history limits for every front end."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from qa import QAService, Settings
from qa.errors import SessionError
from qa.feedback.log import AnswerLog
from qa.schema import StreamEvent, Turn
from qa.sessions import SQLiteSessionStore
from qa.sessions.chat import Chat


class Spy(QAService):
    """The fast service, remembering the history each question was asked with."""

    seen: list[list[Turn]]

    def ask_stream(
        self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = ()
    ) -> Iterator[StreamEvent]:
        self.seen.append(list(history))
        return super().ask_stream(question, top_k=top_k, history=history)


@pytest.fixture
def spy(fake_settings: Settings) -> Spy:
    from qa import HashingEmbedder

    service = Spy(fake_settings.model_copy(update={"abstain_threshold": 0.3}), embedder=HashingEmbedder())
    service.seen = []
    service.ingest()
    return service


def test_follow_ups_use_the_last_answered_turn_and_turns_are_saved(spy: Spy) -> None:
    sessions = SQLiteSessionStore(None, ttl_s=60)
    chat = Chat(sessions, AnswerLog(None), max_turns=10, max_chars=8000)
    conversation = chat.open(None, owner="k1", collection="default")
    first = chat.ask(spy, "Who makes the TB2?", conversation, owner="k1", collection="default")
    assert first.answer == "Baykar"
    conversation = chat.open(conversation.session_id, owner="k1", collection="default")
    assert chat.ask(spy, "What is the capital of France?", conversation, owner="k1", collection="default").status == (
        "abstained"
    )
    conversation = chat.open(conversation.session_id, owner="k1", collection="default")
    chat.ask(spy, "Where did they open a factory?", conversation, owner="k1", collection="default")
    # The abstention is saved but left out: the follow-up leans on the answered turn.
    assert [t.question for t in sessions.history(conversation.session_id)] == [
        "Who makes the TB2?", "What is the capital of France?", "Where did they open a factory?",
    ]  # fmt: skip
    assert spy.seen[-1] == [Turn("Who makes the TB2?", "Baykar")]
    transcript = chat.transcript(conversation.session_id, owner="k1", collections=None)
    assert [a["question"] for a in transcript] == [
        "Who makes the TB2?", "What is the capital of France?", "Where did they open a factory?",
    ]  # fmt: skip


def test_another_keys_or_collections_session_is_unknown(spy: Spy) -> None:
    chat = Chat(SQLiteSessionStore(None, ttl_s=60), AnswerLog(None), max_turns=10, max_chars=8000)
    conversation = chat.open(None, owner="k1", collection="default")
    chat.ask(spy, "Who makes the TB2?", conversation, owner="k1", collection="default")
    for owner, collection in (("k2", "default"), ("k1", "hr")):
        with pytest.raises(SessionError):
            chat.open(conversation.session_id, owner=owner, collection=collection)
    assert chat.open(conversation.session_id, owner="k2", collection="default", missing="new").history == ()
    with pytest.raises(SessionError):
        chat.transcript(conversation.session_id, owner="k2", collections=None)
    with pytest.raises(SessionError):
        chat.transcript(conversation.session_id, owner="k1", collections=frozenset({"hr"}))


def test_one_set_of_limits_bounds_every_history() -> None:
    chat = Chat.from_settings(Settings(_env_file=None, max_history_turns=2), SQLiteSessionStore(None, ttl_s=60))  # type: ignore[call-arg]
    history = [Turn(f"q{i}", f"a{i}") for i in range(5)] + [Turn("q5", None)]
    assert chat.bound(history) == [Turn("q3", "a3"), Turn("q4", "a4")]
