"""A collection's documents: the folder a person fills by hand, the folder uploads go to, and the trash.

Sources are paths relative to their folder; an upload's source starts with ``uploads/``, so a
hand-placed file and an upload never share an id. The service writes only to the uploads folder
(under the data directory, never a tracked folder of the repository) and the trash; a
hand-placed file is never moved or erased, a delete only hides it (``qa.collections.trash``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from qa.collections.trash import Trash, TrashEntry
from qa.errors import DocumentNotFoundError, LastDocumentError, NoDocumentsError
from qa.ingest.formats import ZipLimits
from qa.ingest.freshness import SeedChanges
from qa.ingest.loading import LoadResult, SkippedFile, document_id, iter_seed_files, load_documents, outside_seeds
from qa.ingest.uploads import store_upload
from qa.schema import Document

if TYPE_CHECKING:
    from qa.config import Settings

UPLOADS_PREFIX = "uploads/"
#: The collection every server has: the seeds folder (QA_SEEDS_DIR) and today's index (QA_INDEX_DIR).
DEFAULT_COLLECTION = "default"

FileState = Literal["indexed", "indexing", "removing", "skipped", "not_indexed"]


@dataclass(frozen=True, slots=True)
class FileStatus:
    """A file of the collection (or still in its index) and where it stands."""

    id: str
    source: str
    status: FileState
    reason: str | None = None
    uploaded: bool = False


class DocumentLibrary:
    """The files of one collection: ``hand_dir`` (read only), ``uploads_dir`` and the trash."""

    def __init__(self, hand_dir: Path, uploads_dir: Path, trash: Trash) -> None:
        self.hand_dir = hand_dir
        self.uploads_dir = uploads_dir
        self.trash = trash

    @property
    def roots(self) -> tuple[Path, ...]:
        """The folders to watch."""
        return (self.hand_dir, self.uploads_dir)

    # Reading ------------------------------------------------------------------------------

    def files(self) -> dict[str, Path]:
        """``source -> path`` of every file the loader would read, hidden ones left out."""
        hidden = self.trash.hidden_sources()
        found: dict[str, Path] = {}
        for prefix, folder in (("", self.hand_dir), (UPLOADS_PREFIX, self.uploads_dir)):
            if not folder.is_dir():
                continue
            for path in iter_seed_files(folder):
                if outside_seeds(path, folder):
                    continue
                source = prefix + path.relative_to(folder).as_posix()
                if source not in hidden:
                    found[source] = path
        return found

    def source_of(self, path: Path) -> str | None:
        """The source a path under one of the roots has (None outside them)."""
        for prefix, folder in (("", self.hand_dir), (UPLOADS_PREFIX, self.uploads_dir)):
            try:
                return prefix + path.relative_to(folder).as_posix()
            except ValueError:
                continue
        return None

    def load(self, *, max_bytes: int | None = None, zip_limits: ZipLimits | None = None) -> LoadResult:
        """Every visible document of both folders; NoDocumentsError when there is none."""
        hidden = self.trash.hidden_sources()
        documents: list[Document] = []
        skipped: list[SkippedFile] = []
        for prefix, folder in (("", self.hand_dir), (UPLOADS_PREFIX, self.uploads_dir)):
            if not folder.is_dir() or not any(True for _ in iter_seed_files(folder)):
                continue
            try:
                loaded = load_documents(folder, max_bytes=max_bytes, zip_limits=zip_limits)
            except NoDocumentsError:
                continue
            for doc in loaded.documents:
                source = prefix + doc.source
                if source not in hidden:
                    documents.append(dataclasses.replace(doc, source=source, id=document_id(source)))
            skipped.extend(SkippedFile(prefix + s.source, s.reason) for s in loaded.skipped)
        if not documents:
            raise NoDocumentsError(
                f"No documents in {str(self.hand_dir)!r} or {str(self.uploads_dir)!r}: add .txt, .md, .html, "
                ".pdf, .docx or .pptx files, or upload some."
            )
        return LoadResult(tuple(documents), tuple(skipped))

    def hashes(self) -> dict[str, str]:
        """``source -> sha256`` of every visible file, keyed as the manifest keys them."""
        hashes = {}
        for source, path in self.files().items():
            try:
                with path.open("rb") as handle:
                    hashes[source] = hashlib.file_digest(handle, "sha256").hexdigest()
            except OSError:
                continue  # vanished between listing and reading: the next check sees it
        return hashes

    def changes(self, indexed: Mapping[str, str]) -> SeedChanges:
        """How the visible files differ from ``indexed`` (a manifest's ``files``)."""
        current = self.hashes()
        return SeedChanges(
            added=tuple(sorted(s for s in current if s not in indexed)),
            changed=tuple(sorted(s for s in current if s in indexed and indexed[s] != current[s])),
            removed=tuple(sorted(s for s in indexed if s not in current)),
        )

    def path(self, source: str) -> Path:
        """The file of a visible ``source``; DocumentNotFoundError otherwise."""
        found = self.files().get(source)
        if found is None:
            raise DocumentNotFoundError(f"No file {source!r} in this collection. List them with GET /api/documents.")
        return found

    def find(self, doc_id: str, known: Iterable[str] = ()) -> str | None:
        """The source with id ``doc_id`` among the files and ``known`` (indexed) sources."""
        return next((s for s in sorted({*self.files(), *known}) if document_id(s) == doc_id), None)

    # Writing ------------------------------------------------------------------------------

    def store(self, name: str, data: BinaryIO) -> tuple[str, str]:
        """Write an upload (a name checked by ``check_upload_name``); its source and document id."""
        store_upload(self.uploads_dir, name, data)
        source = UPLOADS_PREFIX + name
        return source, document_id(source)

    def delete(self, source: str) -> TrashEntry:
        """Move an upload to the trash, or hide a hand-placed file; LastDocumentError for the last one."""
        files = self.files()
        if source not in files:
            raise DocumentNotFoundError(f"No file {source!r} in this collection. List them with GET /api/documents.")
        if not set(files) - {source}:
            raise LastDocumentError(
                f"{source!r} is the only file in the collection and the index cannot be emptied; "
                "upload another file first, then delete this one."
            )
        if source.startswith(UPLOADS_PREFIX) and files[source].is_relative_to(self.uploads_dir):
            return self.trash.move_in(source, files[source])
        return self.trash.hide(source)

    def restore(self, entry_id: str) -> TrashEntry:
        """Bring a deleted document back (its file, or its place in the index)."""
        return self.trash.take_out(entry_id, self._restore_path)

    def _restore_path(self, entry: TrashEntry) -> Path | None:
        if entry.kind == "hidden":
            return None
        return self.uploads_dir / entry.source.removeprefix(UPLOADS_PREFIX)


def collection_home(settings: Settings, name: str) -> Path:
    """Where a collection's uploads, trash (and, but for ``default``, documents and index) live."""
    return settings.data_dir / "collections" / name


def library_for(settings: Settings, name: str) -> DocumentLibrary:
    """The library of collection ``name``: ``default`` reads the seeds folder by hand, others their ``documents/``."""
    home = collection_home(settings, name)
    hand = settings.seeds_dir if name == DEFAULT_COLLECTION else home / "documents"
    return DocumentLibrary(hand, home / "uploads", Trash(home / "trash", days=settings.trash_days))


def default_library(settings: Settings) -> DocumentLibrary:
    """The default collection's library (what ``QAService(settings)`` indexes)."""
    return library_for(settings, DEFAULT_COLLECTION)
