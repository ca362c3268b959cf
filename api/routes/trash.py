"""``/api/trash``: a collection's deleted documents, and restoring one (``?collection=NAME``).

Deleted uploads wait here ``QA_TRASH_DAYS`` days; a hand-placed file is only hidden, never moved
or erased, until it is restored. The file work is ``qa.collections.trash``'s.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.models import ERROR_RESPONSES, DocumentFile, DocumentFiles, TrashEntryModel, TrashList
from api.routes.deps import CollectionsDep, PrincipalDep, SettingsDep, collection_for
from qa.collections.library import FileStatus

router = APIRouter(prefix="/api/trash", tags=["documents"], responses=ERROR_RESPONSES)


@router.get("")
def list_trash(
    settings: SettingsDep, collections: CollectionsDep, principal: PrincipalDep, collection: str | None = None
) -> TrashList:
    """Deleted documents of the collection: uploads kept QA_TRASH_DAYS, hand-placed files hidden until restored."""
    chosen = collection_for(collections, principal, collection)
    return TrashList(
        collection=chosen.name,
        entries=[
            TrashEntryModel(
                id=e.id,
                source=e.source,
                kind=e.kind,
                deleted_at=e.deleted_at,
                expires_at=e.expires_at(settings.trash_days),
            )
            for e in chosen.library.trash.entries()
        ],
    )


@router.post("/{entry_id}/restore", status_code=202, responses={409: ERROR_RESPONSES[409]})
def restore_document(
    entry_id: str, collections: CollectionsDep, principal: PrincipalDep, collection: str | None = None
) -> DocumentFiles:
    """Bring a deleted document back into the collection (and its index, after the background ingest)."""
    principal.require_edit(collection or "default", doing="restore documents")
    chosen = collection_for(collections, principal, collection)
    return DocumentFiles(collection=chosen.name, files=[_file(chosen.restore_document(entry_id))])


def _file(status: FileStatus) -> DocumentFile:
    return DocumentFile(
        id=status.id, source=status.source, status=status.status, reason=status.reason, uploaded=status.uploaded
    )
