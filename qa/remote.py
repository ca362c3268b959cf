"""Ask a running seed-qa server instead of loading the models in this process (``qa ask``).

A server that is already running answers in a few hundred milliseconds; loading the index and the
models here takes seconds. ``qa ask`` tries the server first (``--server URL``, or the configured
``QA_HOST``/``QA_PORT`` when one answers there) and answers in-process when none does.
"""

from __future__ import annotations

from typing import Any

from qa.errors import ServerUnavailableError

#: Seconds to wait for the TCP connection: a loopback server accepts in well under a millisecond,
#: so a missing one costs a CLI user this much at most before the in-process answer starts.
CONNECT_TIMEOUT_S = 0.25


def server_url(host: str, port: int) -> str:
    """Where a server bound to ``host``:``port`` is reached from this machine (``0.0.0.0`` -> loopback)."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/"


def ask_server(
    base_url: str,
    question: str,
    *,
    top_k: int | None = None,
    api_key: str | None = None,
    timeout_s: float = 60.0,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> dict[str, Any]:
    """``POST /api/ask`` on the server at ``base_url``; the answer in the JSON contract (README).

    The standard library's http.client, not httpx: importing httpx took longer than the request.

    Raises:
        ServerUnavailableError: nothing answers there, it is not a seed-qa server, or it returned
            an error (its message is in ours).
    """
    import http.client
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerUnavailableError(f"--server must be an http:// or https:// URL, got {base_url!r}")
    body: dict[str, Any] = {"question": question}
    if top_k is not None:
        body["top_k"] = top_k
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname, parts.port, timeout=connect_timeout_s)
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(timeout_s)  # connected: now wait as long as an answer may take
        connection.request("POST", parts.path.rstrip("/") + "/api/ask", json.dumps(body).encode(), headers)
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise ServerUnavailableError(f"no seed-qa server answers at {base_url} ({type(exc).__name__})") from None
    finally:
        connection.close()
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if response.status != 200:
        error = data.get("error") if isinstance(data, dict) else None
        reason = error.get("message") if isinstance(error, dict) else response.reason
        raise ServerUnavailableError(f"the server at {base_url} answered {response.status}: {reason}")
    if not (isinstance(data, dict) and data.get("status") in ("answered", "abstained")):
        raise ServerUnavailableError(f"{base_url} did not answer like a seed-qa server (POST /api/ask)")
    return data
