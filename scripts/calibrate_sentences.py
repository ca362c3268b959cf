#!/usr/bin/env python
"""Fit the sentence model (qa.answering.sentence_choice) and its threshold on held-out sentence questions.

The reader answerer asks the sentence model for a how-to, why or yes/no question only when its own
spans fall below its threshold; the sentence model then answers with the likeliest sentence of the
chunks read when that sentence's probability reaches the sentence threshold. This script fits both
on questions of that form (``is_sentence_question``: "Why did ...", "How do I ...", "Can I ...",
"Is the ...") from reader-train sources, asked end to end (retrieval, the shipped reader and span
model, the packaged embedder) of an index of their articles, each question of its own article's
chunks (the retrieved ones of that document: "Does the company share my data?" is asked of one
privacy policy, as a user asks it of their own documents, not of 60 policies at once):

* answerable -- sentence questions of ``--source FILE:N`` articles (N per file; several files),
  taken only from articles no reader training run has seen (``scripts.make_ood_set.seen_contexts``);
* swapped -- the same questions with one name or number swapped for one no article holds
  (``calibrate_answerer.swapped_questions``): the documents do not settle them;
* out of corpus -- sentence questions of ``--out-of-corpus FILE:N`` (another topic altogether),
  each asked of a seeded article of the corpus.

Label: the sentence is a right answer by bench_quality's rule for sentence questions (it holds a gold
answer, or its token F1 with one reaches ``SENTENCE_OVERLAP_F1``; 0 for every sentence of an
unanswerable question); every
kind of question weighs the same, and within a question every sentence. Threshold: the lowest one
from which on the sentence answers given where the span model abstains are right at least as often
as the span model's own answers on the same questions (kinds weighing the same; "right" is the
same rule for the answer it gives; any answer to an unanswerable question is wrong). A fallback
is then no less trustworthy than the answers it stands in for; with no such threshold the model is
stored switched off (1.0). Figures are leave-one-source-out: fit on the other files' questions.
(SQuAD's held-out articles hold about 30 sentence questions in 1,000: too few; fitted on their
factoid questions instead, the fallback is never right as often as the span model, which answers
those well.)

    HF_HUB_OFFLINE=1 .venv/bin/python -m scripts.calibrate_sentences --squad2 $D/../squad-v2.0-dev.json \
        --reader-train $D --source policyqa-dev.json:60 --source squadshifts-amazon.json:150 \
        --source squadshifts-reddit.json:150 --source friendsqa.json:40 --source fairytaleqa-explicit.json:40 \
        --out-of-corpus covidqa.json:100 --rows /tmp/sentence-rows.jsonl --write

``--write`` stores the fit in qa/reader/weights/reader_config.json (``"sentences"``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.quality_workplace import SENTENCE_OVERLAP_F1
from qa.answering.agreement import is_sentence_question
from qa.answering.extractive import ReaderAnswerer
from qa.answering.logistic import AnswerModel
from qa.answering.sentence_choice import SENTENCE_FEATURES, sentence_features
from qa.embedding import Embedder
from qa.evaluation.importers import import_squad, read_squad, squad_questions
from qa.evaluation.metrics import answer_correct, f1_score
from qa.evaluation.testset import CorpusFile, EvalCase
from scripts.calibrate_answerer import SWAPPED, fit_logistic, read_rows, swapped_questions

KINDS = ("answerable", "swapped", "out-of-corpus")
SEARCH_DEPTH = 300  # chunks retrieved before keeping those of the question's own document

THRESHOLDS = tuple(round(0.02 * i, 2) for i in range(1, 50))


class CachedEmbedder:
    """The embedder, each distinct text embedded once (the rows share chunks)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, np.asarray(self._embedder.embed_documents(missing)), strict=True))
        return np.stack([self._vectors[text] for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._embedder.embed_query(text))

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)


def answers(golds: Sequence[str], text: str) -> bool:
    """Whether ``text`` is a right sentence answer, by bench_quality's rule for sentence questions: it
    holds a gold answer, or shares most of its words with one (never, for an unanswerable question)."""
    return bool(golds) and (answer_correct(text, golds) or f1_score(text, golds) >= SENTENCE_OVERLAP_F1)


def held_out_cases(reader_train: Path, squad2: Path, spec: str, seed: int) -> tuple[list[EvalCase], list[CorpusFile]]:
    """``FILE:N``: the sentence questions of N seeded articles of FILE whose paragraphs no reader
    training run has seen, and those articles (one document each, named after the file)."""
    from scripts.make_ood_set import seen_contexts

    name, _, count = spec.rpartition(":")
    path = reader_train / name
    seen = seen_contexts(reader_train, str(squad2))
    fresh = [
        a.title
        for a in read_squad(path)
        if a.title
        and all(p.context not in seen for p in a.paragraphs)
        and any(is_sentence_question(q.question) for p in a.paragraphs for q in p.questions)
    ]
    random.Random(seed).shuffle(fresh)
    evalset = import_squad(path, articles=fresh[: int(count)])
    prefix = Path(name).stem
    cases = [
        replace(case, id=f"{prefix}:{case.id}")
        for case in evalset.cases
        if case.answerable and is_sentence_question(case.question)
    ]
    return cases, [CorpusFile(f"{prefix}-{f.source}", f.text) for f in evalset.corpus]


def collect(args: argparse.Namespace) -> None:
    """Append to ``args.rows`` every question's span decision and sentence features (resumable)."""
    from qa.config import Settings
    from qa.evaluation.runner import corpus_settings, write_corpus
    from qa.service import QAService

    questions: list[tuple[str, str, str, list[str], str]] = []  # kind, id, question, golds, document
    corpus: list[CorpusFile] = []
    for spec in args.source:
        cases, files = held_out_cases(args.reader_train, args.squad2, spec, args.seed)
        corpus += files
        prefix = Path(spec.rpartition(":")[0]).stem
        document = {c.id: f"{prefix}-{c.evidence[0].source}" for c in cases}
        questions += [("answerable", c.id, c.question, list(c.answers), document[c.id]) for c in cases]
        texts = [f.text.lower() for f in files]
        questions += [
            ("swapped", qid, q, [], document[qid.removesuffix(SWAPPED)]) for qid, q in swapped_questions(cases, texts)
        ]
    if args.out_of_corpus:
        name, _, count = args.out_of_corpus.rpartition(":")
        others = [(q.id, q.question) for _, _, q in squad_questions(read_squad(args.reader_train / name))]
        others = [(qid, q) for qid, q in others if is_sentence_question(q)]
        rng = random.Random(args.seed)
        rng.shuffle(others)
        documents = sorted({q[4] for q in questions})
        questions += [("out-of-corpus", f"ooc:{qid}", q, [], rng.choice(documents)) for qid, q in others[: int(count)]]
    random.Random(args.seed + 1).shuffle(questions)  # kinds and sources interleaved: a partial run is a fair sample
    if args.limit:  # a seeded sample of the answerable ones; every unanswerable one
        keep = {qid for kind, qid, *_ in questions if kind == "answerable"}
        keep = set(sorted(keep, key=lambda qid: random.Random(f"{args.seed}{qid}").random())[: args.limit])
        questions = [q for q in questions if q[0] != "answerable" or q[1] in keep]
    settings = corpus_settings(Settings(_env_file=None), args.work_dir)  # type: ignore[call-arg]
    write_corpus(corpus, args.work_dir / "seeds")
    service = QAService(settings)
    service.ingest(show_progress=True)
    answerer = service.answerer
    if not isinstance(answerer, ReaderAnswerer):
        raise SystemExit("the reader's weights are not installed: the sentence model backs up the reader answerer")
    embedder = CachedEmbedder(service.embedder)
    done = {row["id"] for row in read_rows(args.rows)} if args.rows.exists() else set()
    sources = sorted({Path(spec.rpartition(":")[0]).stem for spec in args.source})
    with args.rows.open("a", encoding="utf-8") as out:
        for number, (kind, question_id, question, golds, document) in enumerate(questions):
            if question_id in done:
                continue
            # asked of its own document: "Do you share my data?" means this policy, not any of 60
            hits = [hit for hit in service.search(question, top_k=SEARCH_DEPTH) if hit.chunk.source == document]
            hits = hits[: answerer.max_passages]
            span = answerer.span_answer(question, hits)
            sentences = sentence_features(question, hits, embedder)
            source = question_id.partition(":")[0]
            row = {
                "id": question_id,
                "kind": kind,
                # out-of-corpus questions are spread over the folds so leave-one-source-out scores them
                "article": source if source in sources else sources[number % len(sources)],
                "question": question,
                "document": document,
                "golds": golds,
                "span_answered": not span.abstained,
                "span_answer": span.answer,
                "span_right": not span.abstained and answers(golds, span.answer or ""),
                "features": [list(features) for *_, features in sentences],
                "sentences": [text for _, _, _, text, _ in sentences],
                "labels": [float(answers(golds, text)) for _, _, _, text, _ in sentences],
            }
            out.write(json.dumps(row) + "\n")
            out.flush()
            if number % 50 == 0:
                print(f"  {number}/{len(questions)} questions", file=sys.stderr)


def fit_weights(rows: Sequence[dict[str, Any]]) -> tuple[tuple[float, ...], float]:
    counts = {kind: sum(r["kind"] == kind for r in rows) for kind in KINDS}
    features, labels, weights = [], [], []
    for row in rows:
        for f, label in zip(row["features"], row["labels"], strict=True):
            features.append(f)
            labels.append(label)
            weights.append(1.0 / (counts[row["kind"]] * len(row["features"])))
    return fit_logistic(features, labels, weights)


def decisions(rows: Sequence[dict[str, Any]], coef: Sequence[float], intercept: float) -> list[tuple[float, bool]]:
    """Per row the best sentence's probability and whether it holds a gold answer."""
    model = AnswerModel(tuple(coef), intercept, 1.0)
    out = []
    for row in rows:
        scored = [(model.probability(f), label) for f, label in zip(row["features"], row["labels"], strict=True)]
        best = max(scored, default=(0.0, 0.0))
        out.append((best[0], bool(best[1])))
    return out


def figures(rows: Sequence[dict[str, Any]], best: Sequence[tuple[float, bool]], threshold: float) -> dict[str, float]:
    """At ``threshold``: the fallback's answers where the span model abstains (per kind, % of that
    kind) and how often they are right, against the span model's own answers (kinds weighing the same)."""
    counts = {kind: sum(r["kind"] == kind for r in rows) or 1 for kind in KINDS}
    fallback = [
        (row, right)
        for row, (probability, right) in zip(rows, best, strict=True)
        if not row["span_answered"] and probability >= threshold
    ]
    weighted = [(1.0 / counts[row["kind"]], right) for row, right in fallback]
    spans = [(1.0 / counts[r["kind"]], r["span_right"]) for r in rows if r["span_answered"]]
    result = {
        "threshold": threshold,
        "fallback_right": 100 * sum(w for w, ok in weighted if ok) / sum(w for w, _ in weighted) if weighted else 100.0,
        "span_right": 100 * sum(w for w, ok in spans if ok) / sum(w for w, _ in spans) if spans else 0.0,
    }
    for kind in KINDS:
        result[f"{kind}_answered"] = 100 * sum(row["kind"] == kind for row, _ in fallback) / counts[kind]
    return result


def fit_threshold(rows: Sequence[dict[str, Any]], best: Sequence[tuple[float, bool]]) -> float:
    """The lowest threshold from which on the fallback is right as often as the span model (1.0: off)."""
    chosen = 1.0
    for threshold in sorted(THRESHOLDS, reverse=True):
        r = figures(rows, best, threshold)
        if r["fallback_right"] < r["span_right"]:
            break
        chosen = threshold
    return chosen


def fit(rows: Sequence[dict[str, Any]]) -> AnswerModel:
    coef, intercept = fit_weights(rows)
    return AnswerModel(coef, intercept, fit_threshold(rows, decisions(rows, coef, intercept)))


COLUMNS = ("fallback_right", "span_right", *(f"{kind}_answered" for kind in KINDS))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", required=True, type=Path, help="SQuAD 2.0 dev (to replay what the reader trained on)")
    ap.add_argument("--reader-train", required=True, type=Path, help="the reader-train folder")
    ap.add_argument("--source", action="append", default=[], help="FILE:N  N articles of a reader-train file")
    ap.add_argument("--out-of-corpus", default=None, help="FILE:N  N sentence questions of another topic")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=900, help="answerable questions asked at most (0 = all)")
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-calibrate-sentences"), help="corpus + index")
    ap.add_argument("--rows", type=Path, required=True, help="collected rows (JSON lines, resumable)")
    ap.add_argument("--no-collect", action="store_true", help="fit on the rows already collected")
    ap.add_argument("--write", action="store_true", help="store the fit in reader_config.json")
    args = ap.parse_args(argv)
    if not args.no_collect:
        if not args.source:
            raise SystemExit("--source FILE:N is needed to collect rows")
        collect(args)
    rows = read_rows(args.rows)
    kinds = {k: sum(r["kind"] == k for r in rows) for k in KINDS}
    print(f"questions: {json.dumps(kinds)}")
    header = " | ".join(COLUMNS)
    held_rows: list[dict[str, Any]] = []
    held_best: list[tuple[float, bool]] = []
    for source in sorted({r["article"] for r in rows}):
        model = fit([r for r in rows if r["article"] != source])
        held = [r for r in rows if r["article"] == source]
        held_rows += held
        # each question against its own fold's threshold: answered <=> probability >= threshold
        held_best += [(float(p >= model.threshold), right) for p, right in decisions(held, model.coef, model.intercept)]
    r = figures(held_rows, held_best, 0.5)
    print(f"\nleave-one-source-out (%)\n| {header} |\n|{'---|' * len(COLUMNS)}")
    print("| " + " | ".join(f"{r[k]:.1f}" for k in COLUMNS) + " |")
    model = fit(rows)
    best = decisions(rows, model.coef, model.intercept)
    print(f"\ntrade-off curve, fitted on all rows (in-sample; the chosen row marked *)\n| threshold | {header} |")
    print(f"|---|{'---|' * len(COLUMNS)}")
    for threshold in (*THRESHOLDS[::3], model.threshold):
        r = figures(rows, best, threshold)
        mark = "*" if threshold == model.threshold else ""
        print(f"| {threshold:g}{mark} | " + " | ".join(f"{r[k]:.1f}" for k in COLUMNS) + " |")
    chosen = dict(zip(SENTENCE_FEATURES, model.coef, strict=True))
    print(f"\nchosen: {json.dumps({**chosen, 'intercept': model.intercept, 'threshold': model.threshold})}")
    if args.write:
        from qa.reader.artifacts import update_reader_config

        fitted = {
            "features": list(SENTENCE_FEATURES),
            "coef": list(model.coef),
            "intercept": model.intercept,
            "threshold": model.threshold,
            "how": (
                "scripts/calibrate_sentences.py: logistic sentence model (the sentence is a right answer) and "
                "the lowest threshold from which its answers where the span model abstains are right as often as "
                f"the span model's, over {json.dumps(kinds)} held-out sentence questions ({', '.join(args.source)}; "
                "articles no reader run trained on), retrieval over their articles"
            ),
        }
        print(f"wrote {update_reader_config({'sentences': fitted})}")


if __name__ == "__main__":
    main()
