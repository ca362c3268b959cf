"""One ingest run's parts outside the service: its lock, its embedding batches and its report."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.batching import longest_first_batches
from qa.embedding import Embedder
from qa.ingest.loading import SkippedFile

#: Embeds texts in order (a chunk's sentences and context line, qa/retrieval/sentences.py): the
#: service's embedder by default, a Ray pool with `qa ingest --ray`.
EmbedFunction = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest changed."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]
    chunks: int
    embedded_chunks: int
    seconds: float
    rebuilt: bool

    @property
    def changed(self) -> bool:
        """Whether the index on disk was rewritten."""
        return bool(self.added or self.updated or self.removed or self.rebuilt)


def embed_in_batches(
    embedder: Embedder, texts: Sequence[str], *, batch_size: int, show_progress: bool = False
) -> np.ndarray:
    """Vectors of ``texts`` in their order, embedded ``batch_size`` at a time with a progress bar.

    Longest first across the whole corpus, so each batch pads to texts of about its own length
    (blocks in document order padded every batch to its longest chunk: ingest took 1.4x plain
    SentenceTransformer.encode of the same texts, which sorts them all).
    """
    from tqdm import tqdm

    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    # Nothing to embed (an up-to-date index): no bar at all, not an empty "0text" one.
    with tqdm(total=len(texts), desc="Embedding sentences", unit="text", disable=not (show_progress and texts)) as bar:
        for rows in longest_first_batches([len(text) for text in texts], batch_size):
            vectors[rows] = embedder.embed_documents([texts[i] for i in rows])
            bar.update(len(rows))
    return vectors


@contextlib.contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """One ingest at a time per index folder (an advisory lock file)."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".ingest.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
