"""``AnswerModel``: a logistic model over named features with an abstention threshold.

The span model (``qa.answering.extractive.READ_FEATURES``) and the sentence model
(``qa.answering.sentence_choice.SENTENCE_FEATURES``) are both one of these, fitted by
scripts/calibrate_answerer.py and stored in the reader's ``reader_config.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnswerModel:
    """Logistic weights over a feature tuple and the abstention threshold on the probability it gives."""

    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, features: Sequence[float]) -> float:
        """P(right) for one candidate's features."""
        z = self.intercept + sum(w * x for w, x in zip(self.coef, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
