"""Abstention sweep: precision/recall of abstaining on unanswerable questions per threshold.

Run the answerer once with ``abstain_threshold=0`` (nothing abstains on confidence), then
replay each threshold: a question abstains at ``t`` when it already abstained (no sentence,
or no number/date for a number/date question) or its confidence is below ``t``.

The best threshold maximises overall accuracy: answerable questions answered correctly plus
unanswerable questions abstained on, over all questions (the rule of the official SQuAD 2.0
script's best threshold). Ties go to the higher abstention F1, then to the lower threshold.
Abstention F1 alone is not the criterion: on a set that is half unanswerable, abstaining on
everything already scores F1 = 2p/(1+p) (0.69 at p = 0.53), so its maximum sits at "answer
almost nothing".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.evaluation.metrics import prf
from qa.evaluation.results import QuestionRow


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """Abstention quality if the answerer abstained below ``threshold``."""

    threshold: float
    precision: float | None
    recall: float | None
    f1: float | None
    overall_accuracy: float
    answered_share: float


def default_thresholds(step: float = 0.01) -> list[float]:
    """0.00, 0.01, ... 1.00."""
    return [round(i * step, 6) for i in range(round(1 / step) + 1)]


def sweep(rows: Sequence[QuestionRow], thresholds: Sequence[float] | None = None) -> list[SweepPoint]:
    """One SweepPoint per threshold, replaying abstention over the rows' confidences."""
    unanswerable = sum(not r.answerable for r in rows)
    points = []
    for threshold in thresholds or default_thresholds():
        abstains = [r.status == "abstained" or r.confidence < threshold for r in rows]
        true_positive = sum(a and not r.answerable for a, r in zip(abstains, rows, strict=True))
        precision, recall, f1 = prf(true_positive, sum(abstains), unanswerable)
        right = sum(
            (a and not r.answerable) or (not a and r.answerable and bool(r.correct))
            for a, r in zip(abstains, rows, strict=True)
        )
        points.append(
            SweepPoint(
                threshold=threshold,
                precision=precision,
                recall=recall,
                f1=f1,
                overall_accuracy=right / len(rows) if rows else 0.0,
                answered_share=1 - sum(abstains) / len(rows) if rows else 0.0,
            )
        )
    return points


def best_point(points: Sequence[SweepPoint]) -> SweepPoint | None:
    """The point with the best overall accuracy (ties: higher abstention F1, then lower threshold)."""
    scored = [p for p in points if p.f1 is not None]
    if not scored:
        return None
    return max(scored, key=lambda p: (round(p.overall_accuracy, 9), round(p.f1 or 0.0, 9), -p.threshold))
