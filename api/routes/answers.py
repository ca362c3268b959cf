"""``POST /api/ask`` (one question) and ``POST /api/chat`` (a conversation, JSON or SSE).

Both take ``collection`` (default: ``default``); the key must be allowed to read it. The chat
goes through ``qa.sessions.chat.Chat``: it continues the session, bounds the history, asks and
saves the turn, so this module only translates.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.errors import error_body
from api.metrics import Metrics
from api.models import ERROR_RESPONSES, AskRequest, ChatAnswerModel, ChatRequest, CollectionAnswerModel
from api.routes.deps import ChatDep, CollectionsDep, MetricsDep, PrincipalDep, collection_for, ready_service
from qa.errors import QAError
from qa.schema import Answer, StreamEvent, final_answer
from qa.sessions import is_web_session_id
from qa.validation import validate_question

router = APIRouter(prefix="/api", tags=["answers"], responses=ERROR_RESPONSES)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post("/ask", responses={200: {"model": CollectionAnswerModel}})
async def ask(
    body: AskRequest, collections: CollectionsDep, principal: PrincipalDep, chat: ChatDep, metrics: MetricsDep
) -> JSONResponse:
    """Answer one question with citations, or abstain; the same JSON as `qa ask --json`."""
    collection = collection_for(collections, principal, body.collection)
    service = ready_service(collection)
    answer = await run_in_threadpool(
        chat.ask, service, body.question, None, owner=principal.name, collection=collection.name, top_k=body.top_k
    )
    metrics.observe_answer(answer, collection=collection.name)
    return JSONResponse({**answer.to_dict(include_hits=body.include_hits), "collection": collection.name})


@router.post(
    "/chat",
    responses={
        200: {
            "model": ChatAnswerModel,
            "content": {"text/event-stream": {"description": "With stream=true: citations, delta..., done"}},
        }
    },
)
async def chat(
    body: ChatRequest, collections: CollectionsDep, principal: PrincipalDep, chat: ChatDep, metrics: MetricsDep
) -> Any:
    """One chat message; follow-ups use the session's earlier answered turns. ``stream: true`` answers as SSE."""
    collection = collection_for(collections, principal, body.collection)
    service = ready_service(collection)
    question = validate_question(body.message, max_chars=service.settings.max_question_chars)
    # Only ids of the HTTP chat's own random form are continued: the store also holds the Slack bot's
    # threads, whose ids are predictable, and they must not be readable or writable from here. A
    # session of another key or collection is unknown here (404), never continued.
    conversation = await run_in_threadpool(
        chat.open,
        body.session_id,
        owner=principal.name,
        collection=collection.name,
        missing="raise",
        accepts=is_web_session_id,
    )
    events = chat.ask_stream(
        service, question, conversation, owner=principal.name, collection=collection.name, top_k=body.top_k
    )
    extra = {"session_id": conversation.session_id, "collection": collection.name}
    if body.stream:
        stream = sse_events(events, metrics, extra=extra, include_hits=body.include_hits)
        headers = {**SSE_HEADERS, "X-Session-Id": conversation.session_id}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
    answer = await run_in_threadpool(final_answer, events)
    metrics.observe_answer(answer, collection=collection.name)
    return JSONResponse({**answer.to_dict(include_hits=body.include_hits), **extra})


async def sse_events(
    events: Iterator[StreamEvent], metrics: Metrics, *, extra: dict[str, str], include_hits: bool
) -> AsyncIterator[str]:
    """The answer as SSE: ``citations``, ``delta``... and ``done`` (answer JSON + session_id, collection)."""
    try:
        async for event in iterate_in_threadpool(events):
            if isinstance(event.data, Answer):
                metrics.observe_answer(event.data, collection=extra["collection"])
                yield sse("done", {**event.data.to_dict(include_hits=include_hits), **extra})
            elif event.kind == "delta":
                yield sse("delta", {"text": event.data})
            else:
                yield sse(event.kind, {"citations": event.to_dict()})
    except QAError as error:  # the status line is sent already: report in-band
        yield sse("error", error_body(error.code, error.message))


def sse(event: str, data: object) -> str:
    """One Server-Sent Event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
