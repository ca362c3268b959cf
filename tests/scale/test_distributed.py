"""`qa ingest --ray`: embedding on a local Ray (2 CPUs) gives the plain ingest's chunks and vectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qa import HashingEmbedder, QAService, Settings
from qa.stores.faiss_store import FaissVectors
from tests.support import NEEDS_SCALE_EXTRA, has_module

pytestmark = [pytest.mark.scale, pytest.mark.skipif(not has_module("ray"), reason=NEEDS_SCALE_EXTRA)]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray for the module (starting one takes seconds); RayEmbedder leaves it running."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _stored(index_dir: Path) -> tuple[list[str], np.ndarray]:
    store, _ = FaissVectors.load(index_dir)
    return [c.id for c in store.chunks()], store.vectors().chunks


def _more_seeds(seeds: Path) -> None:
    for i in range(40):  # enough chunks for several batches across both actors
        (seeds / f"note-{i:02d}.txt").write_text(
            f"Note {i}. The Anka-{i} drone flew {i} times. It landed in Kyiv.", "utf-8"
        )


def test_ray_ingest_equals_plain_ingest(fake_settings: Settings, local_ray: None) -> None:
    from qa.ingest.distributed import RayEmbedder, ray_ingest

    _more_seeds(fake_settings.seeds_dir)
    plain = QAService(fake_settings, embedder=HashingEmbedder())
    plain.ingest()
    ray_settings = fake_settings.model_copy(update={"index_dir": fake_settings.index_dir.parent / "ray-index"})
    distributed = QAService(ray_settings, embedder=HashingEmbedder())
    report = ray_ingest(distributed, rebuild=True)
    assert report.rebuilt and report.embedded_chunks == plain.manifest.chunk_count
    ids, vectors = _stored(ray_settings.index_dir)
    plain_ids, plain_vectors = _stored(fake_settings.index_dir)
    assert ids == plain_ids
    np.testing.assert_allclose(vectors, plain_vectors, atol=1e-6)
    assert distributed.manifest.files == plain.manifest.files

    (ray_settings.seeds_dir / "note-00.txt").write_text("Note 0 changed: Kuleba spoke in Vilnius.", "utf-8")
    changed = ray_ingest(distributed)
    assert changed.updated == ("note-00.txt",) and changed.embedded_chunks == 1
    assert distributed.search("Kuleba spoke in Vilnius", top_k=1)[0].chunk.source == "note-00.txt"
    assert RayEmbedder(ray_settings)(["Baykar makes the TB2."]).shape == (1, 384)


@pytest.mark.e2e
def test_ray_ingest_with_the_real_model_matches(tmp_path: Path, real_embedder, local_ray: None) -> None:  # type: ignore[no-untyped-def]
    from qa.ingest.distributed import ray_ingest
    from tests.support import store_settings

    # real_embedder runs the torch backend; the workers build theirs from the settings.
    plain_settings = store_settings(tmp_path / "plain", "faiss", embedding_backend="torch")
    ray_settings = store_settings(tmp_path / "ray", "faiss", embedding_backend="torch")
    _more_seeds(plain_settings.seeds_dir)
    _more_seeds(ray_settings.seeds_dir)
    QAService(plain_settings, embedder=real_embedder).ingest()
    ray_ingest(QAService(ray_settings, embedder=real_embedder))
    ids, vectors = _stored(ray_settings.index_dir)
    plain_ids, plain_vectors = _stored(plain_settings.index_dir)
    assert ids == plain_ids
    np.testing.assert_allclose(vectors, plain_vectors, atol=1e-4)


@pytest.mark.e2e
def test_ray_ingest_refuses_workers_on_another_backend(tmp_path: Path, real_embedder) -> None:  # type: ignore[no-untyped-def]
    from qa.errors import ConfigurationError
    from qa.ingest.distributed import ray_ingest
    from tests.support import store_settings

    settings = store_settings(tmp_path, "faiss", embedding_backend="onnx-int8")
    with pytest.raises(ConfigurationError, match="QA_EMBEDDING_BACKEND=torch"):
        ray_ingest(QAService(settings, embedder=real_embedder))
