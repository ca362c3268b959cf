"""qa.collections: the library's two folders, the trash, the registry and keys with roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import HashingEmbedder, QAService
from qa.collections.access import LOCAL, KeyRing, Principal, add_key, key_digest, read_keys_file
from qa.collections.library import DocumentLibrary
from qa.collections.registry import CollectionRegistry, check_collection_name
from qa.collections.trash import Trash
from qa.errors import (
    CollectionExistsError,
    CollectionForbiddenError,
    CollectionNotFoundError,
    ConfigurationError,
    ConflictError,
    InvalidCollectionNameError,
    LastDocumentError,
    RoleForbiddenError,
    TrashConflictError,
    UploadsDisabledError,
)
from tests.support import HASHING, settings_under

DAY = 24 * 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def library(tmp_path: Path, clock: Clock | None = None) -> DocumentLibrary:
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / "policy.txt").write_text("Policy\n\nLeave is 27 days.\n", "utf-8")
    trash = Trash(tmp_path / "trash", days=7, clock=clock or Clock())
    return DocumentLibrary(hand, tmp_path / "uploads", trash)


def test_uploads_and_hand_placed_files_are_one_collection_with_distinct_sources(tmp_path: Path) -> None:
    lib = library(tmp_path)
    source, doc_id = lib.store("notes.md", _bytes("# Notes\n\nThe bell rings at six.\n"))
    assert source == "uploads/notes.md" and (tmp_path / "uploads" / "notes.md").is_file()
    assert sorted(lib.files()) == ["policy.txt", "uploads/notes.md"]
    loaded = lib.load()
    assert sorted(d.source for d in loaded.documents) == ["policy.txt", "uploads/notes.md"]
    assert doc_id in {d.id for d in loaded.documents}
    assert lib.changes({"policy.txt": "stale", "gone.txt": "x"}).describe() == (
        "1 added (uploads/notes.md); 1 changed (policy.txt); 1 removed (gone.txt)"
    )


def test_delete_moves_an_upload_to_the_trash_and_only_hides_a_hand_placed_file(tmp_path: Path) -> None:
    clock = Clock()
    lib = library(tmp_path, clock)
    lib.store("notes.md", _bytes("Notes\n\nThe bell rings at six.\n"))
    moved = lib.delete("uploads/notes.md")
    assert moved.kind == "moved" and not (tmp_path / "uploads" / "notes.md").exists()
    with pytest.raises(LastDocumentError):
        lib.delete("policy.txt")  # the index cannot be emptied
    lib.store("other.txt", _bytes("Other\n\nText.\n"))
    hidden = lib.delete("policy.txt")
    assert hidden.kind == "hidden" and (tmp_path / "hand" / "policy.txt").is_file()  # never moved or erased
    assert sorted(lib.files()) == ["uploads/other.txt"]

    lib.restore(hidden.id)
    lib.restore(moved.id)
    assert sorted(lib.files()) == ["policy.txt", "uploads/notes.md", "uploads/other.txt"]
    assert lib.trash.entries() == []


def test_restoring_over_a_new_file_of_that_name_is_refused(tmp_path: Path) -> None:
    lib = library(tmp_path)
    lib.store("notes.md", _bytes("old"))
    entry = lib.delete("uploads/notes.md")
    lib.store("notes.md", _bytes("new"))
    with pytest.raises(TrashConflictError):
        lib.restore(entry.id)
    assert (tmp_path / "uploads" / "notes.md").read_text() == "new"


def test_moved_files_are_erased_after_the_retention_hidden_ones_never(tmp_path: Path) -> None:
    clock = Clock()
    lib = library(tmp_path, clock)
    for name in ("a.txt", "b.txt"):
        lib.store(name, _bytes(f"{name}\n\ntext.\n"))
    moved = lib.delete("uploads/a.txt")
    hidden = lib.delete("policy.txt")
    clock.now += 7 * DAY - 1
    assert {e.id for e in lib.trash.entries()} == {moved.id, hidden.id}
    clock.now += 2
    assert [e.id for e in lib.trash.entries()] == [hidden.id]
    assert not (tmp_path / "trash" / moved.id).exists()
    assert (tmp_path / "hand" / "policy.txt").is_file()


def test_collection_names_are_checked() -> None:
    assert check_collection_name("eng-docs") == "eng-docs"
    for bad in ("", "HR", "-x", "a/b", "../x", "x" * 41, "hr docs"):
        with pytest.raises(InvalidCollectionNameError):
            check_collection_name(bad)


def test_registry_creates_lists_and_retires_collections_sharing_the_models(tmp_path: Path) -> None:
    settings = settings_under(tmp_path, **HASHING, max_collections=3)
    default = QAService(settings, embedder=HashingEmbedder())
    registry = CollectionRegistry(settings, service=default, watch=False)
    hr = registry.create("hr")
    assert registry.names() == ["default", "hr"]
    (hr.library.hand_dir / "policy.txt").write_text("Policy\n\nLeave is 27 days.\n", "utf-8")
    hr.service.ingest()
    assert hr.service.embedder is default.embedder  # loaded once, shared
    assert hr.service.settings.index_dir == settings.data_dir / "collections" / "hr" / "index"
    assert hr.service.ask("How long is leave?").citations[0].source == "policy.txt"
    with pytest.raises(CollectionExistsError):
        registry.create("hr")
    registry.create("eng")
    with pytest.raises(ConflictError, match="QA_MAX_COLLECTIONS"):
        registry.create("ops")
    kept = Path(registry.delete("hr"))
    assert registry.names() == ["default", "eng"] and (kept / "documents" / "policy.txt").is_file()
    with pytest.raises(CollectionNotFoundError):
        registry.get("hr")
    with pytest.raises(ConflictError):
        registry.delete("default")
    # A name no collection can have is not found, never a path (the API fuzzer sent 5,000 characters).
    for name in ("../eng", "x" * 5000, "Eng", ""):
        with pytest.raises(CollectionNotFoundError):
            registry.get(name)


def test_roles_and_collections_of_a_key(tmp_path: Path) -> None:
    reader = Principal("r", "reader", frozenset({"hr"}))
    reader.require_read("hr")
    with pytest.raises(CollectionForbiddenError):
        reader.require_read("eng")
    with pytest.raises(RoleForbiddenError):
        reader.require_edit("hr", doing="upload")
    with pytest.raises(UploadsDisabledError):
        Principal("e", "editor").require_edit("hr", doing="upload", uploads=False)
    LOCAL.require_edit("anything", doing="upload")


def test_keys_are_stored_hashed_and_matched_by_digest(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    add_key(path, "hr-bot", role="reader", collections=["hr"], key="k" * 32)
    add_key(path, "boss", role="admin", collections=None, key="b" * 32)
    assert "k" * 32 not in path.read_text()
    stored = json.loads(path.read_text())["keys"]
    assert stored[0] == {"name": "hr-bot", "sha256": key_digest("k" * 32), "role": "reader", "collections": ["hr"]}
    ring = KeyRing.from_settings(["e" * 20], path)
    assert ring.match("k" * 32) == Principal("hr-bot", "reader", frozenset({"hr"}))
    assert ring.match("b" * 32) == Principal("boss", "admin", None)
    assert ring.match("e" * 20) == Principal("key-1", "admin", None)
    assert ring.match("nope" * 5) is None


def test_a_bad_keys_file_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"name": "x", "sha256": "abc", "role": "boss"}]}))
    with pytest.raises(ConfigurationError, match="roles are reader, editor, admin"):
        read_keys_file(path)
    with pytest.raises(ConfigurationError, match="qa keys add"):
        read_keys_file(tmp_path / "missing.json")


def _bytes(text: str):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(text.encode("utf-8"))
