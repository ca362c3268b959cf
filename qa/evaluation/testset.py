"""The test-set format (JSONL, one question a line) and the types it loads into.

A line::

    {"id": "q1", "question": "Who makes the TB2?", "answers": ["Baykar"], "answerable": true,
     "type": "who", "evidence": [{"source": "drones.txt", "start": 1703, "end": 1761},
                                 {"quote": "Baykar company"}]}

- ``answers``: accepted answers (aliases); empty when the question is unanswerable.
- ``evidence``: gold passages, each a span ``{source, start, end}`` (character offsets into the
  document text, as citations use them) and/or a ``{quote}``; optional ``relevance`` (default 1).
- ``answerable``: defaults to ``bool(answers)``; ``type`` defaults to the question's wh-word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qa.errors import InvalidTestSetError

RankUnit = Literal["chunk", "document"]


@dataclass(frozen=True, slots=True)
class GoldEvidence:
    """A gold passage: a span in a source, a quote, or both."""

    source: str | None = None
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    relevance: int = 1

    @property
    def has_span(self) -> bool:
        """Whether this evidence names a character span in a source."""
        return self.source is not None and self.start is not None and self.end is not None


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One question of a test set with its accepted answers and gold evidence."""

    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[GoldEvidence, ...]
    answerable: bool
    type: str


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """A document an importer writes into a temporary seeds folder."""

    source: str  # path relative to the seeds folder
    text: str


@dataclass(frozen=True, slots=True)
class EvalSet:
    """Questions plus, for imported benchmarks, the corpus they are asked against.

    An empty ``corpus`` means: ask against the configured seeds folder.
    """

    name: str
    cases: tuple[EvalCase, ...]
    corpus: tuple[CorpusFile, ...] = ()
    retrieval_only: bool = False
    rank_unit: RankUnit = "chunk"


_TYPE_PATTERNS = (
    ("how many", r"\bhow many\b"),
    ("how much", r"\bhow much\b"),
    ("when", r"\b(?:when|what year|what date|what century|what decade|which year)\b"),
    ("who", r"\b(?:who|whom|whose)\b"),
    ("where", r"\bwhere\b"),
    ("why", r"\bwhy\b"),
    ("which", r"\bwhich\b"),
    ("how", r"\bhow\b"),
    ("what", r"\bwhat\b"),
)


def question_type(question: str) -> str:
    """The question's kind from its wh-word: who, what, when, where, which, why, how many, ..."""
    text = question.lower()
    found = [(m.start(), name) for name, pattern in _TYPE_PATTERNS if (m := re.search(pattern, text))]
    if not found:
        return "other"
    # The earliest wh-word wins; on a tie the more specific pattern (listed first) does.
    first = min(position for position, _ in found)
    return next(name for position, name in found if position == first)


def read_jsonl(path: Path) -> EvalSet:
    """Load a JSONL test set; raises InvalidTestSetError naming the bad line."""
    if not path.is_file():
        raise InvalidTestSetError(
            f"Test set {str(path)!r} does not exist. Pass a .jsonl file (see docs/EVALUATION.md)."
        )
    cases: list[EvalCase] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(case_from_dict(json.loads(line)))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidTestSetError(f"{path}:{number}: {exc}. Fix the line (see docs/EVALUATION.md).") from None
    if not cases:
        raise InvalidTestSetError(f"Test set {str(path)!r} holds no questions.")
    _check_unique([case.id for case in cases], path)
    return EvalSet(name=path.name, cases=tuple(cases))


def case_from_dict(data: dict[str, Any]) -> EvalCase:
    """One test-set line as an EvalCase; ValueError/KeyError when a field is wrong."""
    question = str(data["question"]).strip()
    if not question:
        raise ValueError("empty question")
    answers = data.get("answers") or []
    if isinstance(answers, str) or not all(isinstance(a, str) for a in answers):
        raise ValueError(f"answers must be a list of strings, got {answers!r}")
    evidence = tuple(_evidence_from_dict(item) for item in data.get("evidence") or [])
    answerable = bool(data.get("answerable", bool(answers)))
    return EvalCase(
        id=str(data.get("id") or question),
        question=question,
        answers=tuple(a for a in answers if a.strip()),
        evidence=evidence,
        answerable=answerable,
        type=str(data.get("type") or question_type(question)),
    )


def _evidence_from_dict(item: dict[str, Any]) -> GoldEvidence:
    start, end = item.get("start"), item.get("end")
    evidence = GoldEvidence(
        source=item.get("source"),
        start=None if start is None else int(start),
        end=None if end is None else int(end),
        quote=item.get("quote") or None,
        relevance=int(item.get("relevance", 1)),
    )
    if not evidence.has_span and evidence.quote is None:
        raise ValueError(f"evidence needs source+start+end or a quote, got {item!r}")
    if evidence.has_span and evidence.end <= evidence.start:  # type: ignore[operator]
        raise ValueError(f"evidence end must be after start, got {item!r}")
    return evidence


def case_to_dict(case: EvalCase) -> dict[str, Any]:
    """An EvalCase as a test-set line."""
    return {
        "id": case.id,
        "question": case.question,
        "answers": list(case.answers),
        "answerable": case.answerable,
        "type": case.type,
        "evidence": [
            {
                k: v
                for k, v in (("source", e.source), ("start", e.start), ("end", e.end), ("quote", e.quote))
                if v is not None
            }
            | ({"relevance": e.relevance} if e.relevance != 1 else {})
            for e in case.evidence
        ],
    }


def write_jsonl(cases: Iterable[EvalCase], path: Path) -> None:
    """Write cases in the test-set format (handy to freeze an imported sample)."""
    lines = (json.dumps(case_to_dict(case), ensure_ascii=False) + "\n" for case in cases)
    path.write_text("".join(lines), encoding="utf-8")


def _check_unique(ids: Sequence[str], path: Path) -> None:
    seen: set[str] = set()
    for case_id in ids:
        if case_id in seen:
            raise InvalidTestSetError(f"{path}: id {case_id!r} appears twice; ids must be unique.")
        seen.add(case_id)
