#!/usr/bin/env python
"""Retrieval quality and speed on held-out sets: recall@1/5/20, MRR@20, query p50 beside a floor (issue 30).

    cd /work/i30 && export PYTHONPATH=$PWD HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    nice -n 5 .venv/bin/python -m benchmarks.bench_retrieval \
        --squad2 /work/shared/data/squad-v2.0-dev.json --reader-train /work/shared/data/reader-train \
        --workplace tests/data/workplace [--embedder packaged|CHECKPOINT] [--sets peer,heldout,ood,workplace] \
        [--limit 1000] --json /work/scratch/i30/bench-before.json

The sets (each its own corpus, ingested by ``QAService`` with the shipped settings; ``QA_*``
variables still apply, so ``QA_FUSION=rrf`` measures the old fusion):

- ``peer``: every SQuAD 2.0 dev paragraph (1,204) is one document; ``--limit`` seeded answerable
  questions; a hit is a chunk of the gold paragraph's document.
- ``heldout``: the ``test`` units of ``scripts/embedder_split.json`` (whole articles of every
  reader-train source the embedder never trained on) as one corpus, an article per document.
  ``--part fit`` gives the units the fusion weights were fitted on instead.
- ``ood``: COVID-QA (out-of-domain, never trained on), a paper per document (a seeded 40 of the 97
  papers by default, ``--ood-papers``: the whole set is 4,000+ chunks, too slow to embed twice here).
- ``workplace``: tests/data/workplace/ (its documents in every format), its answerable questions;
  a hit is a chunk of the evidence's document.

For ``heldout`` and ``ood`` a hit is a chunk that contains the gold answer's character span, so the
figure does not depend on how the text was cut. Three rankings per set over the same chunks:
``system`` (``QAService.search``), ``floor`` (the packaged model in fp32 ``SentenceTransformer``
+ exact FAISS inner product, dense only: the speed floor, measured in the same run) and ``bm25``
(the keyword index alone). Ingest time is reported beside the floor's encode of the same texts.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from qa import QAService

KS = (1, 5, 20)
TOP = max(KS)


@dataclass(frozen=True, slots=True)
class Case:
    """A question and where its answer is: a document, and (span level) a character span in it."""

    question: str
    source: str
    start: int | None = None
    end: int | None = None


@dataclass
class RetrievalSet:
    name: str
    files: dict[str, bytes]
    cases: list[Case]
    info: dict = field(default_factory=dict)


def _sample(cases: list[Case], limit: int, seed: int) -> list[Case]:
    if not limit or len(cases) <= limit:
        return cases
    return sorted(random.Random(seed).sample(cases, limit), key=cases.index)


def _article_file(i: int, title: str) -> str:
    """``0007_Title.txt``: the loader drops the number, so the document's title is the article's."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in title.rsplit("/", 1)[-1])[:80] or "document"
    return f"{i:04d}_{safe}.txt"


def peer_set(squad2: Path, limit: int, seed: int) -> RetrievalSet:
    """Every SQuAD 2.0 dev paragraph as one document; answerable questions, hit = the gold paragraph."""
    from qa.evaluation.importers import read_squad

    files: dict[str, bytes] = {}
    cases: list[Case] = []
    for article in read_squad(squad2):
        for paragraph in article.paragraphs:
            source = _article_file(len(files), article.title)
            files[source] = paragraph.context.strip().encode()
            cases += [Case(q.question, source) for q in paragraph.questions if q.answers and not q.impossible]
    return RetrievalSet("peer", files, _sample(cases, limit, seed), {"documents": len(files)})


def _span_set(name: str, units: Sequence, limit: int, seed: int) -> RetrievalSet:
    """Units (scripts/embedder_data.Unit) as documents, paragraphs joined by blank lines; span hits."""
    files: dict[str, bytes] = {}
    cases: list[Case] = []
    for unit in units:
        source = _article_file(len(files), f"{unit.title}")
        text, offset = "", 0
        for context, questions in unit.paragraphs:
            offset = len(text)
            text += context + "\n\n"
            cases += [
                Case(q, source, offset + start, offset + start + len(answer)) for _, q, start, answer in questions
            ]
        files[source] = text.encode()
    return RetrievalSet(name, files, _sample(cases, limit, seed), {"documents": len(files)})


def heldout_set(reader_train: Path, part: str, limit: int, seed: int) -> RetrievalSet:
    from scripts.embedder_data import read_split, units_in

    units = units_in(reader_train, read_split(), part)
    rs = _span_set("heldout" if part == "test" else f"heldout-{part}", units, limit, seed)
    rs.info["sources"] = sorted({u.source for u in units})
    return rs


def ood_set(covid: Path, papers: int, limit: int, seed: int) -> RetrievalSet:
    """COVID-QA: a seeded ``papers`` of its 97 papers (0: all), each a document, and their questions."""
    from scripts.embedder_data import units_of

    units = units_of(covid)
    every = [
        type(units[0])(u.source, f"{u.key}-{i}", "covid-paper", (paragraph,))
        for u in units
        for i, paragraph in enumerate(u.paragraphs)
    ]
    if papers and papers < len(every):
        chosen = set(random.Random(seed).sample(range(len(every)), papers))
        every = [paper for i, paper in enumerate(every) if i in chosen]
    rs = _span_set("ood", every, limit, seed)
    rs.info["papers"] = len(every)
    return rs


def workplace_set(folder: Path) -> RetrievalSet:
    files = {p.name: p.read_bytes() for p in sorted((folder / "documents").iterdir()) if p.is_file()}
    cases = []
    for line in (folder / "questions.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line) if line.strip() else None
        if row and row.get("answerable") and row.get("evidence"):
            cases.append(Case(row["question"], row["evidence"][0]["source"]))
    return RetrievalSet("workplace", files, cases, {"documents": len(files)})


def first_rank(hits: Sequence[tuple[str, int, int]], case: Case) -> int | None:
    """1-based rank of the first (source, start, end) chunk that holds the case's answer."""
    for rank, (source, start, end) in enumerate(hits, start=1):
        if source != case.source:
            continue
        if case.start is None or case.end is None or (start <= case.start and case.end <= end):
            return rank
    return None


def metrics(ranks: Sequence[int | None], latencies_ms: Sequence[float] = ()) -> dict:
    n = max(1, len(ranks))
    out = {f"recall@{k}": round(sum(r is not None and r <= k for r in ranks) / n, 4) for k in KS}
    out["mrr"] = round(sum(1 / r for r in ranks if r is not None) / n, 4)
    if latencies_ms:
        out["p50_ms"] = round(statistics.median(latencies_ms), 2)
    return out


def set_service(rs: RetrievalSet, folder: Path, **settings: Any) -> QAService:
    """A service over the set's documents written into ``folder``/seeds (unchanged files kept, so
    their embeddings are reused), its index beside them; ``settings`` override the defaults."""
    from qa import QAService, Settings

    seeds = folder / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for name, data in rs.files.items():
        if not (seeds / name).is_file() or (seeds / name).read_bytes() != data:
            (seeds / name).write_bytes(data)
    return QAService(
        Settings(
            seeds_dir=seeds,
            index_dir=folder / "index",
            data_dir=folder / "data",
            **{"answerer": "sentence", **settings},
            _env_file=None,  # type: ignore[call-arg]
        )
    )


def run_set(
    rs: RetrievalSet,
    *,
    embedder: str,
    query_embedder: str | None,
    floor_model,
    floor: bool,
    model_cache: Path | None,
    threads: int,
    work_dir: Path | None = None,
) -> dict:
    import faiss

    from qa.config import BUNDLED_MODEL
    from qa.ingest.chunking import embedding_text
    from qa.retrieval.keyword import KeywordIndex

    with contextlib.ExitStack() as stack:
        if work_dir is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-retrieval-"))
        else:  # kept between runs: an unchanged corpus is not embedded again (the passage model decides)
            tmp = str(work_dir / f"{rs.name}-{hashlib.sha256(embedder.encode()).hexdigest()[:8]}")
        service = set_service(
            rs,
            Path(tmp),
            embedding_model=BUNDLED_MODEL if embedder == "packaged" else embedder,
            embedding_query_model=query_embedder,
            model_cache_dir=model_cache,
            threads=threads,
        )
        record = Path(tmp) / "ingest.json"
        built_before = work_dir is not None and record.is_file()
        started = time.perf_counter()
        report = service.ingest()
        ingest_s = time.perf_counter() - started
        if built_before:  # the time of the build this run reuses
            ingest_s = json.loads(record.read_text())["ingest_s"]
        elif work_dir is not None:
            record.write_text(json.dumps({"ingest_s": ingest_s}))
        index = service._require_index()
        chunks = index.vectors.chunks()  # type: ignore[attr-defined]
        texts = [embedding_text(c) for c in chunks] if floor else []
        cached = Path(tmp) / f"floor-{hashlib.sha256(chr(0).join(texts).encode()).hexdigest()[:16]}.npy"
        started = time.perf_counter()
        if work_dir is not None and cached.is_file():
            floor_vectors, floor_ingest_s = np.load(cached), float(np.load(cached.with_suffix(".s.npy")))
        else:
            floor_vectors = floor_model.embed_documents(texts)
            floor_ingest_s = time.perf_counter() - started
            if work_dir is not None:
                np.save(cached, floor_vectors)
                np.save(cached.with_suffix(".s.npy"), np.array(floor_ingest_s))
        floor_index = faiss.IndexFlatIP(floor_vectors.shape[1])
        floor_index.add(floor_vectors)
        keyword = KeywordIndex([c.text for c in chunks])
        spans = [(c.source, c.start, c.end) for c in chunks]
        for case in rs.cases[:5]:  # warm up both paths
            service.search(case.question, top_k=TOP)
            if floor:
                floor_model.embed_query(case.question)
        rows: dict[str, list] = {"system": [], "floor": [], "bm25": []}
        lat: dict[str, list[float]] = {"system": [], "floor": []}
        # One loop per ranking: ONNX Runtime's idle threads would otherwise slow the floor's torch.
        for case in rs.cases:
            t0 = time.perf_counter()
            hits = service.search(case.question, top_k=TOP)
            lat["system"].append((time.perf_counter() - t0) * 1000)
            rows["system"].append(first_rank([(h.chunk.source, h.chunk.start, h.chunk.end) for h in hits], case))
        for case in rs.cases if floor else []:
            t0 = time.perf_counter()
            _, ids = floor_index.search(floor_model.embed_query(case.question)[None, :], TOP)
            lat["floor"].append((time.perf_counter() - t0) * 1000)
            rows["floor"].append(first_rank([spans[i] for i in ids[0] if i >= 0], case))
        for case in rs.cases:
            rows["bm25"].append(first_rank([spans[i] for i, _ in keyword.search(case.question, TOP)], case))
    result = {
        "questions": len(rs.cases),
        "chunks": report.chunks,
        **rs.info,
        "ingest_s": round(ingest_s, 1),
        "floor_ingest_s": round(floor_ingest_s, 1),
        "system": metrics(rows["system"], lat["system"]),
        "bm25": metrics(rows["bm25"]),
    }
    if floor:
        result["floor"] = metrics(rows["floor"], lat["floor"])
        result["ingest_x_floor"] = round(ingest_s / floor_ingest_s, 2)
        result["query_x_floor"] = round(result["system"]["p50_ms"] / result["floor"]["p50_ms"], 2)
    return result


def print_table(results: dict) -> None:
    print("| set | questions | ranking | R@1 | R@5 | R@20 | MRR | p50 ms | x floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for ranking in ("system", "floor", "bm25"):
            if ranking not in r:
                continue
            m = r[ranking]
            ratio = r.get("query_x_floor", "") if ranking == "system" else (1.0 if ranking == "floor" else "")
            print(
                f"| {name} | {r['questions']} | {ranking} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | "
                f"{m['recall@20']:.3f} | {m['mrr']:.3f} | {m.get('p50_ms', '')} | {ratio} |"
            )
    for name, r in results.items():
        ratio = f" = {r['ingest_x_floor']}x the floor's encode" if "ingest_x_floor" in r else ""
        print(f"{name}: {r['chunks']} chunks, ingest {r['ingest_s']} s{ratio}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad2", type=Path, help="SQuAD 2.0 dev JSON (the peer set)")
    parser.add_argument("--reader-train", type=Path, help="reader-train folder (heldout and ood sets)")
    parser.add_argument("--workplace", type=Path, help="tests/data/workplace (skipped when absent)")
    parser.add_argument("--sets", default="peer,heldout,ood,workplace")
    parser.add_argument("--part", default="test", choices=["test", "fit"], help="heldout units to use")
    parser.add_argument("--embedder", default="packaged", help="'packaged' or a sentence-transformers folder")
    parser.add_argument("--query-embedder", help="a query encoder folder (QA_EMBEDDING_QUERY_MODEL)")
    parser.add_argument("--floor", default="peer,heldout,ood,workplace", help="sets that also measure the floor")
    parser.add_argument("--limit", type=int, default=1000, help="seeded questions per set (0: all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--ood-papers", type=int, default=40, help="COVID-QA papers in the ood corpus (0: all 97)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model-cache", type=Path, help="folder for the ONNX exports (QA_MODEL_CACHE_DIR)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep each set's corpus, index and floor vectors here and reuse them (ingest_s is then the re-check)",
    )
    args = parser.parse_args(argv)

    from qa.embedding import SentenceTransformerEmbedder
    from qa.onnx_export import configure_threads

    configure_threads(args.threads)
    builders: dict[str, Callable[[], RetrievalSet] | None] = {
        "peer": (lambda: peer_set(args.squad2, args.limit, args.seed)) if args.squad2 else None,
        "heldout": (lambda: heldout_set(args.reader_train, args.part, args.limit, args.seed))
        if args.reader_train
        else None,
        "ood": (lambda: ood_set(args.reader_train / "covidqa.json", args.ood_papers, args.limit, args.seed))
        if args.reader_train
        else None,
        "workplace": (lambda: workplace_set(args.workplace))
        if args.workplace and (args.workplace / "questions.jsonl").is_file()
        else None,
    }
    floor_model = SentenceTransformerEmbedder()
    results: dict[str, dict] = {}
    for name in args.sets.split(","):
        build = builders.get(name)
        if build is None:
            print(f"skipping {name}: its data path was not given or is absent")
            continue
        started = time.perf_counter()
        results[name] = run_set(
            build(),
            embedder=args.embedder,
            query_embedder=args.query_embedder,
            floor_model=floor_model,
            floor=name in args.floor.split(","),
            model_cache=args.model_cache,
            threads=args.threads,
            work_dir=args.work_dir,
        )
        print(f"{name}: {json.dumps(results[name])} ({time.perf_counter() - started:.0f} s)", flush=True)
    print_table(results)
    if args.json:
        from qa import Settings

        shipped = Settings(_env_file=None)  # type: ignore[call-arg]
        fusion = {k: v for k, v in shipped.model_dump().items() if k.startswith(("fusion", "rrf", "retrieval"))}
        meta = {
            "embedder": args.embedder,
            "query_embedder": args.query_embedder,
            "backend": shipped.embedding_backend,
            "fusion": fusion,
            "args": vars(args),
        }
        payload = {"meta": json.loads(json.dumps(meta, default=str)), "results": results}
        args.json.write_text(json.dumps(payload, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
