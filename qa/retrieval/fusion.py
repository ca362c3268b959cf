"""One fusion of the dense and keyword rankings, for every store (FAISS in process, Qdrant remote).

``weighted`` (the default): each ranking's scores are min-max normalised over its own candidates
(so a cosine and a BM25 score become comparable, 1 for the best, 0 for the last), then
``dense_weight * dense + (1 - dense_weight) * keyword``; a chunk missing from one ranking gets 0
there. A chunk that contains one of the query's identifiers (``identifier_tokens``: E4, CF-300,
v2.3.1, INC-20417) exactly gets ``identifier_bonus`` on top, so a code is not drowned by chunks
that are merely similar in meaning. ``rrf`` is the earlier reciprocal-rank fusion,
``1 / (rrf_k + rank)`` summed over the rankings.

Then the top ``LEXICAL_DEPTH`` candidates get ``lexical_weight`` times their best sentence's share of
the question's words (``qa.retrieval.lexical.best_sentence_coverage``) and are ranked again.

The dense score of a candidate is ``blend_dense``: ``sentence_weight`` times the cosine of its best
sentence (qa/retrieval/sentences.py) plus the rest times the chunk vector's cosine, computed for
every candidate of either ranking (so a chunk found by its keywords alone still gets its dense
score, not 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from qa.retrieval.lexical import best_sentence_coverage

Ranking = Sequence[tuple[int, float]]  # (position, score), best first
FusionMethod = Literal["weighted", "rrf"]

# Candidates re-scored by their best sentence's words: the top of the fused ranking, deeper than any
# answerer reads (QA_READER_PASSAGES, 10 by default) and than a page shows.
LEXICAL_DEPTH = 30
# Characters that may join the parts of an identifier: "CF-300", "v2.3.1", "PN_4471/22".
_JOINERS = frozenset("-._/")


@dataclass(frozen=True, slots=True)
class FusionConfig:
    """How the two rankings combine (QA_FUSION, QA_FUSION_DENSE_WEIGHT, QA_FUSION_IDENTIFIER_BONUS, QA_RRF_K,
    QA_FUSION_SENTENCE_WEIGHT, QA_FUSION_LEXICAL_WEIGHT)."""

    method: FusionMethod = "weighted"
    dense_weight: float = 0.5
    identifier_bonus: float = 0.0
    rrf_k: int = 60
    sentence_weight: float = 0.0
    lexical_weight: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be between 0 and 1, got {self.dense_weight}.")
        if not 0.0 <= self.sentence_weight <= 1.0:
            raise ValueError(f"sentence_weight must be between 0 and 1, got {self.sentence_weight}.")
        if self.identifier_bonus < 0:
            raise ValueError(f"identifier_bonus must be 0 or more, got {self.identifier_bonus}.")
        if self.lexical_weight < 0:
            raise ValueError(f"lexical_weight must be 0 or more, got {self.lexical_weight}.")


def fuse(
    dense: Ranking,
    keyword: Ranking,
    config: FusionConfig,
    *,
    query: str = "",
    text_of: Callable[[int], str] | None = None,
    context_of: Callable[[int], str] | None = None,
) -> list[tuple[int, float]]:
    """Every candidate (position, fused score), best first; ties by position. ``text_of`` gives a
    candidate's text (for identifiers and its sentences), ``context_of`` its title and heading path."""
    fused: dict[int, float] = {}
    if config.method == "rrf":
        for ranking in (dense, keyword):
            for rank, (position, _score) in enumerate(ranking, start=1):
                fused[position] = fused.get(position, 0.0) + 1.0 / (config.rrf_k + rank)
    else:
        for weight, ranking in ((config.dense_weight, dense), (1.0 - config.dense_weight, keyword)):
            for position, value in _min_max(ranking):
                fused[position] = fused.get(position, 0.0) + weight * value
            for position, _ in ranking:
                fused.setdefault(position, 0.0)
    if config.identifier_bonus and text_of is not None:
        wanted = identifier_tokens(query)
        if wanted:
            for position in fused:
                if contains_any_token(text_of(position), wanted):
                    fused[position] += config.identifier_bonus
    ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    if config.lexical_weight and text_of is not None and ranked:
        top = ranked[:LEXICAL_DEPTH]
        coverage = best_sentence_coverage(
            query,
            [text_of(position) for position, _ in top],
            [context_of(position) for position, _ in top] if context_of is not None else (),
        )
        rescored = [
            (position, score + config.lexical_weight * share)
            for (position, score), share in zip(top, coverage, strict=True)
        ]
        ranked = sorted(rescored, key=lambda item: (-item[1], item[0])) + ranked[LEXICAL_DEPTH:]
    return ranked


def blend_dense(
    positions: Sequence[int], chunk_cosines: Iterable[float], sentence_cosines: Iterable[float], config: FusionConfig
) -> list[tuple[int, float]]:
    """The dense ranking of ``positions``: each one's blend of its best-sentence and chunk cosines, best first."""
    weight = config.sentence_weight
    scored = [
        (position, weight * float(best) + (1.0 - weight) * float(whole))
        for position, whole, best in zip(positions, chunk_cosines, sentence_cosines, strict=True)
    ]
    return sorted(scored, key=lambda item: (-item[1], item[0]))


def _min_max(ranking: Ranking) -> list[tuple[int, float]]:
    if not ranking:
        return []
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    if high <= low:
        return [(position, 1.0) for position, _ in ranking]
    return [(position, (score - low) / (high - low)) for position, score in ranking]


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def identifier_tokens(text: str) -> frozenset[str]:
    """Lower-cased identifiers in ``text``: runs of letters/digits joined by - . _ / holding a digit
    and either a letter or a joiner ("E4", "CF-300", "v2.3.1", "2.3.1", "INC-20417"; not "1976").

    One pass over the characters, no regular expression.
    """
    found: set[str] = set()
    start = None
    n = len(text)
    for i in range(n + 1):
        ch = text[i] if i < n else " "
        inside = _is_word_char(ch) or (
            ch in _JOINERS and start is not None and i + 1 < n and _is_word_char(text[i + 1])
        )
        if inside:
            if start is None:
                start = i
            continue
        if start is not None:
            token = text[start:i]
            has_digit = any(c.isdigit() for c in token)
            if has_digit and (any(c.isalpha() for c in token) or any(c in _JOINERS for c in token)):
                found.add(token.lower())
            start = None
    return frozenset(found)


def contains_any_token(text: str, tokens: frozenset[str]) -> bool:
    """Whether ``text`` holds one of ``tokens`` (lower-cased) as a whole token, not inside a longer one."""
    lowered = text.lower()
    for token in tokens:
        at = lowered.find(token)
        while at >= 0:
            end = at + len(token)
            before = lowered[at - 1] if at else " "
            after = lowered[end] if end < len(lowered) else " "
            # "E4" in "E4." or "(E4)" counts; in "E45" or "XE4" it does not; "v2.3" in "v2.3.1" does not.
            after_joined = after in _JOINERS and end + 1 < len(lowered) and _is_word_char(lowered[end + 1])
            if not _is_word_char(before) and not _is_word_char(after) and not after_joined and before not in _JOINERS:
                return True
            at = lowered.find(token, at + 1)
    return False
