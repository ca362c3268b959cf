"""Fixtures for the HTTP tests: fast services, TestClient, and real uvicorn servers on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import create_app
from qa import HashingEmbedder, QAService, Settings

from ..conftest import REPO, settings_under

BAYKAR_QUOTE = "Baykar company, which manufactures the Bayraktar TB2 drone"
KYIV_PASSAGE = "inaugurated a factory to manufacture these aircraft on the outskirts of Kyiv"
# Hashed bag-of-words vectors score lower than the real model: at 0.3 "Who makes the TB2?" is
# answered ("Baykar") and "What is the capital of France?" still abstains.
FAST_THRESHOLD = 0.3


def fast_settings(root: Path, **overrides: Any) -> Settings:
    """Settings on the hashing embedder with their own folders under ``root`` (seeds copied once)."""
    # watch=False: tests change the seeds folder on purpose; the live-folder tests turn it on.
    # max_wait_s=60: on a busy CI machine these tests wait rather than shed; the shedding tests
    # (tests/hardening/test_limits.py) set their own budget.
    values: dict[str, Any] = {
        "embedder": "hashing",
        "answerer": "sentence",
        "abstain_threshold": FAST_THRESHOLD,
        "watch": False,
        "max_wait_s": 60,
    }
    return settings_under(root, **{**values, **overrides})


def fast_service(settings: Settings, *, build: bool = True) -> QAService:
    """A service on the hashing embedder, its index built unless ``build`` is False."""
    service = QAService(settings, embedder=HashingEmbedder())
    if build:
        service.ensure_index()
    return service


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """Fast settings in this test's temp folder."""
    return fast_settings(tmp_path)


@pytest.fixture
def api_service(api_settings: Settings) -> QAService:
    """A ready service on the hashing embedder."""
    return fast_service(api_settings)


@pytest.fixture
def client(api_service: QAService) -> Iterator[TestClient]:
    """A TestClient with the lifespan run and the index ready."""
    with TestClient(create_app(service=api_service)) as test_client:
        yield test_client


@dataclass
class LiveServer:
    """A uvicorn server running an app on a loopback port, in a thread."""

    app: FastAPI
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=15)


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(app: FastAPI) -> LiveServer:
    """Serve ``app`` with uvicorn on a free loopback port; returns once it accepts connections."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    return LiveServer(app=app, url=f"http://127.0.0.1:{port}", server=server, thread=thread)


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
    return serve(create_app(service=api_service))


@pytest.fixture(scope="session")
def real_api_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> QAService:
    """The default configuration (real bundled model) over the project's seeds, built once."""
    try:  # share the model with the project-wide fixture when there is one
        embedder = request.getfixturevalue("real_embedder")
    except pytest.FixtureLookupError:
        from qa.embedding import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
    root = tmp_path_factory.mktemp("api-real")
    shutil.copytree(REPO / "seeds", root / "seeds")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, seeds_dir=root / "seeds", index_dir=root / "embeddings", data_dir=root / "data"
    )
    service = QAService(settings, embedder=embedder)
    service.ensure_index()
    return service
