"""Pydantic models for HTTP requests and responses; the library's dataclasses stay inside."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Long enough for any valid question; the exact limit (QA_MAX_QUESTION_CHARS) is checked by
# qa.validation so the API, CLI and Slack give the same message.
# Small enough that even a field of 4,000 JSON-escaped emoji (12 bytes each) fits the default
# QA_MAX_BODY_BYTES, so an over-long field is a 422 that names it rather than a 413.
_MAX_FIELD_CHARS = 4_000


class AskRequest(BaseModel):
    """``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "5" is not 5, 0 is not false

    question: str = Field(max_length=_MAX_FIELD_CHARS, examples=["Who makes the TB2?"])
    top_k: int | None = Field(default=None, ge=1, le=50, description="Chunks to retrieve (default QA_TOP_K).")
    include_hits: bool = Field(default=False, description="Also return the retrieved chunks as `hits`.")
    collection: str | None = Field(default=None, max_length=60, description="Collection to ask (default: default).")


class ChatRequest(BaseModel):
    """``POST /api/chat``: one message of a conversation."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "5" is not 5, 0 is not false

    message: str = Field(max_length=_MAX_FIELD_CHARS, examples=["Where did they open a factory?"])
    session_id: str | None = Field(
        default=None, max_length=200, description="Omit to start a new chat; send back the returned id."
    )
    stream: bool = Field(default=False, description="Answer as Server-Sent Events (citations, delta, done).")
    top_k: int | None = Field(default=None, ge=1, le=50)
    include_hits: bool = False
    collection: str | None = Field(default=None, max_length=60, description="Collection to ask (default: default).")


class CitationModel(BaseModel):
    """A numbered pointer to an exact quote: ``quote == document.text[start:end]``."""

    n: int
    source: str
    title: str
    doc_id: str
    chunk_id: str
    start: int
    end: int
    quote: str
    score: float
    supported: bool | None = None
    page: int | None = Field(
        default=None, description="1-based page (PDF) or slide (PPTX) of the quote; null for formats without pages."
    )


class AnswerModel(BaseModel):
    """The answer JSON shared with ``qa ask --json`` (``Answer.to_dict()``; tests/api/test_models.py pins them)."""

    id: str = Field(description="The answer's id: send it with feedback (POST /api/feedback).")
    question: str
    answer: str | None
    status: Literal["answered", "abstained"]
    sentence: str | None
    message: str | None
    mode: str
    confidence: float
    citations: list[CitationModel]
    related: list[CitationModel] = Field(
        default_factory=list,
        description=(
            "Only when abstained: the two or three closest passages (same fields as citations, "
            "not citations), shown as 'Not stated directly. Closest passages: ...'. Empty otherwise."
        ),
    )
    timings_ms: dict[str, float]
    retrieval_query: str | None = Field(default=None, description="Only when a follow-up was rewritten.")
    highlight: list[int] | None = Field(
        default=None,
        description=(
            "Only on a sentence answer (how-to, why, yes/no, two-part questions) that holds the reader's key "
            "phrase: [start, end] offsets into `sentence`, sentence[start:end] being the phrase."
        ),
    )
    hits: list[dict[str, Any]] | None = Field(default=None, description="Only with include_hits.")


class CollectionAnswerModel(AnswerModel):
    """``POST /api/ask``: the answer JSON plus the collection that answered."""

    collection: str


class ChatAnswerModel(CollectionAnswerModel):
    """A chat answer: the answer JSON plus the collection and the session to continue."""

    session_id: str


class DocumentSummary(BaseModel):
    """An indexed document, without its text."""

    id: str
    title: str
    source: str
    length: int


class DocumentList(BaseModel):
    """``GET /api/documents``: the indexed documents, and every file with its status."""

    collection: str = "default"
    documents: list[DocumentSummary]
    files: list[DocumentFile] = Field(default_factory=list)
    upload_types: list[str] = Field(default_factory=list, description="Suffixes POST /api/documents accepts")


class DocumentModel(BaseModel):
    """``GET /api/documents/{doc_id}``: the cleaned text that citation offsets point into."""

    id: str
    title: str
    source: str
    text: str


class ErrorDetail(BaseModel):
    """What went wrong and how to fix it."""

    code: str
    message: str
    request_id: str | None = Field(default=None, description="The request's X-Request-ID, for the server log.")


class ErrorModel(BaseModel):
    """The one error shape."""

    error: ErrorDetail


class ChatMessage(BaseModel):
    """An OpenAI chat message; ``content`` may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text, with list parts joined."""
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "".join(str(p.get("text", "")) for p in parts if p.get("type") in ("text", "input_text"))


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions``; sampling parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    top_k: int | None = Field(default=None, ge=1, le=50, description="Extension: chunks to retrieve.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorModel, "description": text}
    for code, text in {
        400: "Body that is not JSON (or nests too deeply)",
        401: "Missing or wrong API key",
        403: "The key may not use this collection (collection_forbidden), its role is too low (role_forbidden), "
        "or uploads are off (uploads_disabled)",
        404: "Unknown document, collection, answer or chat session",
        409: "Conflicts with the current state (last_document, trash_conflict, collection_exists, reindex_running)",
        413: "Request body too large",
        422: "Invalid question or request",
        429: "Too many requests: over the per-key rate limit, or every answer slot and queue place is taken",
        503: "Index not loaded yet, or the answer took longer than QA_REQUEST_TIMEOUT_S",
    }.items()
}


class ReindexRequest(BaseModel):
    """``POST /api/admin/reindex``."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "5" is not 5, 0 is not false

    rebuild: bool = Field(default=False, description="Re-embed everything instead of only changed files.")


class ReindexStatus(BaseModel):
    """Where the background re-ingest stands; the server answers from the previous index meanwhile."""

    state: Literal["idle", "running", "succeeded", "failed"]
    started_at: float | None = None
    finished_at: float | None = None
    message: str | None = Field(default=None, description="What the last run changed, or why it failed.")
    documents: int | None = Field(default=None, description="Indexed documents after the last successful run.")
    chunks: int | None = None


#: Where a file in the seeds folder stands: in the index, waiting for or inside a running ingest,
#: deleted but still in the index until that ingest ends, skipped by the loader (``reason`` says
#: why), or in the folder but not indexed yet (added while the watcher was off).
FileState = Literal["indexed", "indexing", "removing", "skipped", "not_indexed"]


class DocumentFile(BaseModel):
    """A file in the seeds folder (or still in the index) and its indexing status."""

    id: str
    source: str
    status: FileState
    reason: str | None = None
    uploaded: bool = Field(default=False, description="Uploaded through the API (else placed by hand)")


class DocumentFiles(BaseModel):
    """``POST /api/documents`` (202) and ``DELETE /api/documents/{doc_id}`` (202): the files concerned."""

    collection: str = "default"
    files: list[DocumentFile]


class TrashEntryModel(BaseModel):
    """A deleted document: ``moved`` (an upload, erased at ``expires_at``) or ``hidden`` (placed by hand)."""

    id: str
    source: str
    kind: Literal["moved", "hidden"]
    deleted_at: float
    expires_at: float | None


class TrashList(BaseModel):
    """``GET /api/trash``."""

    collection: str
    entries: list[TrashEntryModel]


class CollectionModel(BaseModel):
    """A collection and where its index stands."""

    name: str
    ready: bool
    documents: int | None = None


class CollectionList(BaseModel):
    """``GET /api/collections``: the collections this key may read."""

    collections: list[CollectionModel]


class CreateCollectionRequest(BaseModel):
    """``POST /api/collections``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=60, examples=["hr"])


class SessionSummaryModel(BaseModel):
    """A past chat of this key."""

    session_id: str
    collection: str
    title: str
    turns: int
    last_at: float


class SessionList(BaseModel):
    """``GET /api/sessions``: this key's chats, most recent first."""

    sessions: list[SessionSummaryModel]


class SessionTranscript(BaseModel):
    """``GET /api/sessions/{session_id}``: the chat's answers, oldest first."""

    session_id: str
    collection: str
    answers: list[dict[str, Any]]


class FeedbackRequest(BaseModel):
    """``POST /api/feedback``: a vote on an answer (its ``id``), with an optional comment and correction."""

    model_config = ConfigDict(extra="forbid", strict=True)

    answer_id: str = Field(max_length=60)
    vote: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)
    correction: str | None = Field(default=None, max_length=2000, description="The right answer, if it was wrong.")
    source: Literal["api", "page"] = "api"


class FeedbackModel(BaseModel):
    """A recorded vote."""

    answer_id: str
    vote: Literal["up", "down"]
    comment: str | None
    correction: str | None
    collection: str


class GapModel(BaseModel):
    """A group of near-duplicate questions the documents did not answer (or answered badly)."""

    collection: str
    question: str
    questions: list[str]
    count: int
    abstained: int
    down_votes: int
    last_asked: float
    closest: list[dict[str, Any]]


class GapList(BaseModel):
    """``GET /api/gaps``."""

    gaps: list[GapModel]
