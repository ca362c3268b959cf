"""Importers: SQuAD v1.1/v2.0 JSON and BEIR folders become an EvalSet with its own corpus.

``read_squad`` is the one reader of SQuAD-format JSON (articles -> paragraphs -> questions, as
frozen dataclasses in file order); ``import_squad``, the reader scripts and the benchmarks use it.

SQuAD: one document per article (its paragraphs joined by blank lines), gold answer spans
mapped to offsets in that document. BEIR: one document per corpus entry (title, blank line,
text); qrels become whole-document evidence, so only retrieval is scored.

``limit`` takes a seeded shuffle of the questions while the corpus stays whole, so retrieval
is as hard for a sample as for the full set and the same seed gives the same sample.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import InvalidTestSetError
from qa.evaluation.testset import CorpusFile, EvalCase, EvalSet, GoldEvidence, question_type

PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class SquadAnswer:
    """One accepted answer: its text and character offset in the paragraph, as the file gives them."""

    text: str
    start: int


@dataclass(frozen=True, slots=True)
class SquadQuestion:
    """One question; ``impossible`` is SQuAD 2.0's ``is_impossible`` flag (v1.1 files: False)."""

    id: str
    question: str
    answers: tuple[SquadAnswer, ...]
    impossible: bool


@dataclass(frozen=True, slots=True)
class SquadParagraph:
    """A paragraph and the questions asked about it."""

    context: str
    questions: tuple[SquadQuestion, ...]


@dataclass(frozen=True, slots=True)
class SquadArticle:
    """An article (``title`` is "" when the file has none) and its paragraphs."""

    title: str
    paragraphs: tuple[SquadParagraph, ...]


def read_squad(path: Path) -> list[SquadArticle]:
    """Every article of a SQuAD v1.1/v2.0-format JSON file, in file order."""
    data = _read_json(path)
    try:
        return [
            SquadArticle(
                title=str(article.get("title") or ""),
                paragraphs=tuple(
                    SquadParagraph(
                        context=paragraph["context"],
                        questions=tuple(_squad_question(qa) for qa in paragraph["qas"]),
                    )
                    for paragraph in article["paragraphs"]
                ),
            )
            for article in data["data"]
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidTestSetError(
            f"{path} is not SQuAD JSON (data -> paragraphs -> context, qas; missing {exc})."
        ) from None


def _squad_question(qa: dict[str, Any]) -> SquadQuestion:
    answers = tuple(SquadAnswer(text=a["text"], start=int(a["answer_start"])) for a in qa.get("answers") or ())
    return SquadQuestion(
        id=str(qa["id"]), question=qa["question"], answers=answers, impossible=bool(qa.get("is_impossible", False))
    )


def write_squad(path: Path, articles: Iterable[SquadArticle], *, version: str) -> None:
    """Write ``articles`` as a SQuAD v2.0-format JSON file that ``read_squad`` reads back."""
    data = [
        {
            "title": article.title,
            "paragraphs": [
                {
                    "context": paragraph.context,
                    "qas": [
                        {
                            "id": q.id,
                            "question": q.question,
                            "answers": [{"text": a.text, "answer_start": a.start} for a in q.answers],
                            "is_impossible": q.impossible,
                        }
                        for q in paragraph.questions
                    ],
                }
                for paragraph in article.paragraphs
            ],
        }
        for article in articles
    ]
    path.write_text(json.dumps({"version": version, "data": data}), encoding="utf-8")


def squad_questions(
    articles: Iterable[SquadArticle],
) -> Iterator[tuple[SquadArticle, SquadParagraph, SquadQuestion]]:
    """Each question with its article and paragraph, in file order."""
    for article in articles:
        for paragraph in article.paragraphs:
            for question in paragraph.questions:
                yield article, paragraph, question


def import_squad(
    path: Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    articles: Collection[str] = (),
    exclude_articles: Collection[str] = (),
) -> EvalSet:
    """Load a SQuAD v1.1 or v2.0 JSON file (v1.1 has no unanswerable questions).

    Args:
        articles: only these article titles (all when empty).
        exclude_articles: leave these article titles out (held-out data, say).
    """
    squad = read_squad(path)
    titles = {article.title for article in squad}
    unknown = sorted((set(articles) | set(exclude_articles)) - titles)
    if unknown:
        raise InvalidTestSetError(f"No article titled {unknown[0]!r} in {path}; titles look like {sorted(titles)[:3]}.")
    corpus: list[CorpusFile] = []
    cases: list[EvalCase] = []
    used_names: set[str] = set()
    for number, article in enumerate(squad):
        title = article.title or f"article-{number}"
        if (articles and title not in articles) or title in exclude_articles:
            continue
        source = _unique_name(_safe_name(title), used_names)
        offset = 0
        parts: list[str] = []
        for paragraph in article.paragraphs:
            cases.extend(_squad_case(qa, source, offset, paragraph.context) for qa in paragraph.questions)
            parts.append(paragraph.context)
            offset += len(paragraph.context) + len(PARAGRAPH_SEPARATOR)
        corpus.append(CorpusFile(source=source, text=PARAGRAPH_SEPARATOR.join(parts)))
    if not cases:
        raise InvalidTestSetError(f"{path}: no questions left after the article filters.")
    return EvalSet(name=path.name, cases=sample_cases(cases, limit=limit, seed=seed), corpus=tuple(corpus))


def _squad_case(qa: SquadQuestion, source: str, offset: int, context: str) -> EvalCase:
    impossible = qa.impossible or not qa.answers
    answers: list[str] = []
    evidence: list[GoldEvidence] = []
    if not impossible:
        for answer in qa.answers:
            text, start = answer.text, answer.start
            if text not in answers:
                answers.append(text)
            if context[start : start + len(text)] != text:  # a few official spans are off; fall back to a search
                found = context.find(text)
                if found < 0:
                    continue
                start = found
            span = GoldEvidence(source=source, start=offset + start, end=offset + start + len(text))
            if span not in evidence:
                evidence.append(span)
    question = qa.question.strip()
    return EvalCase(
        id=qa.id,
        question=question,
        answers=tuple(answers),
        evidence=tuple(evidence),
        answerable=not impossible,
        type=question_type(question),
    )


def import_beir(folder: Path, *, split: str = "test", limit: int | None = None, seed: int = 0) -> EvalSet:
    """Load a BEIR-style folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv."""
    corpus_path, queries_path, qrels_path = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels"
    for needed in (corpus_path, queries_path, qrels_path / f"{split}.tsv"):
        if not needed.is_file():
            raise InvalidTestSetError(f"{needed} is missing; a BEIR folder holds corpus.jsonl, queries.jsonl, qrels/.")
    sources: dict[str, CorpusFile] = {}
    used_names: set[str] = set()
    for row in _read_jsonl(corpus_path):
        title, text = str(row.get("title") or "").strip(), str(row.get("text") or "")
        source = _unique_name(_safe_name(str(row["_id"])), used_names)
        sources[str(row["_id"])] = CorpusFile(source, f"{title}{PARAGRAPH_SEPARATOR}{text}" if title else text)
    queries = {str(row["_id"]): str(row["text"]) for row in _read_jsonl(queries_path)}
    relevant: dict[str, list[GoldEvidence]] = {}
    with (qrels_path / f"{split}.tsv").open(encoding="utf-8", newline="") as handle:
        for line in csv.reader(handle, delimiter="\t"):
            if len(line) < 3 or line[0] == "query-id":
                continue
            query_id, doc_id, score = line[0], line[1], int(line[2])
            document = sources.get(doc_id)
            if score > 0 and document is not None and query_id in queries:
                gold = GoldEvidence(source=document.source, start=0, end=len(document.text), relevance=score)
                relevant.setdefault(query_id, []).append(gold)
    cases = [
        EvalCase(
            id=qid, question=text, answers=(), evidence=tuple(relevant[qid]), answerable=True, type=question_type(text)
        )
        for qid, text in queries.items()
        if qid in relevant and text.strip()
    ]
    if not cases:
        raise InvalidTestSetError(f"{folder}: no query has a relevant document in qrels/{split}.tsv.")
    return EvalSet(
        name=folder.name,
        cases=sample_cases(cases, limit=limit, seed=seed),
        corpus=tuple(sources.values()),
        retrieval_only=True,
        rank_unit="document",
    )


def sample_cases(cases: Sequence[EvalCase], *, limit: int | None, seed: int) -> tuple[EvalCase, ...]:
    """A seeded shuffle cut to ``limit``, returned in file order so reports read naturally."""
    if limit is None or limit >= len(cases):
        return tuple(cases)
    chosen = set(random.Random(seed).sample(range(len(cases)), limit))
    return tuple(case for i, case in enumerate(cases) if i in chosen)


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._") or "document"
    return f"{stem[:100]}.txt"


def _unique_name(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{name[:-4]}-{n}.txt"
    used.add(candidate.lower())
    return candidate


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidTestSetError(f"{path} does not exist.") from None
    except ValueError as exc:
        raise InvalidTestSetError(f"{path} is not valid JSON ({exc}).") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except ValueError as exc:
        raise InvalidTestSetError(f"{path} is not valid JSONL ({exc}).") from None
