"""Nothing internal leaks to anonymous callers: /readyz keeps paths and the Qdrant URL to itself
(they go to the log, and to callers with a key); the index manifest cannot point outside its folder."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api import create_app
from qa import HashingEmbedder, QAService
from qa.errors import IndexCorruptError
from qa.stores.faiss_store import FaissVectors
from tests.support import LiveServer, fast_service, fast_settings, free_port, has_module

KEY = "readyz-test-key-71be0c4d"


def wait_for_failure(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    deadline = time.monotonic() + 60
    while "failed to load" not in (ready := httpx.get(f"{url}/readyz", headers=headers, timeout=10)).text:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.05)
    return ready


@pytest.mark.parametrize("keys", [[], [KEY]], ids=["keyless", "with-keys"])
def test_readyz_hides_paths_from_anonymous_callers(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer], keys: list[str]
) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr(k) for k in keys])
    fast_service(settings)
    next(settings.index_dir.glob("chunks-*.jsonl")).unlink()  # damaged: a file the manifest lists is gone
    live = serve(create_app(service=QAService(settings, embedder=HashingEmbedder())))
    anonymous = wait_for_failure(live.url)
    assert anonymous.status_code == 503
    assert str(tmp_path) not in anonymous.text and "/chunks-" not in anonymous.text
    message = anonymous.json()["error"]["message"]
    assert "index_corrupt" in message and "qa ingest --rebuild" in message  # the fix, still
    wrong = httpx.get(f"{live.url}/readyz", headers={"Authorization": "Bearer not-a-key-at-all-0000"}, timeout=10)
    assert str(tmp_path) not in wrong.text
    if keys:
        detailed = httpx.get(f"{live.url}/readyz", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        assert detailed.status_code == 503 and str(settings.index_dir) in detailed.text


@pytest.mark.skipif(not has_module("qdrant_client"), reason="needs the [scale] extra")
def test_readyz_does_not_echo_the_qdrant_url(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    qdrant_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = fast_settings(tmp_path, vector_store="qdrant", qdrant_url=qdrant_url)
    live = serve(create_app(service=QAService(settings, embedder=HashingEmbedder())))
    deadline = time.monotonic() + 60
    while (ready := httpx.get(f"{live.url}/readyz", timeout=10)).status_code == 503 and "failed" not in ready.text:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.1)
    assert ready.status_code == 503, ready.text
    assert qdrant_url.removeprefix("http://") not in ready.text, ready.text


@pytest.mark.parametrize("how", ["dotdot", "absolute", "nested", "symlink"])
def test_manifest_files_outside_the_index_folder_are_refused(tmp_path: Path, how: str) -> None:
    settings = fast_settings(tmp_path)
    fast_service(settings)
    index_dir = settings.index_dir
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    chunks = index_dir / manifest["artifacts"]["chunks"]["file"]
    outside = tmp_path / "planted.jsonl"
    shutil.copyfile(chunks, outside)  # the same bytes: the checksum would match
    entry = {
        "dotdot": "../planted.jsonl",
        "absolute": str(outside),
        "nested": f"../{tmp_path.name}/planted.jsonl",
        "symlink": "link.jsonl",
    }[how]
    if how == "symlink":
        (index_dir / "link.jsonl").symlink_to(outside)
    manifest["artifacts"]["chunks"]["file"] = entry
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError) as caught:
        FaissVectors.load(index_dir)
    assert "not a file inside the index folder" in caught.value.message
    assert "qa ingest --rebuild" in caught.value.message
