"""``/api/sessions``: this key's past chats, and one chat's answers (so the page restores it on reload).

Only the key's own sessions, in collections it may still read: anyone else's id is 404
``session_not_found``, the same answer as for an id that never existed.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.models import ERROR_RESPONSES, SessionList, SessionSummaryModel, SessionTranscript
from api.routes.deps import AnswerLogDep, ChatDep, PrincipalDep

router = APIRouter(prefix="/api/sessions", tags=["sessions"], responses=ERROR_RESPONSES)


@router.get("")
async def list_sessions(log: AnswerLogDep, principal: PrincipalDep, collection: str | None = None) -> SessionList:
    """This key's chats, most recently used first (``?collection=NAME`` narrows them)."""
    if collection is not None:
        principal.require_read(collection)
    allowed = principal.collections if collection is None else frozenset({collection})
    found = await run_in_threadpool(log.sessions, principal.name, collections=allowed)
    return SessionList(
        sessions=[
            SessionSummaryModel(
                session_id=s.session_id, collection=s.collection, title=s.title, turns=s.turns, last_at=s.last_at
            )
            for s in found
        ]
    )


@router.get("/{session_id}")
async def get_session(session_id: str, chat: ChatDep, principal: PrincipalDep) -> SessionTranscript:
    """One of this key's chats: every answer, oldest first, as the chat route returned it."""
    answers = await run_in_threadpool(
        chat.transcript, session_id, owner=principal.name, collections=principal.collections
    )
    collection = str(answers[0]["collection"]) if answers else "default"
    return SessionTranscript(session_id=session_id, collection=collection, answers=answers)
