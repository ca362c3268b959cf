"""The embedder's training data: reader-train SQuAD-format files -> split -> (question, passage, negatives).

Units of holding out are whole articles; a file that is one article holding many unrelated
paragraphs (SQuADShifts Reddit: one "article" of 2,033 posts) is split by paragraph instead.
One whole source (COVID-QA) is out-of-domain and never trained on, and a SQuAD 2.0 *dev* file is
refused outright: the benchmarks use all of its articles.

The split is written once (``write_split``) and committed beside the scripts
(``scripts/embedder_split.json``): ``test`` units are for evaluation (benchmarks/bench_retrieval.py),
``fit`` units for fitting the fusion weights (scripts/fit_fusion.py), every other unit trains.

Passages are what the product embeds for a chunk (qa/ingest/chunking.py ``embedding_text``): the
document title, a newline, then the text; a paragraph longer than a chunk is cut to a window of
whole sentences around the answer, about one chunk long.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from qa.evaluation.importers import SquadArticle, read_squad

OOD_SOURCES = ("covidqa.json",)
SPLIT_FILE = Path(__file__).with_name("embedder_split.json")
WINDOW_CHARS = 800  # about one 160-token chunk of English prose


@dataclass(frozen=True, slots=True)
class Unit:
    """A held-out-able unit: an article of a file, or one paragraph where the file is one article."""

    source: str  # file name
    key: str  # "a<article index>" or "p<paragraph index>"
    title: str
    paragraphs: tuple[tuple[str, tuple[tuple[str, str, int], ...]], ...]  # (context, ((qid, question, start, text)...))


def refuse_dev(path: Path) -> None:
    """Refuse any SQuAD 2.0 dev file: the peer benchmark uses all of its articles."""
    name = path.name.lower()
    if "v2.0-dev" in name or "dev-v2.0" in name or name.startswith("squad-v2"):
        raise SystemExit(f"refusing to use {path} for the embedder: squad-v2.0-dev.json is benchmark-only")


def display_title(title: str) -> str:
    """The title a document would carry: the last path part, underscores as spaces."""
    return title.rsplit("/", 1)[-1].replace("_", " ").strip()


def units_of(path: Path) -> list[Unit]:
    """Every unit of one SQuAD-format file, in file order."""
    refuse_dev(path)
    articles: list[SquadArticle] = read_squad(path)
    out: list[Unit] = []

    def paragraph(p):  # type: ignore[no-untyped-def]
        qs = tuple(
            (q.id, q.question, q.answers[0].start, q.answers[0].text)
            for q in p.questions
            if q.answers and not q.impossible and p.context[q.answers[0].start :].startswith(q.answers[0].text)
        )
        return (p.context, qs)

    if len(articles) == 1 and len(articles[0].paragraphs) > 1 and path.name not in OOD_SOURCES:
        article = articles[0]
        for i, p in enumerate(article.paragraphs):
            out.append(Unit(path.name, f"p{i}", display_title(article.title), (paragraph(p),)))
        return out
    for i, article in enumerate(articles):
        paragraphs = tuple(paragraph(p) for p in article.paragraphs)
        out.append(Unit(path.name, f"a{i}", display_title(article.title), paragraphs))
    return out


def write_split(data_dir: Path, seed: int, test_fraction: float, fit_fraction: float, target: Path) -> dict:
    """Draw the held-out units (seeded) and write the split file; returns it."""
    split: dict = {
        "seed": seed,
        "test_fraction": test_fraction,
        "fit_fraction": fit_fraction,
        "ood": list(OOD_SOURCES),
        "never": ["squad-v2.0-dev.json"],
        "sources": {},
    }
    for path in sorted(data_dir.glob("*.json")):
        if path.name in OOD_SOURCES:
            continue
        units = units_of(path)
        keys = [u.key for u in units]
        rng = random.Random(f"{seed}:{path.name}")
        rng.shuffle(keys)
        n_test = max(1, round(len(keys) * test_fraction))
        n_fit = max(1, round(len(keys) * fit_fraction))
        test, fit = sorted(keys[:n_test], key=_key_order), sorted(keys[n_test : n_test + n_fit], key=_key_order)
        titles = {u.key: u.title for u in units}
        split["sources"][path.name] = {
            "units": len(units),
            "unit": "paragraph" if keys and keys[0].startswith("p") else "article",
            "test": test,
            "fit": fit,
            "test_titles": [titles[k] for k in test],
        }
    target.write_text(json.dumps(split, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return split


def _key_order(key: str) -> int:
    return int(key[1:])


def read_split(path: Path = SPLIT_FILE) -> dict:
    return json.loads(path.read_text("utf-8"))  # type: ignore[no-any-return]


def units_in(data_dir: Path, split: dict, part: str) -> list[Unit]:
    """The units of ``part`` ("train", "test" or "fit") over every non-OOD source of the split."""
    out: list[Unit] = []
    for name, info in split["sources"].items():
        held = set(info["test"]) | set(info["fit"])
        for unit in units_of(data_dir / name):
            if (part == "train" and unit.key not in held) or (part != "train" and unit.key in info[part]):
                out.append(unit)
    return out


def window(context: str, start: int | None = None, length: int = 0, chars: int = WINDOW_CHARS) -> str:
    """``context`` if short, else about ``chars`` of whole sentences (around the answer when given)."""
    if len(context) <= chars * 5 // 4:
        return context.strip()
    centre = chars // 2 if start is None else start + length // 2
    lo = max(0, min(centre - chars // 2, len(context) - chars))
    hi = min(len(context), lo + chars)
    if lo > 0:  # start after a sentence end before lo, if one is near
        cut = context.rfind(". ", max(0, lo - 200), lo + 1)
        lo = cut + 2 if cut >= 0 and (start is None or cut + 2 <= start) else lo
    if hi < len(context):
        cut = context.find(". ", hi - 1, hi + 200)
        hi = cut + 1 if cut >= 0 else hi
    if start is not None:  # never cut the answer
        lo, hi = min(lo, start), max(hi, start + length)
    return context[lo:hi].strip()


def passage(title: str, text: str) -> str:
    """As embedded: title, newline, text (embedding_text without a heading)."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text


def training_examples(units: list[Unit], seed: int, bm25_depth: int = 10) -> list[dict]:
    """(question, positive, [bm25 negative, sibling negative]) for every answerable question, seeded order.

    The BM25 negative is the best-scoring passage of the same source that is not the gold paragraph
    and does not contain the answer text; the sibling is another paragraph of the same unit (or, for
    one-paragraph units, a random paragraph of the source) that does not contain the answer text.
    """
    from qa.retrieval.keyword import KeywordIndex

    rng = random.Random(seed)
    by_source: dict[str, list[Unit]] = {}
    for unit in units:
        by_source.setdefault(unit.source, []).append(unit)
    examples: list[dict] = []
    for source, source_units in by_source.items():
        contexts: list[tuple[str, str]] = []  # (title, context)
        unit_of: list[int] = []
        for u_i, unit in enumerate(source_units):
            for context, _ in unit.paragraphs:
                contexts.append((unit.title, context))
                unit_of.append(u_i)
        index = KeywordIndex([passage(t, window(c)) for t, c in contexts])
        siblings: dict[int, list[int]] = {}
        for c_i, u_i in enumerate(unit_of):
            siblings.setdefault(u_i, []).append(c_i)
        c_i = 0
        for u_i, unit in enumerate(source_units):
            for context, questions in unit.paragraphs:
                for qid, question, start, text in questions:
                    answer = text.lower()

                    def usable(j: int, gold: int = c_i, answer: str = answer, contexts: list = contexts) -> bool:
                        return j != gold and answer not in contexts[j][1].lower()

                    bm25 = next((j for j, _ in index.search(question, bm25_depth) if usable(j)), None)
                    pool = [j for j in siblings[u_i] if usable(j)] or [
                        j for j in rng.sample(range(len(contexts)), min(20, len(contexts))) if usable(j)
                    ]
                    sibling = rng.choice(pool) if pool else None
                    negatives = [
                        passage(contexts[j][0], window(contexts[j][1])) for j in (bm25, sibling) if j is not None
                    ]
                    examples.append(
                        dict(
                            id=qid,
                            source=source,
                            question=question,
                            positive=passage(unit.title, window(context, start, len(text))),
                            negatives=negatives,
                        )
                    )
                c_i += 1
    rng.shuffle(examples)
    return examples
