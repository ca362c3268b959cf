"""Exposure: a server reachable beyond loopback needs API keys (or an explicit opt-out), keys must
not be guessable, and ``uvicorn api.app:app`` (the Docker/k8s start) checks and logs as ``qa serve`` does."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api import create_app
from qa.errors import ConfigurationError, UnsafeExposureError
from tests.support import fast_env, fast_service, fast_settings, free_port, http_ok, start_process, start_server

KEY = "bind-test-key-4c1d9e7a2b"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "10.1.2.3", "qa.example.org", ""])
def test_keyless_public_host_is_refused_naming_both_settings(tmp_path: Path, host: str) -> None:
    settings = fast_settings(tmp_path, host=host)
    with pytest.raises(UnsafeExposureError) as caught:
        create_app(service=fast_service(settings, build=False))
    error = caught.value
    assert isinstance(error, ConfigurationError) and error.code == "unsafe_exposure"
    assert "QA_API_KEYS" in error.message and "QA_ALLOW_PUBLIC_WITHOUT_KEYS" in error.message
    assert repr(host) in error.message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "localhost", "::ffff:127.0.0.1"])
def test_loopback_hosts_start_without_keys(tmp_path: Path, host: str) -> None:
    create_app(service=fast_service(fast_settings(tmp_path, host=host), build=False))


def test_public_host_starts_with_keys_or_the_explicit_opt_out(tmp_path: Path) -> None:
    create_app(service=fast_service(fast_settings(tmp_path / "a", host="0.0.0.0", api_keys=[SecretStr(KEY)])))
    opt_out = fast_settings(tmp_path / "b", host="0.0.0.0", allow_public_without_keys=True)
    create_app(service=fast_service(opt_out, build=False))


@pytest.mark.parametrize("short", ["k9", "key-one", "fifteen-chars-x"])
def test_short_keys_are_refused_at_start_up(tmp_path: Path, short: str) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr(KEY), SecretStr(short)])
    with pytest.raises(UnsafeExposureError) as caught:
        create_app(service=fast_service(settings, build=False))
    message = caught.value.message
    assert "16 characters" in message and "#2" in message and "token_urlsafe" in message
    assert short not in message and KEY not in message  # the keys themselves are never echoed


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_qa_serve_refuses_a_keyless_public_bind_before_building_or_binding(tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    result = _run(
        [sys.executable, "-m", "qa.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        fast_env(tmp_path),
        tmp_path,
    )
    assert result.returncode != 0
    assert "QA_API_KEYS" in result.stderr and "QA_ALLOW_PUBLIC_WITHOUT_KEYS" in result.stderr, result.stderr
    assert not (tmp_path / "embeddings").exists()  # refused before any index work
    assert time.monotonic() - started < 60
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_uvicorn_start_refuses_a_keyless_public_host(tmp_path: Path) -> None:
    port = free_port()
    env = fast_env(tmp_path, QA_HOST="0.0.0.0")
    result = _run([sys.executable, "-m", "uvicorn", "api.app:app", "--port", str(port)], env, tmp_path)
    assert result.returncode != 0
    assert "QA_API_KEYS" in result.stderr and "QA_ALLOW_PUBLIC_WITHOUT_KEYS" in result.stderr, result.stderr[-2000:]


def test_uvicorn_start_logs_json_lines_with_secrets_masked(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "uvicorn.log"
    env = fast_env(tmp_path, QA_API_KEYS=KEY)
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    server = start_process(command, url=url, log=log, env=env, cwd=tmp_path, ready=http_ok(f"{url}/readyz"))
    try:
        auth = {"Authorization": f"Bearer {KEY}", "X-Request-ID": "uvicorn-trace-1"}
        # The key in the path lands in uvicorn's access log line, where it must be masked.
        assert httpx.get(f"{url}/api/documents/{KEY}", headers=auth, timeout=10).status_code == 404
    finally:
        server.stop()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object, uvicorn's included
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert any(e["request_id"] == "uvicorn-trace-1" and "***" in e["message"] for e in access), access
    assert KEY not in log.read_text()


def _outside_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))  # no packet is sent: this only picks the outgoing interface
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_keyless_server_bound_wide_by_uvicorn_answers_only_on_loopback(tmp_path: Path) -> None:
    # `uvicorn api.app:app --host 0.0.0.0` with QA_HOST left at its loopback default: the start-up
    # check cannot see the bind, so each connection's own address decides.
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no address besides loopback")
    app = create_app(service=fast_service(fast_settings(tmp_path)))
    live = start_server(app, host="0.0.0.0")
    port = live.port
    try:
        refused = httpx.get(f"http://{outside}:{port}/api/documents", timeout=10)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "unsafe_exposure"
        assert "QA_API_KEYS" in refused.text and "QA_ALLOW_PUBLIC_WITHOUT_KEYS" in refused.text
        assert httpx.get(f"http://{outside}:{port}/healthz", timeout=10).status_code == 403
        assert httpx.get(f"http://127.0.0.1:{port}/api/documents", timeout=10).status_code == 200
    finally:
        live.stop()
