"""``python -m tests.hardening.ingest_shim ingest ...``: ``qa`` with a test-only pause point.

``QA_TEST_PAUSE_AT`` names the moment at which the process stops and waits to be killed; it
first writes that name to ``QA_TEST_PAUSE_FILE`` so the test knows the moment has come:

- ``embedding``: after the first batch of chunks is embedded;
- ``index-write``: halfway through writing the new generation's vector file (a partial temp file);
- ``manifest-write``: halfway through writing the new manifest (a partial temp file);
- ``after-commit``: after the new manifest is in place, before old generations are deleted.

The hooks wrap library functions from outside (nothing in ``qa/`` knows about them), so the
process under test is the real ``qa`` command in every other respect.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def pause(moment: str) -> None:
    """Announce ``moment`` and wait forever (until SIGKILL)."""
    Path(os.environ["QA_TEST_PAUSE_FILE"]).write_text(moment)
    while True:
        time.sleep(60)


def install(moment: str) -> None:
    import qa.stores.faiss_store as faiss_store
    from qa.embedding import HashingEmbedder
    from qa.stores.manifest import MANIFEST_NAME

    if moment == "embedding":
        original_embed = HashingEmbedder.embed_documents

        def embed_then_pause(self: HashingEmbedder, texts: Any) -> Any:
            vectors = original_embed(self, texts)
            pause(moment)
            return vectors

        HashingEmbedder.embed_documents = embed_then_pause  # type: ignore[method-assign]
    elif moment in ("index-write", "manifest-write"):
        original_write = faiss_store.atomic_write_bytes
        target = "vectors-" if moment == "index-write" else MANIFEST_NAME

        def write_half_then_pause(path: Path, data: bytes) -> None:
            if path.name.startswith(target):
                partial = path.parent / f".{path.name}.crash.tmp"  # what a crash mid-write leaves
                partial.write_bytes(data[: len(data) // 2])
                pause(moment)
            original_write(path, data)

        faiss_store.atomic_write_bytes = write_half_then_pause
    elif moment == "after-commit":

        def pause_before_cleanup(index_dir: Path, *, keep: str) -> None:
            pause(moment)

        faiss_store.remove_stale_generations = pause_before_cleanup
    else:
        raise SystemExit(f"unknown QA_TEST_PAUSE_AT {moment!r}")


if __name__ == "__main__":
    if os.environ.get("QA_TEST_PAUSE_AT"):
        install(os.environ["QA_TEST_PAUSE_AT"])
    from qa.cli import main

    main()
