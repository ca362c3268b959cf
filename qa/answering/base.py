"""The ``Answerer`` protocol and ``BaseAnswerer``, which derives ``answer()`` from ``answer_stream()``.

An answerer's one primitive is ``answer_stream(question, hits)``: pieces of answer text as they
are written (an LLM), then the final ``Draft`` as the last item. An answerer that computes its
answer at once yields the Draft alone; the service then replays its text in pieces.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from qa.answering.conversation import condense as offline_condense
from qa.errors import QAError
from qa.schema import Draft, Hit, Turn


class Answerer(Protocol):
    """Turns a question and its retrieved hits into a Draft, streamed or at once."""

    name: str

    @property
    def threshold(self) -> float | None:
        """The score below which it abstains; None when no score decides (the LLM abstains itself)."""
        ...

    def answer(self, question: str, hits: Sequence[Hit]) -> Draft:
        """Answer from ``hits`` only; abstain (``Draft.abstained``) when they do not say."""
        ...

    def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
        """Pieces of the answer text as they are written, then the final Draft (the last item)."""
        ...

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A follow-up ``question`` as a standalone retrieval query, given the conversation so far."""
        ...


class BaseAnswerer(ABC):
    """Answerer conveniences built on ``answer_stream``; subclasses set ``name`` and ``threshold``."""

    name: str

    @abstractmethod
    def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
        """Pieces of the answer text as they are written, then the final Draft (the last item)."""

    def answer(self, question: str, hits: Sequence[Hit]) -> Draft:
        """The final Draft of ``answer_stream`` (its text pieces are dropped)."""
        return final_draft(self.answer_stream(question, hits))

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The offline rewrite: the question plus the last turn when it leans on it."""
        return offline_condense(question, history)


def final_draft(events: Iterable[str | Draft]) -> Draft:
    """The Draft that ends an answer stream (its text pieces are dropped)."""
    draft: Draft | None = None
    for item in events:
        if isinstance(item, Draft):
            draft = item
    if draft is None:
        raise missing_draft()
    return draft


def missing_draft() -> QAError:
    """The error for an answer stream that ends without its Draft."""
    return QAError("The answerer's stream ended without a final answer; check the answerer's answer_stream.")
