"""The reader's training data: SQuAD-format files -> examples -> windowed features (scripts/train_reader.py).

``load_examples`` is replayed by scripts/make_ood_set.py to know which paragraphs a training run
saw, so for the same arguments and seed it must keep returning the same examples in the same order.
The 7 held-out SQuAD 2.0 dev articles (``HELD_OUT_ARTICLES``) are never used for training.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from qa.evaluation.importers import SquadAnswer, SquadQuestion, read_squad, squad_questions
from qa.evaluation.reader_alone import HELD_OUT_ARTICLES


def _example(question: SquadQuestion, context: str, answer: SquadAnswer | None, **extra: Any) -> dict:
    """A training example; ``start``/``text`` are None for an unanswerable one."""
    start, text = (answer.start, answer.text) if answer is not None else (None, None)
    return dict(id=question.id, question=question.question, context=context, start=start, text=text, **extra)


def load_examples(args) -> tuple[list[dict], dict]:
    """Return examples {id, question, context, answer_start, answer_text|None} and counts."""
    rng = random.Random(args.seed)
    counts: dict = {}
    articles = [a for a in read_squad(Path(args.squad2)) if a.title not in HELD_OUT_ARTICLES]
    exs = [
        _example(q, paragraph.context, None if q.impossible else q.answers[0])
        for _, paragraph, q in squad_questions(articles)
    ]
    n_imp = sum(e["start"] is None for e in exs)
    counts[os.path.basename(args.squad2)] = {
        "articles": len(articles),
        "answerable": len(exs) - n_imp,
        "unanswerable": n_imp,
    }
    # --passages: a separate generator, so runs without it replay the same examples as before
    passages = getattr(args, "passages", 1)
    group_rng = random.Random(args.seed + 7)
    if passages > 1:
        dev_siblings = {i: [p.context for p in a.paragraphs] for i, a in enumerate(articles)}
        dev_articles = [i for i, a in enumerate(articles) for p in a.paragraphs for _ in p.questions]
        for e, art_i in zip(list(exs), dev_articles, strict=True):
            e["article"] = art_i
        exs.extend(_passage_groups(exs, dev_siblings, passages - 1, group_rng))
    for spec in args.extra:
        path, _, n = spec.rpartition(":")
        if not path:
            path, n = spec, "0"
        n = int(n) if n else 0
        base = os.path.basename(path).lower()
        if "dev" in base and ("v1.1" in base or "squad1" in base) and "squad" in base:
            raise SystemExit(f"refusing to train on a SQuAD v1.1 dev set: {path}")
        pool = []
        siblings: dict[int, list[str]] = {}  # article index -> its paragraphs (distractor source)
        for art_i, article in enumerate(read_squad(Path(path))):
            if article.title in HELD_OUT_ARTICLES:
                continue
            siblings[art_i] = [p.context for p in article.paragraphs]
            for _, paragraph, q in squad_questions([article]):
                if not q.answers:
                    continue
                a = q.answers[0]
                if paragraph.context[a.start : a.start + len(a.text)] != a.text:
                    continue
                pool.append(_example(q, paragraph.context, a, article=art_i))
        rng.shuffle(pool)
        take = pool[:n] if n > 0 else pool
        for e in take:
            e["source"] = os.path.basename(path)
        exs.extend(take)
        negatives = _distractors(take, siblings, args.distractors, rng)
        exs.extend(negatives)
        if passages > 1:
            exs.extend(_passage_groups(take, siblings, passages - 1, group_rng))
        swapped = _swapped_negatives(take, siblings, getattr(args, "swapped", 0.0), group_rng)
        exs.extend(swapped)
        counts[os.path.basename(path)] = {
            "available": len(pool),
            "answerable": len(take),
            "distractors": len(negatives),
            "swapped": len(swapped),
        }
    return exs, counts


def _other_paragraphs(e: dict, siblings: dict[int, list[str]]) -> list[str]:
    """The other paragraphs of ``e``'s article that do not contain its answer text anywhere."""
    return [c for c in siblings.get(e["article"], []) if c != e["context"] and e["text"].lower() not in c.lower()]


def _distractors(take: list[dict], siblings: dict[int, list[str]], fraction: float, rng) -> list[dict]:
    """Unanswerable examples: a question paired with another paragraph of the same article.

    At inference the reader reads the top retrieved chunks, most of which are on-topic but do
    not hold the answer; these teach it to say "no answer" there.  Paragraphs that contain the
    answer text anywhere are never used as distractors.
    """
    out = []
    for e in take:
        if rng.random() >= fraction:
            continue
        others = _other_paragraphs(e, siblings)
        if not others:
            continue
        out.append(
            dict(
                id=e["id"] + "-distractor",
                question=e["question"],
                context=rng.choice(others),
                start=None,
                text=None,
                source=e["source"] + " distractor",
            )
        )
    return out


def _number_shape(token: str) -> str | None:
    """Return "year", "number" or None (not a number): a number is only swapped for one of its kind."""
    plain = token.replace(",", "").replace(".", "")
    if not plain.isdigit():
        return None
    return (
        "year"
        if len(token) == 4 and token[:2] in ("10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20")
        else "number"
    )


def _names(text: str, common: frozenset[str]) -> list[str]:
    """Runs of capitalised words that ``common`` (lower-cased words of the article) lacks, and numbers.

    A capitalised word also written in lower case somewhere ("During", "She") is not a name; a run
    ends at punctuation, so names of two sentences are never joined.  No regex: plain splitting.
    """
    out, run = [], []

    def close() -> None:
        if run:
            out.append(" ".join(run))
            run.clear()

    for word in text.split():
        token = word.strip(".,;:!?()[]\"'")
        if token.endswith(("'s", "’s")):
            token = token[:-2]
        if token[:1].isupper() and token.lower() not in common:
            run.append(token)
        else:
            close()
            if _number_shape(token):
                out.append(token)
        if token != word:
            close()
    close()
    return out


def _swapped_negatives(take: list[dict], siblings: dict[int, list[str]], fraction: float, rng) -> list[dict]:
    """Unanswerable examples made by swapping a name or number of the question for another.

    Most of SQuAD 2.0's adversarial questions are an answerable question with one detail changed
    (an entity, a number, a date), so the paragraph still matches it word for word elsewhere.  Here
    a name or number that the question shares with its paragraph is replaced by one of the same
    kind from another paragraph of the article that this paragraph never mentions; the pair, read
    against the original paragraph, has no answer.
    """
    out = []
    by_article: dict[int, tuple[frozenset[str], list[tuple[str, list[str]]]]] = {}
    for e in take:
        if e["start"] is None or rng.random() >= fraction:
            continue
        if e["article"] not in by_article:
            article = siblings.get(e["article"], [])
            common = frozenset(w for text in article for w in text.split() if w.islower())
            by_article[e["article"]] = common, [(text, _names(text, common)) for text in article]
        common, paragraph_names = by_article[e["article"]]
        shared = [n for n in _names(e["question"], common) if n in e["context"] and n not in e["text"]]
        if not shared:
            continue
        old = rng.choice(shared)
        shape = _number_shape(old)
        pool = sorted(
            {
                n
                for other, names in paragraph_names
                if other != e["context"]
                for n in names
                if _number_shape(n) == shape and n.lower() not in e["context"].lower()
            }
        )
        if not pool:
            continue
        out.append(
            dict(
                id=e["id"] + "-swapped",
                question=e["question"].replace(old, rng.choice(pool), 1),
                context=e["context"],
                start=None,
                text=None,
                source=e["source"] + " swapped",
            )
        )
    return out


def _passage_groups(take: list[dict], siblings: dict[int, list[str]], per_question: int, rng) -> list[dict]:
    """Other paragraphs of each answerable question's article, read with it in one group.

    The examples returned are ``shared_only``: they add no per-window loss of their own, only the
    shared normalisation across the group's passages (scripts/train_reader.py ``--passages``), which
    teaches the reader that the answer's span must outscore every span of the other passages read
    for the question, as the product compares the spans of the top retrieved chunks.  The question
    itself is marked with its ``group``; paragraphs holding the answer text are never used.
    """
    out = []
    for e in take:
        if e["start"] is None or "article" not in e:
            continue
        e["group"] = e["id"]
        others = _other_paragraphs(e, siblings)
        for j, context in enumerate(rng.sample(others, min(per_question, len(others)))):
            out.append(
                dict(
                    id=f"{e['id']}-passage{j}",
                    question=e["question"],
                    context=context,
                    start=None,
                    text=None,
                    group=e["id"],
                    shared_only=True,
                    source=e.get("source", "squad2") + " passage",
                )
            )
    return out


def featurize(tokenizer, exs: list[dict], max_len: int, stride: int, keep_null_windows: float, rng) -> list[dict]:
    from qa.reader.model import encode_windows

    feats = []
    B = 256
    for b in range(0, len(exs), B):
        chunk = exs[b : b + B]
        enc = encode_windows(
            tokenizer, [e["question"] for e in chunk], [e["context"] for e in chunk], max_len=max_len, stride=stride
        )
        for w in range(len(enc["input_ids"])):
            e = chunk[enc["overflow_to_sample_mapping"][w]]
            offs = enc["offset_mapping"][w]
            sp = ep = 0
            if e["start"] is not None:
                a0, a1 = e["start"], e["start"] + len(e["text"])
                ctx = [i for i, o in enumerate(offs) if o is not None]
                if offs[ctx[0]][0] <= a0 and offs[ctx[-1]][1] >= a1:
                    sp = next(i for i in ctx if offs[i][1] > a0)
                    ep = max(i for i in ctx if offs[i][0] < a1)
                    if ep < sp:
                        sp = ep = 0
            if e["start"] is not None and sp == 0 and rng.random() > keep_null_windows:
                continue  # windows of answerable questions that miss the answer: keep a fraction
            feats.append(
                {
                    "input_ids": enc["input_ids"][w],
                    "token_type_ids": enc["token_type_ids"][w],
                    "start": sp,
                    "end": ep,
                    "null": sp == 0,
                    "ex": b + enc["overflow_to_sample_mapping"][w],
                    "group": e.get("group"),
                    "shared_only": e.get("shared_only", False),
                }
            )
    return feats


def held_out_sample(squad2: str, n: int, seed: int = 0) -> list[dict]:
    """A fixed sample of answerable questions from the held-out articles (the learning curve's data)."""
    held_out = [a for a in read_squad(Path(squad2)) if a.title in HELD_OUT_ARTICLES]
    pool = [
        dict(question=q.question, context=paragraph.context, answers=[a.text for a in q.answers])
        for _, paragraph, q in squad_questions(held_out)
        if not q.impossible
    ]
    random.Random(seed).shuffle(pool)
    return pool[:n]
