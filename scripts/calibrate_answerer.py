#!/usr/bin/env python
"""Fit the reader answerer's blend weight and abstention threshold on held-out questions.

The shipped answerer (qa.answering.ReaderAnswerer) reads the top retrieved chunks and scores each
chunk's best span as ``w * reader confidence + (1 - w) * support of its sentence``; it abstains
below a threshold. This script runs the real pipeline -- an index of the 7 held-out SQuAD 2.0 dev
articles, retrieval, the sentence scores and the reader -- once per question, keeps every
candidate span, then tries each ``w`` of a grid and every threshold.

Three kinds of held-out question, none ever trained on against these articles:

* answerable -- SQuAD 2.0 questions of the held-out articles (scored by F1 of the answer);
* adversarial -- their SQuAD 2.0 unanswerable questions, written against the same paragraph to
  look answerable ("What plateau has no clay pits?");
* out of corpus -- questions about other topics (``--out-of-corpus FILE:N``, sampled from a
  SQuAD-format file), the "documents do not say" case a user meets most.

Chosen: the (w, threshold) with the best *balanced* score = half the has-answer F1 plus half the
mean no-answer accuracy over the two unanswerable kinds, so the 50/50 answerable/unanswerable mix
of SQuAD 2.0 dev does not decide how often the bot answers. Ties: the higher threshold. A
leave-one-article-out figure (fit on 6 articles, score the 7th) is printed as the honest estimate.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/calibrate_answerer.py \
        --squad2 /work/shared/data/squad-v2.0-dev.json --limit 1000 \
        --out-of-corpus /work/shared/data/reader-train/squadshifts-reddit.json:300 \
        --rows /tmp/calibration-rows.json --write

``--write`` stores the fit in qa/reader_model/reader_config.json (``"answerer"``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.eval_reader import HELD_OUT

WEIGHTS = [round(0.1 * i, 1) for i in range(11)]


def collect(args) -> list[dict]:
    """Candidate spans (reader confidence, sentence support) per held-out question."""
    from qa.answering import ReaderAnswerer, SentenceAnswerer
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
    answerer = ReaderAnswerer(SentenceAnswerer(service.embedder), reader)
    rows = []
    started = time.time()
    for number, case in enumerate(evalset.cases):
        hits = service.search(case.question)
        spans = answerer.candidates(case.question, hits)
        rows.append(
            {
                "id": case.id,
                "article": article_of[case.id],
                "kind": "answerable" if case.answerable else "adversarial",
                "golds": list(case.answers) if case.answerable else [],
                "spans": [[s.text, s.reader_confidence, s.sentence_score] for s in spans],
            }
        )
        if number % 100 == 0:
            print(f"  {number}/{len(evalset.cases)} questions, {time.time() - started:.0f}s", file=sys.stderr)
    for number, (question_id, question) in enumerate(_out_of_corpus(args)):
        spans = answerer.candidates(question, service.search(question))
        rows.append(
            {
                "id": question_id,
                # spread over the articles' folds so leave-one-article-out scores them too
                "article": HELD_OUT[number % len(HELD_OUT)],
                "kind": "out-of-corpus",
                "golds": [],
                "spans": [[s.text, s.reader_confidence, s.sentence_score] for s in spans],
            }
        )
    return rows


def _out_of_corpus(args) -> list[tuple[str, str]]:
    """``--out-of-corpus FILE:N``: N seeded questions of FILE, asked of the held-out articles."""
    if not args.out_of_corpus:
        return []
    path, _, count = args.out_of_corpus.rpartition(":")
    data = json.loads(Path(path).read_text())
    questions = [
        (qa["id"], qa["question"])
        for article in data["data"]
        if article.get("title") not in HELD_OUT
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    random.Random(args.seed).shuffle(questions)
    return questions[: int(count)]


def with_scores(rows: list[dict]) -> list[dict]:
    """Each candidate span gets its EM and F1 against the gold answers, computed once."""
    from qa.evaluation.metrics import exact_match, f1_score

    out = []
    for row in rows:
        golds = row["golds"]
        spans = [
            [text, rc, ss, exact_match(text, golds) if golds else 0.0, f1_score(text, golds) if golds else 0.0]
            for text, rc, ss, *_ in row["spans"]
        ]
        out.append({**row, "spans": spans})
    return out


def _best_spans(rows: list[dict], weight: float):
    """Per question: the best blended confidence and that span's EM and F1 (numpy arrays)."""
    import numpy as np

    confidence, em, f1 = np.zeros(len(rows)), np.zeros(len(rows)), np.zeros(len(rows))
    for i, row in enumerate(rows):
        if row["spans"]:
            blended = [weight * rc + (1 - weight) * ss for _, rc, ss, *_ in row["spans"]]
            k = int(np.argmax(blended))
            confidence[i], em[i], f1[i] = blended[k], row["spans"][k][3], row["spans"][k][4]
        else:
            confidence[i] = -1.0  # nothing to answer with: always abstains
    return confidence, em, f1


def score(rows: list[dict], weight: float, threshold: float, best=None) -> dict:
    """Metrics when each question answers its best blended span at or above ``threshold``.

    ``exact``/``f1`` are SQuAD 2.0's (an unanswerable question scores 1 only when abstained on)
    over the SQuAD questions; ``balanced`` is what the fit maximises (see the module docstring).
    """
    import numpy as np

    confidence, em, f1 = best if best is not None else _best_spans(rows, weight)
    kind = np.array([r["kind"] for r in rows])
    has = kind == "answerable"
    answered = confidence >= threshold
    em_q = np.where(has, answered * em, ~answered)
    f1_q = np.where(has, answered * f1, ~answered)
    squad = kind != "out-of-corpus"
    no_answer = {k: float((~answered)[kind == k].mean()) for k in ("adversarial", "out-of-corpus") if (kind == k).any()}
    has_f1 = float(f1_q[has].mean()) if has.any() else 0.0
    return {
        "weight": weight,
        "threshold": float(threshold),
        "balanced": 100 * (has_f1 + float(np.mean(list(no_answer.values())) if no_answer else 0.0)) / 2,
        "exact": 100 * float(em_q[squad].mean()),
        "f1": 100 * float(f1_q[squad].mean()),
        "has_ans_f1": 100 * has_f1,
        "no_ans_accuracy": 100 * no_answer.get("adversarial", 0.0),
        "out_of_corpus_abstained": 100 * no_answer.get("out-of-corpus", 0.0),
        "has_ans_answered": 100 * float(answered[has].mean()) if has.any() else 0.0,
        "n": len(rows),
    }


def fit(rows: list[dict]) -> dict:
    """The (weight, threshold) with the best balanced score (ties: the higher threshold)."""
    best = None
    for weight in WEIGHTS:
        spans = _best_spans(rows, weight)
        for threshold in sorted(set(spans[0].round(4).tolist())):
            result = score(rows, weight, threshold, spans)
            if best is None or (result["balanced"], threshold) > (best["balanced"], best["threshold"]):
                best = result
    assert best is not None
    return best


def leave_one_article_out(rows: list[dict]) -> dict:
    """Fit on all articles but one, score that one; pooled over the articles."""
    pooled = []
    for article in sorted({r["article"] for r in rows}):
        fitted = fit([r for r in rows if r["article"] != article])
        held = [r for r in rows if r["article"] == article]
        confidence, em, f1 = _best_spans(held, fitted["weight"])
        for row, c, e, f in zip(held, confidence, em, f1, strict=True):
            answered = c >= fitted["threshold"]
            pooled.append({**row, "spans": [["", 1.0, 1.0, e, f]] if answered else []})
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
    ap.add_argument("--out-of-corpus", default=None, help="FILE:N  N questions of a SQuAD-format file, other topics")
    ap.add_argument("--write", action="store_true", help="store the fit in reader_config.json")
    args = ap.parse_args(argv)

    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text())
    else:
        rows = collect(args)
        if args.rows:
            args.rows.write_text(json.dumps(rows))
    rows = with_scores(rows)
    kinds = {k: sum(r["kind"] == k for r in rows) for k in ("answerable", "adversarial", "out-of-corpus")}
    print(f"questions: {json.dumps(kinds)}")
    header = ("weight", "thresh", "bal.", "EM", "F1", "HasF1", "NoAcc", "OOC", "Ans%")
    keys = ("balanced", "exact", "f1", "has_ans_f1", "no_ans_accuracy", "out_of_corpus_abstained", "has_ans_answered")
    print("".join(f"{h:>7}" for h in header))
    for weight in WEIGHTS:
        # each weight at its own best threshold, to show how much the blend matters
        spans = _best_spans(rows, weight)
        r = max(
            (score(rows, weight, t / 100, spans) for t in range(0, 101)),
            key=lambda x: (x["balanced"], x["threshold"]),
        )
        print(f"{weight:>7.1f}{r['threshold']:>7.2f}" + "".join(f"{r[k]:>7.1f}" for k in keys))
    chosen = fit(rows)
    loao = {k: v for k, v in leave_one_article_out(rows).items() if k not in ("weight", "threshold")}
    print(f"chosen: {json.dumps({k: round(v, 4) for k, v in chosen.items()})}")
    print(f"leave-one-article-out: {json.dumps({k: round(v, 4) for k, v in loao.items()})}")
    print(f"always answer: {json.dumps({k: round(v, 4) for k, v in score(rows, 1.0, 0.0).items()})}")
    if args.write:
        from qa.reader import update_reader_config

        fitted = {
            "reader_weight": chosen["weight"],
            "threshold": round(chosen["threshold"], 4),
            "how": (
                f"scripts/calibrate_answerer.py: best balanced score (has-answer F1 vs no-answer accuracy) over "
                f"{json.dumps(kinds)} held-out questions, retrieval over the 7 held-out SQuAD 2.0 dev articles, "
                "top 5 chunks"
            ),
        }
        print(f"wrote {update_reader_config({'answerer': fitted}, args.weights)}")


if __name__ == "__main__":
    main()
