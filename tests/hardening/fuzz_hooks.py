"""Schemathesis hook module (``SCHEMATHESIS_HOOKS=tests.hardening.fuzz_hooks``): the error-shape check."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx is JSON ``{"error": {"code": str, "message": str}}`` with a request id."""
    if response.status_code < 400:
        return None
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise AssertionError(f"error body without an 'error' object: {body!r}")
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str) and error["message"].strip()):
        raise AssertionError(f"error without a code and a message: {body!r}")
    if error.get("request_id") != response.headers.get("x-request-id", [None])[0]:
        raise AssertionError(f"error.request_id does not match X-Request-ID: {body!r}")
    return None
