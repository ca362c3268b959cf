"""Schemathesis over the server's own OpenAPI schema, against a real uvicorn server on loopback.

Every operation gets schema-valid and schema-invalid requests (``--mode all``) through every
phase (examples, coverage, fuzzing, stateful). Checks: no 5xx, status codes, content types,
headers and bodies as documented, schema-invalid data rejected with 4xx, and (fuzz_hooks.py)
every error in the one ``{"error": {"code", "message", "request_id"}}`` shape.

Bounded for CI with a fixed seed; ``QA_FUZZ_EXAMPLES=200`` (examples per operation) and
``QA_FUZZ_SEED=<n>`` fuzz harder or elsewhere. The same run by hand, against any server:

    SCHEMATHESIS_HOOKS=tests.hardening.fuzz_hooks .venv/bin/st run http://127.0.0.1:8000/openapi.json \
        --mode all -n 50 --seed 1 --exclude-checks positive_data_acceptance
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api import create_app
from tests.support import REPO, TB2_QUESTION, LiveServer, fast_service, fast_settings, start_server

pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("QA_FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("QA_FUZZ_SEED", "20261125"))


@pytest.fixture
def fuzz_server(tmp_path: Path) -> Iterator[LiveServer]:
    # Queue generously: this run tests inputs; tests/hardening/test_limits.py tests the limiter.
    live = start_server(create_app(service=fast_service(fast_settings(tmp_path, max_queue=256))))
    yield live
    live.stop()


def st_command() -> list[str]:
    found = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    assert found, "schemathesis's `st` command is not installed"
    return [found]


@pytest.mark.slow
def test_fuzzed_api_never_fails_and_matches_its_schema(fuzz_server: LiveServer) -> None:
    command = [
        *st_command(),
        "run",
        f"{fuzz_server.url}/openapi.json",
        "--mode=all",
        f"--max-examples={EXAMPLES}",
        f"--seed={SEED}",
        # The schema cannot say "no control characters" or the configured QA_MAX_QUESTION_CHARS,
        # so some schema-valid questions are rightly 422: "valid data accepted" does not apply.
        "--exclude-checks=positive_data_acceptance",
        "--request-timeout=30",
        "--no-color",
        "--output-truncate=true",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.hardening.fuzz_hooks", "PYTHONPATH": str(REPO)}
    run = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    summary = run.stdout[-6000:]
    generated = re.search(r"(\d+) generated", run.stdout)
    print(f"\nschemathesis: {generated.group(0) if generated else '?'} (seed {SEED}, {EXAMPLES} examples/operation)")
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert generated and int(generated.group(1)) >= 100, summary
    # The server is still fine afterwards. The run may have deleted the seed article through
    # DELETE /api/documents/{id}: upload it again (which must still work) and wait for the index.
    seed = REPO / "seeds" / "zelensky-istanbul-turkish-drones.txt"
    files = [("files", (seed.name, seed.read_bytes(), "text/plain"))]
    assert httpx.post(f"{fuzz_server.url}/api/documents", files=files, timeout=30).status_code == 202
    fuzz_server.app.state.ingest.wait_idle(60)
    response = httpx.post(f"{fuzz_server.url}/api/ask", json={"question": TB2_QUESTION}, timeout=30)
    assert response.status_code == 200 and response.json()["answer"] == "Baykar"
