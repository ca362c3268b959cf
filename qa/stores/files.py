"""Crash-safe files: atomic writes with a directory fsync, checksums, and the generation clean-up.

A write goes to a hidden temp file beside the target (``.<name>.<random>.tmp``; loaders and the
seeds watcher skip hidden files), is fsynced, renamed over the target, and the folder is fsynced:
a reader sees the old file or the new one, never half of one. The FAISS store commits with these
(manifest last), uploads land in the seeds folder with them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from qa.errors import IndexCorruptError
from qa.stores.manifest import REBUILD_HINT, Manifest


def atomic_write(path: Path, blocks: Iterable[bytes]) -> None:
    """Write ``blocks`` to ``path`` through a fsynced temp file and a rename, then fsync the folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for block in blocks:
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``atomic_write`` of one bytes object."""
    atomic_write(path, (data,))


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (artifact checksums here, ONNX export cache keys in qa/onnx_export.py)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_generations(index_dir: Path, *, keep: str) -> None:
    """Delete artifact files of generations other than ``keep`` and temp files a crash left behind."""
    for path in index_dir.iterdir():
        stale_artifact = path.name.endswith((".faiss", ".jsonl", ".npz")) and keep not in path.name
        leftover_temp = path.name.startswith(".") and path.name.endswith(".tmp")
        if stale_artifact or leftover_temp:
            path.unlink(missing_ok=True)


def artifact_path(index_dir: Path, file: str, *, name: str) -> Path:
    """``index_dir / file``, refusing (IndexCorruptError) a ``file`` that leads out of the folder.

    The manifest is data: an edited or planted one must not make the server read other files
    (``../`` entries, absolute paths, or links out of the folder).
    """
    path = index_dir / file
    plain = bool(file) and Path(file).name == file and file not in (".", "..")
    if not plain or not path.resolve().is_relative_to(index_dir.resolve()):
        raise IndexCorruptError(
            f"The index manifest's {name} file {file!r} is not a file inside the index folder. {REBUILD_HINT}"
        )
    return path


def read_artifact(index_dir: Path, manifest: Manifest, name: str) -> bytes:
    """The bytes of a named artifact of the committed generation, checksum verified."""
    artifact = manifest.artifacts.get(name)
    if not artifact:
        raise IndexCorruptError(f"The index manifest lists no {name} file. {REBUILD_HINT}")
    path = artifact_path(index_dir, artifact.get("file", ""), name=name)
    try:
        data = path.read_bytes()
    except OSError:
        raise IndexCorruptError(f"Index file {path} is missing or unreadable. {REBUILD_HINT}") from None
    if hashlib.sha256(data).hexdigest() != artifact["sha256"]:
        raise IndexCorruptError(f"Index file {path} is corrupt (checksum mismatch). {REBUILD_HINT}")
    return data
