"""Qdrant as the store: both searches run inside Qdrant, so no API process holds the corpus.

One collection per full build, ``<collection>-<generation>`` (``manifest.new_generation``, as the
FAISS files), reached through the alias ``<collection>``; it holds three kinds of points (payload
``kind``):

    chunk      dense vector "dense", its sentences' vectors "sentences" (a multivector, not
               indexed: read back for the fusion's candidates) + sparse BM25 vector "keyword"
               (IDF applied by Qdrant)
    document   no vectors; the Document (served by GET /api/documents/{id})
    manifest   no vectors; the Manifest JSON (model, chunking, per-file hashes)

A rebuild fills a new collection and then moves the alias in one atomic alias operation, so
searches see the old index or the new one, never a half-built one. An incremental ingest
updates the aliased collection in place: new chunks first, then the chunks they replace, then
the manifest; an interrupted one is finished by the next ``qa ingest`` (the manifest still
lists the old hashes, so the same files are redone and stale points deleted).

QA_QDRANT_PATH is Qdrant's embedded local mode (one process at a time); QA_QDRANT_URL a server
or cluster, where ``qdrant_shards`` and ``qdrant_replication_factor`` apply to new collections.

Over 300 lines on purpose: the store, its search index and its writer share one point layout
(point ids, payload ``kind``s, vector names, the manifest point); split, each reader of that
layout would live apart from the code that writes it.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import KW_ONLY, asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.embedding import Embedder
from qa.errors import ConfigurationError, IndexCorruptError, IndexNotReadyError
from qa.ingest.chunking import embedding_text
from qa.retrieval import sparse
from qa.retrieval.fusion import blend_dense, fuse
from qa.retrieval.hybrid import RetrievalConfig
from qa.retrieval.sentences import ChunkVectors
from qa.schema import Chunk, Document, Hit
from qa.stores.manifest import REBUILD_HINT, IndexConfig, Manifest, check_compatible, new_generation, package_versions

if TYPE_CHECKING:
    from qa.config import Settings

DENSE = "dense"
SENTENCES = "sentences"
KEYWORD = "keyword"
UPSERT_BATCH = 256
_NAMESPACE = uuid.UUID("5b0f3c1e-8f7a-4e39-9a53-6f1d2c0e7b41")
_MANIFEST_ID = str(uuid.uuid5(_NAMESPACE, "manifest"))

# Local mode locks its folder per client: one client per folder per process.
_local_clients: dict[Path, Any] = {}
_local_lock = threading.Lock()


def _point_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))


def _kind(kind: str) -> Any:
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value=kind))])


@dataclass(frozen=True, slots=True)
class QdrantStore:
    """Reads and writes the index in a Qdrant collection (through its alias ``collection``).

    ``shards`` and ``replication_factor`` apply to collections it creates; ``where`` names the
    server or folder in error messages.
    """

    client: Any
    _: KW_ONLY
    collection: str
    embedder: Embedder
    retrieval: RetrievalConfig
    shards: int = 1
    replication_factor: int = 1
    where: str = "Qdrant"

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> QdrantStore:
        """Connect to QA_QDRANT_URL, or open QA_QDRANT_PATH in local mode."""
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise ConfigurationError(
                "QA_VECTOR_STORE=qdrant needs qdrant-client: `pip install 'seed-qa[scale]'`."
            ) from None
        if settings.qdrant_url:
            key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
            client = QdrantClient(url=settings.qdrant_url, api_key=key, timeout=30)
            where = f"Qdrant at {settings.qdrant_url}"
        elif settings.qdrant_path:
            client = _local_client(settings.qdrant_path)
            where = f"Qdrant local storage {str(settings.qdrant_path)!r}"
        else:
            raise ConfigurationError(
                "QA_VECTOR_STORE=qdrant needs QA_QDRANT_URL (a Qdrant server) or QA_QDRANT_PATH (a local folder)."
            )
        return cls(
            client,
            collection=settings.qdrant_collection,
            embedder=embedder,
            retrieval=RetrievalConfig.from_settings(settings),
            shards=settings.qdrant_shards,
            replication_factor=settings.qdrant_replication_factor,
            where=where,
        )

    @contextlib.contextmanager
    def reaching(self) -> Iterator[None]:
        """Turn connection failures into IndexNotReadyError (503) naming the server."""
        from qdrant_client.http.exceptions import ResponseHandlingException

        try:
            yield
        except (ResponseHandlingException, ConnectionError, TimeoutError) as exc:
            raise IndexNotReadyError(f"Cannot reach {self.where} ({exc}). Start it or check QA_QDRANT_URL.") from None
        except Exception as exc:
            if type(exc).__module__.startswith(("grpc", "httpx", "httpcore")):
                raise IndexNotReadyError(
                    f"Cannot reach {self.where} ({exc}). Start it or check QA_QDRANT_URL."
                ) from None
            raise

    # Store --------------------------------------------------------------------------------

    def read_manifest(self) -> Manifest:
        """The committed manifest, stored as a point of the aliased collection."""
        with self.reaching():
            aliases = {a.alias_name for a in self.client.get_aliases().aliases}
            if self.collection not in aliases:  # the alias appears with the first commit
                raise IndexNotReadyError(
                    f"No index in {self.where} (collection {self.collection!r}) yet. "
                    "Run `qa ingest` to build it from the seeds folder."
                )
            found = self.client.retrieve(self.collection, [_MANIFEST_ID], with_payload=True)
        if not found or "manifest" not in (found[0].payload or {}):
            raise IndexCorruptError(f"Qdrant collection {self.collection!r} has no manifest. {REBUILD_HINT}")
        return Manifest.from_json(found[0].payload["manifest"])

    def load(self, expected: IndexConfig) -> QdrantSearchIndex:
        """The committed index; its chunks stay in Qdrant."""
        manifest = self.read_manifest()
        check_compatible(manifest.config, expected)
        return QdrantSearchIndex(self, manifest)

    def writer(self, config: IndexConfig, *, rebuild: bool) -> QdrantWriter:
        """Write in place, or (``rebuild``) into a new collection that the alias moves to on commit."""
        if not rebuild:
            previous = self.read_manifest()
            check_compatible(previous.config, config)
            return QdrantWriter(self, config, target=self.collection, generation=previous.generation, previous=previous)
        generation = new_generation()
        target = f"{self.collection}-{generation}"
        self._create_collection(target, config.dim)
        return QdrantWriter(self, config, target=target, generation=generation, previous=None)

    def _create_collection(self, name: str, dim: int) -> None:
        from qdrant_client import models

        with self.reaching():
            self.client.create_collection(
                name,
                vectors_config={
                    DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE),
                    # Only read back for the candidates, never searched: no HNSW graph (m=0), and
                    # kept on disk (about 5 per chunk would triple the RAM per point).
                    SENTENCES: models.VectorParams(
                        size=dim,
                        distance=models.Distance.COSINE,
                        on_disk=True,
                        multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                        hnsw_config=models.HnswConfigDiff(m=0),
                    ),
                },
                sparse_vectors_config={KEYWORD: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                shard_number=self.shards,
                replication_factor=self.replication_factor,
            )
            if not _is_local(self.client):  # local mode has no payload indexes (and warns)
                for key in ("kind", "source", "batch"):
                    self.client.create_payload_index(name, key, models.PayloadSchemaType.KEYWORD)

    def _move_alias(self, target: str) -> None:
        """Point the alias at ``target`` in one operation, then drop the collections it left."""
        from qdrant_client import models

        with self.reaching():
            aliases = {a.alias_name: a.collection_name for a in self.client.get_aliases().aliases}
            actions: list[Any] = []
            if self.collection in aliases:
                actions.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.collection)))
            actions.append(
                models.CreateAliasOperation(
                    create_alias=models.CreateAlias(collection_name=target, alias_name=self.collection)
                )
            )
            self.client.update_collection_aliases(change_aliases_operations=actions)
            for described in self.client.get_collections().collections:
                if described.name.startswith(f"{self.collection}-") and described.name != target:
                    self.client.delete_collection(described.name)


class QdrantSearchIndex:
    """Searches run in Qdrant (dense and sparse candidates); the fusion is qa/retrieval/fusion.py's."""

    def __init__(self, store: QdrantStore, manifest: Manifest) -> None:
        self.manifest = manifest
        self.store = store

    def search(self, query: str, *, top_k: int) -> list[Hit]:
        """The ``top_k`` chunks for ``query``; ``dense_score`` is ``blend_dense``'s score.

        Qdrant returns the dense and the keyword candidates (two queries) with their chunk and
        sentence vectors; they are scored and fused here by ``qa.retrieval.fusion``, the same
        fusion as the FAISS store's.
        """
        from qdrant_client import models

        store = self.store
        vector = store.embedder.embed_query(query)
        indices, values = sparse.query_vector(query)
        limit = max(store.retrieval.candidates, top_k)
        queries: list[tuple[Any, str]] = [(vector.tolist(), DENSE)]
        if indices:
            queries.append((models.SparseVector(indices=indices, values=values), KEYWORD))
        with store.reaching():
            responses = [
                store.client.query_points(
                    store.collection,
                    query=q,
                    using=using,
                    limit=limit,
                    with_payload=True,
                    with_vectors=[DENSE, SENTENCES],
                )
                for q, using in queries
            ]
        found: dict[str, Any] = {}  # point id -> point
        rankings: list[list[tuple[str, float]]] = []
        for response in responses:
            rankings.append([(str(point.id), float(point.score)) for point in response.points])
            for point in response.points:
                found.setdefault(str(point.id), point)
        chunks = {point_id: _chunk(point.payload) for point_id, point in found.items()}
        # Positions in seeds order, so ties break as in the FAISS store.
        ids = sorted(found, key=lambda i: (chunks[i].source, chunks[i].start))
        query_vector = np.asarray(vector, dtype=np.float32)
        dense = blend_dense(
            range(len(ids)),
            [float(np.asarray(found[i].vector[DENSE], dtype=np.float32) @ query_vector) for i in ids],
            [float((np.asarray(found[i].vector[SENTENCES], dtype=np.float32) @ query_vector).max()) for i in ids],
            store.retrieval.fusion,
        )
        position = {point_id: p for p, point_id in enumerate(ids)}
        keyword = [(position[i], score) for i, score in rankings[1]] if len(rankings) > 1 else []
        fused = fuse(
            dense,
            keyword,
            store.retrieval.fusion,
            query=query,
            text_of=lambda p: chunks[ids[p]].text,
            context_of=lambda p: chunks[ids[p]].context,
        )
        dense_scores, keyword_scores = dict(dense), dict(keyword)
        return [
            Hit(
                chunk=chunks[ids[p]],
                score=score,
                rank=rank,
                dense_score=dense_scores[p],
                keyword_score=keyword_scores.get(p),
            )
            for rank, (p, score) in enumerate(fused[:top_k], start=1)
        ]

    def documents(self) -> list[Document]:
        """Every indexed document, read from Qdrant (sorted by source path)."""
        found: list[Document] = []
        offset = None
        with self.store.reaching():
            while True:
                points, offset = self.store.client.scroll(
                    self.store.collection, scroll_filter=_kind("document"), limit=256, offset=offset
                )
                found.extend(_document(p.payload) for p in points)
                if offset is None:
                    return sorted(found, key=lambda d: d.source)

    def document(self, doc_id: str) -> Document | None:
        """One indexed document by id, or None."""
        with self.store.reaching():
            points = self.store.client.retrieve(self.store.collection, [_point_id("document", doc_id)])
        return _document(points[0].payload) if points and points[0].payload.get("kind") == "document" else None


@dataclass(slots=True)
class QdrantWriter:
    """Upserts straight into the ``target`` collection; deletes and the manifest wait for ``commit``."""

    store: QdrantStore
    config: IndexConfig
    _: KW_ONLY
    target: str
    generation: str
    previous: Manifest | None
    #: Tags this ingest's points, so the deletes at commit spare them.
    batch: str = field(init=False, default_factory=lambda: uuid.uuid4().hex)
    deleted: set[str] = field(init=False, default_factory=set)

    def delete_sources(self, sources: Collection[str]) -> None:
        """Mark these sources' chunks for deletion; done at commit, after their replacements are in."""
        self.deleted.update(sources)

    def upsert(self, chunks: Sequence[Chunk], vectors: ChunkVectors) -> None:
        """Write chunks with dense, sentence and BM25 sparse vectors, in batches."""
        from qdrant_client import models

        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        sentences = vectors.split()
        for offset in range(0, len(chunks), UPSERT_BATCH):
            part = chunks[offset : offset + UPSERT_BATCH]
            keyword = sparse.document_vectors([embedding_text(c) for c in part])  # title and headings too
            points = [
                models.PointStruct(
                    id=_point_id("chunk", chunk.id),
                    vector={
                        DENSE: vectors.chunks[offset + i].tolist(),
                        SENTENCES: sentences[offset + i].tolist(),
                        KEYWORD: models.SparseVector(indices=keyword[i][0], values=keyword[i][1]),
                    },
                    payload={"kind": "chunk", "batch": self.batch, **asdict(chunk)},
                )
                for i, chunk in enumerate(part)
            ]
            with self.store.reaching():
                self.store.client.upsert(self.target, points, wait=True)

    def commit(self, *, files: dict[str, str], documents: Sequence[Document]) -> Manifest:
        """Delete replaced points, store changed documents and the manifest, then move the alias if new."""
        from qdrant_client import models

        client = self.store.client
        old_files = self.previous.files if self.previous else {}
        changed = [d for d in documents if old_files.get(d.source) != d.content_hash]
        points = [
            models.PointStruct(
                id=_point_id("document", d.id),
                vector={},
                payload={"kind": "document", "batch": self.batch, **asdict(d)},
            )
            for d in changed
        ]
        with self.store.reaching():
            for offset in range(0, len(points), UPSERT_BATCH):
                client.upsert(self.target, points[offset : offset + UPSERT_BATCH], wait=True)
            if self.deleted:
                stale = models.Filter(
                    must=[models.FieldCondition(key="source", match=models.MatchAny(any=sorted(self.deleted)))],
                    must_not=[
                        models.FieldCondition(key="batch", match=models.MatchValue(value=self.batch)),
                        models.HasIdCondition(has_id=[_MANIFEST_ID]),
                    ],
                )
                client.delete(self.target, points_selector=models.FilterSelector(filter=stale), wait=True)
            count = client.count(self.target, count_filter=_kind("chunk"), exact=True).count
            manifest = Manifest(
                config=self.config,
                files=dict(sorted(files.items())),
                chunk_count=count,
                generation=self.generation,
                artifacts={"collection": {"file": self.target, "sha256": ""}},
                created_at=time.time(),
                versions=package_versions("qdrant-client"),
            )
            payload = {"kind": "manifest", "manifest": manifest.to_json()}
            client.upsert(self.target, [models.PointStruct(id=_MANIFEST_ID, vector={}, payload=payload)], wait=True)
        if self.target != self.store.collection:
            self.store._move_alias(self.target)
        return manifest


def _chunk(payload: dict[str, Any]) -> Chunk:
    return Chunk(**{name: payload[name] for name in Chunk.__slots__})


def _document(payload: dict[str, Any]) -> Document:
    return Document(**{name: payload[name] for name in Document.__slots__})


def _local_client(path: Path) -> Any:
    from qdrant_client import QdrantClient

    key = path.expanduser().resolve()
    with _local_lock:
        if key not in _local_clients:
            key.mkdir(parents=True, exist_ok=True)
            try:
                _local_clients[key] = QdrantClient(path=str(key))
            except RuntimeError as exc:
                raise ConfigurationError(
                    f"Qdrant local storage {str(path)!r} is open in another process ({exc}). Local mode serves "
                    "one process: stop the other one, or run a Qdrant server and set QA_QDRANT_URL."
                ) from None
        return _local_clients[key]


@atexit.register
def _close_local_clients() -> None:
    # Before interpreter teardown, where qdrant-client's own __del__ fails noisily.
    with _local_lock:
        for client in _local_clients.values():
            client.close()
        _local_clients.clear()


def _is_local(client: Any) -> bool:
    return type(getattr(client, "_client", None)).__name__ == "QdrantLocal"
