"""No input freezes the server (issue 14, item 1).

Every regex that sees a question, a message or a document gets its pathological input at the
largest size the service lets through and must finish in well under a second (the old patterns
took seconds to minutes). Then the same attacks over HTTP against a real server: a parallel
``/healthz`` keeps answering while a hostile conversation or a hostile document is processed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.hardening.hostile_text import CASES, MAX_BODY_BYTES, MAX_HISTORY_CHARS, HostileCase, spaced
from tests.support import ServerProcess, fast_settings

#: Generous: the fixed patterns take milliseconds on these inputs, the old ones took seconds.
BOUND_S = 1.0
#: The longest a /healthz may take while an attack is processed (it answers in ~1 ms when idle).
HEALTHZ_STALL_S = 0.5


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_pathological_input_at_max_size_is_fast(case: HostileCase) -> None:
    text = case.hostile(case.size)
    assert len(text) == case.size

    started = time.perf_counter()
    case.run(text)
    elapsed = time.perf_counter() - started

    assert elapsed < BOUND_S, f"{case.name}: {elapsed:.2f} s on {case.size:,} characters"


class HealthProbe:
    """Polls ``/healthz`` from a thread and records the slowest answer (the server's stall).

    The server must run in another process: a regex holds the GIL, so a probe thread in the
    server's own process would stall with it and never time the stall.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.slowest = 0.0
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="healthz-probe", daemon=True)

    def _poll(self) -> None:
        with httpx.Client(timeout=300) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                assert client.get(f"{self.url}/healthz").status_code == 200
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.count += 1
                time.sleep(0.01)

    def __enter__(self) -> HealthProbe:
        httpx.get(f"{self.url}/healthz", timeout=30)  # warm up: the first request pays one-off costs
        self._thread.start()
        time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.1)
        self._stop.set()
        self._thread.join(310)


def conversation(assistant: str) -> dict[str, object]:
    return {
        "messages": [
            {"role": "user", "content": "Who makes the TB2?"},
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": "Where is it made?"},
        ]
    }


def test_a_hostile_conversation_does_not_stall_the_event_loop(server_process: ServerProcess) -> None:
    # The review's probe (24 KB of spaces stalled /healthz for 7 s), one just under the body
    # limit, and one at the assistant-message limit that is processed rather than refused.
    url = server_process.url
    over_limit = [conversation(spaced("a", 24_000)), conversation(spaced("a", MAX_BODY_BYTES - 300))]
    at_limit = conversation(spaced("a", MAX_HISTORY_CHARS))
    with HealthProbe(url) as probe, httpx.Client(timeout=300) as client:
        for body in over_limit:
            started = time.perf_counter()
            refused = client.post(f"{url}/v1/chat/completions", json=body)
            assert time.perf_counter() - started < BOUND_S
            assert refused.status_code == 422
            assert refused.json()["error"]["code"] == "invalid_question"
            assert "QA_MAX_HISTORY_CHARS" in refused.json()["error"]["message"]
        answered = client.post(f"{url}/v1/chat/completions", json=at_limit)
        assert answered.status_code == 200, answered.text
    assert probe.count > 0
    assert probe.slowest < HEALTHZ_STALL_S, f"/healthz stalled {probe.slowest:.2f} s"


#: The review's hostile documents: a markdown title, boilerplate and sentence-boundary patterns
#: each took 8-14 s on these (in qa/ingest/loading.py and qa/ingest/chunking.py, which run during a reindex).
#: Sizes are kept small enough that the old code fails in seconds rather than minutes.
HOSTILE_DOCUMENTS = {
    "title.md": "# a" + " " * 2000 + "b\n\nSome text.\n",
    "newlines.txt": "Start.\n" + "\n" * 8000 + "End.\n",
    "dots.txt": "Start " + "." * 8000 + " end.\n",
}


def test_a_reindex_of_hostile_documents_does_not_stall_the_event_loop(
    tmp_path: Path, server_process: ServerProcess
) -> None:
    url = server_process.url
    seeds = fast_settings(tmp_path).seeds_dir  # the server's seeds folder
    for name, text in HOSTILE_DOCUMENTS.items():
        (seeds / name).write_text(text, encoding="utf-8")

    with HealthProbe(url) as probe, httpx.Client(timeout=300) as client:
        started = time.perf_counter()
        accepted = client.post(f"{url}/api/admin/reindex", json={})
        accepted_s = time.perf_counter() - started
        deadline = time.monotonic() + 300
        while (status := client.get(f"{url}/api/admin/reindex").json())["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert accepted.status_code == 202 and accepted_s < BOUND_S, f"202 took {accepted_s:.2f} s"
    assert status["state"] == "succeeded", status
    assert probe.count > 0
    assert probe.slowest < HEALTHZ_STALL_S, f"/healthz stalled {probe.slowest:.2f} s during the reindex"
