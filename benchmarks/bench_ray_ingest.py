"""Embedding throughput: `qa ingest --ray` (a local Ray, actor pool) against the plain in-process ingest.

    HF_HUB_OFFLINE=1 nice .venv/bin/python -m benchmarks.bench_ray_ingest --squad ../shared/data/squad-v2.0-dev.json

Chunks the SQuAD 2.0 dev corpus as `qa ingest` does and embeds the chunks with the real model:
in process on one thread (chunks/s per core), in process on every core (the floor: a plain
`qa ingest`), and through RayEmbedder with one single-threaded actor per core. Ray's start-up
is reported apart from its embedding time. The vectors are checked to match the plain ones.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import Settings
from qa.embedding import SentenceTransformerEmbedder
from qa.evaluation.importers import import_squad
from qa.evaluation.runner import write_corpus
from qa.ingest.chunking import chunk_documents
from qa.ingest.loading import load_documents
from qa.onnx_export import configure_threads, configured_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-v2.0-dev.json"))
    parser.add_argument("--limit", type=int, default=0, help="embed only the first N chunks (0: all)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs given to the local Ray")
    args = parser.parse_args()

    evalset = import_squad(args.squad)
    with tempfile.TemporaryDirectory() as folder:
        write_corpus(evalset.corpus, Path(folder))
        documents = load_documents(Path(folder)).documents
    embedder = SentenceTransformerEmbedder()
    chunks = chunk_documents(documents, count_tokens=embedder.count_tokens, max_tokens=160, overlap_sentences=1)
    texts = [c.text for c in chunks][: args.limit or None]
    print(f"SQuAD 2.0 dev: {len(texts)} chunks; {os.cpu_count()} cores, Ray given {args.cpus}")
    embedder.embed_documents(texts[:32])  # warm up

    threads = configured_threads()
    configure_threads(1)  # one core's throughput: what each Ray worker gets
    sample = texts[: max(64, len(texts) // 4)]
    started = time.perf_counter()
    embedder.embed_documents(sample)
    per_core = len(sample) / (time.perf_counter() - started)
    configure_threads(threads)
    started = time.perf_counter()
    plain = embedder.embed_documents(texts)
    plain_s = time.perf_counter() - started
    floor = len(texts) / plain_s

    import ray

    from qa.ingest.distributed import RayEmbedder

    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    ray_start_s = time.perf_counter() - started
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    started = time.perf_counter()
    distributed = RayEmbedder(settings, num_cpus=args.cpus)(texts)
    ray_s = time.perf_counter() - started
    ray.shutdown()

    print("mode                         threads  seconds  chunks/s  x plain")
    one = f"{'in process, one thread':<28} {1:>7} {len(sample) / per_core:>8.1f}"
    print(f"{one} {per_core:>9.1f} {per_core / floor:>8.2f}")
    print(f"{'in process (plain ingest)':<28} {threads:>7} {plain_s:>8.1f} {floor:>9.1f} {1.0:>8.2f}")
    rate = len(texts) / ray_s
    print(f"{'Ray, actor pool':<28} {args.cpus:>7} {ray_s:>8.1f} {rate:>9.1f} {rate / floor:>8.2f}")
    print(f"Ray start-up (not in the row above): {ray_start_s:.1f}s; actors load the model inside their row.")
    print(f"max |ray - plain| over all vectors: {float(np.abs(distributed - plain).max()):.2e}")


if __name__ == "__main__":
    main()
