"""Answering: retrieved hits -> a ``Draft`` (answer, sentence, evidence), streamed or at once.

    base            the ``Answerer`` protocol; ``BaseAnswerer`` derives ``answer()`` from
                    ``answer_stream()`` and supplies the offline ``condense()``
    factory         ``build_answerer``: which answerer, how many passages, which threshold
    sentence        ``SentenceAnswerer``: best sentence + a short span, no trained model
    spans           short-answer heuristics for it (a name for "who", a number for "how many")
    extractive      ``ReaderAnswerer``: the trained reader's spans scored on one scale
                    (``AnswerModel`` over ``READ_FEATURES``), agreeing chunks added up
    agreement       does a span agree with the question: the expected answer type (a table:
                    a number for "how many", a date for "when"), the names and codes it asks about
    generative      ``GenerativeAnswerer``: an OpenAI-compatible LLM, offline answerer as fallback
    prompting       the LLM's messages; citation_check: every ``[n]`` pinned and checked
    conversation    follow-ups: the offline condense and the history bounds
    related         an abstention's closest passages (``Answer.related``): pointers, not citations

Text helpers (sentences, content words, span tidying) live in ``qa.text``. Nothing here imports
torch: the reader is passed in (``qa.reader``), so ``import qa.answering`` stays light.
"""

from qa.answering.base import Answerer, BaseAnswerer
from qa.answering.extractive import (
    DEFAULT_ANSWER_MODEL,
    READ_FEATURES,
    AnswerModel,
    ReaderAnswerer,
    ReadSpan,
    SpanReader,
)
from qa.answering.sentence import DEFAULT_SENTENCE_THRESHOLD, SentenceAnswerer

__all__ = [
    "DEFAULT_ANSWER_MODEL",
    "DEFAULT_SENTENCE_THRESHOLD",
    "READ_FEATURES",
    "AnswerModel",
    "Answerer",
    "BaseAnswerer",
    "ReadSpan",
    "ReaderAnswerer",
    "SentenceAnswerer",
    "SpanReader",
]
