#!/usr/bin/env python
"""Write the out-of-domain reader test set: the COVID-QA papers no training run has seen.

COVID-QA (scientific papers) is held out of reader training from stage 3 on.  Stages 1 and 2
sampled 30 and 60 of its questions; this script replays their exact sampling (the recipes in
scripts/train_reader.py's docstring, same seeds) and keeps only the papers neither touched, so
every figure reported on the result is on text the reader never trained on.

    .venv/bin/python -m scripts.make_ood_set --reader-train /work/shared/data/reader-train \
        --squad2 /work/shared/data/squad-v2.0-dev.json --out reports/covidqa-heldout.json
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from qa.evaluation.importers import read_squad, write_squad
from scripts.reader_data import load_examples

# (seed, distractor share, [(file, questions)]) of the two runs that saw part of COVID-QA.
EARLIER_STAGES = [
    (
        13,
        0.0,
        [
            ("squad-v1.1-train-first44.json", 2500),
            ("squadshifts-new-wiki.json", 800),
            ("qed-nq.json", 300),
            ("squadshifts-reddit.json", 200),
            ("squadshifts-amazon.json", 200),
            ("policyqa-dev.json", 100),
            ("fairytaleqa-explicit.json", 150),
            ("friendsqa.json", 50),
            ("covidqa.json", 30),
        ],
    ),
    (
        17,
        0.25,
        [
            ("squad-v1.1-train-first44.json", 9000),
            ("squadshifts-new-wiki.json", 4000),
            ("squadshifts-amazon.json", 2000),
            ("squadshifts-reddit.json", 2000),
            ("qed-nq.json", 1000),
            ("policyqa-dev.json", 1000),
            ("fairytaleqa-explicit.json", 1000),
            ("friendsqa.json", 400),
            ("covidqa.json", 60),
        ],
    ),
]


def seen_contexts(reader_train: Path, squad2: str) -> set[str]:
    """Every paragraph text an earlier stage trained on (its sampled questions and distractors)."""
    seen: set[str] = set()
    for seed, distractors, recipe in EARLIER_STAGES:
        ns = argparse.Namespace(
            squad2=squad2,
            extra=[f"{reader_train / name}:{n}" for name, n in recipe],
            seed=seed,
            distractors=distractors,
        )
        examples, _ = load_examples(ns)
        seen.update(e["context"] for e in examples)
    return seen


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader-train", type=Path, required=True, help="folder with covidqa.json and the others")
    ap.add_argument("--squad2", required=True, help="SQuAD 2.0 dev json (replayed as the stages read it)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    seen = seen_contexts(args.reader_train, args.squad2)
    kept_articles = []
    papers = questions = 0
    for article in read_squad(args.reader_train / "covidqa.json"):
        paragraphs = tuple(p for p in article.paragraphs if p.context not in seen)
        if paragraphs:
            kept_articles.append(dataclasses.replace(article, paragraphs=paragraphs))
            papers += len(paragraphs)
            questions += sum(len(p.questions) for p in paragraphs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_squad(args.out, kept_articles, version="covidqa-heldout")
    print(f"{papers} unseen papers, {questions} questions -> {args.out}")


if __name__ == "__main__":
    main()
