"""Short-answer heuristics for the sentence answerer: find the phrase in a sentence that the
question asks for (a name for "who", a number for "how many", a date for "when")."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import Enum

from qa.text import WORD, content_words, normalise_word

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# Every pattern here runs over document sentences of any length: possessive quantifiers
# (``++``, ``*+``) never give back what they took, so no input makes them backtrack.
_DATE = re.compile(
    rf"\b(?:(?:{_DAYS}),?\s++)?(?:(?:{_MONTHS})(?:\s++\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s++\d{{4}})?|\d{{4}}s?)\b"
)
_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|thousand|mm|km|kg|m))?\b"
)
# Runs of capitalised words, allowing inner connectors ("Turkish Aerospace Industries").
# ``\s+(?:of)?\s*`` split one run of spaces two ways at every length: quadratic. One run, then an
# optional connector with its own run, reads the same names.
_NAME = re.compile(r"\b[A-Z][\w'’\-]*+(?:\s++(?:(?:of|de|la|von|van|al|bin)\s++)?[A-Z][\w'’\-]*+)*+")
_ORG_SUFFIX = re.compile(r"\s*+(?:company|corporation|group|industries|inc\b|ltd\b|firm)", re.I)  # .match(s, pos)
_PLACE_PREPOSITIONS = frozenset(["in", "at", "of", "near", "to"])
_LEADING_STOPWORD = re.compile(r"(?:In|On|At|The|A|An|For|Since|By|From|As)\s++")
_GROUP_NOUN = re.compile(r"[A-Z][a-z]+(?:ians?|ans?|ish|ese)")  # linear: the suffix is at most 4 long
_WORD_AND_SPACES = re.compile(r"\S++\s++")


class AnswerType(Enum):
    """What kind of phrase a question asks for."""

    NAME = "name"
    NUMBER = "number"
    DATE = "date"
    PLACE = "place"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SpanCandidate:
    """A phrase in the sentence that could answer the question."""

    start: int
    end: int
    text: str
    score: float


def answer_type(question: str) -> AnswerType:
    """Guess the expected answer type from the question's wording."""
    q = question.lower().strip()
    if re.search(r"\bhow (many|much|long|far|old|big|large)\b|\bwhat (number|percentage|amount)\b", q):
        return AnswerType.NUMBER
    if re.search(r"\bwhen\b|\bwhat (year|month|day|date|time)\b|\bwhich (year|month|day)\b", q):
        return AnswerType.DATE
    if re.search(r"\bwhere\b|\bwhat (city|country|place)\b|\bwhich (city|country|place)\b", q):
        return AnswerType.PLACE
    if re.search(r"\bwho(m|se)?\b|\bwhat (company|organi[sz]ation|firm|name)\b|\bwhich (company|person)\b", q):
        return AnswerType.NAME
    return AnswerType.OTHER


def candidates(question: str, sentence: str) -> list[SpanCandidate]:
    """Phrases of the expected type, scored; phrases the question already names are dropped."""
    kind = answer_type(question)
    question_words = content_words(question)
    found: list[SpanCandidate] = []
    patterns = {
        AnswerType.NUMBER: [_NUMBER],
        AnswerType.DATE: [_DATE],
        AnswerType.NAME: [_NAME],
        AnswerType.PLACE: [_NAME],
    }.get(kind, [])
    anchors = [m.start() for m in WORD.finditer(sentence) if normalise_word(m.group(0).lower()) in question_words]
    lead = len(sentence) - len(sentence.lstrip(_SENTENCE_OPENERS))
    for pattern in patterns:
        for match in pattern.finditer(sentence):
            start, end = _strip_leading_stopword(sentence, match.start(), match.end())
            if kind in (AnswerType.NAME, AnswerType.PLACE):
                start = _strip_leading_titles(sentence, start, end)
                if start <= lead and " " not in sentence[start:end]:
                    continue  # a capitalised first word says nothing
            text = sentence[start:end]
            words = content_words(text)
            if not words or words & question_words:
                continue
            if kind in (AnswerType.NAME, AnswerType.PLACE) and (_DATE.fullmatch(text) or _looks_like_group_noun(text)):
                continue
            score = 1.0
            if anchors:
                score += 1.0 / (1.0 + _nearest(anchors, start) / 40.0)
            if kind is AnswerType.NAME and _ORG_SUFFIX.match(sentence, end):
                score += 0.5
            if kind is AnswerType.NAME and " " in text:
                score += 0.3  # full names beat single capitalised words
            if kind is AnswerType.PLACE and _word_before(sentence, start) in _PLACE_PREPOSITIONS:
                score += 0.5
            found.append(SpanCandidate(start, end, text, score))
    return sorted(found, key=lambda c: -c.score)


def expects_specific(question: str) -> bool:
    """Numbers and dates must appear in the evidence; a sentence without one cannot answer."""
    return answer_type(question) in (AnswerType.NUMBER, AnswerType.DATE)


def short_answer(question: str, sentence: str) -> SpanCandidate | None:
    """The best candidate phrase, or None when the question type has no clear candidate."""
    found = candidates(question, sentence)
    return found[0] if found else None


def _strip_leading_stopword(sentence: str, start: int, end: int) -> tuple[int, int]:
    # "In January" -> "January"; "The Baykar" -> "Baykar".
    match = _LEADING_STOPWORD.match(sentence, start, end)
    if match and match.end() < end:
        start = match.end()
    return start, end


def _looks_like_group_noun(text: str) -> bool:
    # Demonyms ("Ukrainians", "Russian", "Turkish") name groups, not the answer to "who".
    return bool(_GROUP_NOUN.fullmatch(text))


_TITLES = frozenset(
    """
    president minister foreign defense defence prime secretary general chancellor king queen mp
    senator governor mayor chief executive ceo director ambassador spokesman spokeswoman
    """.split()  # noqa: SIM905 (as qa.text.STOPWORDS)
)


def _strip_leading_titles(sentence: str, start: int, end: int) -> int:
    # "Ukrainian Foreign Minister Dmytro Kuleba" -> "Dmytro Kuleba".
    new_start = start
    for match in _WORD_AND_SPACES.finditer(sentence, start, end):
        word = match.group(0).strip()
        if word.lower() not in _TITLES and not _looks_like_group_noun(word):
            break
        new_start = match.end()
    return new_start


#: What may come before the first word of a sentence.
_SENTENCE_OPENERS = " \"'“‘("


def _nearest(sorted_positions: list[int], at: int) -> int:
    """The distance from ``at`` to the nearest of ``sorted_positions`` (non-empty), by bisection."""
    i = bisect.bisect_left(sorted_positions, at)
    return min(abs(sorted_positions[j] - at) for j in (i - 1, i) if 0 <= j < len(sorted_positions))


def _word_before(sentence: str, start: int) -> str:
    """The word that ends right before the spaces before ``start`` ("" when no space precedes).

    Scans back from ``start`` only, so calling it for every candidate stays linear overall.
    """
    end = start
    while end > 0 and sentence[end - 1].isspace():
        end -= 1
    if end == start:
        return ""
    begin = end
    while begin > 0 and (sentence[begin - 1].isalnum() or sentence[begin - 1] == "_"):
        begin -= 1
    return sentence[begin:end]
