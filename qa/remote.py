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

    Raises:
        ServerUnavailableError: nothing answers there, it is not a seed-qa server, or it returned
            an error (its message is in ours).
    """
    import httpx

    url = base_url.rstrip("/") + "/api/ask"
    body: dict[str, Any] = {"question": question}
    if top_k is not None:
        body["top_k"] = top_k
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.post(
            url, json=body, headers=headers, timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s)
        )
    except httpx.HTTPError as exc:
        raise ServerUnavailableError(f"no seed-qa server answers at {base_url} ({type(exc).__name__})") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200:
        error = data.get("error") if isinstance(data, dict) else None
        reason = error.get("message") if isinstance(error, dict) else response.reason_phrase
        raise ServerUnavailableError(f"the server at {base_url} answered {response.status_code}: {reason}")
    if not (isinstance(data, dict) and data.get("status") in ("answered", "abstained")):
        raise ServerUnavailableError(f"{base_url} did not answer like a seed-qa server (POST /api/ask)")
    return data
