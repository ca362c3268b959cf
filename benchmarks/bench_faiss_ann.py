"""FAISS index types against exact search: build time, memory, p50/p95 query latency, recall@10.

    nice .venv/bin/python -m benchmarks.bench_faiss_ann --n 200000
    nice .venv/bin/python -m benchmarks.bench_faiss_ann --n 1000000 --types flat,hnsw
    HF_HUB_OFFLINE=1 nice .venv/bin/python -m benchmarks.bench_faiss_ann --squad ../shared/data/squad-v2.0-dev.json

Synthetic vectors are 384-dimensional unit vectors around random topic centres (sentence
embeddings cluster by topic; uniform noise would be an unrealistically hard case for any ANN
index). With --squad the vectors are the real model's, of the SQuAD 2.0 dev corpus chunked as
`qa ingest` chunks it, and the queries its questions. Queries run one at a time on one thread
(one API request = one query); builds use every core. Each figure is printed with its ratio to
the exact IndexFlatIP floor measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DIM = 384
# Spread around each topic centre: members sit at cosine ~0.3 to each other, so the nearest
# neighbours are not simply the cluster.
NOISE = 1.5


def clustered(n: int, *, seed: int, clusters: int = 1000) -> np.ndarray:
    """Unit vectors around ``clusters`` random centres, built in slices to bound peak memory."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(12345).standard_normal((clusters, DIM)).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        part = centres[rng.integers(0, clusters, stop - start)] + NOISE * rng.standard_normal(
            (stop - start, DIM)
        ).astype(np.float32)
        out[start:stop] = part / np.linalg.norm(part, axis=1, keepdims=True)
    return out


def factories(n: int) -> dict[str, tuple[Callable[[], Any], dict[str, Callable[[Any], None]]]]:
    """Index types, each built once and searched with every setting of its search-time knob.

    IVF list counts follow FAISS's ~4*sqrt(n) guideline.
    """
    import faiss

    from qa.stores.faiss_store import HNSW_EF_CONSTRUCTION, HNSW_M

    nlist = max(16, int(4 * np.sqrt(n)))

    def hnsw() -> Any:
        index = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        return index

    def ef(value: int) -> Callable[[Any], None]:
        return lambda index: setattr(index.hnsw, "efSearch", value)

    def nprobe(value: int) -> Callable[[Any], None]:
        return lambda index: setattr(faiss.extract_index_ivf(index), "nprobe", value)

    def ivf(spec: str) -> Callable[[], Any]:
        return lambda: faiss.index_factory(DIM, spec, faiss.METRIC_INNER_PRODUCT)

    return {
        "flat": (lambda: faiss.IndexFlatIP(DIM), {"flat": lambda index: None}),
        f"hnsw{HNSW_M}": (hnsw, {f"hnsw{HNSW_M}-ef{v}": ef(v) for v in (64, 128, 256)}),
        f"ivf{nlist}-flat": (ivf(f"IVF{nlist},Flat"), {f"ivf{nlist}-flat-p{v}": nprobe(v) for v in (8, 32)}),
        f"ivf{nlist}-pq48": (ivf(f"IVF{nlist},PQ48"), {f"ivf{nlist}-pq48-p{v}": nprobe(v) for v in (32,)}),
    }


def measure(
    make: Callable[[], Any], variants: dict[str, Callable[[Any], None]], vectors: np.ndarray, queries: np.ndarray
) -> list[dict[str, Any]]:
    """Build and size one index type, then query it under each search setting."""
    import faiss

    gc.collect()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    started = time.perf_counter()
    index = make()
    if not index.is_trained:
        # 30k training points: enough for the IVF centroids and PQ codebooks, and minutes, not hours, on 2 cores.
        sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 30_000), replace=False)]
        index.train(sample)
    index.add(vectors)
    build_s = time.perf_counter() - started
    with tempfile.NamedTemporaryFile() as handle:
        faiss.write_index(index, handle.name)
        file_mib = Path(handle.name).stat().st_size / 2**20
    faiss.omp_set_num_threads(1)
    rows = []
    for name, tune in variants.items():
        tune(index)
        latencies, found = [], []
        for query in queries:
            started = time.perf_counter()
            _, ids = index.search(query.reshape(1, -1), 10)
            latencies.append((time.perf_counter() - started) * 1000)
            found.append(ids[0])
        rows.append(
            {
                "name": name,
                "build_s": build_s,
                "file_mib": file_mib,
                "p50_ms": float(np.percentile(latencies, 50)),
                "p95_ms": float(np.percentile(latencies, 95)),
                "ids": np.asarray(found),
            }
        )
    del index
    return rows


def squad_vectors(path: Path, limit_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """The real model's vectors for the SQuAD dev corpus (chunked as `qa ingest` does) and its questions."""
    from qa.embedding import SentenceTransformerEmbedder
    from qa.evaluation.importers import import_squad
    from qa.evaluation.runner import write_corpus
    from qa.ingest.chunking import chunk_documents
    from qa.ingest.loading import load_documents

    evalset = import_squad(path)
    with tempfile.TemporaryDirectory() as folder:
        write_corpus(evalset.corpus, Path(folder))
        documents = load_documents(Path(folder)).documents
    embedder = SentenceTransformerEmbedder()
    chunks = chunk_documents(documents, count_tokens=embedder.count_tokens, max_tokens=160, overlap_sentences=1)
    questions = [case.question for case in evalset.cases[:limit_queries]]
    return embedder.embed_documents([c.text for c in chunks]), embedder.embed_documents(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="synthetic vectors (default 200,000)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--types", default="", help="comma-separated name prefixes to run (default: all)")
    parser.add_argument("--squad", type=Path, help="use the real model's vectors of this SQuAD JSON instead")
    args = parser.parse_args()

    if args.squad:
        vectors, queries = squad_vectors(args.squad, args.queries)
        corpus = f"SQuAD 2.0 dev ({len(vectors):,} chunks, {len(queries)} questions, all-MiniLM-L6-v2)"
    else:
        vectors, queries = clustered(args.n, seed=0), clustered(args.queries, seed=1)
        corpus = f"synthetic ({len(vectors):,} clustered 384-d unit vectors, {len(queries)} queries)"
    print(f"{corpus}; {os.cpu_count()} cores; raw vectors {vectors.nbytes / 2**20:,.0f} MiB")
    wanted = [t for t in args.types.split(",") if t]
    results = []
    for name, (make, variants) in factories(len(vectors)).items():
        if name != "flat" and wanted and not any(name.startswith(w) for w in wanted):
            continue
        results.extend(measure(make, variants, vectors, queries))
        print(f"  built {name} in {results[-1]['build_s']:.1f}s", flush=True)
    floor = results[0]
    # Memory = the serialised index: FAISS holds the same structures in RAM.
    print("index                   build s  memory MiB  B/vector  x flat  p50 ms  p95 ms  x flat  recall@10")
    for row in results:
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(row["ids"], floor["ids"], strict=True)])
        print(
            f"{row['name']:<22} {row['build_s']:>8.1f} {row['file_mib']:>11.0f} "
            f"{row['file_mib'] * 2**20 / len(vectors):>9.0f} {row['file_mib'] / floor['file_mib']:>7.2f} "
            f"{row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} {row['p50_ms'] / floor['p50_ms']:>7.2f} {recall:>10.3f}"
        )


if __name__ == "__main__":
    main()
