"""``/api/documents``: list (with each file's indexing status), upload, delete, restore from the trash,
and read one document; ``?collection=NAME`` picks the collection (default: ``default``).

Uploads go to the collection's uploads folder under the data directory (never the seeds folder);
a delete moves an upload to the collection's trash, or only hides a file placed by hand; either
is restorable (``GET /api/trash``, ``POST /api/trash/{entry_id}/restore``).
Each then asks the collection's IngestWorker for an incremental ingest in the background (202):
answers come from the previous index until the new one is swapped in. Request paths never become
file paths: upload names are checked by ``qa.ingest.uploads.check_upload_name`` (a plain name or
422), and a delete looks its id up among the files that exist. The file work is
``qa.collections``'; this module translates.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from api.models import (
    ERROR_RESPONSES,
    DocumentFile,
    DocumentFiles,
    DocumentList,
    DocumentModel,
    DocumentSummary,
)
from api.routes.deps import CollectionsDep, PrincipalDep, SettingsDep, collection_for, ready_service
from qa.collections.library import DocumentLibrary, FileStatus
from qa.config import Settings
from qa.errors import DocumentNotFoundError, UnsupportedFileTypeError, UploadError, UploadTooLargeError
from qa.ingest.uploads import allowed_suffixes, check_upload_name, check_upload_size

router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERROR_RESPONSES)

#: The upload route reads its own body under its own limit (api.security.BodyLimitMiddleware skips it).
UPLOAD_PATHS = frozenset({"/api/documents"})
#: Room for the multipart boundaries and part headers around the files themselves.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
UPLOAD_FIELD = "files"

_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {**ERROR_RESPONSES[403], "description": "A reader key, a collection the key may not read, or QA_UPLOADS=off"},
    413: {**ERROR_RESPONSES[413], "description": "A file, or the whole upload, is over QA_MAX_UPLOAD_BYTES"},
    415: {**ERROR_RESPONSES[413], "description": "A type the loader does not read, or not multipart/form-data"},
    422: {**ERROR_RESPONSES[422], "description": "A name that is not a plain file name (a path, hidden, controls)"},
}
#: The multipart body, for /docs and schema-driven clients (the route reads it itself, under its limit).
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        UPLOAD_FIELD: {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1}
                    },
                    "required": [UPLOAD_FIELD],
                }
            }
        },
    }
}


def upload_limit(settings: Settings) -> int:
    """The most bytes one upload request may carry."""
    return settings.max_upload_bytes * settings.max_upload_files + MULTIPART_OVERHEAD_BYTES


@router.get("")
def list_documents(
    settings: SettingsDep, collections: CollectionsDep, principal: PrincipalDep, collection: str | None = None
) -> DocumentList:
    """Every indexed document (id, title, source, text length), and every file with its indexing status.

    A collection whose index is not built yet (a new one, before its first upload is indexed) lists
    its files and no documents; the default collection answers 503 until its index is loaded.
    """
    chosen = collection_for(collections, principal, collection)
    indexed = ready_service(chosen).documents() if chosen.name == "default" or chosen.service.is_ready else []
    return DocumentList(
        collection=chosen.name,
        documents=[DocumentSummary(id=d.id, title=d.title, source=d.source, length=len(d.text)) for d in indexed],
        files=[_file_model(f) for f in chosen.file_statuses()],
        upload_types=list(allowed_suffixes(settings.upload_suffixes)),
    )


@router.post("", status_code=202, responses=_UPLOAD_ERRORS, openapi_extra=_UPLOAD_BODY)
async def upload_documents(
    request: Request,
    settings: SettingsDep,
    collections: CollectionsDep,
    principal: PrincipalDep,
    collection: str | None = None,
) -> DocumentFiles:
    """Add files (multipart field ``files``, one or more) to the collection and index them in the background.

    All or nothing: when any file is refused (413, 415, 422), none is written. A file with the
    name of one already uploaded replaces it. Poll ``GET /api/documents`` until they are ``indexed``.
    Editors and admins only (403 ``role_forbidden``), and never with QA_UPLOADS=off (403 ``uploads_disabled``).
    """
    principal.require_edit(collection or "default", doing="upload documents", uploads=settings.uploads == "on")
    chosen = collection_for(collections, principal, collection)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise UnsupportedFileTypeError(
            f"Send the files as multipart/form-data in the field {UPLOAD_FIELD!r} "
            "(curl -F files=@notes.txt), not as the raw body."
        )
    limit = upload_limit(settings)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    limited = Request(request.scope, receive=_limited_receive(request.receive, limit))
    suffixes = allowed_suffixes(settings.upload_suffixes)
    async with limited.form(max_files=settings.max_upload_files, max_fields=16) as form:
        uploads = [item for item in form.getlist(UPLOAD_FIELD) if isinstance(item, UploadFile)]
        if not uploads:
            raise UploadError(f"No files in the upload: send them in the multipart field {UPLOAD_FIELD!r}.")
        names = [check_upload_name(upload.filename, suffixes=suffixes) for upload in uploads]
        if len(set(names)) != len(names):
            raise UploadError("The upload names one file twice; send each name once.")
        for name, upload in zip(names, uploads, strict=True):
            check_upload_size(name, upload.size or 0, max_bytes=settings.max_upload_bytes)
        stored = await run_in_threadpool(_store_all, chosen.library, names, uploads)
    chosen.worker.request([source for source, _ in stored])
    return DocumentFiles(
        collection=chosen.name,
        files=[DocumentFile(id=doc_id, source=source, status="indexing", uploaded=True) for source, doc_id in stored],
    )


@router.delete("/{doc_id}", status_code=202, responses={409: ERROR_RESPONSES[409]})
def delete_document(
    doc_id: str, collections: CollectionsDep, principal: PrincipalDep, collection: str | None = None
) -> DocumentFiles:
    """Take a document out of the collection: an upload moves to the trash, a hand-placed file is hidden.

    It leaves the index when the background ingest ends; restore it from the trash. The last file
    cannot be deleted (409 ``last_document``): an ingest of an empty folder fails and keeps the
    previous index.
    """
    principal.require_edit(collection or "default", doing="delete documents")
    chosen = collection_for(collections, principal, collection)
    return DocumentFiles(collection=chosen.name, files=[_file_model(chosen.delete_document(doc_id))])


@router.get("/{doc_id}")
def get_document(
    doc_id: str, collections: CollectionsDep, principal: PrincipalDep, collection: str | None = None
) -> DocumentModel:
    """One indexed document's text; citation ``start``/``end`` offsets index into it.

    The id is only looked up among the indexed documents held in memory, never used as a path:
    anything else (``../etc/passwd``, an absolute path, its URL-encoded forms) is 404. So is a
    document deleted from the collection (its removal from the index pending).
    """
    chosen = collection_for(collections, principal, collection)
    document = ready_service(chosen).document(doc_id)
    if document.source not in chosen.library.files():
        raise DocumentNotFoundError(
            f"Document {doc_id!r} was deleted from the collection; it leaves the index with the next ingest."
        )
    return DocumentModel(id=document.id, title=document.title, source=document.source, text=document.text)


def _file_model(status: FileStatus) -> DocumentFile:
    return DocumentFile(
        id=status.id, source=status.source, status=status.status, reason=status.reason, uploaded=status.uploaded
    )


def _store_all(library: DocumentLibrary, names: list[str], uploads: list[UploadFile]) -> list[tuple[str, str]]:
    stored = []
    for name, upload in zip(names, uploads, strict=True):
        upload.file.seek(0)
        stored.append(library.store(name, upload.file))
    return stored


def _too_large(limit: int) -> UploadTooLargeError:
    return UploadTooLargeError(
        f"The upload is larger than {limit} bytes (QA_MAX_UPLOAD_BYTES per file, QA_MAX_UPLOAD_FILES files). "
        "Send fewer or smaller files."
    )


def _limited_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises UploadTooLargeError once the body passes ``limit`` bytes (chunked bodies too)."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return limited
