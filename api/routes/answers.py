"""``POST /api/ask`` (one question) and ``POST /api/chat`` (a conversation, JSON or SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.errors import error_body
from api.metrics import Metrics
from api.models import ERROR_RESPONSES, AnswerModel, AskRequest, ChatAnswerModel, ChatRequest
from api.routes.deps import MetricsDep, ServiceDep, SessionsDep
from qa.errors import QAError
from qa.schema import Answer, Turn
from qa.service import QAService
from qa.sessions import SessionStore, continue_session, is_web_session_id
from qa.validation import validate_question

router = APIRouter(prefix="/api", tags=["answers"], responses=ERROR_RESPONSES)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post("/ask", responses={200: {"model": AnswerModel}})
async def ask(body: AskRequest, service: ServiceDep, metrics: MetricsDep) -> JSONResponse:
    """Answer one question with citations, or abstain; the same JSON as `qa ask --json`."""
    answer = await run_in_threadpool(service.ask, body.question, top_k=body.top_k)
    metrics.observe_answer(answer)
    return JSONResponse(answer.to_dict(include_hits=body.include_hits))


@router.post(
    "/chat",
    responses={
        200: {
            "model": ChatAnswerModel,
            "content": {"text/event-stream": {"description": "With stream=true: citations, delta..., done"}},
        }
    },
)
async def chat(body: ChatRequest, service: ServiceDep, sessions: SessionsDep, metrics: MetricsDep) -> Any:
    """One chat message; follow-ups use the session's earlier turns. ``stream: true`` answers as SSE."""
    question = validate_question(body.message, max_chars=service.settings.max_question_chars)
    # Only ids of the HTTP chat's own random form are continued: the store also holds the Slack bot's
    # threads, whose ids are predictable, and they must not be readable or writable from here.
    conversation = await run_in_threadpool(
        continue_session, sessions, body.session_id, missing="raise", accepts=is_web_session_id
    )
    session_id, history = conversation.session_id, conversation.history
    if body.stream:
        events = sse_events(service, sessions, metrics, question, session_id=session_id, history=history, body=body)
        headers = {**SSE_HEADERS, "X-Session-Id": session_id}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    answer = await run_in_threadpool(service.ask, question, top_k=body.top_k, history=history)
    await record_turn(sessions, metrics, session_id, question, answer)
    return JSONResponse({**answer.to_dict(include_hits=body.include_hits), "session_id": session_id})


async def record_turn(sessions: SessionStore, metrics: Metrics, session_id: str, question: str, answer: Answer) -> None:
    """Save the turn for follow-ups and count the answer."""
    await run_in_threadpool(sessions.append, session_id, Turn(question=question, answer=answer.answer))
    metrics.observe_answer(answer)


async def sse_events(
    service: QAService,
    sessions: SessionStore,
    metrics: Metrics,
    question: str,
    *,
    session_id: str,
    history: Sequence[Turn],
    body: ChatRequest,
) -> AsyncIterator[str]:
    """The answer as SSE: ``citations``, ``delta``... and ``done`` (answer JSON + session_id)."""
    events = service.ask_stream(question, history=history, top_k=body.top_k)
    try:
        async for event in iterate_in_threadpool(events):
            if isinstance(event.data, Answer):
                await record_turn(sessions, metrics, session_id, question, event.data)
                done = {**event.data.to_dict(include_hits=body.include_hits), "session_id": session_id}
                yield sse("done", done)
            elif event.kind == "delta":
                yield sse("delta", {"text": event.data})
            else:
                yield sse(event.kind, {"citations": event.to_dict()})
    except QAError as error:  # the status line is sent already: report in-band
        yield sse("error", error_body(error.code, error.message))


def sse(event: str, data: object) -> str:
    """One Server-Sent Event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
