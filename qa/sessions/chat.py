"""``Chat``: the one way every front end holds a conversation.

It continues a session (refusing one that belongs to another key or collection), bounds the
history with the one set of limits (``QA_MAX_HISTORY_TURNS``, ``QA_MAX_HISTORY_CHARS``) for the
HTTP chat, ``/v1``, Slack and ``qa chat`` alike, asks, then saves the turn and logs the answer
(``qa.feedback.log``). A follow-up leans on the last *answered* turn: abstentions are left out of
the history, so one unanswered question does not make the next one abstain too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Literal

from qa.answering.conversation import bound_history
from qa.config import Settings
from qa.feedback.log import AnswerLog
from qa.schema import Answer, StreamEvent, Turn, final_answer
from qa.service import QAService
from qa.sessions.base import Conversation, SessionStore, continue_session, unknown_session


class Chat:
    """Sessions, their limits and the answer log, shared by every front end of one process."""

    def __init__(self, sessions: SessionStore, log: AnswerLog | None = None, *, max_turns: int, max_chars: int) -> None:
        self.sessions = sessions
        self.log = log
        self.max_turns = max_turns
        self.max_chars = max_chars

    @classmethod
    def from_settings(cls, settings: Settings, sessions: SessionStore, log: AnswerLog | None = None) -> Chat:
        """A chat with the configured history limits."""
        return cls(sessions, log, max_turns=settings.max_history_turns, max_chars=settings.max_history_chars)

    def bound(self, history: Sequence[Turn]) -> list[Turn]:
        """The answered turns that fit the limits, newest kept."""
        answered = [turn for turn in history if turn.answer is not None]
        return bound_history(answered, max_turns=self.max_turns, max_chars=self.max_chars)

    def open(
        self,
        session_id: str | None,
        *,
        owner: str,
        collection: str,
        missing: Literal["raise", "new"] = "raise",
        accepts: Callable[[str], bool] | None = None,
    ) -> Conversation:
        """The conversation to continue; another key's or collection's session is unknown (404) here."""
        if session_id is not None and self.log is not None:
            logged = self.log.session_owner(session_id)
            if logged is not None and logged != (owner, collection):
                if missing == "raise":
                    raise unknown_session(session_id)
                return Conversation(session_id)
        return continue_session(self.sessions, session_id, missing=missing, accepts=accepts)

    def ask(
        self,
        service: QAService,
        question: str,
        conversation: Conversation | None,
        *,
        owner: str,
        collection: str,
        top_k: int | None = None,
    ) -> Answer:
        """Answer with the conversation's bounded history, then save the turn (no conversation: only log)."""
        return final_answer(
            self.ask_stream(service, question, conversation, owner=owner, collection=collection, top_k=top_k)
        )

    def ask_stream(
        self,
        service: QAService,
        question: str,
        conversation: Conversation | None,
        *,
        owner: str,
        collection: str,
        top_k: int | None = None,
        history: Sequence[Turn] | None = None,
    ) -> Iterator[StreamEvent]:
        """``service.ask_stream`` events; the turn is saved before ``done`` is passed on.

        ``history`` replaces the conversation's (``/v1`` sends its own messages); it is bounded too.
        """
        turns = history if history is not None else (conversation.history if conversation else ())
        for event in service.ask_stream(question, top_k=top_k, history=self.bound(turns)):
            if isinstance(event.data, Answer):
                self.save(service, event.data, conversation, owner=owner, collection=collection)
            yield event

    def save(
        self, service: QAService, answer: Answer, conversation: Conversation | None, *, owner: str, collection: str
    ) -> None:
        """Append the turn to the session (if any) and log the whole answer."""
        if conversation is not None:
            self.sessions.append(conversation.session_id, Turn(question=answer.question, answer=answer.answer))
        if self.log is not None:
            manifest = service.manifest
            self.log.record(
                answer,
                owner=owner,
                collection=collection,
                session_id=conversation.session_id if conversation else None,
                generation=manifest.generation,
                file_hashes=manifest.files,
            )

    def transcript(self, session_id: str, *, owner: str, collections: frozenset[str] | None) -> list[dict[str, object]]:
        """The answers of one of ``owner``'s sessions, oldest first (404 for anyone else's)."""
        logged = self.log.session_owner(session_id) if self.log else None
        if (
            self.log is None
            or logged is None
            or logged[0] != owner
            or (collections is not None and logged[1] not in collections)
        ):
            raise unknown_session(session_id)
        return [{**row.answer, "collection": row.collection} for row in self.log.answers(session_id=session_id)]
