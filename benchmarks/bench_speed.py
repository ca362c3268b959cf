"""Speed of the embedding and reader backends against the plain-model floor, in one run.

SQuAD 2.0 dev paragraphs are the documents (one file each); their answerable questions are the
queries, and a hit is a top-5 chunk from the question's own paragraph. The floor is fp32
``SentenceTransformer.encode`` + an exact FAISS index: encoding the same chunk texts (ingest) and
one question + FAISS search (query). Per embedding backend: ``QAService.ingest`` time, hybrid
retrieval (``QAService.search``) p50 and hit@5. Per reader backend: ``ExtractiveReader.read`` over
the top-5 chunks, p50, against the fp32 PyTorch forward pass on the same padded windows (as in
benchmarks/bench_reader.py). End to end: ``QAService.ask`` p50 with the chosen backends against
the floor's single-query p50. Each part runs in a fresh process, so its peak RSS is its own; the
models' ONNX exports are built before any timing (into --cache-dir).

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_speed \\
        --squad2 ../shared/data/squad-v2.0-dev.json --paragraphs 300 --questions 100
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from qa.onnx_export import BACKENDS, configure_threads


def corpus(squad2: Path, seeds: Path, *, paragraphs: int, questions: int, seed: int) -> list[tuple[str, str]]:
    """Write ``paragraphs`` dev paragraphs as files; return (question, gold file) pairs."""
    from qa.evaluation.importers import read_squad  # here: each part's process imports only what it measures

    chosen = [p for article in read_squad(squad2) for p in article.paragraphs]
    random.Random(seed).shuffle(chosen)
    seeds.mkdir(parents=True, exist_ok=True)
    pairs = []
    for n, paragraph in enumerate(chosen[:paragraphs]):
        name = f"p{n:05d}.txt"
        (seeds / name).write_text(paragraph.context, "utf-8")
        pairs += [(q.question, name) for q in paragraph.questions if q.answers]
    random.Random(seed).shuffle(pairs)
    return pairs[:questions]


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def median_seconds(run: Any, repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``run``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return p50(times)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings(work: Path, cache: Path, name: str, **overrides: Any) -> Any:
    from qa import Settings

    return Settings(
        seeds_dir=work / "seeds",
        index_dir=work / f"index-{name}",
        data_dir=work / f"data-{name}",
        model_cache_dir=cache,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,
    )


def floor_part(work: Path, pairs: list[tuple[str, str]], threads: int, repeats: int) -> dict[str, Any]:
    """fp32 SentenceTransformer.encode + FAISS: the chunk texts of a torch ingest, then each question."""
    import faiss
    from sentence_transformers import SentenceTransformer

    from qa.embedding import resolve_model_path

    configure_threads(threads)
    texts = json.loads((work / "chunk_texts.json").read_text())
    model = SentenceTransformer(resolve_model_path("bundled:all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    model.encode(texts[:32], normalize_embeddings=True, show_progress_bar=False)  # warm-up
    indexes = []

    def ingest() -> None:
        vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        indexes.append(faiss.IndexFlatIP(vectors.shape[1]))
        indexes[-1].add(vectors)

    ingest_s = median_seconds(ingest, repeats)
    index = indexes[-1]
    query_ms = []
    for question, _ in pairs:
        t0 = time.perf_counter()
        index.search(model.encode([question], normalize_embeddings=True, show_progress_bar=False), 5)
        query_ms.append((time.perf_counter() - t0) * 1000)
    return {"ingest_s": ingest_s, "query_p50_ms": p50(query_ms), "peak_rss_mb": peak_rss_mb()}


def embedding_part(
    work: Path, cache: Path, pairs: list[tuple[str, str]], backend: str, threads: int, repeats: int
) -> dict[str, Any]:
    """QAService.ingest (median of ``repeats`` whole rebuilds) and QAService.search with one embedding backend."""
    from qa import QAService

    service = QAService(settings(work, cache, backend, embedding_backend=backend, answerer="sentence", threads=threads))
    service.embedder.embed_documents(["warm-up"])  # loads (and on first use exports) the model
    reports = []
    ingest_s = median_seconds(lambda: reports.append(service.ingest(rebuild=True)), repeats)
    report = reports[-1]
    if backend == "torch":
        texts = [chunk.text for chunk in service._require_index().vectors.chunks()]
        (work / "chunk_texts.json").write_text(json.dumps(texts))
    query_ms, hits5, top5 = [], 0, []
    for question, gold in pairs:
        t0 = time.perf_counter()
        hits = service.search(question, top_k=5)
        query_ms.append((time.perf_counter() - t0) * 1000)
        hits5 += any(hit.chunk.source.endswith(gold) for hit in hits)
        top5.append([hit.chunk.text for hit in hits])
    if backend == "torch":
        (work / "top5.json").write_text(json.dumps(top5))
    return {
        "chunks": report.chunks,
        "ingest_s": ingest_s,
        "query_p50_ms": p50(query_ms),
        "hit5": hits5 / len(pairs),
        "peak_rss_mb": peak_rss_mb(),
    }


def reader_part(work: Path, cache: Path, pairs: list[tuple[str, str]], backend: str, threads: int) -> dict[str, Any]:
    """ExtractiveReader.read over each question's top-5 chunks, alternating with the fp32 torch forward."""
    import torch

    from qa.reader.inference import ExtractiveReader
    from qa.reader.model import encode_windows, pad_batch, window_features

    top5 = json.loads((work / "top5.json").read_text())
    configure_threads(threads)
    reader = ExtractiveReader.load(backend=backend, cache_dir=cache)  # type: ignore[arg-type]
    floor = ExtractiveReader.load(quantize=False)
    read_ms, floor_ms = [], []
    for n, ((question, _), passages) in enumerate(zip(pairs, top5[: len(pairs)], strict=True)):
        enc = encode_windows(
            floor.tokenizer, [question] * len(passages), passages, max_len=floor.max_len, stride=floor.stride
        )
        ids, mask, types = pad_batch(window_features(enc), floor.tokenizer.pad_token_id or 0)
        t0 = time.perf_counter()
        with torch.inference_mode():
            floor.model(ids, mask, types)
        t1 = time.perf_counter()
        reader.read(question, passages)
        t2 = time.perf_counter()
        if n >= 3:  # warm-up
            floor_ms.append((t1 - t0) * 1000)
            read_ms.append((t2 - t1) * 1000)
    return {"read_p50_ms": p50(read_ms), "floor_p50_ms": p50(floor_ms), "peak_rss_mb": peak_rss_mb()}


def ask_part(
    work: Path, cache: Path, pairs: list[tuple[str, str]], embedding: str, reader: str, threads: int
) -> dict[str, Any]:
    """QAService.ask end to end (retrieval + reader + citations) on the index built with ``embedding``."""
    from qa import QAService

    service = QAService(
        settings(work, cache, embedding, embedding_backend=embedding, reader_backend=reader, threads=threads)
    )
    service.load()
    service.ask(pairs[0][0])  # warm-up: loads the reader
    ask_ms = []
    for question, _ in pairs:
        t0 = time.perf_counter()
        service.ask(question)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    return {"ask_p50_ms": p50(ask_ms), "peak_rss_mb": peak_rss_mb()}


def in_child(function: Any, *args: Any) -> dict[str, Any]:
    """Run one part in a fresh process, so its peak RSS and its thread settings are its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        result: dict[str, Any] = pool.submit(function, *args).result()
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad2", type=Path, required=True, help="SQuAD 2.0 dev JSON")
    parser.add_argument("--paragraphs", type=int, default=300, help="paragraphs as documents (dev has 1,204)")
    parser.add_argument("--questions", type=int, default=100, help="answerable questions timed and scored")
    parser.add_argument("--reader-questions", type=int, default=30, help="questions for the reader and ask parts")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="embedding backends to compare")
    parser.add_argument("--reader-backends", default=",".join(BACKENDS), help="reader backends to compare")
    parser.add_argument("--ask", default="onnx-int8,onnx-int8", help="EMBEDDING,READER backends for the ask part")
    parser.add_argument("--threads", type=int, default=0, help="QA_THREADS (0 = every core)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="ONNX exports (default: QA_MODEL_CACHE_DIR's)")
    parser.add_argument("--repeats", type=int, default=3, help="ingests timed per backend and floor (median kept)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)

    from qa import Settings

    args.cache_dir = args.cache_dir or Settings(_env_file=None).models_path  # type: ignore[call-arg]
    work = Path(tempfile.mkdtemp(prefix="qa-speed-"))
    pairs = corpus(args.squad2, work / "seeds", paragraphs=args.paragraphs, questions=args.questions, seed=args.seed)
    backends = ["torch", *[b for b in args.backends.split(",") if b and b != "torch"]]
    results: dict[str, Any] = {"embedding": {}, "reader": {}}
    for backend in backends:  # torch first: it writes the chunk texts and top-5 chunks the others reuse
        results["embedding"][backend] = in_child(
            embedding_part, work, args.cache_dir, pairs, backend, args.threads, args.repeats
        )
    floor = results["floor"] = in_child(floor_part, work, pairs, args.threads, args.repeats)
    reader_pairs = pairs[: args.reader_questions + 3]
    for backend in [b for b in args.reader_backends.split(",") if b]:
        results["reader"][backend] = in_child(reader_part, work, args.cache_dir, reader_pairs, backend, args.threads)
    ask_embedding, ask_reader = args.ask.split(",")
    if ask_embedding not in backends:
        raise SystemExit(f"--ask embedding backend {ask_embedding!r} is not among --backends {backends}")
    results["ask"] = in_child(ask_part, work, args.cache_dir, reader_pairs, ask_embedding, ask_reader, args.threads)
    results["ask"]["backends"] = args.ask

    chunks = results["embedding"]["torch"]["chunks"]
    print(f"{args.paragraphs} SQuAD 2.0 dev paragraphs as documents, {chunks} chunks, {len(pairs)} questions")
    print(
        f"floor (fp32 SentenceTransformer.encode + FAISS): ingest {floor['ingest_s']:.1f} s "
        f"(median of {args.repeats}), "
        f"query p50 {floor['query_p50_ms']:.1f} ms, peak RSS {floor['peak_rss_mb']:.0f} MB"
    )
    header = (
        f"{'embedding':<11}{'ingest s':>9}{'x floor':>9}{'query p50 ms':>14}{'x floor':>9}{'hit@5':>8}{'RSS MB':>8}"
    )
    print(header + "\n" + "-" * len(header))
    for backend, row in results["embedding"].items():
        print(
            f"{backend:<11}{row['ingest_s']:>9.1f}{row['ingest_s'] / floor['ingest_s']:>9.2f}"
            f"{row['query_p50_ms']:>14.1f}{row['query_p50_ms'] / floor['query_p50_ms']:>9.2f}"
            f"{row['hit5']:>8.3f}{row['peak_rss_mb']:>8.0f}"
        )
    header = f"{'reader':<11}{'read p50 ms':>12}{'fp32 forward p50 ms':>21}{'x floor':>9}{'RSS MB':>8}"
    print(header + "\n" + "-" * len(header))
    for backend, row in results["reader"].items():
        print(
            f"{backend:<11}{row['read_p50_ms']:>12.1f}{row['floor_p50_ms']:>21.1f}"
            f"{row['read_p50_ms'] / row['floor_p50_ms']:>9.2f}{row['peak_rss_mb']:>8.0f}"
        )
    ask = results["ask"]
    print(
        f"QAService.ask ({args.ask}): p50 {ask['ask_p50_ms']:.0f} ms = "
        f"{ask['ask_p50_ms'] / floor['query_p50_ms']:.1f}x the floor's query p50; peak RSS {ask['peak_rss_mb']:.0f} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
