"""Core benchmark: ingest throughput, query latency, memory and retrieval hit@k.

Every speed figure is printed as a ratio against a floor measured in the same run:
- ingest: chunks/s of `qa ingest` vs plain `model.encode` of the same chunk texts;
- query: p50/p95 of hybrid retrieval vs query encode + FAISS search alone.

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_core \
        --squad ../shared/data/squad-v2.0-dev.json --questions 500

Without --squad it runs on the project's seeds only.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from qa import QAService, Settings
from qa.embedding import SentenceTransformerEmbedder
from qa.evaluation.importers import PARAGRAPH_SEPARATOR, read_squad


def squad_corpus(path: Path, seeds: Path, *, questions: int, seed: int) -> list[tuple[str, str, int, int]]:
    """Write one .txt per article; return (question, source, answer_start, answer_end) samples."""
    samples = []
    for article in read_squad(path):
        source = f"{article.title}.txt"
        offset = 0
        for paragraph in article.paragraphs:
            for qa in paragraph.questions:
                if qa.answers:
                    start = offset + qa.answers[0].start
                    samples.append((qa.question, source, start, start + len(qa.answers[0].text)))
            offset += len(paragraph.context) + len(PARAGRAPH_SEPARATOR)
        (seeds / source).write_text(PARAGRAPH_SEPARATOR.join(p.context for p in article.paragraphs), "utf-8")
    random.Random(seed).shuffle(samples)
    return samples[:questions]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, help="SQuAD 2.0 dev JSON (optional)")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    seeds = work / "seeds"
    samples: list[tuple[str, str, int, int]] = []
    if args.squad:
        seeds.mkdir()
        samples = squad_corpus(args.squad, seeds, questions=args.questions, seed=args.seed)
        corpus = "SQuAD 2.0 dev (35 articles)"
    else:
        shutil.copytree(Path(__file__).resolve().parent.parent / "seeds", seeds)
        samples = [("Who makes the TB2?", "zelensky-istanbul-turkish-drones.txt", 1655, 1913)]
        corpus = "seed article"

    embedder = SentenceTransformerEmbedder()
    service = QAService(Settings(seeds_dir=seeds, index_dir=work / "index", answerer="sentence"), embedder=embedder)

    started = time.perf_counter()
    report = service.ingest()
    ingest_s = time.perf_counter() - started
    texts = [c.text for c in service._require_index().vectors.chunks()]
    started = time.perf_counter()
    embedder.embed_documents(texts)  # the floor: the model alone on the same texts
    floor_s = time.perf_counter() - started

    store = service._require_index().vectors
    latencies, floors, hits1, hits5 = [], [], 0, 0
    for question, source, start, end in samples:
        t0 = time.perf_counter()
        store.search(embedder.embed_query(question), 5)
        floors.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        hits = service.search(question, top_k=5)
        latencies.append((time.perf_counter() - t0) * 1000)
        found = [h.chunk.source == source and h.chunk.start <= start and end <= h.chunk.end for h in hits]
        hits1 += found[0] if found else 0
        hits5 += any(found)

    n = len(samples)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {corpus}; {report.chunks} chunks; {n} questions")
    print(
        f"ingest: {report.chunks / ingest_s:.1f} chunks/s; floor (model.encode) {len(texts) / floor_s:.1f} chunks/s; "
        f"ratio {floor_s / ingest_s:.2f} of floor speed"
    )
    print(
        f"query p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms; floor (encode+FAISS) "
        f"p50 {percentile(floors, 50):.1f} ms, p95 {percentile(floors, 95):.1f} ms; "
        f"ratio p50 {statistics.median(latencies) / statistics.median(floors):.2f}x"
    )
    print(f"peak RSS: {peak_mb:.0f} MB")
    print(f"retrieval hit@1 {hits1 / n:.3f}, hit@5 {hits5 / n:.3f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
