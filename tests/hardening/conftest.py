"""Fixtures for the hardening tests: ``qa serve`` in a subprocess (the rest is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServerProcess, start_server_process


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """``qa serve`` (hashing embedder, default limits) in a subprocess, stopped afterwards."""
    server = start_server_process(tmp_path)
    yield server
    server.stop()
