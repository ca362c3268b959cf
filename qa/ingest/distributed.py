"""`qa ingest --ray [ADDRESS]`: embed chunks on a Ray cluster, then write them into the configured store.

Chunking, the manifest, incremental updates and the store write stay in QAService.ingest; only the
embedding step moves: a Ray Data pipeline of texts through a pool of embedder actors
(``map_batches`` with a callable class), each actor loading the model once. Chunk ids and vectors
are the same as a plain ingest's (the same model, run on the same texts).

Without an address a local Ray is started with ``num_cpus`` CPUs (2 by default) and stopped
afterwards; with one (``ray://head:10001`` or ``auto``) every worker needs seed-qa and its model
installed (the API image in deploy/ has both).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.config import Settings
from qa.embedding import HashingEmbedder, build_embedder
from qa.errors import ConfigurationError

if TYPE_CHECKING:
    from qa.ingest.run import IngestReport
    from qa.service import QAService

logger = logging.getLogger(__name__)

#: `qa ingest --ray` without an address.
LOCAL = "local"


class EmbedBatch:
    """A Ray Data actor: loads the embedder once, then embeds batches of {"position", "text"}."""

    def __init__(self, settings: Settings) -> None:
        self.embedder = build_embedder(settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Embed one batch, keeping each row's position so the driver can restore the order."""
        vectors = self.embedder.embed_documents([str(text) for text in batch["text"]])
        return {"position": batch["position"], "vector": vectors}


class RayEmbedder:
    """Embeds texts with a pool of ``actors`` EmbedBatch actors; ``__call__`` fits QAService.ingest's ``embed``."""

    def __init__(
        self,
        settings: Settings,
        *,
        address: str | None = None,
        num_cpus: int = 2,
        actors: int | None = None,
        batch_size: int | None = None,
        show_progress: bool = False,
    ) -> None:
        if num_cpus < 1:
            raise ConfigurationError(f"num_cpus must be a positive integer, got {num_cpus}.")
        self.settings = settings
        self.address = None if address in (None, "", LOCAL) else address
        self.num_cpus = num_cpus
        self.actors = actors
        self.batch_size = batch_size or settings.embedding_batch_size
        self.show_progress = show_progress

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, row i for ``texts[i]``."""
        ray = _import_ray()
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        started_here = not ray.is_initialized()
        if started_here:
            self._init(ray)
        try:
            return self._embed(ray, texts)
        finally:
            if started_here:
                ray.shutdown()

    def _init(self, ray: Any) -> None:
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if self.address is None:
            options.update(num_cpus=self.num_cpus, include_dashboard=False)
        levels = {name: logging.getLogger(name).level for name in ("", "bm25s")}
        try:
            ray.init(address=self.address, **options)
        except ConnectionError as exc:
            raise ConfigurationError(
                f"Cannot connect to the Ray cluster at {self.address!r} ({exc}). Check the address, "
                "or run `qa ingest --ray` without one to use a local Ray."
            ) from None
        finally:  # Ray reconfigures logging on start; keep the CLI's levels and quiet Ray Data's INFO lines
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            logging.getLogger("ray.data").setLevel(logging.WARNING)

    def _embed(self, ray: Any, texts: Sequence[str]) -> np.ndarray:
        from ray.data import ActorPoolStrategy, DataContext

        DataContext.get_current().enable_progress_bars = self.show_progress
        cpus = int(ray.cluster_resources().get("CPU", 1))
        # A few batches per block, and at least one block per actor, so every actor gets work.
        blocks = min(len(texts), max(self.actors or cpus, len(texts) // (self.batch_size * 4)))
        actors = min(self.actors or max(1, cpus), blocks)
        rows = [{"position": i, "text": text} for i, text in enumerate(texts)]
        dataset = ray.data.from_items(rows, override_num_blocks=blocks)
        embedded = dataset.map_batches(
            EmbedBatch,
            fn_constructor_kwargs={"settings": self.settings},
            batch_size=self.batch_size,
            batch_format="numpy",
            compute=ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        positions, vectors = [], []
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            positions.append(batch["position"])
            vectors.append(np.asarray(batch["vector"], dtype=np.float32))
        order = np.argsort(np.concatenate(positions), kind="stable")
        result: np.ndarray = np.concatenate(vectors)[order]
        if len(result) != len(texts):
            raise RuntimeError(f"Ray returned {len(result)} vectors for {len(texts)} texts")
        return result


def ray_ingest(
    service: QAService,
    *,
    address: str | None = None,
    rebuild: bool = False,
    show_progress: bool = False,
    num_cpus: int = 2,
) -> IngestReport:
    """``service.ingest`` with the embedding done on Ray (a local one unless ``address``)."""
    settings = service.settings
    workers_model = HashingEmbedder().model_id if settings.embedder == "hashing" else settings.embedding_model
    if workers_model != service.embedder.model_id:
        raise ConfigurationError(
            f"The Ray workers would embed with {workers_model!r} but this service uses "
            f"{service.embedder.model_id!r}; choose the model with QA_EMBEDDER and QA_EMBEDDING_MODEL."
        )
    workers_backend = "hashing" if settings.embedder == "hashing" else settings.embedding_backend
    if workers_backend != service.embedder.backend:
        raise ConfigurationError(
            f"The Ray workers would embed with the {workers_backend!r} backend but this service uses "
            f"{service.embedder.backend!r}; their vectors differ. Set QA_EMBEDDING_BACKEND={service.embedder.backend}."
        )
    embed = RayEmbedder(settings, address=address, num_cpus=num_cpus, show_progress=show_progress)
    return service.ingest(rebuild=rebuild, show_progress=show_progress, embed=embed)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigurationError("`qa ingest --ray` needs Ray: `pip install 'seed-qa[scale]'`.") from None
    return ray
