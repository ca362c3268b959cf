"""Pure ASGI middleware at the HTTP edge: API keys, request body limit, security headers."""

from __future__ import annotations

import hmac
from collections.abc import Collection, Iterable

from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

#: Paths that never need an API key: probes, the page and its assets, and Slack's webhook,
#: whose requests carry Slack's signature instead (checked in api/slack.py).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/"})
PUBLIC_PREFIXES = ("/static/", "/slack/")

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def is_public(path: str) -> bool:
    """True for the paths that stay open when API keys are set."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def key_matches(presented: str, keys: Iterable[SecretStr]) -> bool:
    """Constant-time comparison of a presented key against every configured key."""
    given = presented.encode("utf-8")
    matched = False
    for key in keys:  # no early exit: the time taken does not say which key was close
        matched |= hmac.compare_digest(given, key.get_secret_value().encode("utf-8"))
    return matched


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class APIKeyMiddleware:
    """Require ``Authorization: Bearer <key>`` on every non-public path."""

    def __init__(self, app: ASGIApp, *, keys: list[SecretStr]) -> None:
        self.app = app
        self.keys = list(keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        if token is not None and key_matches(token, self.keys):
            await self.app(scope, receive, send)
            return
        message = (
            "Missing API key: send 'Authorization: Bearer <key>'."
            if token is None
            else "Invalid API key: check the key you were given (QA_API_KEYS on the server)."
        )
        response = error_response(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


class BodyLimitMiddleware:
    """Reject request bodies over ``max_bytes`` with 413, whether declared or streamed.

    ``streamed_paths`` (file uploads) read their own bodies under their own limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, streamed_paths: Collection[str] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed_paths = frozenset(streamed_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.streamed_paths:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        # Bodies are small JSON: read the whole body here so an over-long stream never reaches a route.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away before sending its body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls wait for the disconnect, as streaming responses expect

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes (QA_MAX_BODY_BYTES). Send less."
        await error_response(413, "body_too_large", message, headers={"Connection": "close"})(scope, receive, send)


class SecurityHeadersMiddleware:
    """Add CSP, nosniff and no-referrer headers to every response."""

    def __init__(self, app: ASGIApp, *, headers: dict[str, str] | None = None) -> None:
        self.app = app
        raw = headers or SECURITY_HEADERS
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in raw.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
