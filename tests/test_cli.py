import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.config import Settings

runner = CliRunner()


def test_ingest_ask_json_and_doctor(cli_env: Settings) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "Indexed" in result.output
    result = runner.invoke(app, ["ask", "Which company manufactures the Bayraktar TB2 drone?", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "answered" and "Baykar" in data["citations"][0]["quote"]
    assert data["citations"][0]["page"] is None  # a .txt file has no pages; PDFs give 1-based numbers
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0 and "consistency" in result.output
    (cli_env.seeds_dir / "new.txt").write_text("Something new.", "utf-8")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1 and "new.txt" in result.output


@pytest.mark.parametrize("question", ["", "   ", "a" * 2001, "bad\x1bquestion"])
def test_bad_questions_exit_non_zero_and_write_nothing(cli_env: Settings, question: str) -> None:
    result = runner.invoke(app, ["ask", question])
    assert result.exit_code != 0
    assert "error:" in result.output
    assert not Path(cli_env.index_dir).exists()


def test_empty_seeds_folder_is_a_clear_message(cli_env: Settings) -> None:
    for path in cli_env.seeds_dir.iterdir():
        path.unlink()
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code != 0 and "No documents" in result.output


def test_chat_keeps_history(cli_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_ABSTAIN_THRESHOLD", "0.3")  # the hashing embedder's cosines run low
    result = runner.invoke(
        app,
        ["chat"],
        input=(
            "Which company manufactures the TB2 drone?\n"
            "Where did they inaugurate a factory to manufacture these aircraft?\n\n"
        ),
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("[1]") >= 2


def test_ask_shows_the_closest_passages_when_it_abstains(cli_env: Settings) -> None:
    assert runner.invoke(app, ["ingest"]).exit_code == 0
    result = runner.invoke(app, ["ask", "How much does the TB2 cost?"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long quotes at the terminal's width
    assert result.output.startswith("Not stated directly. Closest passages:\n  [1] \u201c")
    assert "privately-owned Baykar company, which manufactures the Bayraktar TB2 drone" in output
    assert "Zelensky Istanbul Turkish Drones (zelensky-istanbul-turkish-drones.txt, chars " in output
    result = runner.invoke(app, ["ask", "What is the capital of France?"])
    assert result.output.strip() == "The documents don't cover this."
