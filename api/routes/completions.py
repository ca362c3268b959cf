"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models`` over the same answers.

The content is the answer followed by ``[n]`` citation markers ("Baykar [1]"); the citations
themselves travel in an extra top-level ``citations`` field (and in the last stream chunk).
Each collection the key may read is a model: ``seed-qa`` is the default collection, any other
is its name; ``model`` picks one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.errors import error_body
from api.metrics import Metrics
from api.models import ERROR_RESPONSES, ChatCompletionRequest, ChatMessage
from api.routes.deps import ChatDep, CollectionsDep, MetricsDep, PrincipalDep, collection_for, ready_service
from qa.collections.access import Principal
from qa.collections.library import DEFAULT_COLLECTION
from qa.collections.registry import CollectionRegistry
from qa.config import Settings
from qa.errors import InvalidQuestionError, QAError
from qa.schema import ABSTAIN_MESSAGE, Answer, StreamEvent, Turn, answer_text, citation_to_dict, final_answer
from qa.validation import check_control_characters, validate_question

#: The default collection's model id (other collections answer as their own names).
MODEL_ID = "seed-qa"

router = APIRouter(prefix="/v1", tags=["openai"], responses=ERROR_RESPONSES)


def model_id(collection: str) -> str:
    """The model id a collection answers as."""
    return MODEL_ID if collection == DEFAULT_COLLECTION else collection


def collection_of(model: str | None) -> str:
    """The collection a ``model`` field names (``seed-qa`` or none: the default)."""
    return DEFAULT_COLLECTION if model in (None, "", MODEL_ID) else str(model)


@router.get("/models")
async def list_models(collections: CollectionsDep, principal: PrincipalDep) -> dict[str, Any]:
    """Every collection this key may read, as a model."""
    names = await run_in_threadpool(readable_collections, collections, principal)
    data = [{"id": model_id(name), "object": "model", "created": 0, "owned_by": "seed-qa"} for name in names]
    return {"object": "list", "data": data}


def readable_collections(collections: CollectionRegistry, principal: Principal) -> list[str]:
    """The names of the collections ``principal`` may read."""
    return [name for name in collections.names() if principal.can_read(name)]


@router.post("/chat/completions")
async def chat_completions(
    body: ChatCompletionRequest,
    collections: CollectionsDep,
    principal: PrincipalDep,
    chat: ChatDep,
    metrics: MetricsDep,
) -> Any:
    """Answer the last user message, using earlier messages as the conversation."""
    collection = collection_for(collections, principal, collection_of(body.model))
    service = ready_service(collection)
    # Off the event loop: the messages fill up to QA_MAX_BODY_BYTES, and every one is checked.
    question, history = await run_in_threadpool(conversation_from_messages, body.messages, service.settings)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    model = model_id(collection.name)
    events = chat.ask_stream(
        service, question, None, owner=principal.name, collection=collection.name, top_k=body.top_k, history=history
    )
    if body.stream:
        chunks = stream_chunks(events, metrics, completion_id, created, model=model, collection=collection.name)
        return StreamingResponse(chunks, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    answer = await run_in_threadpool(final_answer, events)
    metrics.observe_answer(answer, collection=collection.name)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": completion_content(answer)},
                "finish_reason": "stop",
            }
        ],
        "citations": [citation_to_dict(c) for c in answer.citations],
        "status": answer.status,
        "answer_id": answer.id,
    }


def conversation_from_messages(messages: Sequence[ChatMessage], settings: Settings) -> tuple[str, list[Turn]]:
    """The validated question and the earlier turns (``Chat`` bounds them, as for every front end)."""
    return split_conversation(
        messages, max_question_chars=settings.max_question_chars, max_answer_chars=settings.max_history_chars
    )


def split_conversation(
    messages: Sequence[ChatMessage], *, max_question_chars: int, max_answer_chars: int
) -> tuple[str, list[Turn]]:
    """The last user message and the earlier user/assistant exchanges as Turns, each one validated.

    Every user message gets the last message's checks (length, control characters); an assistant
    message may be up to ``max_answer_chars`` long. Other roles (system, tool) are ignored.
    """
    if messages[-1].role != "user":
        raise InvalidQuestionError(f"The last message must have role 'user', got {messages[-1].role!r}.")
    history: list[Turn] = []
    for index, message in enumerate(messages[:-1]):
        name = f"messages[{index}] ({message.role})"
        if message.role == "user":
            history.append(
                Turn(question=validate_question(message.text(), max_chars=max_question_chars, name=name), answer=None)
            )
        elif message.role == "assistant":
            text = message.text()
            if len(text) > max_answer_chars:
                raise InvalidQuestionError(
                    f"{name} is {len(text)} characters long; the limit is {max_answer_chars} "
                    "(QA_MAX_HISTORY_CHARS). Send a shorter history."
                )
            check_control_characters(text, name=name)
            if history and history[-1].answer is None:
                said = strip_citation_markers(text)
                answer = None if said == ABSTAIN_MESSAGE else said or None
                history[-1] = Turn(question=history[-1].question, answer=answer)
    question = validate_question(messages[-1].text(), max_chars=max_question_chars)
    return question, history


def strip_citation_markers(text: str) -> str:
    """``text`` stripped, without the ``[1][2]`` markers at its end ("Baykar [1][2]" -> "Baykar").

    One backward scan, so the time is linear in the length whatever the text (a regex such as
    ``\\s*(\\[\\d+\\])+\\s*$`` backtracks quadratically over a run of spaces).
    """
    end = len(text.rstrip())
    cut = end
    while cut > 0 and text[cut - 1] == "]":
        digits = cut - 1
        while digits > 0 and text[digits - 1].isdecimal():
            digits -= 1
        if digits == cut - 1 or digits == 0 or text[digits - 1] != "[":
            break
        cut = digits - 1
    return text[:cut].strip() if cut < end else text.strip()


def completion_content(answer: Answer) -> str:
    """The answer with its citation markers ("Baykar [1]"), or the abstention message."""
    return answer_text(answer) + citation_markers(answer)


def citation_markers(answer: Answer) -> str:
    """`` [1][2]`` for an answered question, else nothing."""
    if answer.status != "answered" or not answer.citations:
        return ""
    return " " + "".join(f"[{c.n}]" for c in answer.citations)


async def stream_chunks(
    events: Iterator[StreamEvent],
    metrics: Metrics,
    completion_id: str,
    created: int,
    *,
    model: str,
    collection: str,
) -> AsyncIterator[str]:
    """``chat.completion.chunk`` events; the last one carries ``citations``; then ``[DONE]``."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for event in iterate_in_threadpool(events):
            if event.kind == "delta":
                yield chunk({"content": event.data})
            elif isinstance(event.data, Answer):
                metrics.observe_answer(event.data, collection=collection)
                markers = citation_markers(event.data)
                if markers:
                    yield chunk({"content": markers})
                citations = [citation_to_dict(c) for c in event.data.citations]
                yield chunk({}, "stop", citations=citations, status=event.data.status, answer_id=event.data.id)
    except QAError as error:  # headers are sent already: report in-band, as OpenAI does
        yield f"data: {json.dumps(error_body(error.code, error.message))}\n\n"
    yield "data: [DONE]\n\n"
