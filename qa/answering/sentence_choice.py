"""Sentence answers chosen by a model of their own, for questions the reader has no span for.

A how-to, why or yes/no question ("Can I take the elevator when the fire alarm goes off?") is
answered by a sentence ("Never use the lifts during a fire alarm."), and the reader, trained to
mark short spans, often proposes none there. ``SentenceChooser`` scores every sentence of the chunks
read with a logistic model over ``SENTENCE_FEATURES`` (how close the sentence's meaning is to the
question with the packaged embedder, the question's words in it, whether it names the question's
codes, names and roles or a rival of them) and gives the likeliest one when its probability
reaches the model's threshold. The weights and the threshold are fitted on held-out questions by
scripts/calibrate_answerer.py (``--sentences``); without them the chooser is off. The reader
answerer asks it only after its own spans fall below its threshold (``ReaderAnswerer``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.answering.agreement import NO_TERMS, TermIndex, negation_mismatch, question_terms, term_features
from qa.answering.lexical import chunk_idf, chunk_terms, rarest_missing, rarity, says_more, weighted_share
from qa.answering.logistic import AnswerModel
from qa.embedding import Embedder
from qa.schema import Hit
from qa.text import content_words, sentence_spans

# What the sentence model knows about one sentence of a chunk read (weights: reader_config.json's
# "sentences", fitted by scripts/calibrate_answerer.py --sentences):
#   cosine        the embedder's cosine of question and sentence (meaning, across paraphrase:
#                 "elevator" and "lifts")
#   cosine_gap    how far below the closest sentence of the chunks read it is
#   overlap       share of the question's content words in the sentence
#   idf_overlap   the same, each word weighed by its inverse frequency among the chunks read
#   log_rank      log of its chunk's retrieval rank (1 = best)
#   term_absent, code_absent, term_outside, term_conflict, negation, unmatched: as for a span
#                 (qa.answering.extractive.READ_FEATURES), of the sentence and its chunk
SENTENCE_FEATURES = (
    "cosine",
    "cosine_gap",
    "overlap",
    "idf_overlap",
    "log_rank",
    "term_absent",
    "code_absent",
    "term_outside",
    "term_conflict",
    "negation",
    "unmatched",
)


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """A sentence of a chunk read, with what the sentence model makes of it."""

    hit: Hit
    start: int  # document offsets
    end: int
    text: str
    features: tuple[float, ...]  # SENTENCE_FEATURES
    probability: float  # P(this sentence answers the question)


def sentence_features(
    question: str, hits: Sequence[Hit], embedder: Embedder
) -> list[tuple[Hit, int, int, str, tuple[float, ...]]]:
    """(hit, document start, end, text, SENTENCE_FEATURES) for every distinct sentence of ``hits``.

    A sentence that is itself a question ("How do I change my plan?" in an FAQ) or only restates the
    question (``says_more``) answers nothing and is left out; so is one read twice in overlapping chunks.
    """
    located: list[tuple[int, Hit, int, int, str]] = []
    seen: set[tuple[str, int]] = set()
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        for start, end in sentence_spans(chunk.text):
            text = chunk.text[start:end]
            key = (chunk.doc_id, chunk.start + start)
            if key in seen or text.rstrip().endswith("?") or not says_more(question, text):
                continue
            seen.add(key)
            located.append((rank, hit, chunk.start + start, chunk.start + end, text))
    if not located:
        return []
    question_vector = np.asarray(embedder.embed_query(question), dtype=float)
    cosines = np.asarray(embedder.embed_documents([text for *_, text in located]), dtype=float) @ question_vector
    closest = float(np.max(cosines))
    words = content_words(question)
    texts = [hit.chunk.text for hit in hits]
    idf, rarities = chunk_idf(words, texts), rarity(words, texts)
    terms = question_terms(question)
    term_cache: dict[str, TermIndex] = {}
    rows: list[tuple[Hit, int, int, str, tuple[float, ...]]] = []
    for (rank, hit, start, end, text), cosine in zip(located, cosines.tolist(), strict=True):
        features = (
            cosine,
            closest - cosine,
            len(words & content_words(text)) / len(words) if words else 0.0,
            weighted_share(idf, text),
            math.log(rank),
            *(term_features(terms, TermIndex.of(text), chunk_terms(term_cache, hit.chunk)) if terms else NO_TERMS),
            negation_mismatch(question, text),
            rarest_missing(rarities, text),
        )
        rows.append((hit, start, end, text, features))
    return rows


class SentenceChooser:
    """The sentence of the chunks read likeliest to answer a question, scored by ``model``."""

    def __init__(self, embedder: Embedder, model: AnswerModel) -> None:
        if len(model.coef) != len(SENTENCE_FEATURES):
            raise ValueError(f"the sentence model needs one weight per feature {SENTENCE_FEATURES}")
        self._embedder = embedder
        self.model = model

    def ranked(self, question: str, hits: Sequence[Hit]) -> list[ScoredSentence]:
        """Every sentence of ``hits``, the likeliest answer first."""
        scored = [
            ScoredSentence(hit, start, end, text, features, self.model.probability(features))
            for hit, start, end, text, features in sentence_features(question, hits, self._embedder)
        ]
        return sorted(scored, key=lambda sentence: -sentence.probability)

    def choose(self, question: str, hits: Sequence[Hit]) -> ScoredSentence | None:
        """The likeliest sentence when it reaches the model's threshold; else None."""
        ranked = self.ranked(question, hits)
        return ranked[0] if ranked and ranked[0].probability >= self.model.threshold else None
