"""Files added to the seeds folder from outside (the HTTP upload): safe names, allowed types, atomic writes.

A name is checked, never repaired: anything that is not a plain file name (``../x``, ``a/b``,
``C:\\x``, a hidden ``.x``, control characters) is refused, so a file can only land directly in
the seeds folder under the name the user sees. A write goes to a hidden temp file in the seeds
folder (the loader and the watcher skip hidden files), is fsynced, then renamed over the target
(``qa.stores.files.atomic_write``, as the index files): the loader sees the old file or the new
one, never half of one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from qa.errors import UnsupportedFileTypeError, UploadError, UploadTooLargeError
from qa.ingest.loading import SUPPORTED_SUFFIXES, document_id
from qa.stores.files import atomic_write

#: Longest accepted name in UTF-8 bytes (ext4 and most file systems allow 255).
MAX_NAME_BYTES = 255
_FORBIDDEN_CHARS = frozenset('/\\:*?"<>|')
_COPY_BLOCK = 1 << 20


def allowed_suffixes(configured: Iterable[str] = ()) -> tuple[str, ...]:
    """The suffixes an upload may have: the loader's, narrowed to ``configured`` when that is not empty."""
    wanted = {s.lower() if s.startswith(".") else "." + s.lower() for s in configured}
    return tuple(s for s in SUPPORTED_SUFFIXES if not wanted or s in wanted)


def check_upload_name(name: str | None, *, suffixes: Iterable[str] = SUPPORTED_SUFFIXES) -> str:
    """``name`` when it is a plain file name of an allowed type; UploadError (422) or UnsupportedFileTypeError (415).

    Raises:
        UploadError: empty, a path, hidden, control characters or over MAX_NAME_BYTES.
        UnsupportedFileTypeError: the suffix is not in ``suffixes``.
    """
    if not name:
        raise UploadError("The uploaded file has no name. Send each file with a filename, e.g. 'notes.txt'.")
    shown = name[:80]
    bad = next((c for c in name if c in _FORBIDDEN_CHARS or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise UploadError(
            f"File name {shown!r} contains {bad!r}: send a plain file name without folders or special "
            "characters, e.g. 'notes.txt'."
        )
    if name.startswith(".") or name != name.strip():
        raise UploadError(f"File name {shown!r} starts with a dot or a space, or ends with a space: rename the file.")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadError(f"File name {shown!r}… is longer than {MAX_NAME_BYTES} bytes: rename the file.")
    allowed = tuple(suffixes)
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        raise UnsupportedFileTypeError(
            f"File {shown!r} has type {suffix or '(no suffix)'!r}, which is not accepted; "
            f"upload one of: {', '.join(allowed)}."
        )
    return name


def check_upload_size(name: str, size: int, *, max_bytes: int) -> None:
    """UploadTooLargeError (413) when ``size`` is over ``max_bytes``."""
    if size > max_bytes:
        raise UploadTooLargeError(
            f"File {name[:80]!r} is {size} bytes, over the limit of {max_bytes} bytes (QA_MAX_UPLOAD_BYTES). "
            "Split it or raise the limit."
        )


def store_upload(seeds_dir: Path, name: str, data: BinaryIO) -> str:
    """Write ``data`` to ``seeds_dir/name`` atomically (replacing a file of that name); the new document's id.

    ``name`` must have passed ``check_upload_name``. A symlink or folder at the target is refused
    rather than followed or replaced.
    """
    seeds_dir.mkdir(parents=True, exist_ok=True)
    target = seeds_dir / name
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UploadError(f"{name!r} in the seeds folder is a link or a folder, not a file; rename the upload.")
    atomic_write(target, iter(lambda: data.read(_COPY_BLOCK), b""))
    return document_id(name)
