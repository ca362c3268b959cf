"""The README's examples are what the code does: the formats named from the loader's registry, the
command line's output on the seed (real model), and the curl examples against a real server."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.ingest.loading import SUPPORTED_SUFFIXES
from tests.support import REPO, settings_env, settings_under, start_server_process

README = (REPO / "README.md").read_text(encoding="utf-8")
FORMATS_LINE = "Formats the loader reads: "


def _block(language: str, containing: str) -> str:
    """The README's fenced ``language`` block that contains ``containing``."""
    for match in re.finditer(rf"```{language}\n(.*?)```", README, re.DOTALL):
        if containing in match.group(1):
            return match.group(1)
    raise AssertionError(f"README.md has no ```{language} block with {containing!r}")


def test_every_supported_format_is_named_once_from_the_registry() -> None:
    (line,) = [line for line in README.splitlines() if line.startswith(FORMATS_LINE)]
    named = re.findall(r"`(\.[a-z0-9]+)`", line)
    assert named == list(SUPPORTED_SUFFIXES), f"README lists {named}; the loader reads {list(SUPPORTED_SUFFIXES)}"
    # No second, partial list elsewhere (the documents paragraph once listed only four formats).
    lists = [text for text in README.splitlines() if "`.txt`" in text and "`.pdf`" in text]
    assert lists == [line], lists


def _examples() -> list[tuple[str, str]]:
    """(comment, script) of each example in the README's curl block, split at its comment lines."""
    examples: list[tuple[str, str]] = []
    for line in _block("bash", "curl -s http://127.0.0.1:8000/api/ask").splitlines():
        if line.startswith("# "):
            examples.append((line[2:], ""))
        else:
            comment, script = examples[-1]
            examples[-1] = (comment, script + line + "\n")
    return examples


def test_the_curl_examples_run_against_a_real_server(tmp_path: Path) -> None:
    examples = _examples()
    assert [comment.split(":")[0] for comment, _ in examples] == [
        "One question",
        "A chat",
        "Streaming",
        "OpenAI-compatible",
    ]
    server = start_server_process(tmp_path)
    try:
        outputs = []
        for _, script in examples:
            script = script.replace("http://127.0.0.1:8000", server.url)
            run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, run.stderr
            outputs.append(run.stdout)
    finally:
        server.stop()
    ask, follow_up, stream, openai = outputs
    assert json.loads(ask)["answer"] == "Baykar"
    assert json.loads(follow_up)["session_id"]  # the follow-up went to the session the first message made
    events = [line.removeprefix("event: ") for line in stream.splitlines() if line.startswith("event: ")]
    assert events[0] == "citations" and events[-1] == "done", stream
    completion = json.loads(openai)
    assert completion["object"] == "chat.completion" and "Baykar" in completion["choices"][0]["message"]["content"]


def _matches(shown: Any, actual: Any) -> bool:
    """Whether the README's value ``shown`` is ``actual``; "…" stands for any value."""
    if shown == "…":
        return True
    if isinstance(shown, dict) and isinstance(actual, dict):
        return shown.keys() == actual.keys() and all(_matches(shown[k], actual[k]) for k in shown)
    if isinstance(shown, list) and isinstance(actual, list):
        return len(shown) == len(actual) and all(_matches(a, b) for a, b in zip(shown, actual, strict=True))
    return bool(shown == actual)


@pytest.mark.e2e
def test_the_command_line_examples_print_what_the_readme_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings_env(settings_under(tmp_path)).items():
        if name.startswith("QA_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "1000")  # the README shows each line whole
    runner = CliRunner()
    console = _block("console", "$ .venv/bin/qa ask")
    shown: dict[str, list[str]] = {}
    for line in console.splitlines():
        if line.startswith("$ "):
            command = line
            shown[command] = []
        else:
            shown[command].append(line)
    asks = {c: lines for c, lines in shown.items() if c.startswith("$ .venv/bin/qa ask") and "#" not in c}
    assert len(asks) == 3, asks
    for command, lines in asks.items():
        question = command.split('"')[1]
        result = runner.invoke(app, ["ask", question, "--local"])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == lines, f"{command}\n{result.stdout}"
    readme_json = json.loads(_block("json", '"question": "Who makes the TB2?"'))
    result = runner.invoke(app, ["ask", "Who makes the TB2?", "--json", "--local"])
    actual = json.loads(result.stdout)
    assert readme_json["timings_ms"].keys() == actual["timings_ms"].keys()
    readme_json["timings_ms"] = actual["timings_ms"]  # timings differ from run to run
    assert _matches(readme_json, actual), json.dumps(actual, indent=2)
