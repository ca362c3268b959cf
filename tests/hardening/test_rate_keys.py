"""Rate limits count per configured key or per client address: made-up bearer tokens get no budget
(and no entry) of their own; with Redis every replica counts against one limit; repeated 401s from
one address are slowed down to 429."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api import create_app
from api.limits import RateLimitMiddleware
from api.security import APIKeyMiddleware
from tests.support import LiveServer, RedisServer, clear_of_window_edge, fast_service, fast_settings

KEY = "rate-test-key-8d0c2f1e9a"


def middleware(app: FastAPI, kind: type[Any]) -> Any:
    """The running instance of middleware ``kind`` in ``app``'s stack."""
    layer: Any = app.middleware_stack
    while layer is not None and not isinstance(layer, kind):
        layer = getattr(layer, "app", None)
    assert layer is not None, f"no {kind.__name__} in the stack"
    return layer


def get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{url}/api/documents", headers=headers, timeout=10)


def test_random_bearer_tokens_share_the_address_budget(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    live = serve(create_app(service=fast_service(fast_settings(tmp_path, rate_limit_per_minute=3))))
    clear_of_window_edge()
    statuses = [get(live.url, secrets.token_urlsafe(16)).status_code for _ in range(10)]
    assert statuses.count(200) == 3 and statuses.count(429) == 7, statuses
    assert get(live.url).status_code == 429  # no token: the same address, the same spent budget


def test_the_count_table_stays_bounded_under_a_token_flood(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    live = serve(create_app(service=fast_service(fast_settings(tmp_path, rate_limit_per_minute=5))))
    with httpx.Client(timeout=10) as client:
        for _ in range(300):
            client.get(f"{live.url}/api/documents", headers={"Authorization": f"Bearer {secrets.token_urlsafe(16)}"})
    limiter = middleware(live.app, RateLimitMiddleware).limiter
    assert len(limiter.storage.storage) <= 2  # one address: its current and previous window


def test_configured_keys_each_have_a_budget_and_wrong_ones_do_not(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr(KEY)], rate_limit_per_minute=2, auth_failures_per_minute=50)
    live = serve(create_app(service=fast_service(settings)))
    clear_of_window_edge()
    assert [get(live.url, KEY).status_code for _ in range(3)] == [200, 200, 429]
    assert {get(live.url, secrets.token_urlsafe(16)).status_code for _ in range(5)} == {401}


def test_repeated_wrong_keys_are_slowed_to_429(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr(KEY)], auth_failures_per_minute=5)
    live = serve(create_app(service=fast_service(settings)))
    clear_of_window_edge()
    statuses = [get(live.url, f"guess-{i:04d}-{'x' * 12}").status_code for i in range(20)]
    assert statuses == [401] * 5 + [429] * 15, statuses
    blocked = get(live.url, "guess-9999-xxxxxxxxxxxx")
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 60
    error = blocked.json()["error"]
    assert error["code"] == "rate_limited" and "QA_AUTH_FAILURES_PER_MINUTE" in error["message"]
    # The block does not say whether a guess was right: the real key waits too.
    assert get(live.url, KEY).status_code == 429
    assert httpx.get(f"{live.url}/healthz", timeout=10).status_code == 200  # probes stay open
    assert middleware(live.app, APIKeyMiddleware).failures.amount == 5


@pytest.mark.scale
def test_two_replicas_share_one_limit_through_redis(
    tmp_path: Path,
    serve: Callable[[FastAPI], LiveServer],
    redis_server: RedisServer,
) -> None:
    replicas = [
        serve(
            create_app(
                service=fast_service(
                    fast_settings(
                        tmp_path / name, rate_limit_per_minute=4, session_store="redis", redis_url=redis_server.url
                    )
                )
            )
        )
        for name in ("a", "b")
    ]
    statuses = [get(replicas[i % 2].url).status_code for i in range(10)]
    assert statuses.count(200) == 4 and statuses.count(429) == 6, statuses  # per process it would be 8
    redis_server.stop()  # Redis gone: limits fail open rather than failing every request
    assert get(replicas[0].url).status_code == 200
