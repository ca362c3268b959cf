"""One error shape for every HTTP error: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.logs import current_request_id
from qa.errors import QAError

logger = logging.getLogger(__name__)

# Request fields that carry the user's question: their validation errors are "invalid_question".
QUESTION_FIELDS = frozenset({"question", "message", "messages"})

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON body of an error; ``request_id`` (also in ``X-Request-ID``) points at the log lines."""
    body = {"code": code, "message": message}
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
    return {"error": body}


def error_response(status_code: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response in the one shape."""
    return JSONResponse(error_body(code, message), status_code=status_code, headers=headers)


def qa_error_response(error: QAError) -> JSONResponse:
    """A library error as HTTP, with its status and stable code."""
    headers = {"Retry-After": "5"} if error.status_code in (429, 503) else None
    return error_response(error.status_code, error.code, error.message, headers=headers)


def describe_validation_errors(errors: Sequence[Any]) -> tuple[str, str]:
    """The code and a readable message for pydantic request errors."""
    parts, code = [], "invalid_request"
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p != "body"]
        if loc and loc[0] in QUESTION_FIELDS:
            code = "invalid_question"
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid value')}")
    return code, "Invalid request: " + "; ".join(parts) + ". See /docs for the request schema."


async def _on_qa_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QAError)
    if exc.status_code >= 500 and exc.status_code != 503:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return qa_error_response(exc)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    code, message = describe_validation_errors(exc.errors())
    return error_response(422, code, message)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 400 and message == "There was an error parsing the body":
        message = "The request body is not readable JSON (invalid UTF-8, or nested too deeply). Send a JSON object."
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route {request.method} {request.url.path}. See /docs for the API."
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)  # every method of the path, not only the first route's
        message = f"{request.method} is not allowed on {request.url.path}; use {' or '.join(allowed)}."
    return error_response(exc.status_code, code, message, headers=headers or None)


def allowed_methods(request: Request) -> list[str]:
    """The methods some route serves at the request's path."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "Internal server error; the server log has the details.")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the one JSON shape."""
    app.add_exception_handler(QAError, _on_qa_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
