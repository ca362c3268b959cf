"""A collection's trash: deleted documents wait here ``QA_TRASH_DAYS`` days and can be restored.

Two kinds of entry, so no file is ever lost:

- ``moved``: a file the service itself wrote (an upload) is moved into the trash folder; it is
  erased only when its entry is older than the retention.
- ``hidden``: a file a person placed by hand (the seeds folder, a collection's ``documents/``)
  stays where it is and is only left out of the index; its entry never expires.

The entries live in ``entries.json`` beside the moved files, written atomically.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from qa.errors import DocumentNotFoundError, TrashConflictError
from qa.stores.files import atomic_write_bytes

TrashKind = Literal["moved", "hidden"]
_ENTRIES = "entries.json"
_DAY_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class TrashEntry:
    """A deleted document: where it came from, when, and whether its file was moved or only hidden."""

    id: str
    source: str
    kind: TrashKind
    deleted_at: float

    def expires_at(self, days: int) -> float | None:
        """When a moved file is erased; None for a hidden one (never)."""
        return self.deleted_at + days * _DAY_S if self.kind == "moved" else None


class Trash:
    """The trash folder of one collection; safe to share between threads."""

    def __init__(self, folder: Path, *, days: int, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.days = days
        self._clock = clock
        self._lock = threading.RLock()

    def entries(self) -> list[TrashEntry]:
        """Entries newest first, after erasing moved files past the retention."""
        with self._lock:
            self.purge()
            return sorted(self._read(), key=lambda e: e.deleted_at, reverse=True)

    def hidden_sources(self) -> frozenset[str]:
        """Hand-placed sources left out of the index."""
        with self._lock:
            return frozenset(e.source for e in self._read() if e.kind == "hidden")

    def move_in(self, source: str, path: Path) -> TrashEntry:
        """Move the service's own file at ``path`` into the trash."""
        with self._lock:
            entry = TrashEntry(secrets.token_hex(8), source, "moved", self._clock())
            target = self._file(entry)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
            self._write([*self._read(), entry])
            return entry

    def hide(self, source: str) -> TrashEntry:
        """Leave a hand-placed ``source`` out of the index; its file is not touched."""
        with self._lock:
            entry = TrashEntry(secrets.token_hex(8), source, "hidden", self._clock())
            self._write([*(e for e in self._read() if e.source != source or e.kind != "hidden"), entry])
            return entry

    def take_out(self, entry_id: str, restore_to: Callable[[TrashEntry], Path | None]) -> TrashEntry:
        """Remove entry ``entry_id``; a moved file goes back to ``restore_to(entry)``.

        Raises DocumentNotFoundError for an unknown id, TrashConflictError when a file of that name
        is back in the folder meanwhile (rename or delete it first).
        """
        with self._lock:
            entries = self._read()
            entry = next((e for e in entries if e.id == entry_id), None)
            if entry is None:
                raise DocumentNotFoundError(f"The trash has no entry {entry_id!r}. List it with GET /api/trash.")
            target = restore_to(entry)
            if entry.kind == "moved" and target is not None:
                if target.exists():
                    raise TrashConflictError(
                        f"{entry.source!r} exists again in the collection; delete or rename that file, then restore."
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                self._file(entry).replace(target)
                shutil.rmtree(self._file(entry).parent, ignore_errors=True)
            self._write([e for e in entries if e.id != entry_id])
            return entry

    def purge(self) -> list[TrashEntry]:
        """Erase moved files older than the retention; the entries erased."""
        with self._lock:
            now = self._clock()
            entries = self._read()
            old = [e for e in entries if (expiry := e.expires_at(self.days)) is not None and expiry <= now]
            if not old:
                return []
            for entry in old:
                shutil.rmtree(self._file(entry).parent, ignore_errors=True)
            self._write([e for e in entries if e not in old])
            return old

    def _file(self, entry: TrashEntry) -> Path:
        # One folder per entry: two deletions of the same name never collide.
        return self.folder / entry.id / Path(entry.source).name

    def _read(self) -> list[TrashEntry]:
        path = self.folder / _ENTRIES
        if not path.is_file():
            return []
        return [TrashEntry(**row) for row in json.loads(path.read_text("utf-8"))]

    def _write(self, entries: list[TrashEntry]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=1).encode("utf-8")
        atomic_write_bytes(self.folder / _ENTRIES, data)
