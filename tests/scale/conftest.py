"""Fixtures for the [scale] extra: each vector store in turn, and settings on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qa import Settings
from tests.support import HASHING, NEEDS_SCALE_EXTRA, has_module, store_settings

#: The stores every contract test runs on; Qdrant in its embedded local mode.
STORES = [
    pytest.param("faiss", id="faiss"),
    pytest.param(
        "qdrant",
        id="qdrant",
        marks=[pytest.mark.scale, pytest.mark.skipif(not has_module("qdrant_client"), reason=NEEDS_SCALE_EXTRA)],
    ),
]


@pytest.fixture(params=STORES)
def store_name(request: pytest.FixtureRequest) -> str:
    """Each store in turn."""
    return str(request.param)


@pytest.fixture
def make_settings(tmp_path: Path, store_name: str) -> Callable[..., Settings]:
    """Fast settings (hashing embedder, sentence answerer) on the store under test."""

    def _make(**overrides: Any) -> Settings:
        return store_settings(tmp_path, store_name, **{**HASHING, **overrides})

    return _make
