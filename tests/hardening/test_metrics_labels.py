"""Metrics labels come from fixed sets: made-up methods and paths cannot grow /metrics."""

from __future__ import annotations

import random
import string

import httpx

from tests.support import LiveServer


def _metrics_bytes(url: str) -> str:
    return httpx.get(f"{url}/metrics", timeout=10).text


def test_random_methods_and_paths_do_not_grow_metrics(live_server: LiveServer) -> None:
    rng = random.Random(14)
    url = live_server.url
    # Warm-up: one request of each kind the flood makes, so the series it may add exist already.
    httpx.request("FROB", f"{url}/nowhere", timeout=10)
    httpx.request("FROB", f"{url}/api/documents", timeout=10)
    httpx.get(f"{url}/no/such/page", timeout=10)
    _metrics_bytes(url)  # the scrape counts itself too
    before = _metrics_bytes(url)
    made_up: list[str] = []
    with httpx.Client(timeout=10) as client:
        for i in range(200):
            method = "X" + "".join(rng.choices(string.ascii_uppercase, k=12))
            path = "/" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=16))
            made_up += [method, path.strip("/")]
            target = f"{url}/api/documents" if i % 2 else f"{url}{path}"
            response = client.request(method, target)
            assert response.status_code in (404, 405), response.status_code
            client.get(f"{url}{path}")  # a known method on an unknown path
    after = _metrics_bytes(url)
    growth = len(after) - len(before)
    assert growth < 400, f"/metrics grew by {growth} bytes"  # counts gain digits; no series is added
    assert not any(value in after for value in made_up)
    assert 'method="OTHER"' in after and 'route="unmatched"' in after
    assert 'route="/api/documents"' in after
