"""Fixtures for the [scale] extra: settings per store, a real redis-server on a free loopback port."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qa import Settings

from ..conftest import settings_under


def has_module(name: str) -> bool:
    """Whether ``name`` is importable (without importing it)."""
    return importlib.util.find_spec(name) is not None


NEEDS_SCALE_EXTRA = "needs the [scale] extra: pip install -e '.[scale]'"
#: The stores every contract test runs on; Qdrant in its embedded local mode.
STORES = [
    pytest.param("faiss", id="faiss"),
    pytest.param(
        "qdrant",
        id="qdrant",
        marks=[pytest.mark.scale, pytest.mark.skipif(not has_module("qdrant_client"), reason=NEEDS_SCALE_EXTRA)],
    ),
]


def store_settings(root: Path, store: str, **overrides: Any) -> Settings:
    """Settings on ``store`` with folders under ``root`` (seeds copied once)."""
    qdrant_path = root / "qdrant" if store == "qdrant" else None
    return settings_under(root, **{"vector_store": store, "qdrant_path": qdrant_path, **overrides})


@pytest.fixture(params=STORES)
def store_name(request: pytest.FixtureRequest) -> str:
    """Each store in turn."""
    return str(request.param)


@pytest.fixture
def make_settings(tmp_path: Path, store_name: str) -> Callable[..., Settings]:
    """Fast settings (hashing embedder, sentence answerer) on the store under test."""

    def _make(**overrides: Any) -> Settings:
        return store_settings(tmp_path, store_name, **{"embedder": "hashing", "answerer": "sentence", **overrides})

    return _make


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throwaway redis-server on loopback; ``stop``/``start`` simulate an outage."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start redis-server and wait until it accepts connections."""
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Stop redis-server (its data is lost: it keeps none on disk)."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server for this test."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    if not has_module("redis"):
        pytest.skip(NEEDS_SCALE_EXTRA)
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
