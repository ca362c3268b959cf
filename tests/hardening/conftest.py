"""Fixtures for the hardening tests: fast services, real servers (in a thread or a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import (  # noqa: F401  (re-exported fixtures)
    REPO,
    api_service,
    api_settings,
    fast_settings,
    free_port,
    live_server,
    serve,
)

#: A question the fast (hashing) service answers from the seed article.
TB2_QUESTION = "Who makes the TB2?"


@dataclass
class ServerProcess:
    """``qa serve`` in a subprocess: its URL, process and log file (stderr; stdout goes beside it)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def fast_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``qa`` subprocess on the hashing embedder with folders under ``root``."""
    settings = fast_settings(root)  # copies the seeds once
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=str(REPO),
        QA_EMBEDDER="hashing",
        QA_ANSWERER="sentence",
        QA_ABSTAIN_THRESHOLD=str(settings.abstain_threshold),
        QA_SEEDS_DIR=str(settings.seeds_dir),
        QA_INDEX_DIR=str(settings.index_dir),
        QA_DATA_DIR=str(settings.data_dir),
    )
    env.update(extra)
    return env


def start_server_process(root: Path, **env: str) -> ServerProcess:
    """Run ``qa serve`` on a free loopback port (hashing embedder); returns once /readyz is 200."""
    port = free_port()
    log = root / f"server-{port}.log"
    command = [sys.executable, "-m", "qa.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as err, log.with_suffix(".out").open("wb") as out:
        process = subprocess.Popen(command, env=fast_env(root, **env), stdout=out, stderr=err, cwd=root)
    server = ServerProcess(url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qa serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"qa serve did not become ready: {log.read_text()[-2000:]}")


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """``qa serve`` (hashing embedder, default limits) in a subprocess, stopped afterwards."""
    server = start_server_process(tmp_path)
    yield server
    server.stop()


def clear_of_window_edge(margin_s: float = 15.0) -> None:
    """Wait until the next minute boundary is ``margin_s`` away.

    The in-memory sliding window is aligned to whole minutes and weighs the previous minute's
    requests down as it ages: across a boundary a test's exact counts would be off by one.
    """
    into_minute = time.time() % 60
    if into_minute > 60 - margin_s:
        time.sleep(60 - into_minute + 0.2)
