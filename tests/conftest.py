"""Shared fixtures: fast services on the hashing embedder, and the real model once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa import HashingEmbedder, QAService, Settings

REPO = Path(__file__).resolve().parent.parent
SEED_FILE = "zelensky-istanbul-turkish-drones.txt"
BAYKAR_QUOTE = "Baykar company, which manufactures the Bayraktar TB2 drone"


def settings_under(root: Path, **overrides: Any) -> Settings:
    """Settings whose seeds (the project's, copied once), index and data live under ``root``."""
    seeds = root / "seeds"
    if not seeds.exists():
        shutil.copytree(REPO / "seeds", seeds)
    values: dict[str, Any] = {
        "seeds_dir": seeds,
        "index_dir": root / "embeddings",
        "data_dir": root / "data",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A private copy of the project's seeds folder."""
    target = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", target)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, seeds_dir: Path) -> Settings:
    """Settings for fast tests: hashing embedder, sentence answerer, temp folders."""
    return Settings(
        seeds_dir=seeds_dir,
        index_dir=tmp_path / "embeddings",
        data_dir=tmp_path / "data",
        embedder="hashing",
        answerer="sentence",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def fake_service(fake_settings: Settings) -> QAService:
    """A service with its index built on the hashing embedder."""
    service = QAService(fake_settings, embedder=HashingEmbedder())
    service.ingest()
    return service


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2 model, loaded once per test session."""
    from qa.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def real_service(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Iterator[QAService]:  # type: ignore[no-untyped-def]
    """The default configuration (real model, default answerer) over the project's seeds."""
    root = tmp_path_factory.mktemp("real")
    seeds = root / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    settings = Settings(seeds_dir=seeds, index_dir=root / "embeddings", data_dir=root / "data", _env_file=None)  # type: ignore[call-arg]
    service = QAService(settings, embedder=real_embedder)
    service.ingest()
    yield service
