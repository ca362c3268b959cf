"""Follow-up questions: fold the previous turn into the retrieval query when the question leans on it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.schema import Turn

# Words that point back to something said earlier ("Where did *they* open a factory?").
_REFERRING = re.compile(
    r"\b(they|them|their|theirs|it|its|he|him|his|she|her|hers|this|that|these|those|there|the company|the same)\b",
    re.IGNORECASE,
)
_SHORT_QUESTION_WORDS = 4


def is_follow_up(question: str) -> bool:
    """True when the question refers back (pronouns) or is too short to stand alone."""
    return bool(_REFERRING.search(question)) or len(question.split()) <= _SHORT_QUESTION_WORDS


def condense(question: str, history: Sequence[Turn]) -> str:
    """A standalone retrieval query: the question plus the last turn when it is a follow-up.

    The offline path has no language model to rewrite the question, so it appends the previous
    question and answer; retrieval then finds passages about both (e.g. "Baykar" + "factory").
    """
    if not history or not is_follow_up(question):
        return question
    last = history[-1]
    context = " ".join(part for part in (last.question, last.answer) if part)
    return f"{question} {context}".strip()


def bound_history(history: Sequence[Turn], *, max_turns: int, max_chars: int) -> list[Turn]:
    """The newest turns that fit both bounds (older ones are dropped, as a chat model's context does).

    A turn counts its question and answer characters. When the newest turn alone is too long, its
    question is kept without the answer if that fits.
    """
    kept: list[Turn] = []
    budget = max_chars
    for turn in reversed(history[-max_turns:] if max_turns else []):
        size = len(turn.question) + len(turn.answer or "")
        if size > budget:
            if not kept and len(turn.question) <= budget:
                kept.append(Turn(question=turn.question, answer=None))
            break
        kept.append(turn)
        budget -= size
    return kept[::-1]
