#!/usr/bin/env python
"""Gold-chunk retrieval recall@1/5/10 on whole articles as a corpus (issue 17, "retrieval first").

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_retrieval \
        --squad2 /work/shared/data/squad-v2.0-dev.json [--embedder sentence-transformers] [--limit 0]

Each held-out SQuAD 2.0 article becomes one .txt seed (its title, a blank line, then its
paragraphs separated by blank lines), the service ingests them with its shipped settings, and
every answerable question is searched (``QAService.search``, top 10). A question counts as found
at k when one of the first k chunks contains its gold answer's character span, so the figure
does not depend on how the text was cut into chunks.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from qa.evaluation.importers import read_squad
from qa.evaluation.reader_alone import HELD_OUT_ARTICLES

KS = (1, 5, 10)


def write_corpus(squad2: Path, seeds: Path, articles: list[str]) -> list[tuple[str, str, int, int]]:
    """Write one seed per article; return (question, source, answer start, answer end) per question."""
    questions: list[tuple[str, str, int, int]] = []
    for article in (a for a in read_squad(squad2) if a.title in articles):
        source = f"{article.title}.txt"
        text = article.title.replace("_", " ") + "\n\n"
        for paragraph in article.paragraphs:
            offset = len(text)
            text += paragraph.context.strip() + "\n\n"
            for qa in paragraph.questions:
                if qa.impossible or not qa.answers:
                    continue
                start = offset + qa.answers[0].start
                questions.append((qa.question, source, start, start + len(qa.answers[0].text)))
        (seeds / source).write_text(text, "utf-8")
    return questions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad2", type=Path, required=True)
    parser.add_argument("--articles", nargs="*", default=list(HELD_OUT_ARTICLES))
    parser.add_argument("--embedder", default="sentence-transformers", choices=["sentence-transformers", "hashing"])
    parser.add_argument("--limit", type=int, default=0, help="questions to search (0: all)")
    args = parser.parse_args(argv)

    from qa import QAService, Settings

    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        questions = write_corpus(args.squad2, seeds, args.articles)
        if args.limit:
            questions = questions[:: max(1, len(questions) // args.limit)][: args.limit]
        settings = Settings(
            seeds_dir=seeds,
            index_dir=Path(tmp) / "index",
            data_dir=Path(tmp) / "data",
            embedder=args.embedder,
            answerer="sentence",
            _env_file=None,  # type: ignore[call-arg]
        )
        service = QAService(settings)
        started = time.perf_counter()
        report = service.ingest()
        ingest_s = time.perf_counter() - started
        found = dict.fromkeys(KS, 0)
        latencies = []
        for question, source, start, end in questions:
            began = time.perf_counter()
            hits = service.search(question, top_k=max(KS))
            latencies.append((time.perf_counter() - began) * 1000)
            ranks = [h.rank for h in hits if h.chunk.source == source and h.chunk.start <= start and end <= h.chunk.end]
            for k in KS:
                found[k] += bool(ranks) and min(ranks) <= k
    print(f"articles: {len(args.articles)}  chunks: {report.chunks}  questions: {len(questions)}", end="  ")
    print(f"ingest: {ingest_s:.0f} s")
    print("  ".join(f"recall@{k}: {100 * found[k] / len(questions):.1f}%" for k in KS))
    print(f"search p50: {statistics.median(latencies):.1f} ms")


if __name__ == "__main__":
    main()
