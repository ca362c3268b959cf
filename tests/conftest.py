"""Shared fixtures: fast services on the hashing embedder, real uvicorn servers on loopback, and
the real model once per session. The helpers they call live in ``tests/support.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa import HashingEmbedder, QAService, Settings
from tests.support import (
    HASHING,
    NEEDS_SCALE_EXTRA,
    LiveServer,
    RedisServer,
    copy_seeds,
    fast_service,
    fast_settings,
    has_module,
    settings_env,
    settings_under,
    start_server,
)


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A private copy of the project's seeds folder."""
    return copy_seeds(tmp_path)


@pytest.fixture
def fake_settings(tmp_path: Path, seeds_dir: Path) -> Settings:
    """Settings for fast tests: hashing embedder, sentence answerer, temp folders."""
    return settings_under(tmp_path, seeds_dir=seeds_dir, **HASHING)


@pytest.fixture
def fake_service(fake_settings: Settings) -> QAService:
    """A service with its index built on the hashing embedder."""
    service = QAService(fake_settings, embedder=HashingEmbedder())
    service.ingest()
    return service


@pytest.fixture
def cli_env(fake_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """``fake_settings`` as ``QA_*`` variables, for ``qa`` commands run in this process."""
    for name, value in settings_env(fake_settings).items():
        if name.startswith("QA_"):
            monkeypatch.setenv(name, value)
    return fake_settings


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """The HTTP tests' fast settings in this test's temp folder."""
    return fast_settings(tmp_path)


@pytest.fixture
def api_service(api_settings: Settings) -> QAService:
    """A ready service on the hashing embedder."""
    return fast_service(api_settings)


@pytest.fixture
def client(api_service: QAService) -> Iterator[TestClient]:
    """A TestClient with the lifespan run and the index ready."""
    from api import create_app

    with TestClient(create_app(service=api_service)) as test_client:
        yield test_client


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], LiveServer]]:
    """Start real servers for a test; every one is stopped afterwards."""
    started: list[LiveServer] = []

    def _serve(app: FastAPI) -> LiveServer:
        live = start_server(app)
        started.append(live)
        return live

    yield _serve
    for live in started:
        live.stop()


@pytest.fixture
def live_server(api_service: QAService, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    """A real uvicorn server over the fast service, index ready."""
    from api import create_app

    return serve(create_app(service=api_service))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server for this test (skipped, with the fix, where there is none)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    if not has_module("redis"):
        pytest.skip(NEEDS_SCALE_EXTRA)
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2 model, loaded once per test session."""
    from qa.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def real_service(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Iterator[QAService]:  # type: ignore[no-untyped-def]
    """The default configuration (real model, default answerer) over the project's seeds."""
    settings = settings_under(tmp_path_factory.mktemp("real"))
    service = QAService(settings, embedder=real_embedder)
    service.ingest()
    yield service
