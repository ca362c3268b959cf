"""Metric functions: SQuAD answer scores, citation and retrieval judgments, aggregates.

Definitions (docs/EVALUATION.md has the long form):

- exact match / F1: the official SQuAD scripts' normalisation (lower-case, drop punctuation,
  the articles a/an/the and extra whitespace), max over the accepted answers. An abstention
  scores as the empty answer, so it is right on an unanswerable question (SQuAD 2.0 rule).
- answer correct: exact match, or a normalised accepted answer found, as whole words, in the
  normalised answer.
- a citation is correct when its span overlaps a gold span in the same source, or its quote
  contains a gold quote (whitespace and case ignored).
- a retrieved chunk is relevant on the same terms; each gold passage counts once.
"""

from __future__ import annotations

import collections
import math
import re
import string
from collections.abc import Sequence

from qa.evaluation.testset import GoldEvidence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, strip punctuation, articles and extra whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised accepted answer (``[""]`` if none)."""
    golds = list(gold) or [""]
    return float(max(normalize_answer(prediction) == normalize_answer(g) for g in golds))


def f1_score(prediction: str, gold: Sequence[str]) -> float:
    """Token-overlap F1 against the best accepted answer, as the SQuAD script computes it."""
    return max(_f1(prediction, g) for g in (list(gold) or [""]))


def _f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)  # both empty: right; one empty: wrong
    common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def answer_correct(prediction: str | None, gold: Sequence[str]) -> bool:
    """Exact match, or an accepted answer contained (as whole words) in the prediction."""
    if not prediction or not gold:
        return False
    if exact_match(prediction, gold):
        return True
    padded = f" {normalize_answer(prediction)} "
    return any(alias and f" {alias} " in padded for alias in map(normalize_answer, gold))


def spans_overlap(start: int, end: int, other_start: int, other_end: int) -> bool:
    """Whether two half-open character spans share at least one character."""
    return start < other_end and other_start < end


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def matches_evidence(source: str, start: int, end: int, text: str, gold: GoldEvidence) -> bool:
    """Whether a cited or retrieved span (``text`` == its characters) matches one gold passage."""
    if gold.source is not None and gold.source != source:
        return False
    if gold.has_span and spans_overlap(start, end, gold.start, gold.end):  # type: ignore[arg-type]
        return True
    return gold.quote is not None and _squash(gold.quote) in _squash(text)


def gold_items(evidence: Sequence[GoldEvidence]) -> list[list[GoldEvidence]]:
    """Gold passages grouped so overlapping spans of one source count as one item."""
    items: list[list[GoldEvidence]] = []
    for gold in evidence:
        for item in items:
            if gold.has_span and any(
                other.has_span
                and other.source == gold.source
                and spans_overlap(gold.start, gold.end, other.start, other.end)  # type: ignore[arg-type]
                for other in item
            ):
                item.append(gold)
                break
        else:
            items.append([gold])
    return items


def ranking_gains(ranked: Sequence[tuple[str, int, int, str]], evidence: Sequence[GoldEvidence]) -> list[float]:
    """Gain of each ranked ``(source, start, end, text)``: the relevance of gold items it finds first."""
    items = gold_items(evidence)
    found = [False] * len(items)
    gains = []
    for source, start, end, text in ranked:
        gain = 0.0
        for i, item in enumerate(items):
            if not found[i] and any(matches_evidence(source, start, end, text, gold) for gold in item):
                found[i] = True
                gain = max(gain, float(max(gold.relevance for gold in item)))
        gains.append(gain)
    return gains


def ideal_gains(evidence: Sequence[GoldEvidence]) -> list[float]:
    """The best possible gains: each gold item's relevance, highest first."""
    return sorted((float(max(g.relevance for g in item)) for item in gold_items(evidence)), reverse=True)


def ndcg(gains: Sequence[float], ideal: Sequence[float], k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` (linear gains, log2 discount)."""

    def dcg(values: Sequence[float]) -> float:
        return sum(v / math.log2(rank + 1) for rank, v in enumerate(values[:k], start=1))

    best = dcg(ideal)
    return dcg(gains) / best if best > 0 else 0.0


def first_relevant_rank(gains: Sequence[float]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    return next((rank for rank, gain in enumerate(gains, start=1) if gain > 0), None)


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when nothing was counted (undefined, not zero)."""
    return numerator / denominator if denominator else None


def prf(true_positive: int, predicted: int, actual: int) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 from counts; None where undefined."""
    precision, recall = ratio(true_positive, predicted), ratio(true_positive, actual)
    if precision is None or recall is None:
        return precision, recall, None
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation, as numpy's default), or None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
