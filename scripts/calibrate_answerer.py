#!/usr/bin/env python
"""Fit the reader answerer's span model and abstention threshold on held-out questions.

The shipped answerer (qa.answering.ReaderAnswerer) reads the top retrieved chunks, turns each
chunk's best span into a probability of being right with a logistic model over
``READ_FEATURES`` (the reader's margin, a softmax shared across the chunks read, the chunk's
retrieval rank, question words in the span's sentence and near the span, whether the sentence names
the question's codes, names and roles or a rival of them, a "not" the sentence lacks), adds up
chunks that agree on the answer and abstains below a threshold. Spans of the wrong type for the
question never enter (qa.answering.agreement); a how-to or why question's span is labelled 1 when
its sentence, the answer it would give, holds a gold answer. This script fits both on the real pipeline: an index
of the 7 held-out SQuAD 2.0 dev articles (``HELD_OUT_ARTICLES``, one document per article), retrieval, and
the reader on the top ``--read`` chunks of every question -- the expensive part, run once and kept
in ``--rows`` (JSON lines, resumable). Everything after replays the answerer on those rows.

Four kinds of held-out question, none ever trained on against these articles:

* answerable -- SQuAD 2.0 questions of the held-out articles (scored by F1 of the answer);
* adversarial -- their SQuAD 2.0 unanswerable questions, written against the same paragraph to
  look answerable;
* out of corpus -- questions from another source (``--out-of-corpus FILE:N``; COVID-QA, which
  the reader does not train on), the "documents do not say" case a user meets most;
* swapped -- answerable questions of the held-out articles with one number, code or proper name
  swapped for one no article holds (``swapped_questions``): what a name or code the passage lacks
  is worth ("the 2nd floor" asked of a procedure that names only the 3rd).

The span model: soft labels (a span's F1 against the gold answers; 0 for the unanswerable kinds),
each kind weighing the same. The threshold: the best *balanced* score = half the answerable F1
(an abstention scores 0) plus half the mean abstention rate over the two unanswerable kinds, so the
mix of the sample does not decide how often the bot answers; ties go to the higher threshold. Or,
with ``--target-answered P``, the highest threshold that still answers P % of the answerable
questions. Neither rule is stable on a few hundred questions (docs/EVALUATION.md: on 310 questions
the balanced rule lands at 0.35 and answers 54 % of the answerable ones), so read the trade-off
curve before ``--write``.
Every figure printed as an estimate is leave-one-article-out: fit on 6 articles, score the 7th
(out-of-corpus questions are spread over the folds). Printed: the figures per number of chunks
read, the trade-off curve (threshold -> answer rate, F1, abstention per kind) and the fit.

    HF_HUB_OFFLINE=1 .venv/bin/python -m scripts.calibrate_answerer \\
        --squad2 /work/shared/data/squad-v2.0-dev.json --limit 240 \\
        --out-of-corpus /work/shared/data/reader-train/covidqa.json:70 \\
        --rows /tmp/calibration-rows.jsonl --write

``--write`` stores the fit in qa/reader/weights/reader_config.json (``"answerer"``); rerun it
(with a fresh ``--rows`` file) whenever new reader weights land. One command, one file (about 350
lines): collecting, replaying and fitting are used by nothing else.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.answering.agreement import clean_token, is_sentence_question
from qa.answering.extractive import (
    DEFAULT_ANSWER_MODEL,
    READ_FEATURES,
    READER_DECISION,
    AnswerModel,
    ReaderAnswerer,
    ReadSpan,
)
from qa.evaluation.importers import read_squad, squad_questions
from qa.evaluation.metrics import f1_score, spans_overlap
from qa.evaluation.reader_alone import HELD_OUT_ARTICLES
from qa.evaluation.testset import EvalCase
from qa.onnx_export import BACKENDS
from qa.reader.prediction import SpanPrediction
from qa.schema import Chunk, Hit
from scripts.eval_reader import THREADS_HELP

KINDS = ("answerable", "adversarial", "out-of-corpus", "swapped")
PASSAGE_COUNTS = (1, 3, 5, 10)
L2 = 1e-2  # keeps the weights finite when a feature separates the sample


def collect(args: argparse.Namespace) -> None:
    """Append to ``args.rows`` the top hits and raw reader predictions of every question not in it yet."""
    from benchmarks.bench_quality import gold_paragraphs, paragraph_bounds
    from qa.config import Settings
    from qa.evaluation.importers import import_squad
    from qa.evaluation.runner import corpus_settings, write_corpus
    from qa.reader.inference import ExtractiveReader
    from qa.service import QAService

    evalset = import_squad(args.squad2, articles=HELD_OUT_ARTICLES, limit=args.limit or None, seed=args.seed)
    article_of = _article_of(args.squad2)
    questions = [("answerable" if c.answerable else "adversarial", c.id, c.question, c) for c in evalset.cases]
    questions += [("out-of-corpus", qid, question, None) for qid, question in _out_of_corpus(args)]
    corpus_texts = [f.text.lower() for f in evalset.corpus]
    questions += [("swapped", qid, question, None) for qid, question in swapped_questions(evalset.cases, corpus_texts)]
    random.Random(args.seed + 1).shuffle(questions)  # kinds interleaved: a partial run is a fair sample
    bounds, texts = paragraph_bounds(evalset.corpus), {f.source: f.text for f in evalset.corpus}
    settings = corpus_settings(Settings(_env_file=None, answerer="sentence"), args.work_dir)  # type: ignore[call-arg]
    write_corpus(evalset.corpus, args.work_dir / "seeds")
    service = QAService(settings)
    service.ingest(show_progress=True)
    reader = ExtractiveReader.load(args.weights, backend=args.backend, cache_dir=settings.models_path)
    done = {row["id"] for row in read_rows(args.rows)} if args.rows.exists() else set()
    started = time.time()
    with args.rows.open("a", encoding="utf-8") as out:
        for number, (kind, question_id, question, case) in enumerate(questions):
            if question_id in done:
                continue
            hits = service.search(question, top_k=args.read)
            predictions = reader.read(question, [hit.chunk.text for hit in hits])
            row = {
                "id": question_id,
                "kind": kind,
                # out-of-corpus questions are spread over the folds so leave-one-article-out scores them
                "article": article_of.get(
                    question_id.removesuffix(SWAPPED), HELD_OUT_ARTICLES[number % len(HELD_OUT_ARTICLES)]
                ),
                "question": question,
                "golds": list(case.answers) if case and case.answerable else [],
                "gold_paragraphs": sorted(gold_paragraphs(case, bounds, texts)) if case and case.answerable else [],
                "hits": [
                    [h.chunk.id, h.chunk.source, h.chunk.start, h.chunk.end, h.score, h.dense_score, h.keyword_score]
                    for h in hits
                ],
                "preds": [
                    [
                        p.start,
                        p.end,
                        p.text,
                        p.score,
                        p.no_answer_score,
                        [[a.start, a.end, a.text, a.score] for a in p.alternatives],
                    ]
                    for p in predictions
                ],
            }
            out.write(json.dumps(row) + "\n")
            out.flush()
            if number % 20 == 0:
                print(f"  {number}/{len(questions)} questions, {time.time() - started:.0f}s", file=sys.stderr)


SWAPPED = "-swapped"


def swapped_questions(cases: Sequence[EvalCase], corpus_texts: Sequence[str]) -> list[tuple[str, str]]:
    """Unanswerable questions made from answerable ones the way SQuAD 2.0's writers made many of
    theirs: one number, code or proper name of the question swapped for one of the same kind that
    no article of the corpus holds ("in 1066" -> "in 1069", "Kuleba" -> another article's name).
    The answer model then learns what a missing or rival term is worth from the same articles."""
    names = sorted({clean_token(t) for c in cases for t in c.question.split()[1:] if _is_name(clean_token(t))})
    rng = random.Random(7)
    out = []
    for case in cases:
        if not case.answerable:
            continue
        tokens = case.question.split()
        at = [i for i, t in enumerate(tokens) if i > 0 and (_is_name(clean_token(t)) or any(c.isdigit() for c in t))]
        if not at:
            continue
        i = rng.choice(at)
        old = clean_token(tokens[i])
        for _ in range(20):
            if any(c.isdigit() for c in old):
                shift = rng.randint(1, 9)
                new = "".join(str((int(c) + shift) % 10) if c.isdigit() else c for c in old)
            else:
                new = rng.choice(names)
            if new != old and not any(new.lower() in text for text in corpus_texts):
                out.append((case.id + SWAPPED, " ".join([*tokens[:i], tokens[i].replace(old, new), *tokens[i + 1 :]])))
                break
    return out


def _is_name(token: str) -> bool:
    return len(token) > 2 and token[:1].isupper() and token.isalpha()


def _article_of(squad2: Path) -> dict[str, str]:
    return {q.id: article.title for article, _, q in squad_questions(read_squad(squad2))}


def _out_of_corpus(args: argparse.Namespace) -> list[tuple[str, str]]:
    """``--out-of-corpus FILE:N``: N seeded questions of a SQuAD-format file about other topics."""
    if not args.out_of_corpus:
        return []
    path, _, count = args.out_of_corpus.rpartition(":")
    others = [a for a in read_squad(Path(path)) if a.title not in HELD_OUT_ARTICLES]
    questions = [(q.id, q.question) for _, _, q in squad_questions(others)]
    random.Random(args.seed).shuffle(questions)
    return questions[: int(count)]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows ``collect`` wrote."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class ReplayReader:
    """Answers ``read`` from one row's stored predictions: the chunks in stored order, each call
    continuing where the last one stopped (the answerer reads its first chunks, then maybe the rest).
    A passage that is not the next stored chunk (a sentence the answerer reads again alone,
    ReaderAnswerer._refocus) gets no span: the rows do not hold it. Rows collected before the
    reader kept next-best spans replay without them."""

    def __init__(self, row: dict[str, Any], texts: Sequence[str]) -> None:
        self._predictions = [_prediction(n, p) for n, p in enumerate(row["preds"])]
        self._texts = texts
        self.passages_read = 0

    def read(self, question: str, passages: Sequence[str]) -> list[SpanPrediction]:
        out = []
        for i, passage in enumerate(passages):
            n = self.passages_read
            if n < len(self._predictions) and n < len(self._texts) and passage == self._texts[n]:
                out.append(self._predictions[n])
                self.passages_read += 1
            else:
                out.append(SpanPrediction(i, 0, 0, "", float("-inf"), 0.0))
        return out


def _stored(alternatives: Sequence[SpanPrediction]) -> list[list[Any]]:
    return [[a.start, a.end, a.text, a.score] for a in alternatives]


def _prediction(index: int, stored: list[Any]) -> SpanPrediction:
    start, end, text, score, no_answer = stored[:5]
    alternatives = tuple(SpanPrediction(index, a, b, t, sc, no_answer) for a, b, t, sc in (stored[5:6] or [[]])[0])
    return SpanPrediction(index, start, end, text, score, no_answer, alternatives)


class Replay:
    """The answerer's candidates for every row, rebuilt from the stored hits and predictions."""

    def __init__(self, rows: list[dict[str, Any]], corpus: dict[str, str]) -> None:
        self.rows = rows
        self._hits = [
            [
                Hit(
                    chunk=Chunk(cid, source, source, source, corpus[source][start:end], start, end),
                    score=score,
                    rank=rank,
                    dense_score=dense,
                    keyword_score=keyword,
                )
                for rank, (cid, source, start, end, score, dense, keyword) in enumerate(row["hits"], start=1)
            ]
            for row in rows
        ]

    def subset(self, indices: Sequence[int]) -> Replay:
        """The replay of the rows at ``indices`` only."""
        sub = Replay([], {})
        sub.rows, sub._hits = [self.rows[i] for i in indices], [self._hits[i] for i in indices]
        return sub

    def candidates(self, model: AnswerModel, passages: int) -> list[list[ReadSpan]]:
        """Per row, the answerer's spans (likeliest answer first) when reading ``passages`` chunks."""
        return self.cascade(model, passages, passages)[0]

    def cascade(
        self, model: AnswerModel, passages: int, first: int, stop_confidence: float = 1.0
    ) -> tuple[list[list[ReadSpan]], list[int]]:
        """Per row, the spans when reading the top ``first`` chunks and the rest of ``passages``
        only below ``stop_confidence`` (as the server does), and how many chunks it read."""
        spans, read = [], []
        for row, hits in zip(self.rows, self._hits, strict=True):
            reader = ReplayReader(row, [hit.chunk.text for hit in hits])
            answerer = ReaderAnswerer(
                reader,
                model=model,
                threshold=model.threshold,
                max_passages=passages,
                first_passages=first,
                stop_confidence=stop_confidence,
            )
            spans.append(answerer.candidates(row["question"], hits))
            read.append(reader.passages_read)
        return spans, read


def fit_model(rows: list[dict[str, Any]], spans: list[list[ReadSpan]]) -> tuple[tuple[float, ...], float]:
    """Logistic weights of READ_FEATURES: soft labels (span F1), every kind weighing the same."""
    counts = {kind: sum(r["kind"] == kind for r in rows) for kind in KINDS}
    features, labels, weights = [], [], []
    for row, found in zip(rows, spans, strict=True):
        for span in found:
            features.append(span.features)
            labels.append(span_label(row, span))
            weights.append(1.0 / (counts[row["kind"]] * len(found)))
    x = np.hstack([np.asarray(features, dtype=float), np.ones((len(features), 1))])
    y, s = np.asarray(labels), np.asarray(weights) / np.sum(weights) * len(weights)
    w = np.zeros(x.shape[1])
    penalty = L2 * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(100):  # Newton's method on the weighted log loss
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (s * (p - y)) + penalty @ w
        hessian = (x * (s * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return tuple(round(float(v), 5) for v in w[:-1]), round(float(w[-1]), 5)


def answer_text(question: str, span: ReadSpan) -> str:
    """What the answerer answers with this span: the span, or its sentence for a sentence question."""
    return span.sentence if is_sentence_question(question) else span.text


def span_label(row: dict[str, Any], span: ReadSpan) -> float:
    """The soft label: the span's F1; for a sentence question, 1 when its sentence holds a gold answer."""
    if not row["golds"]:
        return 0.0
    if is_sentence_question(row["question"]):
        return float(any(_normal(gold) in _normal(span.sentence) for gold in row["golds"]))
    return f1_score(span.text, row["golds"])


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def outcomes(rows: list[dict[str, Any]], spans: list[list[ReadSpan]]) -> list[dict[str, Any]]:
    """Per question: the answer's confidence, F1 and whether its citation is the gold paragraph."""
    out = []
    for row, found in zip(rows, spans, strict=True):
        best = found[0] if found else None
        cited = best is not None and any(
            best.hit.chunk.source == source and spans_overlap(best.sentence_start, best.sentence_end, start, end)
            for source, start, end in row["gold_paragraphs"]
        )
        out.append(
            {
                "kind": row["kind"],
                "article": row["article"],
                "confidence": best.confidence if best else -1.0,
                "f1": f1_score(answer_text(row["question"], best), row["golds"]) if best and row["golds"] else 0.0,
                "cited": cited,
            }
        )
    return out


def score(results: list[dict[str, Any]], threshold: float) -> dict[str, float]:
    """Percentages at ``threshold``; ``balanced`` is what the threshold maximises."""
    kind = np.array([r["kind"] for r in results])
    confidence = np.array([r["confidence"] for r in results])
    f1, cited = np.array([r["f1"] for r in results]), np.array([r["cited"] for r in results])
    answered = confidence >= threshold
    has = kind == "answerable"
    abstained = {k: float((~answered)[kind == k].mean()) for k in KINDS[1:] if (kind == k).any()}
    has_f1 = float((answered * f1)[has].mean()) if has.any() else 0.0
    return {
        "threshold": float(threshold),
        "balanced": 100 * (has_f1 + float(np.mean(list(abstained.values())) if abstained else 0.0)) / 2,
        "always_f1": 100 * float(f1[has].mean()) if has.any() else 0.0,
        "always_cited": 100 * float(cited[has].mean()) if has.any() else 0.0,
        "f1": 100 * has_f1,
        "answered": 100 * float(answered[has].mean()) if has.any() else 0.0,
        "cited": 100 * float((answered & cited)[has].mean()) if has.any() else 0.0,
        "adversarial_abstained": 100 * abstained.get("adversarial", 0.0),
        "ooc_abstained": 100 * abstained.get("out-of-corpus", 0.0),
        "swapped_abstained": 100 * abstained.get("swapped", 0.0),
    }


def fit_threshold(results: list[dict[str, Any]], target_answered: float) -> float:
    """The highest threshold answering ``target_answered`` % of the answerable questions, or with
    ``target_answered`` 0 the best balanced score (ties: the higher threshold)."""
    candidates = sorted({round(r["confidence"], 4) for r in results} | {0.0})
    if target_answered > 0:
        return max(t for t in candidates if score(results, t)["answered"] >= target_answered - 1e-9)
    return max(candidates, key=lambda t: (round(score(results, t)["balanced"], 9), t))


def fit(replay: Replay, indices: list[int], passages: int, target_answered: float) -> AnswerModel:
    """Span model and threshold fitted on the rows at ``indices``."""
    sub = replay.subset(indices)
    coef, intercept = fit_model(sub.rows, sub.candidates(DEFAULT_ANSWER_MODEL, passages))
    model = AnswerModel(coef, intercept, READER_DECISION)
    threshold = fit_threshold(outcomes(sub.rows, sub.candidates(model, passages)), target_answered)
    return AnswerModel(coef, intercept, threshold)


def leave_one_article_out(replay: Replay, passages: int, target_answered: float) -> list[dict[str, Any]]:
    """Each article's questions answered by the model fitted on the other articles' (pooled)."""
    pooled: list[dict[str, Any]] = []
    for article in sorted({r["article"] for r in replay.rows}):
        train = [i for i, r in enumerate(replay.rows) if r["article"] != article]
        held = [i for i, r in enumerate(replay.rows) if r["article"] == article]
        model = fit(replay, train, passages, target_answered)
        sub = replay.subset(held)
        for result in outcomes(sub.rows, sub.candidates(model, passages)):
            # replayed against the fold's own threshold: answered <=> confidence >= its threshold
            pooled.append({**result, "confidence": 1.0 if result["confidence"] >= model.threshold else 0.0})
    return pooled


def shipped_model(weights: str | None) -> AnswerModel | None:
    """The span model and threshold stored beside the weights (what the server answers with)."""
    from qa.reader.artifacts import answerer_calibration

    stored = answerer_calibration(weights)
    if stored is None or stored.features != READ_FEATURES:  # fitted for other features: refit first
        return None
    return AnswerModel(stored.coef, stored.intercept, stored.threshold)


def print_cascade(replay: Replay, model: AnswerModel, passages: int) -> None:
    """QA_READER_FIRST_PASSAGES x QA_READER_STOP_CONFIDENCE: the figures and the chunks read, against
    reading all ``passages`` at once (the same model and threshold: the stored one, else this fit)."""
    answerable = [r["kind"] == "answerable" for r in replay.rows]
    print(f"\nreading the top K first, the rest of {passages} only below confidence S (threshold {model.threshold:g})")
    print(f"| K | S | {' | '.join(HEADER)} | chunks read | answerable settled by K |")
    print(f"|---|---|{'---|' * (len(HEADER) + 2)}")
    for first, stop in [(passages, 1.0)] + [(k, s) for k in (2, 3, 4, 5) for s in (0.1, 0.2, 0.3, 0.5)]:
        if first > passages:
            continue
        spans, read = replay.cascade(model, passages, first, stop)
        r = score(outcomes(replay.rows, spans), model.threshold)
        settled = np.mean([n == first for n, a in zip(read, answerable, strict=True) if a]) if any(answerable) else 0.0
        label = f"| {first} | {stop:g} |" if first < passages else f"| {passages} (all) | - |"
        print(
            f"{label} " + " | ".join(f"{r[k]:.1f}" for k in COLUMNS) + f" | {np.mean(read):.1f} | {100 * settled:.1f} |"
        )


COLUMNS = (
    "always_f1",
    "always_cited",
    "f1",
    "answered",
    "cited",
    "adversarial_abstained",
    "ooc_abstained",
    "swapped_abstained",
)
HEADER = ("always F1", "always cited", "F1", "answered", "cited", "adv. abst.", "OOC abst.", "swap abst.")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", required=True, type=Path)
    ap.add_argument("--weights", default=None, help="reader weights folder (default: qa/reader/weights)")
    ap.add_argument("--limit", type=int, default=240, help="seeded sample of the held-out questions (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    ap.add_argument(
        "--backend", choices=BACKENDS, default=None, help="how the reader runs (default: QA_READER_BACKEND's)"
    )
    ap.add_argument("--read", type=int, default=max(PASSAGE_COUNTS), help="chunks read per question when collecting")
    ap.add_argument("--passages", type=int, default=None, help="chunks the fit reads (default QA_READER_PASSAGES)")
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-calibrate"), help="held-out corpus + index")
    ap.add_argument("--rows", type=Path, required=True, help="collected hits and predictions (JSON lines)")
    ap.add_argument("--no-collect", action="store_true", help="fit on the rows already collected")
    ap.add_argument("--out-of-corpus", default=None, help="FILE:N  N questions of a SQuAD-format file, other topics")
    ap.add_argument(
        "--target-answered",
        type=float,
        default=0.0,
        help="percent of answerable questions the threshold must still answer (0 = best balanced score)",
    )
    ap.add_argument("--quick", action="store_true", help="estimates for the shipped chunk count only, no cascade table")
    ap.add_argument("--write", action="store_true", help="store the fit in reader_config.json")
    args = ap.parse_args(argv)

    from qa.config import Settings
    from qa.evaluation.importers import import_squad
    from qa.onnx_export import configure_threads

    configure_threads(Settings().threads if args.threads is None else args.threads)
    args.backend = args.backend or Settings().reader_backend
    passages = args.passages or Settings(_env_file=None).reader_passages  # type: ignore[call-arg]
    if not args.no_collect:
        collect(args)
    corpus = {f.source: f.text for f in import_squad(args.squad2, articles=HELD_OUT_ARTICLES).corpus}
    replay = Replay(read_rows(args.rows), corpus)
    kinds = {k: sum(r["kind"] == k for r in replay.rows) for k in KINDS}
    print(f"questions: {json.dumps(kinds)}")
    print("\nleave-one-article-out, by chunks read (answerable: F1, answered, gold paragraph cited; %)")
    print(f"| chunks | {' | '.join(HEADER)} |\n|---|{'---|' * len(HEADER)}")
    for count in [passages] if args.quick else sorted({*PASSAGE_COUNTS, passages}):
        if count <= args.read:
            r = score(leave_one_article_out(replay, count, args.target_answered), READER_DECISION)
            print(f"| {count} | " + " | ".join(f"{r[k]:.1f}" for k in COLUMNS) + " |")
    model = fit(replay, list(range(len(replay.rows))), passages, args.target_answered)
    results = outcomes(replay.rows, replay.candidates(model, passages))
    print(f"\ntrade-off curve, {passages} chunks, model fitted on all rows (in-sample; the chosen row marked *)")
    print(f"| threshold | {' | '.join(HEADER[2:])} |\n|---|{'---|' * (len(HEADER) - 2)}")
    for threshold in sorted({round(0.05 * i, 2) for i in range(1, 20)} | {model.threshold}):
        r = score(results, threshold)
        mark = "*" if threshold == model.threshold else ""
        print(f"| {threshold:.4g}{mark} | " + " | ".join(f"{r[k]:.1f}" for k in COLUMNS[2:]) + " |")
    if not args.quick:
        print_cascade(replay, shipped_model(args.weights) or model, passages)
    chosen = dict(zip(READ_FEATURES, model.coef, strict=True))
    print(f"\nchosen: {json.dumps({**chosen, 'intercept': model.intercept, 'threshold': model.threshold})}")
    if args.write:
        from qa.reader.artifacts import update_reader_config

        fitted = {
            "features": list(READ_FEATURES),
            "coef": list(model.coef),
            "intercept": model.intercept,
            "threshold": model.threshold,
            "how": (
                f"scripts/calibrate_answerer.py: logistic span model (span F1 as the label) and the highest "
                f"threshold answering {args.target_answered:g} % of the answerable questions "
                f"(0 = the best balanced score) over "
                f"{json.dumps(kinds)} held-out questions, retrieval over the 7 held-out SQuAD 2.0 dev articles, "
                f"top {passages} chunks read"
            ),
        }
        print(f"wrote {update_reader_config({'answerer': fitted}, args.weights)}")


if __name__ == "__main__":
    main()
