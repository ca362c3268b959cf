"""The manifest: what an index was built with, written last so it is the commit point.

Both stores keep one: beside the FAISS files as ``manifest.json``, or as a point in the Qdrant
collection. ``check_compatible`` compares it with the running configuration and names each field
that differs; every message ends with ``REBUILD_HINT``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.errors import IndexCorruptError, IndexFormatError, IndexMismatchError, IndexNotReadyError
from qa.ingest.chunking import CHUNKING_VERSION

#: 2: chunks carry ``page`` and follow paragraphs (line-wrapped text joined), documents carry ``pages``.
#: 3: every chunk keeps a vector per sentence, and its own vector is their mean (qa/retrieval/sentences.py).
FORMAT_VERSION = 3
MANIFEST_NAME = "manifest.json"
REBUILD_HINT = "Run `qa ingest --rebuild` to rebuild it from the seeds folder."
#: Packages whose versions every manifest records (a store adds its own, e.g. qdrant-client).
RECORDED_PACKAGES = ("seed-qa", "faiss-cpu", "sentence-transformers", "numpy")


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """What must match between an index on disk and the running configuration."""

    model_id: str
    dim: int
    chunk_max_tokens: int
    chunk_overlap_sentences: int
    embedding_backend: str = "torch"  # torch, onnx, onnx-int8 (or hashing): vectors differ between them
    embedding_export: str = ""  # the ONNX export recipe (qa.onnx_export.EXPORT_VERSION): int8 vectors differ by it
    chunking_version: int = CHUNKING_VERSION  # qa.ingest.chunking.CHUNKING_VERSION: chunks and their text differ by it


@dataclass(frozen=True, slots=True)
class Manifest:
    """Describes a saved index; written last, so it is the commit point."""

    config: IndexConfig
    files: dict[str, str]  # source -> sha256 of the file's bytes
    chunk_count: int
    generation: str
    artifacts: dict[str, dict[str, str]]  # name -> {"file", "sha256"}
    created_at: float
    versions: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """Serialise for ``manifest.json``."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse ``manifest.json``; raises IndexCorruptError on anything malformed."""
        try:
            data = json.loads(text)
            if "embedding_backend" not in data["config"]:  # indexes from before the ONNX backends
                hashing = data["config"]["model_id"].startswith("hashing")
                data["config"]["embedding_backend"] = "hashing" if hashing else "torch"
            if "embedding_export" not in data["config"]:  # indexes from before the recipe was recorded
                data["config"]["embedding_export"] = (
                    "1" if data["config"]["embedding_backend"].startswith("onnx") else ""
                )
            data["config"].setdefault("chunking_version", 1)  # indexes from before heading paths
            data["config"] = IndexConfig(**data["config"])
            manifest = cls(**data)
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexCorruptError(f"The index manifest is unreadable ({exc}). {REBUILD_HINT}") from None
        if manifest.format_version != FORMAT_VERSION:
            raise IndexFormatError(
                f"The index is in format {manifest.format_version}; this version reads format {FORMAT_VERSION} "
                f"(every chunk now keeps a vector per sentence). {REBUILD_HINT}"
            )
        return manifest


def new_generation() -> str:
    """A fresh generation id, ``YYYYmmddTHHMMSS-<8 hex>`` (local time): names FAISS files and Qdrant collections."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def read_manifest(index_dir: Path) -> Manifest:
    """The committed ``manifest.json`` in ``index_dir``; IndexNotReadyError when there is none."""
    path = index_dir / MANIFEST_NAME
    if not path.is_file():
        raise IndexNotReadyError(
            f"No index in {str(index_dir)!r} yet. Run `qa ingest` to build it from the seeds folder."
        )
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"The index manifest is unreadable ({exc}). {REBUILD_HINT}") from None
    return Manifest.from_json(text)


def check_compatible(found: IndexConfig, expected: IndexConfig) -> None:
    """Raise IndexMismatchError naming what differs between the saved and configured index
    (IndexFormatError, a kind of it, when only the chunking version does: an upgrade)."""
    differing = [
        name
        for name in (
            "model_id",
            "embedding_backend",
            "embedding_export",
            "dim",
            "chunk_max_tokens",
            "chunk_overlap_sentences",
            "chunking_version",
        )
        if getattr(found, name) != getattr(expected, name)
    ]
    if differing == ["chunking_version"]:
        # No setting of the user's differs, only how this seed-qa reads documents: an upgrade,
        # rebuilt like an old format (QAService.ensure_index).
        raise IndexFormatError(
            f"The index was chunked by an older seed-qa (chunking version {found.chunking_version}; this one "
            f"chunks with version {expected.chunking_version}). {REBUILD_HINT}"
        )
    differences = [
        f"{name}: index has {getattr(found, name)!r}, configuration has {getattr(expected, name)!r}"
        for name in differing
    ]
    if found.embedding_backend != expected.embedding_backend:
        differences.append(f"or set QA_EMBEDDING_BACKEND={found.embedding_backend} to query it as built")
    if differences:
        raise IndexMismatchError(
            "The index was built with a different configuration (" + "; ".join(differences) + "). " + REBUILD_HINT
        )


def package_versions(*extra: str) -> dict[str, str]:
    """Installed versions of RECORDED_PACKAGES and ``extra``, for ``Manifest.versions`` (missing ones left out)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for package in (*RECORDED_PACKAGES, *extra):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found
