#!/usr/bin/env python
"""End-to-end answer quality: held-out articles as a corpus, ``QAService.ask`` on every question.

The corpus is the 7 SQuAD 2.0 dev articles the reader never trains on (``HELD_OUT_ARTICLES`` of
qa/evaluation/reader_alone.py), one document per article (its paragraphs joined by blank lines, as
``qa.evaluation.importers.import_squad`` builds it): retrieval runs over all of them, as a user's
folder of whole documents would. Three kinds of question are asked of it:

* answerable -- the articles' SQuAD 2.0 questions with an answer;
* adversarial -- their SQuAD 2.0 unanswerable questions (``is_impossible``), written against the
  same paragraph to look answerable;
* out of corpus -- questions from another source (``--out-of-corpus``, COVID-QA by default: the
  reader never trains on it), which the documents cannot answer.

The service is built as shipped except that it never abstains (``abstain_threshold=0``): each
question is asked once, and abstention at the shipped threshold (the answerer's own, read before
the override) is replayed from the answer's confidence -- the answerers abstain on exactly
``confidence < threshold`` -- so "always answer" and "as shipped" come from the same run.

Reported, in one table (one column per run; ``--compare`` adds columns saved with ``--json``):

* gold recall@1/5/10 -- a chunk holding a gold answer span is among the top k retrieved;
* always-answer F1, F1 and answer rate at the shipped threshold (answerable questions; an
  abstention scores F1 0) and the gold paragraph cited (the first citation overlaps the
  paragraph that holds the gold answer) for answered ones, over all answerable questions;
* abstained at the shipped threshold, per unanswerable kind;
* p50 / p95 latency of ``ask`` (retrieval + reading), milliseconds.

``--workplace tests/data/workplace`` also runs the project's workplace set (eight documents in every
supported format, questions of a customer or employee; benchmarks/quality_workplace.py) with the
shipped settings and threshold, and reports per question kind: correct, right document and page
cited, confidently wrong, abstained, right document in the top 5, unanswerable abstained. Without
``--squad2`` only the workplace set runs.

``--ood`` runs the same with COVID-QA as the corpus (one document per paper) and SQuAD held-out
questions as the out-of-corpus kind: the out-of-domain source (it has no adversarial questions).

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_quality \
        --squad2 /work/shared/data/squad-v2.0-dev.json \
        --out-of-corpus /work/shared/data/reader-train/covidqa.json \
        --limit 200 --ooc-limit 100 --json /tmp/quality-after.json --compare /tmp/quality-before.json
    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_quality --workplace tests/data/workplace \
        --json /tmp/workplace-after.json --compare /tmp/workplace-before.json
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.quality_workplace import print_workplace, run_workplace
from qa.config import Settings
from qa.evaluation.importers import PARAGRAPH_SEPARATOR, SquadArticle, import_squad, read_squad, write_squad
from qa.evaluation.metrics import f1_score, percentile, spans_overlap
from qa.evaluation.reader_alone import HELD_OUT_ARTICLES
from qa.evaluation.runner import corpus_settings, write_corpus
from qa.evaluation.testset import CorpusFile, EvalCase, EvalSet
from qa.service import QAService

RECALL_AT = (1, 5, 10)


def paragraph_bounds(corpus: tuple[CorpusFile, ...]) -> dict[str, list[int]]:
    """Start offset of every paragraph of every imported document (paragraphs end at a separator)."""
    bounds = {}
    for file in corpus:
        starts, at = [0], file.text.find(PARAGRAPH_SEPARATOR)
        while at >= 0:
            starts.append(at + len(PARAGRAPH_SEPARATOR))
            at = file.text.find(PARAGRAPH_SEPARATOR, at + 1)
        bounds[file.source] = starts
    return bounds


def gold_paragraphs(case: EvalCase, bounds: dict[str, list[int]], corpus: dict[str, str]) -> set[tuple[str, int, int]]:
    """The ``(source, start, end)`` paragraphs that hold the case's gold answer spans."""
    found = set()
    for gold in case.evidence:
        if gold.source is None or gold.start is None:
            continue
        starts = bounds[gold.source]
        i = bisect.bisect_right(starts, gold.start) - 1
        end = starts[i + 1] - len(PARAGRAPH_SEPARATOR) if i + 1 < len(starts) else len(corpus[gold.source])
        found.add((gold.source, starts[i], end))
    return found


def ask_all(
    service: QAService, questions: list[tuple[str, EvalCase]], shipped: float, corpus: EvalSet
) -> list[dict[str, Any]]:
    """Ask every ``(kind, case)``; a row per question with what the table needs."""
    bounds = paragraph_bounds(corpus.corpus)
    texts = {file.source: file.text for file in corpus.corpus}
    rows = []
    started = time.time()
    for number, (kind, case) in enumerate(questions):
        answer = service.ask(case.question)
        ranked = service.search(case.question, top_k=max(RECALL_AT))
        answered_at_shipped = answer.status == "answered" and answer.confidence >= shipped
        row: dict[str, Any] = {
            "kind": kind,
            "id": case.id,
            "answer": answer.answer,
            "confidence": answer.confidence,
            "answered": answer.status == "answered",
            "answered_at_shipped": answered_at_shipped,
            "ms": answer.timings_ms.get("total", 0.0),
        }
        if kind == "answerable":
            row["f1"] = f1_score(answer.answer or "", case.answers) if row["answered"] else 0.0
            paragraphs = gold_paragraphs(case, bounds, texts)
            first = answer.citations[0] if answer.citations else None
            row["cited"] = first is not None and any(
                first.source == source and spans_overlap(first.start, first.end, start, end)
                for source, start, end in paragraphs
            )
            row["gold_rank"] = next(
                (
                    rank
                    for rank, hit in enumerate(ranked, start=1)
                    if any(
                        g.source == hit.chunk.source
                        and spans_overlap(hit.chunk.start, hit.chunk.end, g.start or 0, g.end or 0)
                        for g in case.evidence
                    )
                ),
                None,
            )
        rows.append(row)
        if number % 50 == 0:
            print(f"  {number}/{len(questions)} questions, {time.time() - started:.0f}s", file=sys.stderr)
    return rows


def summarize(rows: list[dict[str, Any]], shipped: float) -> dict[str, float | None]:
    """The table's numbers (percentages, milliseconds) from the rows of one run."""

    def mean(values: list[float]) -> float | None:
        return 100 * statistics.fmean(values) if values else None

    has = [r for r in rows if r["kind"] == "answerable"]
    out: dict[str, float | None] = {"shipped threshold": shipped}
    for k in RECALL_AT:
        out[f"gold recall@{k}"] = mean([r["gold_rank"] is not None and r["gold_rank"] <= k for r in has])
    out["always-answer F1"] = mean([r["f1"] for r in has])
    out["always-answer cited"] = mean([r["cited"] for r in has])
    out["F1 at threshold"] = mean([r["f1"] if r["answered_at_shipped"] else 0.0 for r in has])
    out["answered at threshold"] = mean([r["answered_at_shipped"] for r in has])
    out["gold paragraph cited"] = mean([r["answered_at_shipped"] and r["cited"] for r in has])
    for kind in ("adversarial", "out-of-corpus"):
        out[f"{kind} abstained"] = mean([not r["answered_at_shipped"] for r in rows if r["kind"] == kind])
    latencies = [r["ms"] for r in rows]
    out["p50 ms"], out["p95 ms"] = percentile(latencies, 50), percentile(latencies, 95)
    for kind in ("answerable", "adversarial", "out-of-corpus"):
        out[f"n {kind}"] = sum(r["kind"] == kind for r in rows)
    return out


def print_table(columns: dict[str, dict[str, Any]]) -> None:
    """Metrics down, runs across."""
    names = list(columns)
    keys = list(dict.fromkeys(k for metrics in columns.values() for k in metrics))
    print(f"| {'metric':<24} | " + " | ".join(f"{n:>14}" for n in names) + " |")
    print(f"|{'-' * 26}|" + "|".join("-" * 16 for _ in names) + "|")
    for key in keys:
        cells = []
        for name in names:
            value = columns[name].get(key)
            text = "-" if value is None else f"{value:.4g}" if key.startswith("shipped") else f"{value:.1f}"
            cells.append(f"{text:>14}")
        print(f"| {key:<24} | " + " | ".join(cells) + " |")


def per_paper_squad(path: Path, target: Path) -> Path:
    """A copy of a SQuAD-format file with one article per paragraph (COVID-QA: one per paper)."""
    articles = [
        SquadArticle(title=f"{article.title or 'paper'}-{n}", paragraphs=(paragraph,))
        for article in read_squad(path)
        for n, paragraph in enumerate(article.paragraphs)
    ]
    write_squad(target, articles, version="per-paragraph")
    return target


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", type=Path, default=None, help="SQuAD 2.0 dev JSON (the held-out articles)")
    ap.add_argument(
        "--workplace", type=Path, default=None, help="the workplace set's folder (documents/ + questions.jsonl)"
    )
    ap.add_argument(
        "--out-of-corpus",
        type=Path,
        default=Path("../shared/data/reader-train/covidqa.json"),
        help="SQuAD-format file of another source's questions (default: COVID-QA in ../shared)",
    )
    ap.add_argument("--ood", action="store_true", help="COVID-QA (--out-of-corpus file) as the corpus instead")
    ap.add_argument("--limit", type=int, default=200, help="seeded sample of the corpus's questions (0 = all)")
    ap.add_argument("--ooc-limit", type=int, default=100, help="out-of-corpus questions asked")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work-dir", type=Path, default=None, help="corpus + index (kept between runs)")
    ap.add_argument("--name", default="this run", help="column title")
    ap.add_argument("--json", type=Path, default=None, help="save this run's column (and rows)")
    ap.add_argument("--compare", type=Path, nargs="*", default=[], help="columns saved by earlier --json runs")
    args = ap.parse_args(argv)
    if args.squad2 is None and args.workplace is None:
        raise SystemExit("pass --squad2 FILE, --workplace FOLDER or both (see --help)")
    saved = [json.loads(path.read_text()) for path in args.compare]
    result: dict[str, Any] = {"name": args.name}
    if args.workplace is not None:
        work = args.work_dir or Path(tempfile.gettempdir()) / "qa-bench-quality"
        result["workplace"] = run_workplace(args.workplace, work.with_name(work.name + "-workplace"))
        print(f"workplace set {args.workplace}, shipped threshold {result['workplace']['threshold']:.4g}")
        print_workplace(result["workplace"]["by_kind"])
        columns = {s["name"]: s["workplace"]["by_kind"]["all"] for s in saved if "workplace" in s}
        if columns:
            columns[args.name] = result["workplace"]["by_kind"]["all"]
            print_table(columns)
    if args.squad2 is not None:
        result["metrics"], result["rows"] = run_squad(args)
        columns = {s["name"]: s["metrics"] for s in saved if "metrics" in s}
        columns[args.name] = result["metrics"]
        print_table(columns)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


def run_squad(args: argparse.Namespace) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
    """The held-out SQuAD articles (or COVID-QA with --ood): the summary column and the rows."""
    for path in (args.squad2, args.out_of_corpus):
        if not path.is_file():
            raise SystemExit(f"no such file: {path} (see --help)")

    limit = args.limit or None
    with tempfile.TemporaryDirectory() as scratch:
        papers = per_paper_squad(args.out_of_corpus, Path(scratch) / "per-paper.json")
        if args.ood:
            corpus = import_squad(papers, limit=limit, seed=args.seed)
            other = import_squad(args.squad2, articles=HELD_OUT_ARTICLES, seed=args.seed)
        else:
            corpus = import_squad(args.squad2, articles=HELD_OUT_ARTICLES, limit=limit, seed=args.seed)
            other = import_squad(papers, seed=args.seed)
    work = args.work_dir or Path(tempfile.gettempdir()) / ("qa-bench-quality-ood" if args.ood else "qa-bench-quality")
    out_of_corpus = [c for c in other.cases if c.answerable]
    random.Random(args.seed).shuffle(out_of_corpus)
    questions = [("answerable" if c.answerable else "adversarial", c) for c in corpus.cases]
    questions += [("out-of-corpus", c) for c in out_of_corpus[: args.ooc_limit]]

    settings = corpus_settings(Settings(_env_file=None), work)  # type: ignore[call-arg]
    write_corpus(corpus.corpus, work / "seeds")
    shipped_service = QAService(settings)
    shipped_service.ingest(show_progress=True)
    shipped = float(getattr(shipped_service.answerer, "threshold", 0.0))
    service = QAService(settings.model_copy(update={"abstain_threshold": 0.0}), embedder=shipped_service.embedder)
    service.load()
    service.ask(questions[0][1].question)  # warm up: load the reader before timing
    rows = ask_all(service, questions, shipped, corpus)
    print(f"corpus: {len(corpus.corpus)} documents, answerer {type(service.answerer).__name__}")
    return summarize(rows, shipped), rows


if __name__ == "__main__":
    main()
