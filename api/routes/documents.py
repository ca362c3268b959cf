"""``/api/documents``: list (with each file's indexing status), upload, delete, and read one document.

Uploads and deletes change the seeds folder, then ask the app's IngestWorker for an incremental
ingest in the background (202): answers come from the previous index until the new one is
swapped in. Request paths never become file paths: upload names are checked by
``qa.ingest.uploads.check_upload_name`` (a plain name or 422), and a delete looks its id up among the
files that exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from api.errors import error_response
from api.ingest_worker import IngestWorker
from api.models import ERROR_RESPONSES, DocumentFile, DocumentFiles, DocumentList, DocumentModel, DocumentSummary
from api.routes.deps import IngestWorkerDep, LoadingServiceDep, ServiceDep, SettingsDep
from qa.config import Settings
from qa.errors import DocumentNotFoundError, UnsupportedFileTypeError, UploadError, UploadTooLargeError
from qa.ingest.loading import document_id, iter_seed_files
from qa.ingest.uploads import allowed_suffixes, check_upload_name, check_upload_size, store_upload
from qa.service import QAService

router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERROR_RESPONSES)

#: The upload route reads its own body under its own limit (api.security.BodyLimitMiddleware skips it).
UPLOAD_PATHS = frozenset({"/api/documents"})
#: Room for the multipart boundaries and part headers around the files themselves.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
UPLOAD_FIELD = "files"

_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
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
def list_documents(service: ServiceDep, settings: SettingsDep, worker: IngestWorkerDep) -> DocumentList:
    """Every indexed document (id, title, source, text length), and every file with its indexing status."""
    return DocumentList(
        documents=[
            DocumentSummary(id=d.id, title=d.title, source=d.source, length=len(d.text)) for d in service.documents()
        ],
        files=file_statuses(service, worker),
        upload_types=list(allowed_suffixes(settings.upload_suffixes)),
    )


@router.post("", status_code=202, responses=_UPLOAD_ERRORS, openapi_extra=_UPLOAD_BODY)
async def upload_documents(request: Request, settings: SettingsDep, worker: IngestWorkerDep) -> DocumentFiles:
    """Add files (multipart field ``files``, one or more) to the seeds folder and index them in the background.

    All or nothing: when any file is refused (413, 415, 422), none is written. A file with the
    name of one already there replaces it. Poll ``GET /api/documents`` until they are ``indexed``.
    """
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
        stored = await run_in_threadpool(_store_all, settings.seeds_dir, names, uploads)
    worker.request(names)
    return DocumentFiles(files=[DocumentFile(id=doc_id, source=name, status="indexing") for name, doc_id in stored])


@router.delete(
    "/{doc_id}",
    status_code=202,
    response_model=DocumentFiles,
    responses={409: {**ERROR_RESPONSES[422], "description": "The only file in the seeds folder"}},
)
def delete_document(
    doc_id: str, service: LoadingServiceDep, settings: SettingsDep, worker: IngestWorkerDep
) -> DocumentFiles | JSONResponse:
    """Remove a file from the seeds folder; it leaves the index when the background ingest ends.

    The last file cannot be deleted: an ingest of an empty folder fails and keeps the previous
    index (a folder that looks empty is more often a mount gone missing than a wish for no answers).
    """
    folder = set(_folder_sources(settings.seeds_dir))
    known = folder | (set(service.manifest.files) if service.is_ready else set())
    source = next((s for s in sorted(known) if document_id(s) == doc_id), None)
    if source is None:
        raise DocumentNotFoundError(f"No file has id {doc_id!r}. List ids with GET /api/documents.")
    if not folder - {source}:
        return error_response(
            409,
            "last_document",
            f"{source!r} is the only file in the seeds folder and the index cannot be emptied; "
            "upload another file first, then delete this one.",
        )
    # ``source`` comes from the folder listing or the manifest, never from the request.
    (settings.seeds_dir / source).unlink(missing_ok=True)
    worker.request([source])
    return DocumentFiles(files=[DocumentFile(id=doc_id, source=source, status="removing")])


@router.get("/{doc_id}")
def get_document(doc_id: str, service: ServiceDep) -> DocumentModel:
    """One indexed document's text; citation ``start``/``end`` offsets index into it.

    The id is only looked up among the indexed documents held in memory, never used as a path:
    anything else (``../etc/passwd``, an absolute path, its URL-encoded forms) is 404. So is a
    document whose file is gone from the seeds folder (deleted, its removal from the index pending).
    """
    document = service.document(doc_id)
    if not (service.settings.seeds_dir / document.source).exists():
        raise DocumentNotFoundError(
            f"Document {doc_id!r} was deleted from the seeds folder; it leaves the index with the next ingest."
        )
    return DocumentModel(id=document.id, title=document.title, source=document.source, text=document.text)


def file_statuses(service: QAService, worker: IngestWorker) -> list[DocumentFile]:
    """Every file in the seeds folder or the index, with where it stands."""
    folder = set(_folder_sources(service.settings.seeds_dir))
    indexed = set(service.manifest.files)
    waiting = worker.waiting_sources()
    report = worker.last_report
    skipped = {s.source: s.reason for s in report.skipped} if report else {}
    files = []
    for source in sorted(folder | indexed):
        reason = None
        if source not in folder:
            status = "removing"
        elif source in waiting:
            status = "indexing"
        elif source in skipped and source not in indexed:
            status, reason = "skipped", skipped[source]
        elif source in indexed:
            status = "indexed"
        else:
            status = "indexing" if worker.busy else "not_indexed"
        files.append(DocumentFile(id=document_id(source), source=source, status=status, reason=reason))  # type: ignore[arg-type]
    return files


def _folder_sources(seeds_dir: Path) -> list[str]:
    if not seeds_dir.is_dir():
        return []
    return [path.relative_to(seeds_dir).as_posix() for path in iter_seed_files(seeds_dir)]


def _store_all(seeds_dir: Path, names: list[str], uploads: list[UploadFile]) -> list[tuple[str, str]]:
    stored = []
    for name, upload in zip(names, uploads, strict=True):
        upload.file.seek(0)
        stored.append((name, store_upload(seeds_dir, name, upload.file)))
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
