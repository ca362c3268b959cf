"""What the reader returns for one passage: a frozen dataclass, importable without torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpanPrediction:
    """Best span in one passage. ``start``/``end`` are character offsets in that passage.

    A passage with no valid span has ``text == ""`` and ``score == -inf``. ``alternatives`` are the
    reader's next-best spans of the same passage, best first, none overlapping a better one (the
    other name in "Sofia (Head of Product), Daniel (Head of Engineering)"): the answerer weighs
    them with their type and terms. Empty when the reader was asked for the best span only.
    """

    passage_index: int
    start: int
    end: int
    text: str
    score: float  # start_logit + end_logit of the span
    no_answer_score: float  # [CLS] start+end logit (min over the passage's windows)
    alternatives: tuple[SpanPrediction, ...] = ()

    @property
    def margin(self) -> float:
        """How far the span beats the passage's own "no answer" (logit units)."""
        return self.score - self.no_answer_score
