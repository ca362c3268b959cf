"""``/api/collections``: list the collections a key may read; admins create and delete them.

A deleted collection's folder is kept under ``<data_dir>/collections/.deleted/`` (nothing is erased).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.models import ERROR_RESPONSES, CollectionList, CollectionModel, CreateCollectionRequest
from api.routes.deps import CollectionsDep, PrincipalDep, collection_for
from qa.collections.access import Principal
from qa.collections.registry import Collection, CollectionRegistry

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=ERROR_RESPONSES)


@router.get("")
async def list_collections(collections: CollectionsDep, principal: PrincipalDep) -> CollectionList:
    """The collections this key may read, with whether each index is loaded."""
    return await run_in_threadpool(_listing, collections, principal)


@router.post("", status_code=201)
async def create_collection(
    body: CreateCollectionRequest, collections: CollectionsDep, principal: PrincipalDep
) -> CollectionModel:
    """Create an empty collection (admins); upload documents to it with ``POST /api/documents?collection=NAME``."""
    principal.require_role("admin", doing="create collections")
    principal.require_read(body.name)
    return _model(await run_in_threadpool(collections.create, body.name))


@router.delete("/{name}")
async def delete_collection(name: str, collections: CollectionsDep, principal: PrincipalDep) -> dict[str, str]:
    """Retire a collection (admins); its files are kept, moved aside, never erased."""
    principal.require_role("admin", doing="delete collections")
    collection_for(collections, principal, name)
    await run_in_threadpool(collections.delete, name)
    return {"deleted": name}


def _listing(collections: CollectionRegistry, principal: Principal) -> CollectionList:
    return CollectionList(
        collections=[_model(collections.get(n)) for n in collections.names() if principal.can_read(n)]
    )


def _model(collection: Collection) -> CollectionModel:
    ready = collection.service.is_ready
    return CollectionModel(
        name=collection.name, ready=ready, documents=len(collection.service.documents()) if ready else None
    )
