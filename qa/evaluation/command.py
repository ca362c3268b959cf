"""What ``qa eval`` does, as a plain function the CLI (or a script) calls with parsed options."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from qa.config import Settings
from qa.errors import InvalidTestSetError
from qa.evaluation import console as show
from qa.evaluation.abstention import sweep
from qa.evaluation.compare import Gate, check_gate_names, check_gates, compare_reports, parse_gate
from qa.evaluation.importers import import_beir, import_squad, sample_cases
from qa.evaluation.report import load_report, write_report
from qa.evaluation.runner import corpus_settings, run_eval, write_corpus
from qa.evaluation.testset import EvalSet, read_jsonl

Format = Literal["jsonl", "squad", "beir"]
EXIT_GATES_FAILED = 1


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """Parsed ``qa eval`` options."""

    testset: Path | None = None
    format: Format = "jsonl"
    report_dir: Path | None = None
    limit: int | None = None
    seed: int = 0
    gates: tuple[str, ...] = ()
    sweep_abstention: bool = False
    compare: tuple[Path, Path] | None = None
    articles: tuple[str, ...] = ()
    exclude_articles: tuple[str, ...] = ()
    work_dir: Path | None = None
    collection: str | None = None  # answer from this collection's index (qa.collections)


def load_evalset(options: EvalOptions) -> EvalSet:
    """The test set the options name, in its format."""
    if options.testset is None:
        raise InvalidTestSetError("Name a test set: `qa eval tests/data/seed_eval.jsonl`, or use --compare OLD NEW.")
    if options.format == "squad":
        return import_squad(
            options.testset,
            limit=options.limit,
            seed=options.seed,
            articles=options.articles,
            exclude_articles=options.exclude_articles,
        )
    if options.format == "beir":
        return import_beir(options.testset, limit=options.limit, seed=options.seed)
    evalset = read_jsonl(options.testset)
    if options.limit is not None:
        evalset = EvalSet(evalset.name, sample_cases(evalset.cases, limit=options.limit, seed=options.seed))
    return evalset


def run_command(settings: Settings, options: EvalOptions, *, console: Console | None = None) -> int:
    """Run, compare or gate as the options say; returns the exit code (1: a gate failed)."""
    console = console or Console(highlight=False)
    gates = [parse_gate(text) for text in options.gates]
    check_gate_names(gates)
    if options.compare:
        old, new = (load_report(path) for path in options.compare)
        show.print_comparison(console, compare_reports(old, new))
        return _gate(console, gates, new["metrics"])
    evalset = load_evalset(options)
    if options.sweep_abstention and settings.abstain_threshold is None:
        console.print("Sweep: running with abstain_threshold=0 so only the sweep decides abstention.")
        settings = settings.model_copy(update={"abstain_threshold": 0.0})
    with _corpus_dir(evalset, options.work_dir) as work_dir:
        if work_dir is not None:
            write_corpus(evalset.corpus, work_dir / "seeds")
            settings = corpus_settings(settings, work_dir)
        from qa.service import QAService

        if options.collection is not None and work_dir is None:
            from qa.collections.registry import CollectionRegistry

            service = CollectionRegistry(settings, watch=False).get(options.collection).service
        else:
            service = QAService(settings)
        if work_dir is not None:
            service.ingest(show_progress=True)
        else:
            service.ensure_index(show_progress=True)
        run = run_eval(service, evalset, progress=True)
    run.meta.update({"format": options.format, "limit": options.limit, "seed": options.seed})
    show.print_metrics(console, run.metrics, title=f"{evalset.name}: {len(run.rows)} questions")
    points = sweep(run.rows) if options.sweep_abstention and not evalset.retrieval_only else []
    if points:
        show.print_sweep(console, points)
    if options.report_dir is not None:
        paths = write_report(run, options.report_dir, sweep=points)
        console.print(f"Wrote {', '.join(str(p) for p in paths)}")
    return _gate(console, gates, run.metrics)


def _gate(console: Console, gates: Sequence[Gate], metrics: dict[str, float | None]) -> int:
    failures = check_gates(gates, metrics)
    show.print_gate_failures(console, failures)
    return EXIT_GATES_FAILED if failures else 0


@contextlib.contextmanager
def _corpus_dir(evalset: EvalSet, work_dir: Path | None) -> Iterator[Path | None]:
    """Where an imported corpus and its index go: ``work_dir`` (kept, reused) or a temporary folder."""
    if not evalset.corpus:
        yield None
    elif work_dir is not None:
        yield work_dir
    else:
        with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
            yield Path(tmp)
