"""End-to-end: the real model over the seed article and the project's seed test set."""

import json
from pathlib import Path

import pytest

from qa import QAService
from tests.support import BAYKAR_QUOTE, REPO

pytestmark = pytest.mark.e2e
ROWS = [json.loads(line) for line in (REPO / "tests/data/seed_eval.jsonl").read_text("utf-8").splitlines() if line]


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace(",", "").split())


def test_seed_eval_set_has_the_required_shape() -> None:
    assert sum(r["answerable"] for r in ROWS) >= 20
    assert sum(not r["answerable"] for r in ROWS) >= 5


def test_who_makes_the_tb2(real_service: QAService) -> None:
    answer = real_service.ask("Who makes the TB2?")
    assert answer.status == "answered" and answer.answer == "Baykar"
    citation = answer.citations[0]
    assert BAYKAR_QUOTE in citation.quote
    raw = (Path(real_service.settings.seeds_dir) / citation.source).read_text("utf-8")
    assert raw[citation.start : citation.end] == citation.quote


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many rounds of ammunition are Kyiv's allies seeking?", "800,000"),
        ("Who is Ukraine's defense minister?", "Rustem Umerov"),
        ("Who is Ukraine's foreign minister?", "Dmytro Kuleba"),
    ],
)
def test_short_exact_answers(real_service: QAService, question: str, expected: str) -> None:
    # the reader cuts the answer itself, not the sentence around it
    answer = real_service.ask(question)
    assert answer.status == "answered" and answer.answer == expected, answer.answer
    assert expected in answer.citations[0].quote


def test_answerable_questions_are_answered_with_the_evidence(real_service: QAService) -> None:
    wrong = []
    answerable = [r for r in ROWS if r["answerable"]]
    for row in answerable:
        answer = real_service.ask(row["question"])
        correct_text = answer.status == "answered" and any(
            _normalise(alias) in _normalise(answer.answer or "") for alias in row["answers"]
        )
        cited = any(ev["quote"] in c.quote for ev in row["evidence"] for c in answer.citations)
        if not (correct_text and cited):
            wrong.append((row["question"], answer.answer))
    assert len(wrong) <= 0.1 * len(answerable), wrong


@pytest.mark.parametrize("row", [r for r in ROWS if not r["answerable"]], ids=lambda r: r["question"])
def test_unanswerable_questions_abstain(real_service: QAService, row: dict) -> None:  # type: ignore[type-arg]
    answer = real_service.ask(row["question"])
    assert answer.status == "abstained", (answer.answer, answer.confidence)
    assert answer.citations == ()
