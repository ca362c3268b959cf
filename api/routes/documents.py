"""The indexed documents, so citations can be shown in their source (never reads request paths)."""

from __future__ import annotations

from fastapi import APIRouter

from api.models import ERROR_RESPONSES, DocumentList, DocumentModel, DocumentSummary
from api.routes.deps import ServiceDep

router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERROR_RESPONSES)


@router.get("")
async def list_documents(service: ServiceDep) -> DocumentList:
    """Every indexed document: id, title, source file and text length."""
    return DocumentList(
        documents=[
            DocumentSummary(id=d.id, title=d.title, source=d.source, length=len(d.text)) for d in service.documents()
        ]
    )


@router.get("/{doc_id}")
async def get_document(doc_id: str, service: ServiceDep) -> DocumentModel:
    """One indexed document's text; citation ``start``/``end`` offsets index into it.

    The id is only looked up among the indexed documents held in memory, never used as a path:
    anything else (``../etc/passwd``, an absolute path, its URL-encoded forms) is 404.
    """
    document = service.document(doc_id)
    return DocumentModel(id=document.id, title=document.title, source=document.source, text=document.text)
