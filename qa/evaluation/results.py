"""Per-question rows (what one answer scored) and the aggregate metrics over them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.evaluation.metrics import (
    answer_correct,
    exact_match,
    f1_score,
    first_relevant_rank,
    ideal_gains,
    matches_evidence,
    ndcg,
    percentile,
    prf,
    ranking_gains,
    ratio,
)
from qa.evaluation.testset import EvalCase
from qa.schema import STAGES, Citation

RETRIEVAL_DEPTH = 10
HIT_AT = (1, 5, 10)
#: Metrics where lower is better (the rest: higher is better).
LOWER_IS_BETTER_PREFIX = "latency_"
#: Every metric a run can report (a retrieval-only run has no answer metrics).
ALL_METRICS = (
    "questions",
    "answerable",
    "unanswerable",
    "exact_match",
    "f1",
    "has_answer_exact_match",
    "has_answer_f1",
    "answer_accuracy",
    "overall_accuracy",
    "citation_precision",
    "citation_recall",
    "abstention_precision",
    "abstention_recall",
    "abstention_f1",
    "abstention_rate",
    *(f"hit@{k}" for k in HIT_AT),
    "mrr@10",
    "ndcg@10",
    *(f"latency_{stage}_{q}_ms" for stage in STAGES for q in ("p50", "p95")),
)


@dataclass(frozen=True, slots=True)
class CitationRow:
    """A citation of an answer and whether it matches gold evidence."""

    source: str
    start: int
    end: int
    quote: str
    correct: bool


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """What one question got and how it scored; None where a score does not apply."""

    id: str
    question: str
    type: str
    answerable: bool
    expected: tuple[str, ...]
    got: str | None
    status: str
    confidence: float
    citations: tuple[CitationRow, ...]
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    exact_match: float | None = None
    f1: float | None = None
    correct: bool | None = None
    first_relevant_rank: int | None = None
    ndcg10: float | None = None
    has_gold_evidence: bool = False


def score_question(
    case: EvalCase,
    *,
    status: str,
    answer: str | None,
    confidence: float,
    citations: Sequence[Citation],
    ranked: Sequence[tuple[str, int, int, str]],
    timings_ms: Mapping[str, float],
    retrieval_only: bool = False,
) -> QuestionRow:
    """Score one answer (or, ``retrieval_only``, one ranking) against its case."""
    has_gold = bool(case.evidence)
    gains = ranking_gains(ranked[:RETRIEVAL_DEPTH], case.evidence) if has_gold else []
    cited = tuple(
        CitationRow(
            c.source,
            c.start,
            c.end,
            c.quote,
            any(matches_evidence(c.source, c.start, c.end, c.quote, g) for g in case.evidence),
        )
        for c in citations
    )
    prediction = answer if status == "answered" and answer else ""
    scored = not retrieval_only
    return QuestionRow(
        id=case.id,
        question=case.question,
        type=case.type,
        answerable=case.answerable,
        expected=case.answers,
        got=answer if status == "answered" else None,
        status=status,
        confidence=confidence,
        citations=cited,
        timings_ms=dict(timings_ms),
        exact_match=exact_match(prediction, case.answers) if scored else None,
        f1=f1_score(prediction, case.answers) if scored else None,
        correct=(answer_correct(prediction, case.answers) if case.answerable else status == "abstained")
        if scored
        else None,
        first_relevant_rank=first_relevant_rank(gains) if has_gold else None,
        ndcg10=ndcg(gains, ideal_gains(case.evidence), RETRIEVAL_DEPTH) if has_gold else None,
        has_gold_evidence=has_gold,
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(rows: Sequence[QuestionRow], *, retrieval_only: bool = False) -> dict[str, float | None]:
    """The headline metrics over ``rows`` (see docs/EVALUATION.md for each definition)."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    metrics: dict[str, float | None] = {
        "questions": float(len(rows)),
        "answerable": float(len(answerable)),
        "unanswerable": float(len(unanswerable)),
    }
    if not retrieval_only:
        metrics["exact_match"] = _mean([r.exact_match or 0.0 for r in rows])
        metrics["f1"] = _mean([r.f1 or 0.0 for r in rows])
        metrics["has_answer_exact_match"] = _mean([r.exact_match or 0.0 for r in answerable])
        metrics["has_answer_f1"] = _mean([r.f1 or 0.0 for r in answerable])
        metrics["answer_accuracy"] = _mean([float(bool(r.correct)) for r in answerable])
        metrics["overall_accuracy"] = _mean([float(bool(r.correct)) for r in rows])
        judged = [r for r in answerable if r.has_gold_evidence]
        citations = [c for r in judged for c in r.citations]
        metrics["citation_precision"] = ratio(sum(c.correct for c in citations), len(citations))
        metrics["citation_recall"] = ratio(sum(any(c.correct for c in r.citations) for r in judged), len(judged))
        abstained = [r for r in rows if r.status == "abstained"]
        precision, recall, f1 = prf(sum(not r.answerable for r in abstained), len(abstained), len(unanswerable))
        metrics["abstention_precision"], metrics["abstention_recall"], metrics["abstention_f1"] = precision, recall, f1
        metrics["abstention_rate"] = ratio(len(abstained), len(rows))
    ranked = [r for r in rows if r.has_gold_evidence]
    if ranked:
        for k in HIT_AT:
            metrics[f"hit@{k}"] = _mean(
                [float(r.first_relevant_rank is not None and r.first_relevant_rank <= k) for r in ranked]
            )
        metrics["mrr@10"] = _mean([1 / r.first_relevant_rank if r.first_relevant_rank else 0.0 for r in ranked])
        metrics["ndcg@10"] = _mean([r.ndcg10 or 0.0 for r in ranked])
    for stage in STAGES:
        values = [r.timings_ms[stage] for r in rows if stage in r.timings_ms]
        if values:
            metrics[f"latency_{stage}_p50_ms"] = percentile(values, 50)
            metrics[f"latency_{stage}_p95_ms"] = percentile(values, 95)
    return metrics


def by_type(rows: Sequence[QuestionRow]) -> dict[str, dict[str, float | None]]:
    """Per question type: count, F1, exact match and answer accuracy of the answerable ones."""
    groups: dict[str, list[QuestionRow]] = {}
    for row in rows:
        if row.answerable and row.f1 is not None:
            groups.setdefault(row.type, []).append(row)
    return {
        name: {
            "questions": float(len(group)),
            "f1": _mean([r.f1 or 0.0 for r in group]),
            "exact_match": _mean([r.exact_match or 0.0 for r in group]),
            "answer_accuracy": _mean([float(bool(r.correct)) for r in group]),
        }
        for name, group in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    }


def row_to_dict(row: QuestionRow) -> dict[str, Any]:
    """A row as JSON (report.json's ``questions``)."""
    return {
        "id": row.id,
        "question": row.question,
        "type": row.type,
        "answerable": row.answerable,
        "expected": list(row.expected),
        "got": row.got,
        "status": row.status,
        "confidence": round(row.confidence, 4),
        "correct": row.correct,
        "exact_match": row.exact_match,
        "f1": None if row.f1 is None else round(row.f1, 4),
        "citation_correct": any(c.correct for c in row.citations) if row.citations else None,
        "first_relevant_rank": row.first_relevant_rank,
        "ndcg@10": None if row.ndcg10 is None else round(row.ndcg10, 4),
        "citations": [
            {"source": c.source, "start": c.start, "end": c.end, "quote": c.quote, "correct": c.correct}
            for c in row.citations
        ],
        "timings_ms": {k: round(v, 2) for k, v in row.timings_ms.items()},
    }
