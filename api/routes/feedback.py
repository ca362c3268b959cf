"""``POST /api/feedback`` (a vote on an answer) and ``GET /api/gaps`` (what the documents do not answer).

A vote names an answer by its ``id``; a key may vote only on answers from collections it may read
(another collection's answer is 404 ``answer_not_found``, as an unknown id). The gaps list is for
admins: abstained and down-voted questions per collection, near-duplicates grouped.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.models import ERROR_RESPONSES, FeedbackModel, FeedbackRequest, GapList, GapModel
from api.routes.deps import AnswerLogDep, CollectionsDep, PrincipalDep, collection_for
from qa.errors import AnswerNotFoundError
from qa.feedback.gaps import find_gaps

router = APIRouter(prefix="/api", tags=["feedback"], responses=ERROR_RESPONSES)


@router.post("/feedback", status_code=201)
async def send_feedback(body: FeedbackRequest, log: AnswerLogDep, principal: PrincipalDep) -> FeedbackModel:
    """Thumbs up or down on an answer, with an optional comment and corrected answer; a second vote replaces it."""
    answer = await run_in_threadpool(log.get, body.answer_id)
    if not principal.can_read(answer.collection):
        raise AnswerNotFoundError(f"No answer has id {body.answer_id[:60]!r} for this key; send the id an answer gave.")
    feedback = await run_in_threadpool(
        lambda: log.add_feedback(
            body.answer_id,
            owner=principal.name,
            vote=body.vote,
            comment=body.comment,
            correction=body.correction,
            source=body.source,
        )
    )
    return FeedbackModel(
        answer_id=feedback.answer_id,
        vote=feedback.vote,
        comment=feedback.comment,
        correction=feedback.correction,
        collection=answer.collection,
    )


@router.get("/gaps")
async def gaps(
    log: AnswerLogDep, collections: CollectionsDep, principal: PrincipalDep, collection: str | None = None
) -> GapList:
    """Abstained and down-voted questions, near-duplicates grouped, with counts, last asked and closest passages."""
    principal.require_role("admin", doing="see the gaps list")
    names = (
        [collection_for(collections, principal, collection).name]
        if collection
        else [n for n in collections.names() if principal.can_read(n)]
    )
    found = await run_in_threadpool(lambda: [g for n in names for g in find_gaps(log, collections.get(n).service, n)])
    return GapList(gaps=[GapModel(**gap.to_dict()) for gap in found])
