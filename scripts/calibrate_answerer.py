#!/usr/bin/env python
"""Fit the reader answerer's blend weight and abstention threshold on held-out SQuAD 2.0 articles.

The shipped answerer (qa.answering.ReaderAnswerer) reads the top retrieved chunks and scores each
chunk's best span as ``w * reader confidence + (1 - w) * support of its sentence``; it abstains
below a threshold. This script runs the real pipeline -- an index of the 7 held-out articles,
retrieval, the sentence scores and the reader -- once per question, keeps every candidate span,
and then tries each ``w`` of a grid and each threshold, SQuAD-2.0 style (an unanswerable question
scores 1 only when the answerer abstains):

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/calibrate_answerer.py \\
        --squad2 /work/shared/data/squad-v2.0-dev.json [--limit 800] [--write]

Chosen: the (w, threshold) with the best overall F1 over the held-out questions. That is fitted
in-sample, so a leave-one-article-out figure (fit on 6 articles, score the 7th) is printed too.
``--write`` stores both in qa/reader_model/reader_config.json (``"answerer"``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.eval_reader import HELD_OUT

WEIGHTS = [round(0.1 * i, 1) for i in range(11)]


def collect(args) -> list[dict]:
    """Candidate spans (reader confidence, sentence support) per held-out question."""
    from qa.answering import ReaderAnswerer
    from qa.config import Settings
    from qa.evaluation.importers import import_squad
    from qa.evaluation.runner import corpus_settings, write_corpus
    from qa.reader import ExtractiveReader
    from qa.service import QAService

    evalset = import_squad(args.squad2, articles=HELD_OUT, limit=args.limit or None, seed=args.seed)
    article_of = {
        qa["id"]: article["title"]
        for article in json.loads(args.squad2.read_text())["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }
    work = args.work_dir
    settings = corpus_settings(Settings(answerer="sentence"), work)
    if not (work / "index").exists():
        write_corpus(evalset.corpus, work / "seeds")
        QAService(settings).ingest(show_progress=True)
    service = QAService(settings)
    service.load()
    reader = ExtractiveReader.load(args.weights, num_threads=args.threads)
    answerer = ReaderAnswerer(service.answerer, reader)  # type: ignore[arg-type]
    rows = []
    started = time.time()
    for number, case in enumerate(evalset.cases):
        hits = service.search(case.question)
        spans = answerer.candidates(case.question, hits)
        rows.append(
            {
                "id": case.id,
                "article": article_of[case.id],
                "golds": list(case.answers) if case.answerable else [],
                "spans": [[s.text, s.reader_confidence, s.sentence_score] for s in spans],
            }
        )
        if number % 100 == 0:
            print(f"  {number}/{len(evalset.cases)} questions, {time.time() - started:.0f}s", file=sys.stderr)
    return rows


def score(rows: list[dict], weight: float, threshold: float) -> dict:
    """EM/F1 SQuAD-2.0 style when each question answers its best blended span above threshold."""
    from qa.evaluation.metrics import exact_match, f1_score

    em = f1 = has_f1 = 0.0
    n_has = n_no = no_right = answered = 0
    for row in rows:
        blended = [(weight * rc + (1 - weight) * ss, text) for text, rc, ss in row["spans"]]
        best = max(blended, default=(0.0, ""))
        prediction = best[1] if best[0] >= threshold else ""
        if row["golds"]:
            n_has += 1
            e, f = (exact_match(prediction, row["golds"]), f1_score(prediction, row["golds"])) if prediction else (0, 0)
            em, f1, has_f1, answered = em + e, f1 + f, has_f1 + f, answered + bool(prediction)
        else:
            n_no += 1
            right = not prediction
            em, f1, no_right = em + right, f1 + right, no_right + right
    n = max(1, len(rows))
    return {
        "weight": weight,
        "threshold": threshold,
        "exact": 100 * em / n,
        "f1": 100 * f1 / n,
        "has_ans_f1": 100 * has_f1 / max(1, n_has),
        "no_ans_accuracy": 100 * no_right / max(1, n_no),
        "has_ans_answered": 100 * answered / max(1, n_has),
        "n": len(rows),
    }


def fit(rows: list[dict]) -> dict:
    """The (weight, threshold) with the best overall F1 (ties: the higher threshold)."""
    best = None
    for weight in WEIGHTS:
        confidences = sorted({round(weight * rc + (1 - weight) * ss, 4) for r in rows for _, rc, ss in r["spans"]})
        grid = [confidences[int(i * (len(confidences) - 1) / 200)] for i in range(201)] if confidences else [0.5]
        for threshold in grid:
            result = score(rows, weight, threshold)
            if best is None or (result["f1"], threshold) > (best["f1"], best["threshold"]):
                best = result
    assert best is not None
    return best


def leave_one_article_out(rows: list[dict]) -> dict:
    """Fit on all articles but one, score that one; pooled over the articles."""
    pooled = []
    for article in sorted({r["article"] for r in rows}):
        fitted = fit([r for r in rows if r["article"] != article])
        for row in rows:
            if row["article"] == article:
                blended = [(fitted["weight"] * rc + (1 - fitted["weight"]) * ss, text) for text, rc, ss in row["spans"]]
                best = max(blended, default=(0.0, ""))
                pooled.append({**row, "spans": [[best[1], 1.0, 1.0]] if best[0] >= fitted["threshold"] else []})
    return score(pooled, 1.0, 0.5)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", required=True, type=Path)
    ap.add_argument("--weights", default=None, help="reader weights folder (default: qa/reader_model)")
    ap.add_argument("--limit", type=int, default=0, help="seeded sample of the held-out questions (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-calibrate"), help="held-out corpus + index")
    ap.add_argument("--rows", type=Path, default=None, help="cache of the collected candidates (JSON)")
    ap.add_argument("--write", action="store_true", help="store the fit in reader_config.json")
    args = ap.parse_args(argv)

    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text())
    else:
        rows = collect(args)
        if args.rows:
            args.rows.write_text(json.dumps(rows))
    print(f"{'weight':>7}{'thresh':>8}{'EM':>7}{'F1':>7}{'HasF1':>7}{'NoAcc':>7}{'Ans%':>7}")
    for weight in WEIGHTS:
        # the best threshold of each weight, on a coarse grid, to show how much the blend matters
        r = max((score(rows, weight, t / 100) for t in range(0, 101, 2)), key=lambda x: (x["f1"], x["threshold"]))
        print(
            f"{weight:>7.1f}{r['threshold']:>8.3f}{r['exact']:>7.1f}{r['f1']:>7.1f}"
            f"{r['has_ans_f1']:>7.1f}{r['no_ans_accuracy']:>7.1f}{r['has_ans_answered']:>7.1f}"
        )
    chosen = fit(rows)
    loao = leave_one_article_out(rows)
    always = score(rows, 1.0, 0.0)
    print(f"chosen: {json.dumps({k: round(v, 4) for k, v in chosen.items()})}")
    loao = {k: v for k, v in loao.items() if k not in ("weight", "threshold")}
    print(f"leave-one-article-out: {json.dumps({k: round(v, 4) for k, v in loao.items()})}")
    print(f"always answer: {json.dumps({k: round(v, 4) for k, v in always.items()})}")
    if args.write:
        from qa.reader import DEFAULT_MODEL_DIR

        path = Path(args.weights or DEFAULT_MODEL_DIR) / "reader_config.json"
        config = json.loads(path.read_text())
        config["answerer"] = {
            "reader_weight": chosen["weight"],
            "threshold": round(chosen["threshold"], 4),
            "how": (
                f"scripts/calibrate_answerer.py: best overall F1 over {len(rows)} questions of the 7 held-out "
                "SQuAD 2.0 dev articles, retrieval over those articles, top 5 chunks"
            ),
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
