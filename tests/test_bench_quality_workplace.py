"""benchmarks/quality_workplace.py: how a workplace answer is scored and summarised."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.quality_workplace import is_correct, summarize_workplace
from qa.evaluation.testset import EvalCase


def _case(kind: str, *answers: str) -> EvalCase:
    return EvalCase(id="q", question="?", answers=answers, evidence=(), answerable=True, type=kind)


@pytest.mark.parametrize(
    ("kind", "answer", "expected"),
    [
        ("what", "the incoming water pressure is too low", True),
        ("what", "failed UV-C lamp", False),  # E7's meaning for E4's question
        ("what", "water pressure", False),  # a short answer needs an accepted answer inside it
        ("how-to", "report it to the IT service desk within 24 hours", True),  # the key clause of the rule
        ("how-to", "file a police report", False),  # a fragment is not the steps
        ("how-to", None, False),
    ],
)
def test_is_correct(kind: str, answer: str | None, expected: bool) -> None:
    golds = {
        "what": ("the incoming water pressure is too low",),
        "how-to": (
            "If your laptop is stolen, report it to the IT service desk within 24 hours and file a police report.",
        ),
    }[kind]
    assert is_correct(answer, _case(kind, *golds)) is expected


def _row(kind: str, *, answerable: bool, answered: bool, correct: bool = False, page_ok: bool = True) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": kind, "answerable": answerable, "answered": answered}
    if answerable:
        row |= {"correct": correct, "right_doc_page": page_ok, "doc_in_top5": True, "passage_in_top5": page_ok}
    return row


def test_summarize_counts_wrong_abstained_and_unanswerable_per_kind() -> None:
    rows = [
        _row("who", answerable=True, answered=True, correct=True),
        _row("who", answerable=True, answered=True, correct=True, page_ok=False),
        _row("who", answerable=True, answered=True),
        _row("who", answerable=True, answered=False),
        _row("who", answerable=False, answered=True),
        _row("when", answerable=False, answered=False),
    ]
    table = summarize_workplace(rows)
    assert table["who"]["correct"] == 50.0
    assert table["who"]["right doc+page (of correct)"] == 50.0
    assert table["who"]["confidently wrong"] == 25.0
    assert table["who"]["abstained"] == 25.0
    assert table["who"]["unanswerable abstained"] == 0.0
    assert table["when"]["correct"] is None and table["when"]["unanswerable abstained"] == 100.0
    assert table["all"]["n unanswerable"] == 2 and table["all"]["unanswerable abstained"] == 50.0
