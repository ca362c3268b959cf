"""The ONNX Runtime backends: the bundled model and the shipped reader exported at first use, cached
by their weights' sha256, giving the answers PyTorch gives; an index never meets another backend."""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path

import numpy as np
import onnx
import pytest

from qa import HashingEmbedder, QAService
from qa.config import Settings
from qa.errors import IndexMismatchError, QAError
from qa.onnx_export import EXPORT_VERSION, cached_onnx
from qa.stores.manifest import MANIFEST_NAME, read_manifest

QUESTION = "Who makes the TB2 drone?"
PASSAGES = [
    "In January, executives from the privately-owned Baykar company, which manufactures the Bayraktar TB2 "
    "drone, inaugurated a factory to manufacture these aircraft on the outskirts of Kyiv.",
    "Kyiv's allies are seeking to acquire some 800,000 rounds of ammunition and shells.",
    "The Rhine is a European river that flows from the Swiss Alps to the North Sea.",
]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-models")


def _fake_export(weights: Path, log: Path, target: Path) -> None:
    """Stands in for a model export: records the process it ran in."""
    with log.open("a") as handle:
        handle.write(f"{os.getpid()}\n")
    target.write_bytes(b"onnx of " + weights.read_bytes())


def test_cached_export_is_built_once_per_weights_in_a_child_process(tmp_path: Path) -> None:
    weights, log = tmp_path / "model.safetensors", tmp_path / "exports.log"
    weights.write_bytes(b"weights v1")
    export = functools.partial(_fake_export, weights, log)

    def exports() -> list[int]:
        return [int(line) for line in log.read_text().split()] if log.exists() else []

    first = cached_onnx(tmp_path / "cache", name="m", weights=weights, backend="onnx", export=export)
    again = cached_onnx(tmp_path / "cache", name="m", weights=weights, backend="onnx", export=export)
    assert first == again and len(exports()) == 1 and first.read_bytes() == b"onnx of weights v1"
    # the export's memory (a PyTorch model, traced) leaves with the process that built it
    assert exports()[0] != os.getpid()
    weights.write_bytes(b"weights v2")  # retrained weights export anew, beside the old file
    retrained = cached_onnx(tmp_path / "cache", name="m", weights=weights, backend="onnx", export=export)
    assert retrained != first and len(exports()) == 2 and retrained.read_bytes() == b"onnx of weights v2"
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]  # no temp files left


def _broken_export(target: Path) -> None:
    raise ValueError("the weights file is truncated")


def test_a_failed_export_is_a_clear_error_and_leaves_nothing_behind(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    with pytest.raises(QAError, match=r"Building the ONNX model failed.*the weights file is truncated"):
        cached_onnx(tmp_path / "cache", name="m", weights=weights, backend="onnx-int8", export=_broken_export)
    assert not list((tmp_path / "cache").glob("*.onnx")) and not list((tmp_path / "cache").glob(".*"))


def test_index_built_on_one_backend_is_refused_on_another(fake_settings: Settings) -> None:
    QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    assert read_manifest(fake_settings.index_dir).config.embedding_backend == "hashing"
    other = HashingEmbedder()
    other.backend = "onnx-int8"  # same model id and dimension, vectors from another runtime
    with pytest.raises(IndexMismatchError) as caught:
        QAService(fake_settings, embedder=other).load()
    message = str(caught.value)
    assert "embedding_backend: index has 'hashing', configuration has 'onnx-int8'" in message
    assert "QA_EMBEDDING_BACKEND=hashing" in message and "qa ingest --rebuild" in message


def test_int8_index_from_an_earlier_export_recipe_is_refused_then_rebuilt(fake_settings: Settings) -> None:
    embedder = HashingEmbedder()
    embedder.backend = "onnx-int8"  # stands in for the ONNX embedder: only the manifest is under test
    QAService(fake_settings, embedder=embedder).ingest()
    path = fake_settings.index_dir / MANIFEST_NAME
    assert read_manifest(fake_settings.index_dir).config.embedding_export == EXPORT_VERSION
    data = json.loads(path.read_text())
    del data["config"]["embedding_export"]  # written before the recipe was recorded: the first one
    path.write_text(json.dumps(data))
    assert read_manifest(fake_settings.index_dir).config.embedding_export == "1" != EXPORT_VERSION
    with pytest.raises(
        IndexMismatchError, match=f"embedding_export: index has '1', configuration has '{EXPORT_VERSION}'"
    ):
        QAService(fake_settings, embedder=embedder).load()
    report = QAService(fake_settings, embedder=embedder).ingest()
    assert report.rebuilt and read_manifest(fake_settings.index_dir).config.embedding_export == EXPORT_VERSION


def test_manifest_from_before_backends_reads_as_torch(fake_settings: Settings) -> None:
    QAService(fake_settings, embedder=HashingEmbedder()).ingest()
    path = fake_settings.index_dir / MANIFEST_NAME
    data = json.loads(path.read_text())
    del data["config"]["embedding_backend"]
    data["config"]["model_id"] = "bundled:all-MiniLM-L6-v2"
    path.write_text(json.dumps(data))
    config = read_manifest(fake_settings.index_dir).config
    assert config.embedding_backend == "torch" and config.embedding_export == ""


@pytest.mark.e2e
@pytest.mark.parametrize(("backend", "min_cosine"), [("onnx", 0.9999), ("onnx-int8", 0.97)])
def test_onnx_embedder_matches_the_torch_model(
    real_embedder, onnx_cache: Path, backend: str, min_cosine: float
) -> None:  # type: ignore[no-untyped-def]
    from qa.embedding import OnnxEmbedder

    embedder = OnnxEmbedder(cache_dir=onnx_cache, quantized=backend == "onnx-int8")
    assert (embedder.backend, embedder.dim, embedder.max_tokens) == (
        backend,
        real_embedder.dim,
        real_embedder.max_tokens,
    )
    assert embedder.count_tokens(PASSAGES[0]) == real_embedder.count_tokens(PASSAGES[0])
    vectors = embedder.embed_documents(PASSAGES)
    reference = real_embedder.embed_documents(PASSAGES)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > min_cosine
    scores = vectors @ embedder.embed_query(QUESTION)
    assert scores.argmax() == 0 and list(np.argsort(-scores)) == list(
        np.argsort(-(reference @ real_embedder.embed_query(QUESTION)))
    )
    assert len(list(onnx_cache.glob(f"embedder-*-{'int8' if backend == 'onnx-int8' else 'fp32'}.onnx"))) == 1


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_reader_reads_the_spans_torch_reads(onnx_cache: Path, backend: str) -> None:
    from qa.reader.artifacts import weights_installed
    from qa.reader.inference import ExtractiveReader, OnnxQAModel

    if not weights_installed():
        pytest.skip("reader weights not installed")
    torch_reader = ExtractiveReader.load()
    onnx_reader = ExtractiveReader.load(backend=backend, cache_dir=onnx_cache)  # type: ignore[arg-type]
    assert isinstance(onnx_reader.model, OnnxQAModel) and onnx_reader.quantized == (backend == "onnx-int8")
    # The export is fused into ONNX Runtime's BERT kernels (the speed depends on it; a change in
    # how transformers writes attention would silently undo it), all but the residual layer norms.
    graph = onnx.load(str(onnx_reader.model.path), load_external_data=False).graph
    ops = {node.op_type for node in graph.node}
    assert {"LayerNormalization", "BiasGelu", "QAttention" if backend == "onnx-int8" else "Attention"} <= ops
    assert "SkipLayerNormalization" not in ops
    if backend == "onnx-int8":  # only the head stays float (INT8_KEEP_FLOAT)
        floats = sorted(node.name for node in graph.node if node.op_type == "MatMul")
        assert floats == ["/qa_outputs/MatMul"]
    expected = torch_reader.read(QUESTION, PASSAGES)
    got = onnx_reader.read(QUESTION, PASSAGES)
    assert got[0].text == expected[0].text and "Baykar" in got[0].text
    # Logits: fp32 matches torch. Dynamic int8 quantises each batch's activations by that batch's
    # range, so its logits move with what is batched together (a weak span in a distractor
    # passage: -0.70 in fp32, -0.44 to 0.95 in int8, on a logit range of about 20); never the
    # reader's own decision (span against no answer), nor the span of a passage it answers from.
    # Where it decides there is no answer, the best of the near-tied weak spans may differ
    # ("Kyiv" / "Kyiv's allies" at -0.7 against a no-answer score of 10).
    tolerance = 0.01 if backend == "onnx" else 2.5
    for mine, theirs in zip(got, expected, strict=True):
        answers = theirs.score > theirs.no_answer_score
        assert (mine.score > mine.no_answer_score) == answers
        assert mine.text == theirs.text or (backend == "onnx-int8" and not answers)
        assert (
            abs(mine.score - theirs.score) < tolerance
            and abs(mine.no_answer_score - theirs.no_answer_score) < tolerance
        )


def test_the_weights_hash_is_remembered_until_the_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.onnx_export

    weights, log = tmp_path / "model.safetensors", tmp_path / "exports.log"
    weights.write_bytes(b"weights v1")
    hashed: list[Path] = []
    real = qa.onnx_export.file_sha256
    monkeypatch.setattr(qa.onnx_export, "file_sha256", lambda path: hashed.append(path) or real(path))
    export = functools.partial(_fake_export, weights, log)
    first = cached_onnx(tmp_path / "cache", name="m", weights=weights, backend="onnx", export=export)
    assert cached_onnx(tmp_path / "cache", name="m", weights=weights, backend="onnx", export=export) == first
    assert hashed == [weights]  # every `qa ask` hashed 2 x 90 MB before
    weights.write_bytes(b"weights v2, longer")
    assert cached_onnx(tmp_path / "cache", name="m", weights=weights, backend="onnx", export=export) != first
    assert hashed == [weights, weights]


def test_a_first_build_says_what_it_does_and_how_long(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    weights, log = tmp_path / "model.safetensors", tmp_path / "exports.log"
    weights.write_bytes(b"weights")
    export = functools.partial(_fake_export, weights, log)
    with caplog.at_level(logging.INFO, logger="qa.onnx_export"):
        cached_onnx(tmp_path / "cache", name="reader", weights=weights, backend="onnx", export=export)
        cached_onnx(tmp_path / "cache", name="reader", weights=weights, backend="onnx", export=export)
    lines = [r.getMessage() for r in caplog.records if r.name == "qa.onnx_export"]
    assert len(lines) == 1, lines  # the first run says it; the cached one is silent
    assert lines[0].startswith("One-time ONNX build of the reader model (exporting, 20-45 s on 2 cores)")
