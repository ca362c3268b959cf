"""The extractive reader judged on its own, SQuAD 2.0 style (scripts/eval_reader.py, the reader tests).

For each passage ``margin = best span score - that passage's no-answer score`` (logit units); the
passage with the largest margin gives the answer, and ``confidence = sigmoid(margin)`` in (0, 1).
Alone, the reader abstains below the threshold calibrated on held-out unanswerable questions
(``reader_config.json`` ``threshold``, written by ``scripts.eval_reader --write-threshold``). The
product does not use this: ``qa.answering.ReaderAnswerer`` scores spans with its own answer model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answering.extractive import READER_DECISION
from qa.reader.prediction import SpanPrediction

#: The 7 SQuAD 2.0 dev articles no reader training run sees: every reader figure is measured on them.
HELD_OUT_ARTICLES = (
    "Islamism",
    "Imperialism",
    "Warsaw",
    "French_and_Indian_War",
    "Force",
    "Rhine",
    "Scottish_Parliament",
)

# The reader-alone threshold before calibration: "the span beats no answer".
DEFAULT_THRESHOLD = READER_DECISION


def has_answer_confidence(span_score: float, no_answer_score: float) -> float:
    """``sigmoid(span_score - no_answer_score)``: calibrated-ish probability that there is an answer."""
    x = span_score - no_answer_score
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class BestAnswer:
    """Best span across passages with the has-answer confidence (``sigmoid(margin)``)."""

    span: SpanPrediction | None
    margin: float  # best span score - no-answer score of the same passage
    confidence: float  # sigmoid(margin)


def best_answer(predictions: Sequence[SpanPrediction]) -> BestAnswer:
    """Pick the passage whose best span beats its own no-answer score by the most.

    Both scores come from the same passage, so an unrelated passage cannot drag the confidence of
    a good one down. With no predictions (or no valid span), ``span`` is ``None`` and confidence 0.
    """
    spans = [p for p in predictions if p.text]
    if not spans:
        return BestAnswer(None, float("-inf"), 0.0)
    best = max(spans, key=lambda p: (p.margin, p.score))
    return BestAnswer(best, best.margin, has_answer_confidence(best.score, best.no_answer_score))
