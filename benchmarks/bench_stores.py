"""Qdrant (embedded local mode) against the FAISS store on the SQuAD 2.0 dev corpus.

    HF_HUB_OFFLINE=1 nice .venv/bin/python -m benchmarks.bench_stores --squad ../shared/data/squad-v2.0-dev.json

Both stores index the same chunks with the same vectors (embedded once, real model) and answer
the same answerable questions through QAService.search: p50/p95 latency, hit@5 (a top-5 chunk
overlaps the gold answer span), stored bytes per chunk and load time. The floor is the query
embedding alone, measured in the same run; the answer stage of QAService.ask (the reader's
cost per query) is reported for the FAISS store.

Qdrant's local mode is pure Python (numpy brute force, payloads in SQLite): its latency is an
upper bound for a Qdrant server, whose HNSW search runs in Rust in another process.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import QAService, Settings
from qa.embedding import BaseEmbedder, SentenceTransformerEmbedder
from qa.evaluation.importers import import_squad
from qa.evaluation.runner import write_corpus


class CachingEmbedder(BaseEmbedder):
    """The real model, remembering passage vectors so the second store does not re-embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model_id, self.dim = inner.model_id, inner.dim
        self.backend = inner.backend
        self.cache: dict[str, np.ndarray] = {}

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed_documents(missing), strict=True))
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def folder_mib(path: Path) -> float:
    """Bytes on disk under ``path`` in MiB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-v2.0-dev.json"))
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()

    evalset = import_squad(args.squad)
    cases = [c for c in evalset.cases if c.answerable and c.evidence][: args.questions]
    root = Path(tempfile.mkdtemp(prefix="bench-stores-"))
    write_corpus(evalset.corpus, root / "seeds")
    embedder = CachingEmbedder(SentenceTransformerEmbedder())
    embedder.embed_query("warm up")

    started = time.perf_counter()
    floor = []
    for case in cases:
        started = time.perf_counter()
        embedder.embed_query(case.question)
        floor.append((time.perf_counter() - started) * 1000)
    floor_p50 = float(np.percentile(floor, 50))
    print(f"SQuAD 2.0 dev: {len(evalset.corpus)} articles, {len(cases)} answerable questions; {os.cpu_count()} cores")
    print(f"floor: query embedding alone p50 {floor_p50:.1f} ms, p95 {np.percentile(floor, 95):.1f} ms")

    rows = []
    for store in ("faiss", "qdrant"):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            seeds_dir=root / "seeds",
            index_dir=root / f"{store}-index",
            data_dir=root / "data",
            vector_store=store,  # type: ignore[arg-type]
            qdrant_path=root / "qdrant",
            answerer="sentence",
        )
        QAService(settings, embedder=embedder).ingest()  # the first one embeds; both write their store
        service = QAService(settings, embedder=embedder)
        started = time.perf_counter()
        manifest = service.load()
        load_s = time.perf_counter() - started
        latencies, hits, answer_ms = [], 0, []
        for case in cases:
            started = time.perf_counter()
            found = service.search(case.question, top_k=5)
            latencies.append((time.perf_counter() - started) * 1000)
            hits += any(
                h.chunk.source == ev.source and h.chunk.start < ev.end and ev.start < h.chunk.end
                for h in found
                for ev in case.evidence
            )
        if store == "faiss":
            answer_ms = [service.ask(case.question).timings_ms["answer"] for case in cases[:100]]
        disk = folder_mib(root / "qdrant" if store == "qdrant" else settings.index_dir)
        rows.append((store, manifest.chunk_count, load_s, disk, latencies, hits / len(cases), answer_ms))

    print("store    chunks  load s  stored B/chunk  p50 ms  p95 ms  p50 x floor  p50 x faiss  hit@5")
    faiss_p50 = float(np.percentile(rows[0][4], 50))
    for store, chunks, load_s, disk, latencies, hit5, _ in rows:
        p50 = float(np.percentile(latencies, 50))
        print(
            f"{store:<8} {chunks:>6} {load_s:>7.1f} {disk * 2**20 / chunks:>15.0f} "
            f"{p50:>7.1f} {np.percentile(latencies, 95):>7.1f} {p50 / floor_p50:>12.1f} {p50 / faiss_p50:>12.2f} "
            f"{hit5:>6.3f}"
        )
    answer_ms = rows[0][6]
    search_p50 = faiss_p50
    print(
        f"reader (sentence answerer) per query: p50 {np.percentile(answer_ms, 50):.1f} ms, "
        f"p95 {np.percentile(answer_ms, 95):.1f} ms; one API worker answers about "
        f"{1000 / (search_p50 + float(np.mean(answer_ms))):.0f} questions/s on one core (FAISS store)"
    )


if __name__ == "__main__":
    main()
