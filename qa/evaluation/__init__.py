"""Evaluation: answer, citation, abstention and retrieval quality of a QAService on a test set.

testset.py    the JSONL format (EvalCase, GoldEvidence) and its reader
importers.py  SQuAD v1.1/v2.0 JSON (read_squad: the one SQuAD reader) and BEIR folders -> EvalSet
reader_alone.py  the extractive reader judged alone: held-out articles, has-answer confidence
metrics.py    SQuAD EM/F1, answer correctness, citation/retrieval matching, nDCG
results.py    per-question rows and the aggregate metrics
runner.py     runs a QAService over an EvalSet
abstention.py the abstention threshold sweep
report.py     report.json / report.md / report.html (charts.py draws the PNGs)
compare.py    old-vs-new comparison and --min gates
command.py    what `qa eval` does; console.py prints it
"""

from qa.errors import InvalidTestSetError
from qa.evaluation.abstention import SweepPoint, best_point, sweep
from qa.evaluation.compare import Comparison, Gate, GateFailure, check_gates, compare_reports, parse_gate
from qa.evaluation.importers import import_beir, import_squad
from qa.evaluation.metrics import answer_correct, exact_match, f1_score, normalize_answer
from qa.evaluation.report import load_report, write_report
from qa.evaluation.results import QuestionRow, aggregate
from qa.evaluation.runner import EvalRun, run_eval
from qa.evaluation.testset import EvalCase, EvalSet, GoldEvidence, read_jsonl

__all__ = [
    "Comparison",
    "EvalCase",
    "EvalRun",
    "EvalSet",
    "Gate",
    "GateFailure",
    "GoldEvidence",
    "InvalidTestSetError",
    "QuestionRow",
    "SweepPoint",
    "aggregate",
    "answer_correct",
    "best_point",
    "check_gates",
    "compare_reports",
    "exact_match",
    "f1_score",
    "import_beir",
    "import_squad",
    "load_report",
    "normalize_answer",
    "parse_gate",
    "read_jsonl",
    "run_eval",
    "sweep",
    "write_report",
]
