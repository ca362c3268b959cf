"""Compare two reports (per metric and per question) and check ``--min METRIC=VALUE`` gates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qa.errors import InvalidTestSetError
from qa.evaluation.results import ALL_METRICS, LOWER_IS_BETTER_PREFIX

# Below this a metric's change is noise, not a verdict.
_EPSILON = 1e-9
_COUNTS = ("questions", "answerable", "unanswerable")


@dataclass(frozen=True, slots=True)
class MetricChange:
    """One metric in both reports; ``verdict`` is better, worse or same."""

    name: str
    old: float | None
    new: float | None
    delta: float | None
    verdict: str


@dataclass(frozen=True, slots=True)
class QuestionChange:
    """A question whose outcome differs between the reports."""

    id: str
    question: str
    verdict: str  # better | worse
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """What changed from an old report to a new one."""

    metrics: tuple[MetricChange, ...]
    questions: tuple[QuestionChange, ...]
    only_old: int
    only_new: int


def compare_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> Comparison:
    """Metric deltas (latency: lower is better) and questions that got better or worse."""
    changes = []
    for name in [*old["metrics"], *(n for n in new["metrics"] if n not in old["metrics"])]:
        before, after = old["metrics"].get(name), new["metrics"].get(name)
        delta = None if before is None or after is None else after - before
        verdict = "same"
        if delta is not None and abs(delta) > _EPSILON and name not in _COUNTS:
            improved = delta < 0 if name.startswith(LOWER_IS_BETTER_PREFIX) else delta > 0
            verdict = "better" if improved else "worse"
        changes.append(MetricChange(name, before, after, delta, verdict))
    old_rows = {q["id"]: q for q in old.get("questions", [])}
    new_rows = {q["id"]: q for q in new.get("questions", [])}
    questions = []
    for qid, after in new_rows.items():
        before = old_rows.get(qid)
        if before is None:
            continue
        outcome = _question_verdict(before, after)
        if outcome:
            questions.append(QuestionChange(qid, after["question"], outcome, _outcome(before), _outcome(after)))
    return Comparison(
        metrics=tuple(changes),
        questions=tuple(sorted(questions, key=lambda q: (q.verdict != "worse", q.id))),
        only_old=len(old_rows.keys() - new_rows.keys()),
        only_new=len(new_rows.keys() - old_rows.keys()),
    )


def _score(row: Mapping[str, Any]) -> tuple[float, ...]:
    """A question's outcome, most important first: correct, cited right, F1, retrieval rank."""
    rank = row.get("first_relevant_rank")
    return (
        float(bool(row.get("correct"))),
        float(bool(row.get("citation_correct"))),
        round(row.get("f1") or 0.0, 4),
        1.0 / rank if rank else 0.0,
    )


def _question_verdict(before: Mapping[str, Any], after: Mapping[str, Any]) -> str | None:
    old, new = _score(before), _score(after)
    if old == new:
        return None
    return "better" if new > old else "worse"


def _outcome(row: Mapping[str, Any]) -> str:
    got = row.get("got") if row.get("status") == "answered" else f"({row.get('status')})"
    mark = {True: "right", False: "wrong", None: ""}[row.get("correct")]
    rank = row.get("first_relevant_rank")
    return f"{got} [{mark}{', rank ' + str(rank) if rank else ''}]"


@dataclass(frozen=True, slots=True)
class Gate:
    """A floor: ``metric`` must be at least ``minimum``."""

    metric: str
    minimum: float


@dataclass(frozen=True, slots=True)
class GateFailure:
    """A gate that did not hold; ``value`` is None when the metric was not measured."""

    gate: Gate
    value: float | None


def parse_gate(text: str) -> Gate:
    """Parse ``METRIC=VALUE`` (e.g. ``answer_accuracy=0.9``)."""
    name, sep, value = text.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return Gate(name.strip(), float(value))
    except ValueError:
        raise InvalidTestSetError(f"Gate {text!r} is not METRIC=VALUE; try --min answer_accuracy=0.9.") from None


def check_gates(gates: Sequence[Gate], metrics: Mapping[str, float | None]) -> list[GateFailure]:
    """The gates whose metric is below its floor or was not measured; unknown names are errors."""
    check_gate_names(gates)
    return [
        GateFailure(gate, value)
        for gate in gates
        if (value := metrics.get(gate.metric)) is None or value < gate.minimum - _EPSILON
    ]


def check_gate_names(gates: Sequence[Gate]) -> None:
    """Fail fast, before a long run, on a gate that names no metric."""
    unknown = [g.metric for g in gates if g.metric not in ALL_METRICS]
    if unknown:
        raise InvalidTestSetError(f"Unknown metric {unknown[0]!r} in --min; choose from: {', '.join(ALL_METRICS)}.")
