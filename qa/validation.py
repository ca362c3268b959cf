"""Checks on user input shared by every front end."""

from __future__ import annotations

import unicodedata

from qa.errors import InvalidQuestionError

DEFAULT_MAX_QUESTION_CHARS = 2000


def validate_question(
    question: object, *, max_chars: int = DEFAULT_MAX_QUESTION_CHARS, name: str = "The question"
) -> str:
    """Return the stripped question or raise InvalidQuestionError saying what to fix.

    ``name`` starts each message, so a check on an earlier chat message can say which one it was.
    """
    if not isinstance(question, str):
        raise InvalidQuestionError(f"{name} must be a string, got {type(question).__name__}.")
    text = question.strip()
    if not text:
        raise InvalidQuestionError(f"{name} is empty. Ask something about your documents.")
    if len(text) > max_chars:
        raise InvalidQuestionError(f"{name} is {len(text)} characters long; the limit is {max_chars}. Shorten it.")
    check_control_characters(text, name=name)
    return text


def check_control_characters(text: str, *, name: str = "The question") -> None:
    """Raise InvalidQuestionError when ``text`` holds control characters other than tab and newlines."""
    bad = sorted({f"U+{ord(ch):04X}" for ch in text if _is_forbidden_control(ch)})
    if bad:
        raise InvalidQuestionError(
            f"{name} contains control characters ({', '.join(bad[:5])}). Remove them and ask again."
        )


def _is_forbidden_control(ch: str) -> bool:
    # Tabs and newlines are ordinary whitespace in a pasted question; other controls are not.
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cs")
