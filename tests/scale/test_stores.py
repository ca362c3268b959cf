"""One contract for every store: answers, citations, incremental ingest, deletes and mismatches."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from qa import DocumentNotFoundError, HashingEmbedder, QAService, Settings
from qa.errors import IndexMismatchError, IndexNotReadyError
from tests.support import BAYKAR_QUOTE, REPO, store_settings

from .conftest import STORES

QUESTIONS = [
    "Which company manufactures the Bayraktar TB2 drone?",
    "Where did Baykar open a factory?",
    "How many 155 mm shells will Turkey send?",
    "Who did Zelensky meet in Istanbul?",
]


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, remembering every text it embedded."""

    def __init__(self, dim: int = 384) -> None:
        super().__init__(dim)
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def test_answers_cite_exact_offsets(make_settings: Callable[..., Settings]) -> None:
    service = QAService(make_settings(), embedder=HashingEmbedder())
    service.ingest()
    answer = service.ask("Which company manufactures the Bayraktar TB2 drone?")
    assert answer.status == "answered" and answer.answer == "Baykar"
    citation = answer.citations[0]
    raw = (service.settings.seeds_dir / citation.source).read_text("utf-8")
    assert raw[citation.start : citation.end] == citation.quote and BAYKAR_QUOTE in citation.quote
    assert all(hit.dense_score is not None and -1 <= hit.dense_score <= 1 for hit in answer.hits)
    (document,) = service.documents()
    assert service.document(document.id).text.startswith("\n\nUkrainian President")
    with pytest.raises(DocumentNotFoundError):
        service.document("../../etc/passwd")


def test_every_store_names_its_generation_the_same_way(make_settings: Callable[..., Settings]) -> None:
    """One generation id format (stores.manifest.new_generation) for FAISS files and Qdrant collections."""
    service = QAService(make_settings(), embedder=HashingEmbedder())
    service.ingest()
    manifest = service.manifest
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{8}", manifest.generation)
    assert manifest.artifacts and all(
        a["file"].endswith(manifest.generation) or f"-{manifest.generation}." in a["file"]
        for a in manifest.artifacts.values()
    )
    expected_versions = {"numpy"} | ({"qdrant-client"} if service.settings.vector_store == "qdrant" else set())
    assert expected_versions <= set(manifest.versions)


def test_keyword_only_tokens_still_match(make_settings: Callable[..., Settings]) -> None:
    seeds = make_settings().seeds_dir
    (seeds / "a.txt").write_text("The lorry carried 155 mm shells to the front.", "utf-8")
    (seeds / "b.txt").write_text("The Anka-3 is an unmanned combat aircraft.", "utf-8")
    service = QAService(make_settings(), embedder=HashingEmbedder(dim=8))  # dense ranking is near noise at dim 8
    service.ingest()
    assert service.search("155 mm", top_k=1)[0].chunk.source == "a.txt"
    assert service.search("Anka-3", top_k=1)[0].chunk.source == "b.txt"


def test_incremental_ingest_embeds_only_changed_files_and_drops_removed_ones(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    seeds = settings.seeds_dir
    (seeds / "extra.md").write_text("# Extra\n\nThe Anka-3 flew in December 2023.\n", "utf-8")
    embedder = CountingEmbedder()
    service = QAService(settings, embedder=embedder)
    first = service.ingest()
    assert first.rebuilt and len(first.added) == 2 and first.chunks == service.manifest.chunk_count
    embedder.embedded.clear()

    again = service.ingest()
    assert not again.changed and embedder.embedded == [] and again.chunks == first.chunks

    (seeds / "extra.md").write_text("# Extra\n\nThe Anka-3 first flew in December 2023.\n", "utf-8")
    (seeds / "new.txt").write_text("Kuleba spoke in Vilnius.", "utf-8")
    changed = service.ingest()
    assert changed.updated == ("extra.md",) and changed.added == ("new.txt",) and not changed.rebuilt
    assert all("Zelensky" not in text for text in embedder.embedded)  # the seed article was not re-embedded
    texts = [hit.chunk.text for hit in service.search("Anka-3 flew December", top_k=20)]
    assert any("first flew" in t for t in texts) and not any("Anka-3 flew" in t for t in texts)
    assert changed.chunks == first.chunks + 1 == service.manifest.chunk_count

    (seeds / "new.txt").unlink()
    removed = service.ingest()
    assert removed.removed == ("new.txt",) and "new.txt" not in service.manifest.files
    assert all(hit.chunk.source != "new.txt" for hit in service.search("Kuleba spoke in Vilnius", top_k=20))
    assert sorted(d.source for d in service.documents()) == ["extra.md", "zelensky-istanbul-turkish-drones.txt"]
    assert removed.chunks == first.chunks == service.manifest.chunk_count


def test_a_second_service_reads_the_committed_index(make_settings: Callable[..., Settings]) -> None:
    writer = QAService(make_settings(), embedder=HashingEmbedder())
    writer.ingest()
    reader = QAService(make_settings(), embedder=HashingEmbedder())
    assert reader.load().files == writer.manifest.files
    for question in QUESTIONS:
        assert [h.chunk.id for h in reader.search(question)] == [h.chunk.id for h in writer.search(question)]


def test_missing_and_mismatched_indexes_say_how_to_fix(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(IndexNotReadyError, match="qa ingest"):
        QAService(make_settings(), embedder=HashingEmbedder()).ask("Who makes the TB2?")
    QAService(make_settings(), embedder=HashingEmbedder(dim=64)).ingest()
    service = QAService(make_settings(), embedder=HashingEmbedder(dim=32))
    with pytest.raises(IndexMismatchError, match="qa ingest --rebuild"):
        service.load()
    with pytest.raises(IndexMismatchError, match="chunk_max_tokens"):
        QAService(make_settings(chunk_max_tokens=64), embedder=HashingEmbedder(dim=64)).load()
    report = service.ingest()  # ingest rebuilds on a mismatch
    assert report.rebuilt and service.manifest.config.dim == 32
    assert service.ask("Which company manufactures the Bayraktar TB2 drone?").status == "answered"


def test_rebuild_replaces_the_index_and_keeps_answering(make_settings: Callable[..., Settings]) -> None:
    service = QAService(make_settings(), embedder=HashingEmbedder())
    service.ingest()
    before = [h.chunk.id for h in service.search(QUESTIONS[0])]
    generation = service.manifest.generation
    report = service.ingest(rebuild=True)
    assert report.rebuilt and service.manifest.generation != generation
    assert [h.chunk.id for h in service.search(QUESTIONS[0])] == before


@pytest.mark.scale
@pytest.mark.skipif(not __import__("importlib").util.find_spec("qdrant_client"), reason="needs the [scale] extra")
def test_qdrant_and_faiss_retrieve_the_same_chunks(tmp_path: Path) -> None:
    services = [
        QAService(
            store_settings(tmp_path / store, store, embedder="hashing", answerer="sentence"), embedder=HashingEmbedder()
        )
        for store in ("faiss", "qdrant")
    ]
    for service in services:
        service.ingest()
    faiss, qdrant = services
    for question in QUESTIONS:
        # Same dense vectors and fusion; keyword weights differ slightly (a fixed average chunk length).
        expected, got = faiss.search(question, top_k=2), qdrant.search(question, top_k=2)
        assert got[0].chunk.id == expected[0].chunk.id
        # FAISS keeps sentence vectors in float16, Qdrant in float32.
        assert got[0].dense_score == pytest.approx(expected[0].dense_score, abs=1e-3)
        assert {h.chunk.id for h in got} == {h.chunk.id for h in expected}
    assert [d.id for d in qdrant.documents()] == [d.id for d in faiss.documents()]


ROWS = [json.loads(line) for line in (REPO / "tests/data/seed_eval.jsonl").read_text("utf-8").splitlines() if line]


@pytest.mark.e2e
@pytest.mark.parametrize("store", STORES)
def test_seed_eval_answers_and_citations_are_the_same_on_every_store(
    store: str,
    tmp_path: Path,
    real_embedder,
    real_service: QAService,  # type: ignore[no-untyped-def]
) -> None:
    service = QAService(store_settings(tmp_path, store), embedder=real_embedder)
    service.ingest()
    different = []
    for row in ROWS:
        got, expected = service.ask(row["question"]), real_service.ask(row["question"])
        cited = [(c.source, c.start, c.end) for c in got.citations]
        if (got.status, got.answer, cited) != (
            expected.status,
            expected.answer,
            [(c.source, c.start, c.end) for c in expected.citations],
        ):
            different.append((row["question"], got.answer, expected.answer))
    assert different == []


@pytest.mark.scale
@pytest.mark.skipif(not __import__("importlib").util.find_spec("qdrant_client"), reason="needs the [scale] extra")
def test_an_unreachable_qdrant_is_a_503_naming_it(tmp_path: Path) -> None:
    from tests.support import free_port

    url = f"http://127.0.0.1:{free_port()}"
    settings = store_settings(tmp_path, "qdrant", embedder="hashing", answerer="sentence", qdrant_url=url)
    with pytest.raises(IndexNotReadyError, match=re.escape(f"Cannot reach Qdrant at {url}")) as caught:
        QAService(settings, embedder=HashingEmbedder()).load()
    assert caught.value.status_code == 503
