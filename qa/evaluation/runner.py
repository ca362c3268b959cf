"""Run a QAService over an EvalSet and score every answer."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.evaluation.results import RETRIEVAL_DEPTH, QuestionRow, aggregate, by_type, score_question
from qa.evaluation.testset import CorpusFile, EvalSet
from qa.schema import Hit
from qa.service import QAService


@dataclass(frozen=True, slots=True)
class EvalRun:
    """Everything a report needs: scored rows, aggregate metrics and how they were made."""

    rows: tuple[QuestionRow, ...]
    metrics: dict[str, float | None]
    by_type: dict[str, dict[str, float | None]]
    meta: dict[str, Any] = field(default_factory=dict)


def write_corpus(corpus: Sequence[CorpusFile], seeds_dir: Path) -> None:
    """Write an imported corpus as .txt files, removing files from an earlier, different corpus."""
    seeds_dir.mkdir(parents=True, exist_ok=True)
    wanted = {file.source for file in corpus}
    for stale in seeds_dir.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    for file in corpus:
        path = seeds_dir / file.source
        data = file.text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:  # unchanged files keep their embeddings
            path.write_bytes(data)


def corpus_settings(settings: Settings, work_dir: Path) -> Settings:
    """Settings that point seeds and index into ``work_dir``, leaving the user's index alone."""
    return settings.model_copy(
        update={
            "seeds_dir": work_dir / "seeds",
            "index_dir": work_dir / "index",
            # With Qdrant the corpus goes to its own collection, never the user's.
            "qdrant_collection": f"{settings.qdrant_collection}-eval-{work_dir.name}",
        }
    )


def run_eval(service: QAService, evalset: EvalSet, *, progress: bool = False) -> EvalRun:
    """Ask (or, for retrieval-only sets, search) every question and score it."""
    from tqdm import tqdm

    rows = []
    for case in tqdm(evalset.cases, desc="Evaluating", unit="q", disable=not progress):
        if evalset.retrieval_only:
            started = time.perf_counter()
            # For document-level (BEIR) metrics several chunks of one document collapse into one
            # rank, so fetch as many chunks as retrieval considers, more than the ranks scored.
            document_depth = service.settings.retrieval_candidates
            depth = document_depth if evalset.rank_unit == "document" else RETRIEVAL_DEPTH
            hits = service.search(case.question, top_k=depth)
            elapsed = (time.perf_counter() - started) * 1000
            rows.append(
                score_question(
                    case,
                    status="retrieved",
                    answer=None,
                    confidence=0.0,
                    citations=(),
                    ranked=_ranked(hits, evalset.rank_unit),
                    timings_ms={"retrieve": elapsed, "total": elapsed},  # no answer stage
                    retrieval_only=True,
                )
            )
            continue
        answer = service.ask(case.question)
        hits = list(answer.hits)
        if len(hits) < RETRIEVAL_DEPTH:
            # The answerer saw settings.top_k hits; rank metrics look deeper with a plain search.
            hits = service.search(answer.retrieval_query or case.question, top_k=RETRIEVAL_DEPTH)
        rows.append(
            score_question(
                case,
                status=answer.status,
                answer=answer.answer,
                confidence=answer.confidence,
                citations=answer.citations,
                ranked=_ranked(hits, evalset.rank_unit),
                timings_ms=answer.timings_ms,
            )
        )
    scored = tuple(rows)
    return EvalRun(
        rows=scored,
        metrics=aggregate(scored, retrieval_only=evalset.retrieval_only),
        by_type={} if evalset.retrieval_only else by_type(scored),
        meta=_meta(service, evalset),
    )


def _ranked(hits: Sequence[Hit], unit: str) -> list[tuple[str, int, int, str]]:
    """Hits as ``(source, start, end, text)``; for document ranks, each source once, whole."""
    if unit == "chunk":
        return [(h.chunk.source, h.chunk.start, h.chunk.end, h.chunk.text) for h in hits]
    seen: dict[str, tuple[str, int, int, str]] = {}
    for hit in hits:
        # Document-level gold spans cover the whole document, so any chunk span overlaps them.
        seen.setdefault(hit.chunk.source, (hit.chunk.source, hit.chunk.start, hit.chunk.end, hit.chunk.text))
    return list(seen.values())[:RETRIEVAL_DEPTH]


def _meta(service: QAService, evalset: EvalSet) -> dict[str, Any]:
    settings = service.settings
    meta: dict[str, Any] = {
        "test_set": evalset.name,
        "questions": len(evalset.cases),
        "documents": len(evalset.corpus) if evalset.corpus else None,
        "retrieval_only": evalset.retrieval_only,
        "rank_unit": evalset.rank_unit,
        "embedder": service.embedder.model_id,
        "top_k": settings.top_k,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if not evalset.retrieval_only:
        meta["answerer"] = service.answerer.name
        meta["abstain_threshold"] = service.answerer.threshold
    return meta
