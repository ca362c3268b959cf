"""Check a generated answer against the passages it cites.

1. ``[n]`` markers are parsed; a marker naming no passage is removed, and the passages that are
   cited are renumbered 1, 2, ... in order of first citation, so ``[n]`` in the text is citation n.
   ``MarkerRewriter`` does this incrementally, so streamed text equals the final text.
2. The answer is split into sentences; markers at the start of a sentence belong to the previous
   one ("... in Istanbul. [1] He then ...").
3. Each (sentence, cited passage) pair is judged on the passage alone, from ``lexical``, the share
   of the sentence's content words found in the passage, and ``dense``, the best cosine between
   the sentence and one sentence of the passage. The pair is supported when
   ``lexical >= LEXICAL_MIN`` and ``dense >= DENSE_MIN``, every number in the sentence appears in
   the passage, and the sentence and its best-matching passage sentence agree on negation
   ("not", "never", ...). ``support = (lexical + dense) / 2`` ranks quotes and is the citation score.
4. A sentence is supported when one of its citations supports it; a citation is supported when it
   supports every sentence that cites it. Its quote is the passage sentence that best supports
   those sentences, with document offsets, so ``quote == document.text[start:end]``.

The thresholds are calibrated on the hand-written cases in ``tests/test_citation_check.py``
(paraphrases, fabrications, wrong numbers, off-topic claims over the seed article), with both the
hashing embedder and the bundled MiniLM model; see docs/LLM.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.answering.prompting import NOT_IN_DOCUMENTS
from qa.embedding import Embedder
from qa.schema import Chunk, Evidence, Hit
from qa.text import content_words, sentence_spans

# Supported hand cases have lexical >= 0.67, unsupported ones <= 0.50 (both embedders).
LEXICAL_MIN = 0.6
# A floor, not a separator: supported hand cases have dense >= 0.27 (hashing) and >= 0.56 (MiniLM).
DENSE_MIN = 0.2

# Every pattern here sees model output (and so, indirectly, document text): none may backtrack.
# A leading ``\s*`` is tried from every position of a run of spaces, which is quadratic; the
# ``(?<!\s)`` lets it start only where a run starts, and possessive quantifiers never give back.
_MARKER = re.compile(r"(?<!\s)(\s*+)\[\s*+(\d{1,3}+(?:\s*+,\s*+\d{1,3}+)*+)\s*+\]")
# What an unfinished marker can look like at the end of a streamed prefix ("... [1,", "... [").
_PARTIAL_MARKER = re.compile(r"(?<!\s)\s*+\[[\d,\s]{0,24}+$")
_LEADING_MARKERS = re.compile(r"^(?:\s*+\[[\d,\s]++\])++")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")  # linear: a failed start has no digit left in its run
_NEGATION = re.compile(r"\b(?:not|never|no|none|neither|nor|without)\b|n't\b", re.IGNORECASE)
_NOT_IN_DOCUMENTS = re.compile(r"not[\s_]++in[\s_]++(?:the[\s_]++)?documents", re.IGNORECASE)


class MarkerRewriter:
    """Turns passage markers into citation markers as text streams in.

    ``order`` lists the cited passage numbers (1-based) by first citation; citation ``c`` in the
    rewritten text is passage ``order[c - 1]``. Feeding a text in pieces gives the same output as
    feeding it whole, because a possibly unfinished marker (and the space before it) is held back.
    """

    def __init__(self, n_passages: int) -> None:
        self.n_passages = n_passages
        self.order: list[int] = []
        self._pending = ""

    def feed(self, delta: str) -> str:
        """Rewrite what can be rewritten of the text so far; returns the new output."""
        self._pending += delta
        held = _PARTIAL_MARKER.search(self._pending)
        cut = held.start() if held else len(self._pending.rstrip())
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return _MARKER.sub(self._replace, ready)

    def flush(self) -> str:
        """The rest of the text, at its end."""
        ready, self._pending = self._pending, ""
        return _MARKER.sub(self._replace, ready)

    def _replace(self, match: re.Match[str]) -> str:
        citations: list[int] = []
        for part in match.group(2).split(","):
            passage = int(part)
            if not 1 <= passage <= self.n_passages:
                continue  # a fabricated marker: no such passage
            if passage not in self.order:
                self.order.append(passage)
            number = self.order.index(passage) + 1
            if number not in citations:
                citations.append(number)
        if not citations:
            return ""
        return f"{match.group(1)}[{', '.join(map(str, citations))}]"


def rewrite_markers(text: str, n_passages: int) -> tuple[str, list[int]]:
    """``text`` with citation markers, and the passage number behind each citation."""
    rewriter = MarkerRewriter(n_passages)
    out = rewriter.feed(text) + rewriter.flush()
    return out, rewriter.order


def says_not_in_documents(text: str) -> bool:
    """True when the model answered that the passages do not say (``NOT IN DOCUMENTS``)."""
    return bool(_NOT_IN_DOCUMENTS.search(text)) or text.strip().upper() == NOT_IN_DOCUMENTS


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of the answer, the citations it carries and how well they support it."""

    text: str  # without markers
    citations: tuple[int, ...]
    support: float  # best support among its citations
    supported: bool


@dataclass(frozen=True, slots=True)
class CheckedAnswer:
    """The verdict on a generated answer: one Evidence and one ``supported`` flag per citation."""

    text: str
    claims: tuple[Claim, ...]
    evidence: tuple[Evidence, ...]
    supported: tuple[bool, ...]

    @property
    def grounded(self) -> bool:
        """At least one citation supports what it is attached to."""
        return any(self.supported)

    @property
    def unsupported_claims(self) -> tuple[Claim, ...]:
        """Sentences that no citation supports (including those that cite nothing)."""
        return tuple(claim for claim in self.claims if not claim.supported)


def split_claims(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The sentences of ``text`` (markers removed) with the citation numbers each carries."""
    claims: list[tuple[str, list[int]]] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        leading = _LEADING_MARKERS.match(sentence)
        if leading and claims:
            claims[-1][1].extend(n for n in _numbers_in_markers(leading.group(0)) if n not in claims[-1][1])
            sentence = sentence[leading.end() :]
        cited = _numbers_in_markers(sentence)
        plain = " ".join(_MARKER.sub("", sentence).split())
        if plain.strip(" .,;:!?"):
            claims.append((plain, cited))
        elif cited and claims:
            claims[-1][1].extend(n for n in cited if n not in claims[-1][1])
    return [(plain, tuple(cited)) for plain, cited in claims]


def check_citations(text: str, cited: Sequence[Hit], embedder: Embedder) -> CheckedAnswer:
    """Check ``text``, whose ``[c]`` markers point at ``cited[c - 1]``, sentence by sentence."""
    claims = [(plain, nums) for plain, nums in split_claims(text) if content_words(plain)]
    sentences = _embedded_sentences([hit.chunk for hit in cited], embedder) if claims else []
    claim_vectors = embedder.embed_documents([plain for plain, _ in claims]) if claims else None
    # best[c] = (support, (start, end)) of the best passage sentence for citation c, over its claims
    best: dict[int, tuple[float, tuple[int, int]]] = {}
    verdicts: dict[int, list[bool]] = {c: [] for c in range(1, len(cited) + 1)}
    checked: list[Claim] = []
    for row, (plain, nums) in enumerate(claims):
        assert claim_vectors is not None
        words = content_words(plain)
        results = []
        for c in nums:
            if not 1 <= c <= len(cited):
                continue
            chunk = cited[c - 1].chunk
            spans, vectors = sentences[c - 1]
            if not spans:
                continue
            cosines = np.asarray(vectors @ claim_vectors[row], dtype=float)
            lexical = len(words & content_words(chunk.text)) / len(words)
            pick = int(np.argmax(cosines))
            dense = float(cosines[pick])
            support = (lexical + max(dense, 0.0)) / 2
            quote = chunk.text[spans[pick][0] - chunk.start : spans[pick][1] - chunk.start]
            ok = (
                lexical >= LEXICAL_MIN
                and dense >= DENSE_MIN
                and _numbers(plain) <= _numbers(chunk.text)
                and bool(_NEGATION.search(plain)) == bool(_NEGATION.search(quote))
            )
            verdicts[c].append(ok)
            if c not in best or support > best[c][0]:
                best[c] = (support, spans[pick])
            results.append((support, ok))
        top = max((s for s, _ in results), default=0.0)
        checked.append(Claim(plain, nums, top, any(ok for _, ok in results)))
    evidence, supported = [], []
    for c, hit in enumerate(cited, start=1):
        support, (start, end) = best.get(c, (0.0, _first_span(hit.chunk)))
        evidence.append(Evidence(chunk=hit.chunk, start=start, end=end, score=support))
        supported.append(bool(verdicts[c]) and all(verdicts[c]))
    return CheckedAnswer(text, tuple(checked), tuple(evidence), tuple(supported))


def _embedded_sentences(chunks: Sequence[Chunk], embedder: Embedder) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
    """Per chunk: document offsets of its sentences and their vectors (one embedding batch)."""
    spans = [[(chunk.start + s, chunk.start + e) for s, e in sentence_spans(chunk.text)] for chunk in chunks]
    texts = [
        chunk.text[s - chunk.start : e - chunk.start]
        for chunk, found in zip(chunks, spans, strict=True)
        for s, e in found
    ]
    vectors = embedder.embed_documents(texts) if texts else np.zeros((0, embedder.dim), dtype=np.float32)
    out, offset = [], 0
    for found in spans:
        out.append((found, vectors[offset : offset + len(found)]))
        offset += len(found)
    return out


def _first_span(chunk: Chunk) -> tuple[int, int]:
    spans = sentence_spans(chunk.text)
    start, end = spans[0] if spans else (0, len(chunk.text))
    return chunk.start + start, chunk.start + end


def _numbers_in_markers(text: str) -> list[int]:
    found: list[int] = []
    for match in _MARKER.finditer(text):
        for part in match.group(2).split(","):
            if int(part) not in found:
                found.append(int(part))
    return found


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
