"""``qa feedback export``: votes on answers become a test set in ``qa eval``'s JSONL format.

Per answer, the newest vote decides (a correction always wins over votes without one):

- up on an answered question: the answer is gold, and its citations are the gold evidence;
- up on an abstention: a question the documents rightly do not answer (``answerable: false``);
- any vote with a corrected answer: the correction is the gold answer (no evidence known);
- down without a correction: left out (it is a gap: ``qa gaps`` lists it).

A citation whose file has changed since the answer (its sha256 differs, or the file is gone) no
longer points at the same text, so it is dropped; an up-voted answer left with no evidence is
dropped whole. ``qa eval`` then runs the file as it stands (``--collection NAME``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qa.evaluation.testset import EvalCase, GoldEvidence, question_type
from qa.feedback.log import AnswerLog, Feedback, LoggedAnswer


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What the export kept and why it left the rest out."""

    cases: tuple[EvalCase, ...]
    down_without_correction: int
    dropped_changed: int
    dropped_quotes: int


def export_cases(log: AnswerLog, current_hashes: Mapping[str, str], *, collection: str) -> ExportReport:
    """The test set made from ``collection``'s feedback; ``current_hashes`` are its files' sha256 now."""
    decisive: dict[str, tuple[Feedback, LoggedAnswer]] = {}
    for feedback, answer in log.feedback(collection=collection):
        kept = decisive.get(answer.id)
        if kept is None or feedback.correction or not kept[0].correction:
            decisive[answer.id] = (feedback, answer)
    cases: list[EvalCase] = []
    skipped = changed = quotes = 0
    for feedback, answer in decisive.values():
        kind = question_type(answer.question)
        if feedback.correction:
            cases.append(EvalCase(answer.id, answer.question, (feedback.correction,), (), True, kind))
        elif feedback.vote == "down":
            skipped += 1
        elif answer.status == "abstained":
            cases.append(EvalCase(answer.id, answer.question, (), (), False, kind))
        else:
            evidence, dropped = _evidence(answer, current_hashes)
            quotes += dropped
            if not evidence:
                changed += 1
                continue
            text = str(answer.answer.get("answer") or "")
            cases.append(EvalCase(answer.id, answer.question, (text,), evidence, True, kind))
    return ExportReport(tuple(cases), skipped, changed, quotes)


def _evidence(answer: LoggedAnswer, current: Mapping[str, str]) -> tuple[tuple[GoldEvidence, ...], int]:
    kept, dropped = [], 0
    for citation in answer.answer.get("citations", []):
        source = citation["source"]
        if source not in answer.file_hashes or current.get(source) != answer.file_hashes[source]:
            dropped += 1
            continue
        kept.append(GoldEvidence(source=source, start=citation["start"], end=citation["end"], quote=citation["quote"]))
    return tuple(kept), dropped
