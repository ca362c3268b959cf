"""The embedded default store: FAISS files plus BM25 in the API process.

On disk (``index_dir``)::

    manifest.json                    the commit point: model, chunking, files, artifact checksums
    vectors-<generation>.faiss       inner-product index of L2-normalised chunk vectors (flat, or HNSW
                                     past ``exact_max_chunks``)
    sentences-<generation>.npz       every chunk's sentence vectors (float16) and their counts
    chunks-<generation>.jsonl        one Chunk per line, in vector order
    documents-<generation>.jsonl     one Document per line, in seeds order

A save writes a new generation's files, then atomically replaces ``manifest.json`` (temp file,
fsync, rename: qa/stores/files.py), then deletes older generations. A crash at any moment leaves
either the old manifest with its files or the new one with its files: never a mix.

``FaissVectors`` is the in-memory vectors (a VectorIndex) and one generation's save/load;
``FaissFileStore`` is the Store over the folder, with ``FaissSearchIndex`` and ``FaissWriter``.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedding import Embedder
from qa.errors import IndexCorruptError
from qa.ingest.chunking import embedding_text
from qa.retrieval.hybrid import HybridRetriever, RetrievalConfig
from qa.retrieval.keyword import KeywordIndex
from qa.retrieval.sentences import ChunkVectors, best_sentence_cosines, sentence_offsets
from qa.schema import Chunk, Document, Hit
from qa.stores.files import atomic_write_bytes, file_sha256, read_artifact, remove_stale_generations
from qa.stores.manifest import (
    MANIFEST_NAME,
    REBUILD_HINT,
    IndexConfig,
    Manifest,
    check_compatible,
    new_generation,
    package_versions,
    read_manifest,
)

#: HNSW graph degree and search breadth for the approximate index (see FaissVectors).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256  # recall@10 0.980 at 1M vectors; 128 gave 0.943 (benchmarks/bench_faiss_ann.py)


def build_faiss_index(vectors: np.ndarray, *, dim: int, approximate: bool) -> Any:
    """An exact ``IndexFlatIP`` or, when ``approximate``, an ``IndexHNSWFlat`` (inner product) holding ``vectors``."""
    import faiss

    index: Any
    if approximate:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


class FaissVectors:
    """A FAISS inner-product index held in memory, persisted as generation files.

    Up to ``exact_max_chunks`` vectors (QA_FAISS_EXACT_MAX_CHUNKS, 200,000 by default) it is exact
    (``IndexFlatIP``); past that, an HNSW graph (``IndexHNSWFlat``, M=32, inner product) whose search
    is approximate (recall@10 >= 0.95 at efSearch=256 up to 1M vectors, measured in
    benchmarks/bench_faiss_ann.py) and far faster on millions of chunks. ``exact_max_chunks=None``
    keeps it exact at any size; a loaded generation keeps the kind it was saved with.
    The chunk vectors are kept once, inside the FAISS index; the sentence vectors beside it in
    float16 (only a chunk's best sentence is asked for, and only for the fusion's candidates).
    """

    def __init__(
        self, chunks: Sequence[Chunk], vectors: ChunkVectors, *, dim: int, exact_max_chunks: int | None = None
    ) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        approximate = exact_max_chunks is not None and len(chunks) > exact_max_chunks
        index = build_faiss_index(
            np.ascontiguousarray(vectors.chunks.reshape(-1, dim), dtype=np.float32), dim=dim, approximate=approximate
        )
        self._set(chunks, index, vectors.sentences, vectors.counts, dim=dim)

    def _set(self, chunks: Sequence[Chunk], index: Any, sentences: np.ndarray, counts: np.ndarray, *, dim: int) -> None:
        self.dim = dim
        self._chunks = list(chunks)
        self._index = index
        self._sentences = np.asarray(sentences, dtype=np.float16).reshape(-1, dim)
        self._counts = np.asarray(counts, dtype=np.int64)
        self._offsets = sentence_offsets(self._counts)

    @classmethod
    def _from_index(
        cls, chunks: Sequence[Chunk], index: Any, sentences: np.ndarray, counts: np.ndarray, *, dim: int
    ) -> FaissVectors:
        loaded = cls.__new__(cls)
        loaded._set(chunks, index, sentences, counts, dim=dim)
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return loaded

    @property
    def approximate(self) -> bool:
        """True when searches go through the HNSW graph rather than exhaustively."""
        return hasattr(self._index, "hnsw")

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def vectors(self) -> ChunkVectors:
        """All vectors, chunk i's belonging to ``chunks()[i]``."""
        if not self._chunks:
            return ChunkVectors.empty(self.dim)
        whole = np.asarray(self._index.reconstruct_n(0, len(self._chunks)), dtype=np.float32)
        return ChunkVectors(whole, self._sentences.astype(np.float32), self._counts)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self._chunks:
            return []
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), min(k, len(self._chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def similarity(self, query: np.ndarray, positions: Sequence[int]) -> np.ndarray:
        if not positions:
            return np.zeros(0, dtype=np.float32)
        rows = self._index.reconstruct_batch(np.asarray(positions, dtype=np.int64))
        return np.asarray(rows, dtype=np.float32) @ query.astype(np.float32)

    def sentence_similarity(self, query: np.ndarray, positions: Sequence[int]) -> np.ndarray:
        return best_sentence_cosines(query, self._sentences, self._offsets, positions)

    # Persistence -------------------------------------------------------------------------

    def save(
        self,
        index_dir: Path,
        *,
        config: IndexConfig,
        files: dict[str, str],
        extra_artifacts: dict[str, bytes] | None = None,
    ) -> Manifest:
        """Write a new generation (plus ``extra_artifacts``, JSON lines) and commit it by replacing the manifest."""
        import faiss

        index_dir.mkdir(parents=True, exist_ok=True)
        generation = new_generation()
        vectors_file = f"vectors-{generation}.faiss"
        chunks_file = f"chunks-{generation}.jsonl"
        atomic_write_bytes(index_dir / vectors_file, faiss.serialize_index(self._index).tobytes())
        chunk_lines = "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in self._chunks)
        atomic_write_bytes(index_dir / chunks_file, chunk_lines.encode("utf-8"))
        sentences_file = f"sentences-{generation}.npz"
        packed = io.BytesIO()
        np.savez(packed, sentences=self._sentences, counts=self._counts)
        atomic_write_bytes(index_dir / sentences_file, packed.getvalue())
        artifacts = {
            "vectors": {"file": vectors_file, "sha256": file_sha256(index_dir / vectors_file)},
            "chunks": {"file": chunks_file, "sha256": file_sha256(index_dir / chunks_file)},
            "sentences": {"file": sentences_file, "sha256": file_sha256(index_dir / sentences_file)},
        }
        for name, data in (extra_artifacts or {}).items():
            extra_file = f"{name}-{generation}.jsonl"
            atomic_write_bytes(index_dir / extra_file, data)
            artifacts[name] = {"file": extra_file, "sha256": hashlib.sha256(data).hexdigest()}
        manifest = Manifest(
            config=config,
            files=dict(sorted(files.items())),
            chunk_count=len(self._chunks),
            generation=generation,
            artifacts=artifacts,
            created_at=time.time(),
            versions=package_versions(),
        )
        atomic_write_bytes(index_dir / MANIFEST_NAME, manifest.to_json().encode("utf-8"))
        remove_stale_generations(index_dir, keep=generation)
        return manifest

    @classmethod
    def load(cls, index_dir: Path, *, expected: IndexConfig | None = None) -> tuple[FaissVectors, Manifest]:
        """Load the committed generation, verifying checksums and (optionally) the configuration."""
        import faiss

        manifest = read_manifest(index_dir)
        if expected is not None:
            check_compatible(manifest.config, expected)
        vector_bytes = read_artifact(index_dir, manifest, "vectors")
        chunk_bytes = read_artifact(index_dir, manifest, "chunks")
        sentence_bytes = read_artifact(index_dir, manifest, "sentences")
        try:
            index = faiss.deserialize_index(np.frombuffer(vector_bytes, dtype=np.uint8))
            chunks = [Chunk(**json.loads(line)) for line in chunk_bytes.decode("utf-8").splitlines() if line]
            with np.load(io.BytesIO(sentence_bytes), allow_pickle=False) as packed:
                sentences, counts = packed["sentences"], packed["counts"]
        except (RuntimeError, ValueError, TypeError, KeyError, OSError) as exc:
            raise IndexCorruptError(f"The index files are unreadable ({exc}). {REBUILD_HINT}") from None
        if len(chunks) != manifest.chunk_count or index.ntotal != len(chunks) or len(counts) != len(chunks):
            raise IndexCorruptError(
                f"The index holds {index.ntotal} vectors and {len(counts)} sentence groups for {len(chunks)} "
                f"chunks, the manifest says {manifest.chunk_count}. {REBUILD_HINT}"
            )
        if int(counts.sum()) != len(sentences):
            raise IndexCorruptError(f"The sentence vectors do not match their counts. {REBUILD_HINT}")
        return cls._from_index(chunks, index, sentences, counts, dim=manifest.config.dim), manifest


class FaissSearchIndex:
    """A loaded FAISS generation: dense and BM25 rankings fused by HybridRetriever."""

    def __init__(
        self, vectors: FaissVectors, manifest: Manifest, documents: Sequence[Document], retriever: HybridRetriever
    ) -> None:
        self.vectors = vectors
        self.manifest = manifest
        self._documents = {d.id: d for d in documents}
        self._retriever = retriever

    def search(self, query: str, *, top_k: int) -> list[Hit]:
        """The ``top_k`` chunks for ``query``, best first."""
        return self._retriever.search(query, top_k=top_k)

    def documents(self) -> list[Document]:
        """Every indexed document, in seeds order."""
        return list(self._documents.values())

    def document(self, doc_id: str) -> Document | None:
        """One indexed document by id, or None."""
        return self._documents.get(doc_id)


class FaissWriter:
    """Collects the next generation in memory; ``commit`` writes it and replaces the manifest."""

    def __init__(
        self, index_dir: Path, config: IndexConfig, previous: FaissVectors | None, exact_max_chunks: int
    ) -> None:
        self._index_dir = index_dir
        self._config = config
        self._exact_max_chunks = exact_max_chunks
        self._chunks: list[Chunk] = list(previous.chunks()) if previous else []
        self._vectors = previous.vectors() if previous else ChunkVectors.empty(config.dim)

    def delete_sources(self, sources: Collection[str]) -> None:
        """Drop the chunks of these source files."""
        self._keep([i for i, c in enumerate(self._chunks) if c.source not in sources])

    def upsert(self, chunks: Sequence[Chunk], vectors: ChunkVectors) -> None:
        """Add chunks; an existing chunk with the same id is replaced."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        ids = {c.id for c in chunks}
        self._keep([i for i, c in enumerate(self._chunks) if c.id not in ids])
        self._chunks.extend(chunks)
        self._vectors = ChunkVectors.concat([self._vectors, vectors], self._config.dim)

    def commit(self, *, files: dict[str, str], documents: Sequence[Document]) -> Manifest:
        """Write the generation (chunks in seeds order) and commit it by replacing the manifest."""
        order = {d.source: i for i, d in enumerate(documents)}
        ranked = sorted(
            range(len(self._chunks)),
            key=lambda i: (order.get(self._chunks[i].source, len(order)), self._chunks[i].start),
        )
        generation = FaissVectors(
            [self._chunks[i] for i in ranked],
            self._vectors.take(ranked),
            dim=self._config.dim,
            exact_max_chunks=self._exact_max_chunks,
        )
        lines = "".join(json.dumps(asdict(d), ensure_ascii=False) + "\n" for d in documents)
        return generation.save(
            self._index_dir,
            config=self._config,
            files=files,
            extra_artifacts={"documents": lines.encode("utf-8")},
        )

    def _keep(self, positions: list[int]) -> None:
        if len(positions) != len(self._chunks):
            self._chunks = [self._chunks[i] for i in positions]
            self._vectors = self._vectors.take(positions)


class FaissFileStore:
    """FAISS files in ``index_dir``; searches keep the vectors and a BM25 index in this process."""

    def __init__(
        self, index_dir: Path, *, embedder: Embedder, retrieval: RetrievalConfig, exact_max_chunks: int
    ) -> None:
        self.index_dir = index_dir
        self._embedder = embedder
        self._retrieval = retrieval
        self._exact_max_chunks = exact_max_chunks

    def read_manifest(self) -> Manifest:
        """The committed manifest."""
        return read_manifest(self.index_dir)

    def load(self, expected: IndexConfig) -> FaissSearchIndex:
        """Load the committed generation, its documents and a BM25 index over its chunks."""
        vectors, manifest = FaissVectors.load(self.index_dir, expected=expected)
        try:
            rows = read_artifact(self.index_dir, manifest, "documents").decode("utf-8").splitlines()
            documents = [Document(**json.loads(row)) for row in rows if row]
        except (ValueError, TypeError) as exc:
            raise IndexCorruptError(f"The stored documents are unreadable ({exc}). {REBUILD_HINT}") from None
        # BM25 reads what is embedded: a chunk's title and heading path find it too.
        keyword = KeywordIndex([embedding_text(chunk) for chunk in vectors.chunks()])
        retriever = HybridRetriever(vectors, keyword, self._embedder, config=self._retrieval)
        return FaissSearchIndex(vectors, manifest, documents, retriever)

    def writer(self, config: IndexConfig, *, rebuild: bool) -> FaissWriter:
        """A writer seeded with the committed generation's chunks and vectors (none when ``rebuild``)."""
        previous = None if rebuild else FaissVectors.load(self.index_dir, expected=config)[0]
        return FaissWriter(self.index_dir, config, previous, self._exact_max_chunks)
