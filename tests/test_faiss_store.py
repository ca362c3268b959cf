from pathlib import Path

import numpy as np
import pytest

from qa import HashingEmbedder, QAService, Settings
from qa.errors import IndexCorruptError, IndexFormatError, IndexMismatchError, IndexNotReadyError
from qa.retrieval.sentences import ChunkVectors
from qa.schema import Chunk
from qa.stores.faiss_store import FaissVectors
from qa.stores.manifest import FORMAT_VERSION, IndexConfig, read_manifest

CONFIG = IndexConfig(model_id="m", dim=4, chunk_max_tokens=10, chunk_overlap_sentences=1)


def _store() -> FaissVectors:
    chunks = [
        Chunk(id=f"c{i}", doc_id="d", source="a.txt", title="A", text=f"t{i}", start=i, end=i + 1) for i in range(3)
    ]
    vectors = np.eye(3, 4, dtype=np.float32)
    return FaissVectors(chunks, ChunkVectors.single_sentences(vectors), dim=4)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    _store().save(tmp_path, config=CONFIG, files={"a.txt": "abc"})
    store, manifest = FaissVectors.load(tmp_path, expected=CONFIG)
    assert [c.id for c in store.chunks()] == ["c0", "c1", "c2"]
    assert store.search(np.array([0, 1, 0, 0], dtype=np.float32), 1) == [(1, pytest.approx(1.0))]
    assert manifest.files == {"a.txt": "abc"} and manifest.config == CONFIG
    assert "faiss-cpu" in manifest.versions


def test_only_the_committed_generation_remains(tmp_path: Path) -> None:
    _store().save(tmp_path, config=CONFIG, files={})
    manifest = _store().save(tmp_path, config=CONFIG, files={})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        ["manifest.json", *(manifest.artifacts[name]["file"] for name in ("vectors", "chunks", "sentences"))]
    )


def test_crash_before_the_manifest_keeps_the_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.stores.faiss_store as faiss_store

    first = _store().save(tmp_path, config=CONFIG, files={"a.txt": "old"})
    real_write = faiss_store.atomic_write_bytes

    def crash_on_manifest(path: Path, data: bytes) -> None:
        if path.name == "manifest.json":
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(faiss_store, "atomic_write_bytes", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        _store().save(tmp_path, config=CONFIG, files={"a.txt": "new"})
    monkeypatch.undo()
    _store_again, manifest = FaissVectors.load(tmp_path, expected=CONFIG)
    assert manifest.generation == first.generation and manifest.files == {"a.txt": "old"}


def test_corrupt_missing_and_mismatched_indexes_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReadyError, match="qa ingest"):
        FaissVectors.load(tmp_path)
    manifest = _store().save(tmp_path, config=CONFIG, files={})
    with pytest.raises(IndexMismatchError, match="qa ingest --rebuild"):
        FaissVectors.load(tmp_path, expected=IndexConfig("other-model", 4, 10, 1))
    vectors = tmp_path / manifest.artifacts["vectors"]["file"]
    vectors.write_bytes(vectors.read_bytes()[:-7])
    with pytest.raises(IndexCorruptError, match="qa ingest --rebuild"):
        FaissVectors.load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json", "utf-8")
    with pytest.raises(IndexCorruptError, match="qa ingest --rebuild"):
        read_manifest(tmp_path)


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def test_incremental_ingest_embeds_only_changed_files(fake_settings: Settings) -> None:
    seeds = fake_settings.seeds_dir
    (seeds / "extra.md").write_text("# Extra\n\nThe Anka-3 flew in December 2023.\n", "utf-8")
    embedder = CountingEmbedder()
    service = QAService(fake_settings, embedder=embedder)
    first = service.ingest()
    assert first.rebuilt and len(first.added) == 2
    embedder.embedded.clear()

    again = service.ingest()
    assert not again.changed and embedder.embedded == []

    (seeds / "extra.md").write_text("# Extra\n\nThe Anka-3 first flew in December 2023.\n", "utf-8")
    (seeds / "new.txt").write_text("Kuleba spoke in Vilnius.", "utf-8")
    changed = service.ingest()
    assert changed.updated == ("extra.md",) and changed.added == ("new.txt",)
    assert all("Zelensky" not in text for text in embedder.embedded)  # the seed article was not re-embedded

    (seeds / "new.txt").unlink()
    removed = service.ingest()
    assert removed.removed == ("new.txt",)
    assert "new.txt" not in read_manifest(fake_settings.index_dir).files
    assert all(hit.chunk.source != "new.txt" for hit in service.search("Kuleba spoke in Vilnius", top_k=20))


def test_rebuild_after_model_change(fake_settings: Settings) -> None:
    QAService(fake_settings, embedder=HashingEmbedder(dim=64)).ingest()
    service = QAService(fake_settings, embedder=HashingEmbedder(dim=32))
    with pytest.raises(IndexMismatchError):
        service.load()
    report = service.ingest()  # ingest rebuilds on a mismatch
    assert report.rebuilt and read_manifest(fake_settings.index_dir).config.dim == 32


def test_chunk_pages_survive_save_and_load(tmp_path: Path) -> None:
    chunks = [
        Chunk(id="c0", doc_id="d", source="a.pdf", title="A", text="t0", start=0, end=2, page=1),
        Chunk(id="c1", doc_id="d", source="a.txt", title="A", text="t1", start=0, end=2),
    ]
    FaissVectors(chunks, ChunkVectors.single_sentences(np.eye(2, 4, dtype=np.float32)), dim=4).save(
        tmp_path, config=CONFIG, files={}
    )
    store, _ = FaissVectors.load(tmp_path, expected=CONFIG)
    assert [c.page for c in store.chunks()] == [1, None]


def test_an_index_in_the_old_format_says_to_rebuild(tmp_path: Path) -> None:
    import json

    _store().save(tmp_path, config=CONFIG, files={})
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    manifest["format_version"] = 2
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexMismatchError, match=r"format 2.*qa ingest --rebuild"):
        FaissVectors.load(tmp_path, expected=CONFIG)


def test_ingest_rebuilds_an_old_format_index_by_itself(fake_settings: Settings) -> None:
    import json

    service = QAService(fake_settings, embedder=HashingEmbedder())
    service.ingest()
    path = fake_settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["format_version"] = 2
    path.write_text(json.dumps(manifest), "utf-8")
    report = QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    assert report.rebuilt and read_manifest(fake_settings.index_dir).format_version == FORMAT_VERSION


def test_an_index_from_before_heading_paths_is_refused_then_rebuilt(fake_settings: Settings) -> None:
    import json

    from qa.ingest.chunking import CHUNKING_VERSION
    from qa.stores.manifest import MANIFEST_NAME

    QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    path = fake_settings.index_dir / MANIFEST_NAME
    data = json.loads(path.read_text())
    del data["config"]["chunking_version"]  # written before chunks carried heading paths
    path.write_text(json.dumps(data))
    expected = f"chunked by an older seed-qa \\(chunking version 1; this one chunks with version {CHUNKING_VERSION}\\)"
    with pytest.raises(IndexFormatError, match=expected):
        QAService(fake_settings, embedder=HashingEmbedder()).load()
    report = QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    assert report.rebuilt and read_manifest(fake_settings.index_dir).config.chunking_version == CHUNKING_VERSION


def test_serving_rebuilds_an_index_an_older_chunker_wrote(fake_settings: Settings) -> None:
    """A fix to how documents are read reaches an existing index at the next `qa serve`."""
    import json

    from qa.ingest.chunking import CHUNKING_VERSION

    QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    path = fake_settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["config"]["chunking_version"] = CHUNKING_VERSION - 1
    path.write_text(json.dumps(manifest), "utf-8")
    service = QAService(fake_settings, embedder=HashingEmbedder())
    service.ensure_index()
    assert read_manifest(fake_settings.index_dir).config.chunking_version == CHUNKING_VERSION
    assert service.search("drone", top_k=1)


def test_keyword_search_reads_the_heading_path(tmp_path: Path) -> None:
    from tests.support import HASHING, settings_under

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "plans.md").write_text(
        "# Plans\n\n## Premium\n\nThe plan for teams that share files, billed each month per seat.\n\n"
        "Storage is five terabytes per seat, backed up daily.\n\n"
        "## Basic\n\nThe plan for one person, billed each year.\n\n"
        "Storage is one terabyte per seat, backed up weekly.\n"
    )
    settings = settings_under(tmp_path, seeds_dir=seeds, chunk_max_tokens=16, **HASHING)
    service = QAService(settings, embedder=HashingEmbedder())
    service.ingest()
    hits = service.search("premium storage")
    top = hits[0]
    assert top.chunk.text.startswith("Storage is five") and top.chunk.headings == ("Premium",)
    # Only the heading says "premium": BM25 scored it through the embedded text.
    assert top.keyword_score and top.keyword_score > max(h.keyword_score or 0.0 for h in hits[1:])


def test_serving_rebuilds_an_index_an_older_version_wrote(fake_settings: Settings) -> None:
    """`qa serve` after an upgrade: an index in the old format is rebuilt, not refused."""
    import json

    QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    path = fake_settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["format_version"] = 2
    path.write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexMismatchError, match="format 2"):
        QAService(fake_settings, embedder=HashingEmbedder()).load()
    service = QAService(fake_settings, embedder=HashingEmbedder())
    service.ensure_index()
    assert read_manifest(fake_settings.index_dir).format_version == FORMAT_VERSION
    assert service.search("drone", top_k=1)


def test_serving_still_refuses_an_index_of_another_configuration(fake_settings: Settings) -> None:
    QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    other = fake_settings.model_copy(update={"chunk_max_tokens": fake_settings.chunk_max_tokens + 8})
    with pytest.raises(IndexMismatchError, match="chunk_max_tokens"):
        QAService(other, embedder=HashingEmbedder()).ensure_index()
