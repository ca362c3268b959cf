#!/usr/bin/env python
"""Evaluate the extractive reader on the 7 held-out SQuAD 2.0 dev articles, SQuAD-2.0 style.

Each question is read against its own gold paragraph.  Metrics use the official SQuAD 2.0
normalisation (lower-case, strip punctuation and articles, collapse whitespace), max over the gold
answers; an unanswerable question scores 1 only when the prediction is empty.

    HF_HUB_OFFLINE=1 .venv/bin/python -m scripts.eval_reader \
        --squad2 /work/shared/data/squad-v2.0-dev.json [--weights qa/reader/weights] \
        [--json reports/reader_eval.json] [--write-threshold]

Abstention: the reader answers when ``confidence = sigmoid(best span score - no-answer score)``
is at least the threshold.  Thresholds reported:

* ``0.5`` -- the model's own decision (span beats [CLS]); no tuning at all.
* ``no-answer target`` (the shipped default, ``--write-threshold``): calibrated on the held-out
  *unanswerable* questions only -- the threshold is the ``--target-no-answer`` quantile (default
  0.75) of their confidences, so that share of held-out unanswerable questions is abstained on.
* ``best F1`` -- the official SQuAD 2.0 "best_f1_thresh" sweep over all held-out questions
  (every distinct confidence tried, the one maximising overall F1 kept).  In-sample, optimistic;
  with a weak no-answer signal it degenerates to "abstain on (almost) everything".
* ``leave-one-article-out`` -- for each held-out article the no-answer-target threshold is fitted
  on the other 6 articles and applied to it: an honest estimate of the calibrated operating point.

``--predictions FILE`` re-scores the predictions saved by an earlier ``--json`` run without
running the model.

One command, one file (about 350 lines): the threshold sweeps below are used by nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from qa.evaluation.importers import read_squad, squad_questions
from qa.evaluation.metrics import exact_match, f1_score, normalize_answer
from qa.evaluation.reader_alone import HELD_OUT_ARTICLES, best_answer
from qa.onnx_export import BACKENDS

THREADS_HELP = "CPU threads of the models (default: QA_THREADS; 0 = every core)"


def score_rows(rows: list[dict], threshold: float) -> dict:
    """EM/F1 etc. when predictions with confidence < threshold are turned into 'no answer'."""
    em = f1 = 0.0
    has_em = has_f1 = 0.0
    n_has = n_no = 0
    no_correct = 0
    answered_has = 0
    for r in rows:
        pred = r["pred"] if r["conf"] >= threshold else ""
        golds = r["golds"] or [""]
        e = exact_match(pred, golds)
        f = f1_score(pred, golds)
        em += e
        f1 += f
        if r["golds"]:
            n_has += 1
            has_em += e
            has_f1 += f
            answered_has += bool(pred)
        else:
            n_no += 1
            no_correct += not pred
    n = max(1, len(rows))
    return {
        "threshold": threshold,
        "n": len(rows),
        "exact": 100 * em / n,
        "f1": 100 * f1 / n,
        "has_ans_exact": 100 * has_em / max(1, n_has),
        "has_ans_f1": 100 * has_f1 / max(1, n_has),
        "no_ans_accuracy": 100 * no_correct / max(1, n_no),
        "has_ans_answered": 100 * answered_has / max(1, n_has),
        "n_has_ans": n_has,
        "n_no_ans": n_no,
    }


def best_threshold(rows: list[dict]) -> float:
    """Threshold maximising overall F1 (official best_f1_thresh sweep; ties -> higher threshold)."""
    # Gain of answering each question vs. abstaining
    items = []
    for r in rows:
        f_ans = f1_score(r["pred"], r["golds"]) if r["pred"] else (0.0 if r["golds"] else 1.0)
        f_abs = 0.0 if r["golds"] else 1.0
        items.append((r["conf"], f_ans - f_abs))
    items.sort(key=lambda t: -t[0])
    # threshold just above everything = abstain on all; walk down confidences
    best_gain, best_t, gain = 0.0, (items[0][0] + 1e-6 if items else 1.0), 0.0
    i = 0
    while i < len(items):
        c = items[i][0]
        while i < len(items) and items[i][0] == c:
            gain += items[i][1]
            i += 1
        if gain > best_gain + 1e-12:
            best_gain, best_t = gain, c
    return float(best_t)


def no_answer_threshold(rows: list[dict], target: float) -> float:
    """Confidence below which a ``target`` share of the unanswerable questions fall."""
    confs = sorted(r["conf"] for r in rows if not r["golds"])
    if not confs:
        return 0.5
    k = min(len(confs) - 1, max(0, round(target * len(confs)) - 1))
    above = confs[k + 1] if k + 1 < len(confs) else confs[k] + 1e-6
    return float((confs[k] + above) / 2)


def held_out_pairs(args) -> list[dict]:
    """Every question of the held-out articles (or of the whole --ood file) with its gold paragraph."""
    articles = read_squad(Path(args.ood or args.squad2))
    if not args.ood:
        articles = [a for a in articles if a.title in HELD_OUT_ARTICLES]
    pairs = [
        {
            "id": q.id,
            "article": article.title,
            "question": q.question,
            "context": paragraph.context,
            "golds": [a.text for a in q.answers if normalize_answer(a.text)],
        }
        for article, paragraph, q in squad_questions(articles)
    ]
    if args.limit:
        pairs = pairs[: args.limit]
    return pairs


def load_reader(args) -> Any:
    """The reader the command line asks for."""
    from qa.reader.inference import ExtractiveReader

    return ExtractiveReader.load(
        args.weights,
        quantize=args.quantize,
        max_len=args.max_len or None,
        backend=args.backend,
        cache_dir=args.cache_dir,
    )


def run_reader(args):
    reader = load_reader(args)
    pairs = held_out_pairs(args)
    t0 = time.time()
    rows = []
    for b in range(0, len(pairs), args.batch):
        chunk = pairs[b : b + args.batch]
        preds = reader.read_pairs([c["question"] for c in chunk], [c["context"] for c in chunk])
        for c, p in zip(chunk, preds, strict=True):
            ba = best_answer([p])
            rows.append(
                {
                    **{k: c[k] for k in ("id", "article", "golds")},
                    "pred": p.text,
                    "conf": ba.confidence,
                    "margin": ba.margin,
                }
            )
        if (b // args.batch) % 20 == 0:
            print(f"  {len(rows)}/{len(pairs)} read, {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    secs = time.time() - t0

    return rows, secs, reader.quantized, reader.max_len


class _MemoEmbedder:
    """The real embedder with a memo: a paragraph's sentences are embedded once, not per question."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self._memo: dict = {}

    def embed_query(self, text: str):
        return self._embedder.embed_query(text)

    def embed_documents(self, texts):
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            self._memo.update(zip(todo, self._embedder.embed_documents(todo), strict=True))
        return np.stack([self._memo[t] for t in texts])


def run_answerer(args, kind: str):
    """The sentence-level (``sentence``) or the shipped (``blend``) answerer on the gold paragraph.

    The paragraph is the only retrieved hit. ``conf`` is the answerer's confidence and the
    threshold sweep decides abstention (the shipped threshold is reported as its own row); the
    sentence answerer still abstains on a type mismatch ("who" with no name in the sentence).
    """
    from qa.answering import DEFAULT_SENTENCE_THRESHOLD, AnswerModel, ReaderAnswerer, SentenceAnswerer
    from qa.embedding import SentenceTransformerEmbedder
    from qa.reader.artifacts import answerer_calibration
    from qa.schema import Chunk, Hit

    embedder = _MemoEmbedder(SentenceTransformerEmbedder())
    answerer = SentenceAnswerer(embedder, threshold=float("-inf"), max_passages=1)
    shipped = DEFAULT_SENTENCE_THRESHOLD
    if kind == "blend":
        reader = load_reader(args)
        calibration = answerer_calibration(args.weights)
        if calibration is None:
            raise SystemExit("no answerer calibration in reader_config.json: run python -m scripts.calibrate_answerer")
        model = AnswerModel(calibration.coef, calibration.intercept, calibration.threshold)
        answerer = ReaderAnswerer(reader, model=model, threshold=0.0, max_passages=1)
        shipped = calibration.threshold
    pairs = held_out_pairs(args)
    t0 = time.time()
    rows = []
    for i, c in enumerate(pairs):
        chunk = Chunk(c["id"], c["article"], c["article"], c["article"], c["context"], 0, len(c["context"]))
        draft = answerer.answer(c["question"], [Hit(chunk, 1.0, 1)])
        pred = "" if draft.abstained else (draft.answer or "")
        rows.append({**{k: c[k] for k in ("id", "article", "golds")}, "pred": pred, "conf": draft.confidence})
        if i % 500 == 0:
            print(f"  {i}/{len(pairs)} answered, {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    return rows, time.time() - t0, shipped


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", required=True)
    ap.add_argument("--weights", default=None, help="weights folder (default: qa/reader/weights)")
    ap.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    ap.add_argument(
        "--quantize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="dynamic int8 quantisation of the Linear layers (default: as reader_config.json says)",
    )
    ap.add_argument("--backend", choices=BACKENDS, default="torch", help="how the reader runs")
    ap.add_argument("--cache-dir", type=Path, default=None, help="exported ONNX models (default: weights/.onnx)")
    ap.add_argument("--max-len", type=int, default=None, help="override the window length")
    ap.add_argument(
        "--answerer",
        choices=("reader", "sentence", "blend"),
        default="reader",
        help="the reader alone (default), the sentence-level answerer, or the shipped answerer "
        "(the reader's spans through the calibrated answer model); the last two add their shipped threshold as a row",
    )
    ap.add_argument(
        "--ood",
        type=Path,
        default=None,
        help="read every question of this SQuAD-format file instead (the out-of-domain set that "
        "scripts/make_ood_set.py writes); all answerable, so read the always-answer row",
    )
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions (smoke test)")
    ap.add_argument("--batch", type=int, default=32, help="(question, paragraph) pairs per forward batch")
    ap.add_argument("--json", type=Path, default=None, help="write metrics (and predictions) here")
    ap.add_argument("--target-no-answer", type=float, default=0.75, help="share of unanswerable to abstain on")
    ap.add_argument("--predictions", type=Path, default=None, help="re-score a saved --json file, no model run")
    ap.add_argument(
        "--write-threshold", action="store_true", help="store the calibrated threshold in reader_config.json"
    )
    args = ap.parse_args(argv)

    from qa.config import Settings
    from qa.onnx_export import configure_threads
    from qa.reader.artifacts import DEFAULT_MODEL_DIR

    configure_threads(Settings().threads if args.threads is None else args.threads)
    if args.predictions:
        saved = json.loads(args.predictions.read_text())
        rows = saved["predictions"]
        secs = saved["metrics"]["seconds"]
        quantized, max_len = saved["metrics"].get("quantized"), saved["metrics"].get("max_len")
        shipped = saved["metrics"].get("shipped_threshold", {}).get("threshold")
    elif args.answerer == "reader":
        rows, secs, quantized, max_len = run_reader(args)
        shipped = None
    else:
        if args.write_threshold:
            raise SystemExit("--write-threshold calibrates the reader alone; drop --answerer")
        rows, secs, shipped = run_answerer(args, args.answerer)
        quantized = max_len = None
    t_best = best_threshold(rows)
    t_cal = no_answer_threshold(rows, args.target_no_answer)
    # leave-one-article-out
    loao_rows = []
    loao_t = {}
    for art in sorted({r["article"] for r in rows}):
        t = no_answer_threshold([r for r in rows if r["article"] != art], args.target_no_answer)
        loao_t[art] = t
        for r in rows:
            if r["article"] == art:
                loao_rows.append({**r, "conf": 1.0 if r["conf"] >= t else 0.0})
    results = {
        "no_threshold": {**score_rows([{**r, "conf": 1.0} for r in rows], 0.5), "threshold": None},
        "model_default_0.5": score_rows(rows, 0.5),
        "no_answer_target": score_rows(rows, t_cal),
        "best_f1_in_sample": score_rows(rows, t_best),
        "leave_one_article_out": {**score_rows(loao_rows, 0.5), "threshold": None, "thresholds": loao_t},
        "sweep": [score_rows(rows, t / 20) for t in range(1, 20)],
    }
    results["target_no_answer"] = args.target_no_answer
    results["calibrated_threshold"] = t_cal
    results["seconds"] = round(secs, 1)
    results["questions_per_second"] = round(len(rows) / secs, 1)
    results["articles"] = list(HELD_OUT_ARTICLES)
    results["weights"] = str(args.weights or DEFAULT_MODEL_DIR)
    results["quantized"] = quantized
    results["max_len"] = max_len
    results["backend"] = args.backend

    print(f"answerer: {args.answerer}")
    hdr = f"{'setting':<24}{'thresh':>8}{'EM':>7}{'F1':>7}{'HasF1':>7}{'NoAcc':>7}{'Ans%':>7}"
    print(hdr)
    print("-" * len(hdr))
    results["answerer"] = args.answerer
    names = ["no_threshold", "model_default_0.5", "no_answer_target", "best_f1_in_sample", "leave_one_article_out"]
    if shipped is not None:
        results["shipped_threshold"] = score_rows(rows, shipped)
        names.append("shipped_threshold")
    for name in names:
        r = results[name]
        t = "-" if r["threshold"] is None else f"{r['threshold']:.3f}"
        print(
            f"{name:<24}{t:>8}{r['exact']:>7.1f}{r['f1']:>7.1f}{r['has_ans_f1']:>7.1f}{r['no_ans_accuracy']:>7.1f}{r['has_ans_answered']:>7.1f}"
        )
    r = results["no_answer_target"]
    print(
        f"n={r['n']} (has answer {r['n_has_ans']}, no answer {r['n_no_ans']}); "
        f"{secs:.0f}s, {results['questions_per_second']} q/s"
    )
    print("Ans% = share of answerable questions that got an answer; NoAcc = unanswerable ones left empty")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"metrics": results, "predictions": rows}, indent=1) + "\n")
    if args.write_threshold:
        from qa.reader.artifacts import update_reader_config

        how = (
            f"abstains on {args.target_no_answer:.0%} of the unanswerable questions of the 7 held-out SQuAD 2.0 "
            "dev articles (each question against its gold paragraph); see scripts/eval_reader.py"
        )
        updates = {"threshold": round(t_cal, 4), "threshold_quantized": quantized, "threshold_how": how}
        print(f"wrote threshold {t_cal:.4f} to {update_reader_config(updates, args.weights)}")


if __name__ == "__main__":
    main()
