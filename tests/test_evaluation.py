"""Runner, aggregate metrics, reports, compare and gates, and `qa eval` (hashing embedder)."""

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa import HashingEmbedder, QAService, Settings
from qa.cli import app
from qa.evaluation.compare import Gate, check_gates, compare_reports, parse_gate
from qa.evaluation.importers import import_beir, import_squad
from qa.evaluation.report import load_report, write_report
from qa.evaluation.results import ALL_METRICS, aggregate, score_question
from qa.evaluation.runner import corpus_settings, run_eval, write_corpus
from qa.evaluation.testset import EvalCase, GoldEvidence, InvalidTestSetError, read_jsonl
from qa.schema import Citation
from tests.support import HASHING, REPO, settings_under

DATA = REPO / "tests" / "data"
runner = CliRunner()


def _citation(source: str, start: int, end: int, quote: str = "q") -> Citation:
    return Citation(1, source, "t", "d", "c", start, end, quote, 0.5)


def test_aggregate_hand_computed() -> None:
    gold = (GoldEvidence("a.txt", 100, 110),)
    right = EvalCase("A", "Who?", ("Baykar",), gold, True, "who")
    wrong = EvalCase("B", "What?", ("corvettes",), gold, True, "what")
    abstained = EvalCase("C", "Capital?", (), (), False, "what")
    answered_unanswerable = EvalCase("D", "Cost?", (), (), False, "how much")
    chunk_hit, chunk_miss = ("a.txt", 95, 150, ""), ("a.txt", 0, 50, "")
    timings = {"retrieve": 10.0, "answer": 20.0, "total": 30.0}
    slow = {"retrieve": 10.0, "answer": 20.0, "total": 50.0}
    runs = [  # case, status, answer, confidence, citations, ranked chunks, timings
        (right, "answered", "Baykar", 0.9, [_citation("a.txt", 90, 120)], [chunk_miss, chunk_hit], timings),
        (wrong, "answered", "drones", 0.7, [_citation("a.txt", 0, 40)], [chunk_miss], timings),
        (abstained, "abstained", None, 0.2, [], [], slow),
        (answered_unanswerable, "answered", "$5m", 0.6, [_citation("a.txt", 100, 105)], [chunk_hit], timings),
    ]
    rows = [
        score_question(case, status=status, answer=said, confidence=conf, citations=cited, ranked=ranked, timings_ms=ms)
        for case, status, said, conf, cited, ranked, ms in runs
    ]
    m = aggregate(rows)
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (4, 2, 2)
    assert m["exact_match"] == 0.5  # A right, C right by abstaining
    assert m["has_answer_exact_match"] == 0.5 and m["answer_accuracy"] == 0.5
    assert m["overall_accuracy"] == 0.5
    assert m["citation_precision"] == 0.5 and m["citation_recall"] == 0.5  # D is not judged on citations
    assert (m["abstention_precision"], m["abstention_recall"]) == (1.0, 0.5)
    assert m["abstention_f1"] == pytest.approx(2 / 3)
    assert (m["hit@1"], m["hit@5"], m["mrr@10"]) == (0.0, 0.5, 0.25)
    assert m["latency_total_p50_ms"] == 30.0 and m["latency_total_p95_ms"] == pytest.approx(47.0)


@pytest.fixture
def squad_service(tmp_path: Path) -> tuple[QAService, object]:
    evalset = import_squad(DATA / "squad_excerpt.json")
    write_corpus(evalset.corpus, tmp_path / "seeds")
    settings = settings_under(tmp_path, **HASHING)  # seeds: the corpus just written
    service = QAService(corpus_settings(settings, tmp_path), embedder=HashingEmbedder())
    service.ingest()
    return service, evalset


def test_squad_excerpt_runs_end_to_end_on_the_fake_embedder(squad_service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service, evalset = squad_service
    # The loader keeps the offsets the importer computed.
    documents = {d.source: d.text for d in service.documents()}
    for case in evalset.cases:
        for gold in case.evidence:
            assert documents[gold.source][gold.start : gold.end] in case.answers
    run = run_eval(service, evalset)
    assert len(run.rows) == 27
    assert tuple(run.metrics) == ALL_METRICS  # what --min accepts is what a run reports
    assert run.metrics["hit@10"] == 1.0  # three paragraphs: everything is in the top 10
    assert run.metrics["f1"] is not None and run.metrics["citation_recall"] is not None
    assert run.meta["answerer"] == "sentence" and run.meta["documents"] == 2
    assert set(run.by_type) >= {"what", "who"}

    paths = write_report(run, tmp_path / "report")
    assert [p.name for p in paths] == ["report.json", "report.md", "report.html"]
    page = paths[2].read_text("utf-8")
    images = page.split("src='data:image/png;base64,")[1:]
    assert len(images) == 3  # F1 by type, confidence distribution, latency
    assert all(base64.b64decode(img.split("'")[0]).startswith(b"\x89PNG") for img in images)
    data = load_report(paths[0])
    assert data["metrics"]["questions"] == 27 and len(data["questions"]) == 27
    row = next(q for q in data["questions"] if q["status"] == "answered")
    assert {"question", "expected", "got", "status", "confidence", "citations"} <= row.keys()
    assert "| answer_accuracy |" in paths[1].read_text("utf-8")


def test_write_corpus_replaces_an_earlier_corpus(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(import_squad(DATA / "squad_excerpt.json").corpus, seeds)
    write_corpus(import_beir(DATA / "beir_tiny").corpus, seeds)
    assert sorted(p.name for p in seeds.iterdir()) == ["d1.txt", "d2.txt", "d3.txt", "d4.txt", "d5.txt"]


def test_beir_scores_document_ranks_only(tmp_path: Path) -> None:
    evalset = import_beir(DATA / "beir_tiny")
    write_corpus(evalset.corpus, tmp_path / "seeds")
    settings = settings_under(tmp_path, embedder="hashing")  # seeds: the corpus just written
    service = QAService(corpus_settings(settings, tmp_path), embedder=HashingEmbedder())
    service.ingest()
    run = run_eval(service, evalset)
    assert "f1" not in run.metrics and "citation_recall" not in run.metrics
    assert run.metrics["hit@1"] == 1.0 and run.metrics["hit@5"] == 1.0
    assert 0.9 < run.metrics["ndcg@10"] < 1.0  # q5 ranks its grade-1 document above its grade-2 one
    assert all(row.first_relevant_rank == 1 for row in run.rows)


def _report(metrics: dict[str, float | None], questions: list[dict[str, object]]) -> dict[str, object]:
    return {"metrics": metrics, "questions": questions}


def _q(qid: str, correct: bool, got: str) -> dict[str, object]:
    return {
        "id": qid,
        "question": f"{qid}?",
        "correct": correct,
        "citation_correct": correct,
        "f1": float(correct),
        "status": "answered",
        "got": got,
        "first_relevant_rank": 1,
    }


def test_compare_reports_per_metric_and_per_question() -> None:
    old = _report(
        {"questions": 3, "f1": 0.5, "latency_total_p50_ms": 100.0, "hit@1": 0.5},
        [_q("a", True, "x"), _q("b", False, "y"), _q("c", True, "z"), _q("gone", True, "w")],
    )
    new = _report(
        {"questions": 3, "f1": 0.6, "latency_total_p50_ms": 120.0, "hit@1": 0.5},
        [_q("a", False, "x2"), _q("b", True, "y2"), _q("c", True, "z"), _q("new", True, "v")],
    )
    comparison = compare_reports(old, new)
    verdicts = {m.name: m.verdict for m in comparison.metrics}
    assert verdicts == {"questions": "same", "f1": "better", "latency_total_p50_ms": "worse", "hit@1": "same"}
    assert [(q.id, q.verdict) for q in comparison.questions] == [("a", "worse"), ("b", "better")]
    assert "x2" in comparison.questions[0].new
    assert (comparison.only_old, comparison.only_new) == (1, 1)


def test_gates() -> None:
    assert parse_gate("answer_accuracy=0.9") == Gate("answer_accuracy", 0.9)
    for bad in ("answer_accuracy", "=0.9", "f1=high"):
        with pytest.raises(InvalidTestSetError, match="METRIC=VALUE"):
            parse_gate(bad)
    metrics = {"f1": 0.8, "hit@1": 0.5, "abstention_recall": None}
    gates = [Gate("f1", 0.8), Gate("hit@1", 0.6), Gate("abstention_recall", 1.0), Gate("ndcg@10", 0.1)]
    failures = check_gates(gates, metrics)
    assert [(f.gate.metric, f.value) for f in failures] == [
        ("hit@1", 0.5),
        ("abstention_recall", None),
        ("ndcg@10", None),
    ]  # not measured fails too
    with pytest.raises(InvalidTestSetError, match=r"Unknown metric 'accuracy'.*answer_accuracy"):
        check_gates([Gate("accuracy", 0.5)], metrics)


def test_cli_eval_report_gates_and_compare(cli_env: Settings, tmp_path: Path) -> None:
    seed_eval = str(DATA / "seed_eval.jsonl")
    result = runner.invoke(app, ["eval", seed_eval, "--report", str(tmp_path / "r1")])
    assert result.exit_code == 0, result.output
    assert "answer_accuracy" in result.output and "citation_recall" in result.output
    assert {p.name for p in (tmp_path / "r1").iterdir()} == {"report.json", "report.md", "report.html"}

    result = runner.invoke(app, ["eval", seed_eval, "--min", "answer_accuracy=0.5", "--min", "hit@10=1.01"])
    assert result.exit_code == 1
    assert "gate failed: hit@10" in result.output and "gate failed: answer_accuracy" not in result.output

    result = runner.invoke(
        app, ["eval", seed_eval, "--limit", "5", "--threshold", "0.9", "--report", str(tmp_path / "r2")]
    )
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(DATA / "seed_eval.jsonl").cases) > 5
    assert len(json.loads((tmp_path / "r2" / "report.json").read_text("utf-8"))["questions"]) == 5

    result = runner.invoke(
        app,
        [
            "eval",
            "--compare",
            str(tmp_path / "r1" / "report.json"),
            str(tmp_path / "r2" / "report.json"),
            "--min",
            "abstention_rate=0.99",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "worse" in result.output and "questions better" in result.output


def test_cli_eval_squad_uses_a_temporary_index_and_sweeps(cli_env: Settings, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "eval",
            str(DATA / "squad_excerpt.json"),
            "--format",
            "squad",
            "--sweep-abstention",
            "--report",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Best threshold:" in result.output
    assert not cli_env.index_dir.exists()  # the user's index is untouched
    data = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    assert data["meta"]["abstain_threshold"] == 0.0 and data["sweep"]["best"]["threshold"] >= 0.0
    assert (tmp_path / "r" / "report.html").read_text("utf-8").count("data:image/png;base64,") == 4


def test_cli_eval_errors_are_one_line(cli_env: Settings, tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["eval", str(DATA / "seed_eval.jsonl"), "--min", "nonsense=1"])
    assert result.exit_code == 2 and "Unknown metric 'nonsense'" in result.output
    result = runner.invoke(app, ["eval"])
    assert result.exit_code == 2 and "Name a test set" in result.output
