"""run_server (``qa serve``): builds a missing index, prints the URL, hands the app to uvicorn."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

import api.server
from api.server import announce, run_server, server_url
from tests.support import fast_env, fast_settings, free_port, run_in_terminal, start_server_process


def test_run_server_builds_the_index_and_prints_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fast_settings(tmp_path, host="127.0.0.1", port=8765)
    served: dict[str, Any] = {}

    def run(server: uvicorn.Server) -> None:  # instead of binding: what it was given, and its announcement
        served.update(app=server.config.app, host=server.config.host, port=server.config.port)
        announce(settings, documents=1)

    monkeypatch.setattr(api.server._Server, "run", run)
    assert not (settings.index_dir / "manifest.json").exists()
    run_server(settings)
    assert "http://127.0.0.1:8765/" in capsys.readouterr().out
    assert served["host"] == "127.0.0.1" and served["port"] == 8765
    assert any(settings.index_dir.iterdir())
    with TestClient(served["app"]) as client:
        assert client.get("/readyz").status_code == 200  # ready at once: the index was built first
        assert client.post("/api/ask", json={"question": "Who makes the TB2?"}).json()["answer"] == "Baykar"


@pytest.mark.parametrize(
    ("host", "url"),
    [("0.0.0.0", "http://127.0.0.1:8000/"), ("localhost", "http://localhost:8000/"), ("::1", "http://[::1]:8000/")],
)
def test_server_url(tmp_path: Path, host: str, url: str) -> None:
    assert server_url(fast_settings(tmp_path, host=host, port=8000)) == url


def test_module_level_app_is_built_lazily_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.app

    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(api.app, "_default_app", None)
    assert not (tmp_path / "data").exists()  # importing created nothing
    app = api.app.app
    assert app is api.app.app
    assert app.state.settings.sessions_path == tmp_path / "data" / "sessions.sqlite3"


def test_start_up_on_a_terminal_is_short_lines_with_the_address_standing_out(tmp_path: Path) -> None:
    port = free_port()
    output = run_in_terminal(
        [sys.executable, "-m", "qa.cli", "serve", "--port", str(port)],
        env=fast_env(tmp_path),
        cwd=tmp_path,
        until="Ctrl+C",
    )
    assert f"Open \x1b[4mhttp://127.0.0.1:{port}/" in output  # bold, green and underlined
    assert "serving 1 document from" in output
    for noise in ('{"time"', "AVX2", "DEBUG", "Started server process", "Waiting for application startup"):
        assert noise not in output, output
    log_lines = [line for line in output.splitlines() if line[:2].isdigit() and line[2:3] == ":"]  # "15:04:05 ..."
    assert log_lines and all(len(line) <= 100 for line in log_lines), output


def test_logs_are_json_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    server = start_server_process(tmp_path)
    try:
        httpx.get(f"{server.url}/healthz", timeout=10)
    finally:
        server.stop()
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(record["logger"] == "uvicorn.access" for record in records)
    assert not any("AVX2" in record["message"] or record["level"] == "DEBUG" for record in records)
    assert f"open {server.url}/" in server.log.with_suffix(".out").read_text()
