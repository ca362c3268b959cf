import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.config import Settings
from tests.support import TB2_QUESTION, fast_env, run_in_terminal, start_server_process, write_scanned_pdf

runner = CliRunner()


def test_ingest_ask_json_and_doctor(cli_env: Settings) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "Indexed" in result.output
    result = runner.invoke(app, ["ask", "Which company manufactures the Bayraktar TB2 drone?", "--json", "--local"])
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
    result = runner.invoke(app, ["ask", "How much does the TB2 cost?", "--local"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long quotes at the terminal's width
    assert result.output.startswith("Not stated directly. Closest passages:\n  [1] \u201c")
    assert "privately-owned Baykar company, which manufactures the Bayraktar TB2 drone" in output
    assert "Zelensky Istanbul Turkish Drones (zelensky-istanbul-turkish-drones.txt, chars " in output
    result = runner.invoke(app, ["ask", "What is the capital of France?", "--local"])
    assert result.output.strip() == "The documents don't cover this."


EMPTY_BARS = (": 0text [", ": 0chunk [", ": 0it [", "| 0/0 [")  # tqdm with nothing to count


def test_no_debug_line_and_no_empty_progress_bar_in_any_command_at_a_terminal(tmp_path: Path) -> None:
    """Every command as a person sees it on a terminal: bm25s's DEBUG line, faiss's AVX2 message and
    an up-to-date ingest's empty bars were printed every time (issue 29)."""
    env = fast_env(tmp_path)
    qa = [sys.executable, "-m", "qa.cli"]
    runs = {
        "ingest (new)": run_in_terminal([*qa, "ingest"], env=env, cwd=tmp_path),
        "ingest (nothing to do)": run_in_terminal([*qa, "ingest"], env=env, cwd=tmp_path),
        "ask": run_in_terminal([*qa, "ask", TB2_QUESTION, "--local"], env=env, cwd=tmp_path),
        "chat": run_in_terminal([*qa, "chat"], env=env, cwd=tmp_path, stdin_text=f"{TB2_QUESTION}\n\n"),
        "doctor": run_in_terminal([*qa, "doctor"], env=env, cwd=tmp_path),
    }
    assert "Embedding sentences: 100%" in runs["ingest (new)"]  # a bar where there is work
    assert "Index is up to date" in runs["ingest (nothing to do)"]
    assert "Baykar" in runs["ask"] and "Baykar" in runs["chat"]
    for name, output in runs.items():
        assert "DEBUG" not in output, f"qa {name}:\n{output}"
        assert "AVX2" not in output, f"qa {name}:\n{output}"
        assert not any(bar in output for bar in EMPTY_BARS), f"qa {name}:\n{output}"
    # The third-party lines are there for whoever asks for them.
    debug = run_in_terminal([*qa, "ask", TB2_QUESTION, "--local"], env={**env, "QA_LOG_LEVEL": "debug"}, cwd=tmp_path)
    assert "DEBUG bm25s" in debug


def test_ask_answers_through_a_running_server_and_falls_back_with_a_note(tmp_path: Path) -> None:
    server = start_server_process(tmp_path / "server")
    try:
        port = server.url.rsplit(":", 1)[1]
        # This process's own folders are empty: only the server can answer "Baykar".
        (tmp_path / "empty").mkdir()
        env = {**fast_env(tmp_path / "server"), "QA_SEEDS_DIR": str(tmp_path / "empty"), "QA_PORT": port}
        env["QA_INDEX_DIR"] = str(tmp_path / "empty-index")

        def qa(*args: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "qa.cli", "ask", TB2_QUESTION, *args]
            return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

        explicit = qa("--server", server.url, "--json")
        assert json.loads(explicit.stdout)["answer"] == "Baykar", explicit.stderr
        found = qa()  # nothing given: the server at QA_HOST:QA_PORT answers
        assert found.stdout.startswith("Baykar"), found.stderr
        local = qa("--local")  # in this process, over the empty folder
        assert local.returncode != 0 and "No documents" in local.stderr
    finally:
        server.stop()
    gone = qa("--server", server.url)
    assert gone.stderr.startswith(f"note: no seed-qa server answers at {server.url}"), gone.stderr
    assert "answering here instead" in gone.stderr and "No documents" in gone.stderr  # then in-process


def test_doctor_names_a_skipped_scanned_pdf_and_why(cli_env: Settings) -> None:
    write_scanned_pdf(cli_env.seeds_dir / "scan.pdf")
    result = runner.invoke(app, ["doctor"])
    assert "1 skipped: scan.pdf (no text layer (a scanned image?); OCR is not supported)" in result.output
