"""run_server (``qa serve``): builds a missing index, prints the URL, hands the app to uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.server import run_server, server_url
from tests.support import fast_settings


def test_run_server_builds_the_index_and_prints_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fast_settings(tmp_path, host="127.0.0.1", port=8765)
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
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
