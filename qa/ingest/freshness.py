"""Has the seeds folder changed since the index was built? Compares file hashes with the manifest's.

The manifest records ``source -> sha256 of the file's bytes`` for every indexed file
(``qa.stores.manifest.Manifest.files``); hashing the folder's files the same way and comparing says which
were added, changed or removed since. Files the loader skips (empty, unreadable) are never in the
manifest, so they show as added: they are in the folder but not in the index, which is what the
user needs to know. Reads every file once; no parsing, no model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.loading import iter_seed_files, outside_seeds


@dataclass(frozen=True, slots=True)
class SeedChanges:
    """Files in the seeds folder that differ from the index, by kind."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def stale(self) -> bool:
        """True when the index does not match the folder."""
        return bool(self.added or self.changed or self.removed)

    def describe(self, *, limit: int = 5) -> str:
        """One line for a warning, e.g. ``1 added (notes.txt), 1 removed (old.md)``."""
        parts = []
        for kind, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                shown = ", ".join(names[:limit]) + (f", … {len(names) - limit} more" if len(names) > limit else "")
                parts.append(f"{len(names)} {kind} ({shown})")
        return "; ".join(parts)


def file_hashes(seeds_dir: Path) -> dict[str, str]:
    """``source -> sha256`` of every file the loader would read, keyed as the manifest keys them."""
    if not seeds_dir.is_dir():
        return {}
    hashes: dict[str, str] = {}
    for path in iter_seed_files(seeds_dir):
        if outside_seeds(path, seeds_dir):
            continue  # never read, never indexed (qa.ingest.loading says so when ingesting)
        try:
            with path.open("rb") as handle:
                hashes[path.relative_to(seeds_dir).as_posix()] = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            continue  # vanished or unreadable between listing and reading: the next check sees it
    return hashes


def seed_changes(seeds_dir: Path, indexed: Mapping[str, str]) -> SeedChanges:
    """How ``seeds_dir`` differs from ``indexed`` (a manifest's ``files``)."""
    current = file_hashes(seeds_dir)
    return SeedChanges(
        added=tuple(sorted(s for s in current if s not in indexed)),
        changed=tuple(sorted(s for s in current if s in indexed and indexed[s] != current[s])),
        removed=tuple(sorted(s for s in indexed if s not in current)),
    )
