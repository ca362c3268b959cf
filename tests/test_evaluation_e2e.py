"""End-to-end: `qa eval tests/data/seed_eval.jsonl` with the real model, gated like CI gates releases."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from tests.support import REPO

pytestmark = pytest.mark.e2e

# Floors a regression in answers, citations or abstention on the seed set would break.
GATES = ["answer_accuracy=0.9", "citation_recall=0.9", "citation_precision=0.9", "abstention_recall=1.0", "hit@5=1.0"]


def test_seed_eval_passes_its_gates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    monkeypatch.setenv("QA_SEEDS_DIR", str(tmp_path / "seeds"))
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "embeddings"))
    args = ["eval", str(REPO / "tests/data/seed_eval.jsonl"), "--report", str(tmp_path / "report")]
    for gate in GATES:
        args += ["--min", gate]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))
    assert report["meta"]["embedder"] != "hashing-bow-384"
    baykar = next(q for q in report["questions"] if q["question"] == "Who makes the TB2?")
    assert baykar["correct"] and baykar["citations"][0]["correct"]
