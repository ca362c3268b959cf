"""What the documents do not answer: abstained and down-voted questions, near-duplicates grouped.

Questions are grouped greedily by the overlap of their word sets (Jaccard >= ``SAME_QUESTION``
after lowercasing, dropping punctuation and a few function words), so "What is the leave policy?"
and "what's the leave policy" land together. Each group lists how often it was asked, how many
times it abstained or was voted down, when it was last asked, and the passages closest to it
(what retrieval found, so someone can see what is missing or wrong). Plain string code, linear
in each question's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.errors import QAError
from qa.feedback.log import AnswerLog, LoggedAnswer
from qa.service import QAService

#: Word-set overlap at which two questions count as one. Not fitted to any data: half the words
#: of a short question may differ in form ("policy" / "policies") and one content word must agree.
SAME_QUESTION = 0.5
#: Most recent logged answers looked at per collection, and passages shown per gap.
MAX_QUESTIONS = 5000
CLOSEST_PASSAGES = 3
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "do",
        "does",
        "did",
        "what",
        "whats",
        "which",
        "who",
        "how",
        "why",
        "when",
        "where",
        "i",
        "we",
        "you",
        "it",
        "our",
        "my",
        "your",
        "can",
        "could",
        "should",
        "would",
    ]
)


def question_words(question: str) -> frozenset[str]:
    """The content words of a question: lowercased, letters and digits only, function words dropped."""
    cleaned = "".join(c if c.isalnum() else " " for c in question.lower().replace("'", ""))
    words = {w for w in cleaned.split() if w not in _FUNCTION_WORDS}
    return frozenset(words or cleaned.split())


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two word sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(slots=True)
class Gap:
    """A group of near-duplicate questions the documents did not answer well."""

    collection: str
    question: str
    words: frozenset[str]
    questions: list[str] = field(default_factory=list)
    count: int = 0
    abstained: int = 0
    down_votes: int = 0
    last_asked: float = 0.0
    closest: list[dict[str, Any]] = field(default_factory=list)

    def add(self, answer: LoggedAnswer, *, down_vote: bool) -> None:
        """Count one more asking of this question."""
        self.count += 1
        self.abstained += answer.status == "abstained"
        self.down_votes += down_vote
        if answer.created >= self.last_asked:
            self.last_asked, self.question = answer.created, answer.question
        if answer.question not in self.questions and len(self.questions) < 10:
            self.questions.append(answer.question)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the word set stays inside)."""
        return {
            "collection": self.collection,
            "question": self.question,
            "questions": self.questions,
            "count": self.count,
            "abstained": self.abstained,
            "down_votes": self.down_votes,
            "last_asked": self.last_asked,
            "closest": self.closest,
        }


def find_gaps(log: AnswerLog, service: QAService | None, collection: str) -> list[Gap]:
    """The gaps of one collection, most asked first; closest passages from ``service`` when its index is ready."""
    down = {f.answer_id for f, _ in log.feedback(collection=collection) if f.vote == "down"}
    logged = log.answers(collection=collection)[-MAX_QUESTIONS:]
    gaps: list[Gap] = []
    for answer in logged:
        if answer.status != "abstained" and answer.id not in down:
            continue
        words = question_words(answer.question)
        gap = next((g for g in gaps if similarity(g.words, words) >= SAME_QUESTION), None)
        if gap is None:
            gap = Gap(collection, answer.question, words)
            gaps.append(gap)
        gap.add(answer, down_vote=answer.id in down)
    gaps.sort(key=lambda g: (-g.count, -g.last_asked))
    if service is not None and service.is_ready:
        for gap in gaps:
            gap.closest = closest_passages(service, gap.question)
    return gaps


def closest_passages(service: QAService, question: str) -> list[dict[str, Any]]:
    """The passages retrieval finds for ``question`` (source, title, score, a short excerpt)."""
    try:
        hits = service.search(question, top_k=CLOSEST_PASSAGES)
    except QAError:
        return []
    return [
        {"source": h.chunk.source, "title": h.chunk.title, "score": round(h.score, 4), "text": h.chunk.text[:300]}
        for h in hits
    ]
