"""The vector store interface and its embedded default: FAISS files plus a manifest.

On disk (``index_dir``)::

    manifest.json                 the commit point: model, chunking, files, artifact checksums
    vectors-<generation>.faiss    exact inner-product index of L2-normalised vectors
    chunks-<generation>.jsonl     one Chunk per line, in vector order

A save writes a new generation's files, then atomically replaces ``manifest.json`` (temp file,
fsync, rename), then deletes older generations. A crash at any moment leaves either the old
manifest with its files or the new one with its files: never a mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.errors import IndexCorruptError, IndexMismatchError, IndexNotReadyError
from qa.schema import Chunk

#: 2: chunks carry ``page`` and follow paragraphs (line-wrapped text joined), documents carry ``pages``.
FORMAT_VERSION = 2
MANIFEST_NAME = "manifest.json"
REBUILD_HINT = "Run `qa ingest --rebuild` to rebuild it from the seeds folder."


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """What must match between an index on disk and the running configuration."""

    model_id: str
    dim: int
    chunk_max_tokens: int
    chunk_overlap_sentences: int
    embedding_backend: str = "torch"  # torch, onnx, onnx-int8 (or hashing): vectors differ between them


@dataclass(frozen=True, slots=True)
class Manifest:
    """Describes a saved index; written last, so it is the commit point."""

    config: IndexConfig
    files: dict[str, str]  # source -> sha256 of the file's bytes
    chunk_count: int
    generation: str
    artifacts: dict[str, dict[str, str]]  # name -> {"file", "sha256"}
    created_at: float
    versions: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """Serialise for ``manifest.json``."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse ``manifest.json``; raises IndexCorruptError on anything malformed."""
        try:
            data = json.loads(text)
            if "embedding_backend" not in data["config"]:  # indexes from before the ONNX backends
                hashing = data["config"]["model_id"].startswith("hashing")
                data["config"]["embedding_backend"] = "hashing" if hashing else "torch"
            data["config"] = IndexConfig(**data["config"])
            manifest = cls(**data)
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexCorruptError(f"The index manifest is unreadable ({exc}). {REBUILD_HINT}") from None
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"The index is in format {manifest.format_version}; this version reads format {FORMAT_VERSION} "
                f"(chunks now carry page numbers and follow paragraphs). {REBUILD_HINT}"
            )
        return manifest


class VectorStore(Protocol):
    """Chunks with their vectors, searched by cosine: what HybridRetriever fuses with BM25."""

    def chunks(self) -> Sequence[Chunk]:
        """Every stored chunk, in a stable order."""
        ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(position in ``chunks()``, cosine) of the ``k`` nearest chunks."""
        ...

    def similarity(self, query: np.ndarray, positions: Sequence[int]) -> np.ndarray:
        """Cosine between ``query`` and the chunks at ``positions``."""
        ...


class FaissStore:
    """A FAISS inner-product index held in memory, persisted as generation files.

    Up to ``exact_max_chunks`` vectors it is exact (``IndexFlatIP``); past that, an HNSW graph
    (``IndexHNSWFlat``, M=32, inner product) whose search is approximate (recall@10 >= 0.95 at
    efSearch=256 up to 1M vectors, measured in benchmarks/bench_faiss_ann.py) and far faster on millions of chunks.
    The vectors are kept once, inside the FAISS index.
    """

    def __init__(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, *, dim: int, exact_max_chunks: int | None = None
    ) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        approximate = exact_max_chunks is not None and len(chunks) > exact_max_chunks
        self.dim = dim
        self._chunks = list(chunks)
        self._index = build_faiss_index(
            np.ascontiguousarray(vectors.reshape(-1, dim), dtype=np.float32), dim=dim, approximate=approximate
        )

    @classmethod
    def _from_index(cls, chunks: Sequence[Chunk], index: Any, *, dim: int) -> FaissStore:
        store = cls.__new__(cls)
        store.dim = dim
        store._chunks = list(chunks)
        store._index = index
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return store

    @property
    def approximate(self) -> bool:
        """True when searches go through the HNSW graph rather than exhaustively."""
        return hasattr(self._index, "hnsw")

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def vectors(self) -> np.ndarray:
        """All vectors, row i belonging to ``chunks()[i]``."""
        if not self._chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._index.reconstruct_n(0, len(self._chunks)), dtype=np.float32)

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

    # Persistence -------------------------------------------------------------------------

    def save(
        self,
        index_dir: Path,
        *,
        config: IndexConfig,
        files: dict[str, str],
        extra_artifacts: dict[str, bytes] | None = None,
    ) -> Manifest:
        """Write a new generation (plus ``extra_artifacts``) and commit it by replacing the manifest."""
        import faiss

        index_dir.mkdir(parents=True, exist_ok=True)
        generation = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        vectors_file = f"vectors-{generation}.faiss"
        chunks_file = f"chunks-{generation}.jsonl"
        _atomic_write_bytes(index_dir / vectors_file, faiss.serialize_index(self._index).tobytes())
        chunk_lines = "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in self._chunks)
        _atomic_write_bytes(index_dir / chunks_file, chunk_lines.encode("utf-8"))
        artifacts = {
            "vectors": {"file": vectors_file, "sha256": file_sha256(index_dir / vectors_file)},
            "chunks": {"file": chunks_file, "sha256": file_sha256(index_dir / chunks_file)},
        }
        for name, data in (extra_artifacts or {}).items():
            extra_file = f"{name}-{generation}.jsonl"
            _atomic_write_bytes(index_dir / extra_file, data)
            artifacts[name] = {"file": extra_file, "sha256": hashlib.sha256(data).hexdigest()}
        manifest = Manifest(
            config=config,
            files=dict(sorted(files.items())),
            chunk_count=len(self._chunks),
            generation=generation,
            artifacts=artifacts,
            created_at=time.time(),
            versions=_versions(),
        )
        _atomic_write_bytes(index_dir / MANIFEST_NAME, manifest.to_json().encode("utf-8"))
        _remove_stale_generations(index_dir, keep=generation)
        return manifest

    @classmethod
    def load(cls, index_dir: Path, *, expected: IndexConfig | None = None) -> tuple[FaissStore, Manifest]:
        """Load the committed generation, verifying checksums and (optionally) the configuration."""
        import faiss

        manifest = read_manifest(index_dir)
        if expected is not None:
            check_compatible(manifest.config, expected)
        vector_bytes = read_artifact(index_dir, manifest, "vectors")
        chunk_bytes = read_artifact(index_dir, manifest, "chunks")
        try:
            index = faiss.deserialize_index(np.frombuffer(vector_bytes, dtype=np.uint8))
            chunks = [Chunk(**json.loads(line)) for line in chunk_bytes.decode("utf-8").splitlines() if line]
        except (RuntimeError, ValueError, TypeError) as exc:
            raise IndexCorruptError(f"The index files are unreadable ({exc}). {REBUILD_HINT}") from None
        if len(chunks) != manifest.chunk_count or index.ntotal != len(chunks):
            raise IndexCorruptError(
                f"The index holds {index.ntotal} vectors for {len(chunks)} chunks, the manifest says "
                f"{manifest.chunk_count}. {REBUILD_HINT}"
            )
        return cls._from_index(chunks, index, dim=manifest.config.dim), manifest


#: HNSW graph degree and search breadth for the approximate index (see FaissStore).
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


def read_manifest(index_dir: Path) -> Manifest:
    """The committed manifest; IndexNotReadyError when there is none."""
    path = index_dir / MANIFEST_NAME
    if not path.is_file():
        raise IndexNotReadyError(
            f"No index in {str(index_dir)!r} yet. Run `qa ingest` to build it from the seeds folder."
        )
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"The index manifest is unreadable ({exc}). {REBUILD_HINT}") from None
    return Manifest.from_json(text)


def check_compatible(found: IndexConfig, expected: IndexConfig) -> None:
    """Raise IndexMismatchError naming what differs between the saved and configured index."""
    differences = [
        f"{name}: index has {getattr(found, name)!r}, configuration has {getattr(expected, name)!r}"
        for name in ("model_id", "embedding_backend", "dim", "chunk_max_tokens", "chunk_overlap_sentences")
        if getattr(found, name) != getattr(expected, name)
    ]
    if found.embedding_backend != expected.embedding_backend:
        differences.append(f"or set QA_EMBEDDING_BACKEND={found.embedding_backend} to query it as built")
    if differences:
        raise IndexMismatchError(
            "The index was built with a different configuration (" + "; ".join(differences) + "). " + REBUILD_HINT
        )


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_generations(index_dir: Path, *, keep: str) -> None:
    for path in index_dir.iterdir():
        stale_artifact = path.name.endswith((".faiss", ".jsonl")) and keep not in path.name
        leftover_temp = path.name.startswith(".") and path.name.endswith(".tmp")
        if stale_artifact or leftover_temp:
            path.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (artifact checksums here, ONNX export cache keys in qa/onnx_export.py)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for package in ("seed-qa", "faiss-cpu", "sentence-transformers", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def artifact_path(index_dir: Path, file: str, *, name: str) -> Path:
    """``index_dir / file``, refusing (IndexCorruptError) a ``file`` that leads out of the folder.

    The manifest is data: an edited or planted one must not make the server read other files
    (``../`` entries, absolute paths, or links out of the folder).
    """
    path = index_dir / file
    plain = bool(file) and Path(file).name == file and file not in (".", "..")
    if not plain or not path.resolve().is_relative_to(index_dir.resolve()):
        raise IndexCorruptError(
            f"The index manifest's {name} file {file!r} is not a file inside the index folder. {REBUILD_HINT}"
        )
    return path


def read_artifact(index_dir: Path, manifest: Manifest, name: str) -> bytes:
    """The bytes of a named artifact of the committed generation, checksum verified."""
    artifact = manifest.artifacts.get(name)
    if not artifact:
        raise IndexCorruptError(f"The index manifest lists no {name} file. {REBUILD_HINT}")
    path = artifact_path(index_dir, artifact.get("file", ""), name=name)
    try:
        data = path.read_bytes()
    except OSError:
        raise IndexCorruptError(f"Index file {path} is missing or unreadable. {REBUILD_HINT}") from None
    if hashlib.sha256(data).hexdigest() != artifact["sha256"]:
        raise IndexCorruptError(f"Index file {path} is corrupt (checksum mismatch). {REBUILD_HINT}")
    return data
