#!/usr/bin/env python
"""What scoring a chunk by its best sentence gives retrieval, as a re-ranking of the top chunks (issue 30).

The measurement that led to qa/retrieval/sentences.py. Since that shipped (sentence weight 1.0)
the "shipped" order below already scores chunks by their best sentence; run it with
``QA_FUSION_SENTENCE_WEIGHT=0`` to re-rank the chunk-vector fusion as it was measured.

For every question of a ``bench_retrieval`` set, the shipped ``QAService.search`` returns its top
``--depth`` chunks; each sentence of those chunks is embedded alone by the same embedder, and a
chunk's best-sentence cosine with the question is added to its fused score with each weight of
``--weights``, or used alone. Printed: hit@1 / hit@5 of the shipped order, of each weighted order,
of the best-sentence cosine alone and of the chunk's own cosine alone, all over the same chunks.
Choose the weight on ``--sets heldout-fit`` (the articles the fusion weights were fitted on) and
read it on the others (docs/EVALUATION.md, issue 30, "Sentence max-sim" and "Sentence vectors, built").

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_sentence_rerank \\
        --squad2 ../shared/data/squad-v2.0-dev.json --reader-train ../shared/data/reader-train \\
        --workplace tests/data/workplace --sets heldout-fit,peer,heldout,workplace
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.bench_retrieval import RetrievalSet, first_rank, heldout_set, peer_set, set_service, workplace_set

KS = (1, 5)
# One candidate chunk: (holds the answer, fused score, the chunk's cosine, its best sentence's cosine).
Candidate = tuple[bool, float, float, float]


def candidates(rs: RetrievalSet, work_dir: Path, depth: int) -> list[list[Candidate]]:
    """Per question, the shipped top ``depth`` chunks with their scores."""
    from qa.config import BUNDLED_MODEL
    from qa.text import sentence_spans

    service = set_service(rs, work_dir / rs.name, embedding_model=BUNDLED_MODEL)
    service.ingest()
    vectors: dict[str, np.ndarray] = {}  # each distinct sentence embedded once
    out = []
    for case in rs.cases:
        hits = service.search(case.question, top_k=depth)
        query = np.asarray(service.embedder.embed_query(case.question), dtype=np.float32)
        sentences = [[h.chunk.text[s:e] for s, e in sentence_spans(h.chunk.text)] or [h.chunk.text] for h in hits]
        missing = list(dict.fromkeys(s for group in sentences for s in group if s not in vectors))
        if missing:
            vectors.update(zip(missing, np.asarray(service.embedder.embed_documents(missing)), strict=True))
        out.append(
            [
                (
                    first_rank([(hit.chunk.source, hit.chunk.start, hit.chunk.end)], case) is not None,
                    hit.score,
                    hit.dense_score or 0.0,
                    max(float(vectors[s] @ query) for s in group),
                )
                for hit, group in zip(hits, sentences, strict=True)
            ]
        )
    return out


def hit_at(questions: Sequence[Sequence[Candidate]], score: Callable[[Candidate], float], k: int) -> float:
    """Share of questions whose answer-holding chunk is among the ``k`` best by ``score``."""
    found = sum(any(c[0] for c in sorted(cs, key=lambda c: -score(c))[:k]) for cs in questions)
    return found / max(1, len(questions))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", type=Path, help="SQuAD 2.0 dev JSON (the peer set)")
    ap.add_argument("--reader-train", type=Path, help="the reader-train folder (the heldout sets)")
    ap.add_argument("--workplace", type=Path, help="tests/data/workplace")
    ap.add_argument("--sets", default="heldout-fit,peer,heldout,workplace")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--depth", type=int, default=20, help="shipped top chunks re-scored per question")
    ap.add_argument("--weights", default="0.1,0.2,0.3,0.5,0.8,1.2")
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-sentence-rerank")
    args = ap.parse_args(argv)
    builders = {
        "peer": lambda: peer_set(args.squad2, args.limit, args.seed),
        "heldout": lambda: heldout_set(args.reader_train, "test", args.limit, args.seed),
        "heldout-fit": lambda: heldout_set(args.reader_train, "fit", args.limit, args.seed),
        "workplace": lambda: workplace_set(args.workplace),
    }
    weights = [float(w) for w in args.weights.split(",")]
    print(f"| set | order | {' | '.join(f'hit@{k}' for k in KS)} |\n|---|---|{'---|' * len(KS)}")
    for name in args.sets.split(","):
        rs = builders[name]()
        questions = [cs for cs in candidates(rs, args.work_dir, args.depth) if cs]
        orders: list[tuple[str, Callable[[Candidate], float]]] = [
            ("shipped", lambda c: c[1]),
            *((f"+ {w:g} x best sentence", lambda c, w=w: c[1] + w * c[3]) for w in weights),
            ("best sentence alone", lambda c: c[3]),
            ("chunk cosine alone", lambda c: c[2]),
        ]
        for label, score in orders:
            hits = " | ".join(f"{hit_at(questions, score, k):.3f}" for k in KS)
            print(f"| {name} ({len(questions)}) | {label} | {hits} |")


if __name__ == "__main__":
    main()
