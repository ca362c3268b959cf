"""One answer JSON: the HTTP models are pinned to ``Answer.to_dict()`` so the two cannot drift."""

from __future__ import annotations

from api.models import AnswerModel, ChatAnswerModel, CitationModel, CollectionAnswerModel
from qa.schema import Answer, Citation


def test_answer_model_has_exactly_the_fields_of_the_answer_json() -> None:
    chunk_citation = Citation(1, "a.txt", "A", "d", "c", 0, 4, "text", 0.5, supported=True, page=2)
    answer = Answer(question="q?", answer="a", status="answered", sentence="s", citations=(chunk_citation,),
                    retrieval_query="q? rewritten", highlight=(0, 1))  # fmt: skip
    data = answer.to_dict(include_hits=True)
    assert set(AnswerModel.model_fields) == set(data)
    assert set(CitationModel.model_fields) == set(data["citations"][0])
    AnswerModel.model_validate(data)  # the types agree too
    assert set(CollectionAnswerModel.model_fields) == {*data, "collection"}
    assert set(ChatAnswerModel.model_fields) == {*data, "collection", "session_id"}
