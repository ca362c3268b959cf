"""A vector per sentence: what the dense half of retrieval stores for every chunk (issue 30).

A question usually targets one sentence, and one vector for a whole chunk blurs five of them, so
each sentence of a chunk is embedded alone and a chunk is scored by its best sentence too
(``qa.retrieval.fusion.blend_dense``). The chunk's own vector is the normalised mean of its
sentence vectors and its context line's (document title and heading path): one embedding pass
over sentences gives both, no slower than embedding whole chunks (each distinct sentence and
context line is embedded once; overlapping chunks share sentences). Measured in
docs/EVALUATION.md, issue 30, "Sentence vectors".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.schema import Chunk
from qa.text import sentence_spans

#: Embeds texts in order (the service's batches with a progress bar, or a Ray pool).
EmbedTexts = Callable[[Sequence[str]], np.ndarray]


def chunk_sentences(chunk: Chunk) -> list[str]:
    """The sentences of the chunk's own text (the whole text when it has no sentence boundary)."""
    found = [chunk.text[start:end] for start, end in sentence_spans(chunk.text)]
    return found or [chunk.text]


@dataclass(frozen=True, slots=True)
class ChunkVectors:
    """Vectors for ``n`` chunks: row i of ``chunks`` is chunk i's; ``sentences`` holds chunk 0's
    sentence vectors, then chunk 1's, ..., ``counts[i]`` of them for chunk i (at least one)."""

    chunks: np.ndarray  # (n, dim) float32, L2-normalised
    sentences: np.ndarray  # (sum(counts), dim) float32, L2-normalised
    counts: np.ndarray  # (n,) int64

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.chunks) or int(self.counts.sum()) != len(self.sentences):
            raise ValueError(
                f"{len(self.chunks)} chunk vectors, {len(self.counts)} counts and {len(self.sentences)} "
                "sentence vectors do not match"
            )
        if len(self.counts) and int(self.counts.min()) < 1:
            raise ValueError("every chunk needs at least one sentence vector")

    def __len__(self) -> int:
        return len(self.chunks)

    @classmethod
    def empty(cls, dim: int) -> ChunkVectors:
        """No chunks."""
        none = np.zeros((0, dim), dtype=np.float32)
        return cls(none, none.copy(), np.zeros(0, dtype=np.int64))

    @classmethod
    def single_sentences(cls, vectors: np.ndarray) -> ChunkVectors:
        """Chunks of one sentence each: row i is both chunk i's vector and its one sentence's."""
        rows = np.asarray(vectors, dtype=np.float32)
        return cls(rows, rows.copy(), np.ones(len(rows), dtype=np.int64))

    def offsets(self) -> np.ndarray:
        """(n + 1,) row offsets: chunk i's sentences are ``sentences[offsets[i]:offsets[i + 1]]``."""
        return sentence_offsets(self.counts)

    def split(self) -> list[np.ndarray]:
        """Each chunk's sentence vectors, in chunk order."""
        bounds = self.offsets()
        return [self.sentences[bounds[i] : bounds[i + 1]] for i in range(len(self))]

    def take(self, positions: Sequence[int]) -> ChunkVectors:
        """The chunks at ``positions``, in that order."""
        parts = self.split()
        picked = [parts[i] for i in positions]
        dim = self.chunks.shape[1]
        return ChunkVectors(
            np.ascontiguousarray(self.chunks[list(positions)].reshape(-1, dim)),
            np.concatenate(picked) if picked else np.zeros((0, dim), dtype=np.float32),
            np.asarray([len(p) for p in picked], dtype=np.int64),
        )

    @classmethod
    def concat(cls, parts: Sequence[ChunkVectors], dim: int) -> ChunkVectors:
        """The chunks of ``parts``, one after another."""
        if not parts:
            return cls.empty(dim)
        return cls(
            np.concatenate([p.chunks.reshape(-1, dim) for p in parts]).astype(np.float32),
            np.concatenate([p.sentences.reshape(-1, dim) for p in parts]).astype(np.float32),
            np.concatenate([p.counts for p in parts]).astype(np.int64),
        )


def embed_chunks(chunks: Sequence[Chunk], embed: EmbedTexts, *, dim: int) -> ChunkVectors:
    """Each chunk's sentence vectors and its chunk vector, from one embedding of the distinct texts."""
    sentences = [chunk_sentences(c) for c in chunks]
    contexts = [c.context for c in chunks]
    distinct = list(dict.fromkeys([s for group in sentences for s in group] + [c for c in contexts if c]))
    row = {text: i for i, text in enumerate(distinct)}
    embedded = np.asarray(embed(distinct), dtype=np.float32).reshape(-1, dim) if distinct else np.zeros((0, dim))
    chunk_vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    for i, (group, context) in enumerate(zip(sentences, contexts, strict=True)):
        rows = [row[s] for s in group] + ([row[context]] if context else [])
        chunk_vectors[i] = _normalised(embedded[rows].mean(axis=0))
    return ChunkVectors(
        chunk_vectors,
        embedded[[row[s] for group in sentences for s in group]].astype(np.float32).reshape(-1, dim),
        np.asarray([len(group) for group in sentences], dtype=np.int64),
    )


def sentence_offsets(counts: np.ndarray) -> np.ndarray:
    """(n + 1,) row offsets of ``n`` chunks' sentences laid out one chunk after another."""
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def best_sentence_cosines(
    query: np.ndarray, sentences: np.ndarray, offsets: np.ndarray, positions: Sequence[int]
) -> np.ndarray:
    """For each chunk at ``positions``, the highest cosine between ``query`` and one of its sentences."""
    if not len(positions):
        return np.zeros(0, dtype=np.float32)
    rows = [np.arange(offsets[p], offsets[p + 1]) for p in positions]
    scores = np.asarray(sentences[np.concatenate(rows)], dtype=np.float32) @ np.asarray(query, dtype=np.float32)
    return np.maximum.reduceat(scores, np.cumsum([0] + [len(r) for r in rows[:-1]])).astype(np.float32)


def _normalised(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
