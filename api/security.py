"""Pure ASGI middleware at the HTTP edge: API keys, request body limit, security headers; and the
start-up check that refuses a keyless server beyond loopback (``check_exposure``)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Collection

from limits.aio.storage import Storage
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.limit_storage import PerMinuteLimit
from qa.collections.access import KeyRing
from qa.config import Settings
from qa.errors import UnsafeExposureError

#: Paths that never need an API key: probes, the page and its assets, and Slack's webhook,
#: whose requests carry Slack's signature instead (checked in api/slack/).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/"})
PUBLIC_PREFIXES = ("/static/", "/slack/")

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


#: Shorter keys are refused at start-up: 16 url-safe random characters are ~96 bits.
MIN_KEY_CHARS = 16
_KEY_FIX = "Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'."


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 (IPv4-mapped too) and ``localhost``: addresses only this machine reaches."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a host name or "": it may well resolve to a public interface
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_exposure(settings: Settings) -> None:
    """Refuse to serve with guessable keys, or beyond loopback without keys unless that is explicit.

    Raises UnsafeExposureError naming the settings that fix it.
    """
    short = [n for n, key in enumerate(settings.api_keys, 1) if len(key.get_secret_value()) < MIN_KEY_CHARS]
    if short:
        which = ", ".join(f"#{n}" for n in short)
        raise UnsafeExposureError(
            f"QA_API_KEYS has keys shorter than {MIN_KEY_CHARS} characters ({which} in the list); short keys "
            f"can be guessed. Replace them with long random keys. {_KEY_FIX}"
        )
    has_keys = bool(settings.api_keys) or settings.keys_file is not None
    if not has_keys and not settings.allow_public_without_keys and not is_loopback(settings.host):
        raise UnsafeExposureError(
            f"Refusing to serve on QA_HOST={settings.host!r} without API keys: it is not a loopback address, so "
            "anyone who reaches the port could use the API. Set QA_API_KEYS (random keys of "
            f"{MIN_KEY_CHARS}+ characters), bind QA_HOST=127.0.0.1, or set QA_ALLOW_PUBLIC_WITHOUT_KEYS=true "
            "if an open server is really meant."
        )


class LoopbackOnlyMiddleware:
    """Without keys (and without QA_ALLOW_PUBLIC_WITHOUT_KEYS), answer only connections made to a
    loopback address: 403 ``unsafe_exposure`` otherwise.

    ``check_exposure`` reads QA_HOST, but ``uvicorn api.app:app --host 0.0.0.0`` binds wherever its
    own flag says; the address a connection arrived at (``scope["server"]``) is the truth.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") if scope["type"] == "http" else None
        if server is None or not _is_ip(str(server[0])) or is_loopback(str(server[0])):
            await self.app(scope, receive, send)  # unix sockets and test clients have no IP here
            return
        message = (
            f"This server has no API keys, so it answers only on loopback; this request reached {server[0]}. "
            "Set QA_API_KEYS on the server, or QA_ALLOW_PUBLIC_WITHOUT_KEYS=true if an open server is really meant."
        )
        await error_response(403, "unsafe_exposure", message)(scope, receive, send)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_exempt(scope: Scope) -> bool:
    """True for what neither keys nor rate limits apply to: non-HTTP, CORS preflights, public paths."""
    return scope["type"] != "http" or scope["method"] == "OPTIONS" or is_public(scope["path"])


def is_public(path: str) -> bool:
    """True for the paths that stay open when API keys are set."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def client_address(scope: Scope) -> str:
    """The peer address (the proxy's, unless uvicorn is told to trust its forwarded headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def presents_valid_key(scope: Scope, keys: KeyRing) -> bool:
    """True when the request carries one of the configured keys (never true without keys)."""
    token = bearer_token(scope)
    return token is not None and keys.match(token) is not None


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class APIKeyMiddleware:
    """Require ``Authorization: Bearer <key>`` on every non-public path; the key's principal (role,
    collections) goes to ``scope["state"]["principal"]`` for the routes (``api.routes.deps``).

    A client address with ``failures_per_minute`` 401s in the last minute gets 429 (Retry-After) for
    every non-public request until its window frees up: key guessing is slow, and the answer to a
    blocked guess does not say whether it was right. The counts live in ``storage`` (limits), so
    with Redis every replica sees them.
    """

    def __init__(
        self, app: ASGIApp, *, keys: KeyRing, failures_per_minute: int = 10, storage: Storage | None = None
    ) -> None:
        self.app = app
        self.keys = keys
        self.failures = PerMinuteLimit(failures_per_minute, namespace="qa-auth-failures", storage=storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_exempt(scope):
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        if not await self.failures.test(address):
            wait_s = await self.failures.retry_after_s(address)
            message = (
                f"Too many requests with a missing or wrong API key from this address ({self.failures.amount} a "
                f"minute, QA_AUTH_FAILURES_PER_MINUTE). Retry in {wait_s} s with a valid key."
            )
            await error_response(429, "rate_limited", message, headers={"Retry-After": str(wait_s)})(
                scope, receive, send
            )
            return
        token = bearer_token(scope)
        principal = self.keys.match(token) if token is not None else None
        if principal is not None:
            scope.setdefault("state", {})["principal"] = principal
            await self.app(scope, receive, send)
            return
        await self.failures.hit(address)
        message = (
            "Missing API key: send 'Authorization: Bearer <key>'."
            if token is None
            else "Invalid API key: check the key you were given (QA_API_KEYS or QA_KEYS_FILE on the server)."
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
        await _drain(receive)
        message = f"The request body is larger than {self.max_bytes} bytes (QA_MAX_BODY_BYTES). Send less."
        await error_response(413, "body_too_large", message, headers={"Connection": "close"})(scope, receive, send)


# An over-limit body is read and dropped (up to these bounds) before the 413: a server that answers
# and closes while the client is still sending resets the connection, and the client never sees the
# 413 (a 10 MB upload on a busy machine got "peer closed connection" instead). Nothing is kept.
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_S = 2.0


async def _drain(receive: Receive) -> None:
    async def consume() -> None:
        drained = 0
        while drained <= DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(consume(), DRAIN_S)


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
