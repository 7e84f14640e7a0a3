"""Drive routes: parse, call :mod:`core.drive.service`, format (with download links)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from core.drive import service
from core.drive.repository import ListedFile, ListedFolder
from core.models import ShareLink
from core.models.drive import FileSource
from core.storage import Storage
from miniapp_api.auth.deps import TenantDep, UserDep
from miniapp_api.deps import ReadsDep, SessionDep, SettingsDep
from miniapp_api.drive.schemas import (
    DownloadOut,
    FileOut,
    FilePatch,
    FolderIn,
    FolderOut,
    FolderPatch,
    ListingOut,
    MoveFiles,
    Order,
    PageOut,
    ShareIn,
    ShareOut,
    Sort,
    TagCount,
    TagsIn,
    TrashOut,
    UsageOut,
)
from miniapp_api.files import LINK_TTL_S, StorageDep

router = APIRouter()
public_router = APIRouter()
MEDIA_TYPES = ("image", "video", "audio", "text")


def folder_json(folder: ListedFolder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "name": folder.name,
        "parent_id": folder.parent_id,
        "color": folder.color,
        "created_at": folder.created_at,
        "deleted_at": folder.deleted_at,
    }


def folder_out(folder: ListedFolder) -> FolderOut:
    return FolderOut.model_validate(folder_json(folder))


def _provenance(file: ListedFile) -> dict[str, Any] | None:
    if file.source != FileSource.GENERATED:
        return None
    data = file.provenance or {}
    return {
        "tool": data.get("tool"),
        "prompt": data.get("prompt"),
        "job_id": data.get("job_id", file.job_id),
        "params": data.get("params") or {},
    }


def _file_json(file: ListedFile, thumbnail_url: str | None, tags: Sequence[str]) -> dict[str, Any]:
    main = file.mime_type.split("/")[0]
    return {
        "id": file.id,
        "name": file.name,
        "folder_id": file.folder_id,
        "type": main if main in MEDIA_TYPES else "other",
        "mime_type": file.mime_type,
        "size": file.size,
        "width": file.width,
        "height": file.height,
        "duration": file.duration,
        "thumbnail_url": thumbnail_url,
        "tags": list(tags),
        "source": file.source,
        "provenance": _provenance(file),
        "created_at": file.created_at,
        "deleted_at": file.deleted_at,
    }


async def files_json(
    storage: Storage, files: Sequence[ListedFile], tags: dict[int, list[str]]
) -> list[dict[str, Any]]:
    """Files as :class:`ListedFileOut` describes them, as plain data: a page of a hundred is
    serialised straight to JSON (:func:`json_response`), not built and checked as models.
    Their thumbnails' links are signed in one call."""
    thumbnails = [(f.thumbnail_key, f.thumbnail_mime) for f in files if f.thumbnail_key]
    links = iter(await storage.inline_urls(thumbnails, expires_in=LINK_TTL_S))
    return [
        _file_json(f, next(links) if f.thumbnail_key else None, tags.get(f.id, ())) for f in files
    ]


async def file_out(storage: Storage, file: ListedFile, tags: Sequence[str]) -> FileOut:
    """One file with its own link (it plays inline) besides its thumbnail's."""
    wanted: list[tuple[str, str | None]] = [(file.storage_key, file.mime_type)]
    if file.thumbnail_key:
        wanted.append((file.thumbnail_key, file.thumbnail_mime))
    url, *thumbnail = await storage.inline_urls(wanted, expires_in=LINK_TTL_S)
    return FileOut.model_validate(
        _file_json(file, thumbnail[0] if thumbnail else None, tags) | {"url": url}
    )


def json_response(content: dict[str, Any]) -> Response:
    """``content`` (plain data: no models) as JSON, byte for byte what FastAPI writes (UTC
    times end in "Z"), at a quarter of pydantic's cost. The routes that answer with it name
    their model in ``response_model``, for the API schema; tests check the answers against it."""
    return Response(orjson.dumps(content, option=orjson.OPT_UTC_Z), media_type="application/json")


def _sent(model: BaseModel) -> dict[str, Any]:
    """The fields the client sent: ``{"parent_id": null}`` moves to the root, absence keeps."""
    return model.model_dump(exclude_unset=True)


# -- folders -----------------------------------------------------------------------------------


@router.post("/folders", status_code=201)
async def create_folder(body: FolderIn, user: UserDep, session: SessionDep) -> FolderOut:
    folder = await service.create_folder(
        session,
        user.tenant_id,
        user.user_id,
        name=body.name,
        parent_id=body.parent_id,
        color=body.color,
    )
    return folder_out(folder)


@router.get("/folders")
async def folder_tree(user: UserDep, session: SessionDep) -> list[FolderOut]:
    return [folder_out(f) for f in await service.folder_tree(session, user.tenant_id, user.user_id)]


@router.patch("/folders/{folder_id}")
async def update_folder(
    folder_id: int, body: FolderPatch, user: UserDep, session: SessionDep
) -> FolderOut:
    folder = await service.update_folder(
        session, user.tenant_id, user.user_id, folder_id, changes=_sent(body)
    )
    return folder_out(folder)


@router.delete("/folders/{folder_id}", status_code=204)
async def trash_folder(folder_id: int, user: UserDep, session: SessionDep) -> Response:
    await service.trash_folder(session, user.tenant_id, user.user_id, folder_id)
    return Response(status_code=204)


@router.post("/folders/{folder_id}/restore")
async def restore_folder(folder_id: int, user: UserDep, session: SessionDep) -> FolderOut:
    return folder_out(
        await service.restore_folder(session, user.tenant_id, user.user_id, folder_id)
    )


@router.delete("/folders/{folder_id}/purge", status_code=204)
async def purge_folder(folder_id: int, user: UserDep, session: SessionDep) -> Response:
    await service.purge_folder(session, user.tenant_id, user.user_id, folder_id)
    return Response(status_code=204)


# -- listing and search ------------------------------------------------------------------------


@router.get("/list", response_model=ListingOut)
async def list_folder(
    user: UserDep,
    reads: ReadsDep,
    storage: StorageDep,
    folder_id: Annotated[int | None, Query(gt=0)] = None,
    sort: Sort = "name",
    order: Order = "asc",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> Response:
    """A folder (the root without ``folder_id``): subfolders on the first page, then files."""
    async with reads() as session:
        page = await service.list_folder(
            session,
            user.tenant_id,
            user.user_id,
            folder_id,
            sort=sort,
            descending=order == "desc",
            cursor=cursor,
            limit=limit,
        )
    crumbs = page.breadcrumbs
    return json_response(
        {
            "folder": folder_json(crumbs[-1]) if crumbs else None,
            "breadcrumbs": [folder_json(f) for f in crumbs],
            "folders": [folder_json(f) for f in page.folders],
            "files": await files_json(storage, page.files, page.tags),
            "next_cursor": page.next_cursor,
        }
    )


@router.get("/search", response_model=PageOut)
async def search(
    user: UserDep,
    reads: ReadsDep,
    storage: StorageDep,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    type: Annotated[str | None, Query(pattern=r"^[a-z]+(/[\w.+-]+)?$", max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> Response:
    async with reads() as session:
        page = await service.search(
            session,
            user.tenant_id,
            user.user_id,
            query=q,
            tag=tag,
            kind=type,
            cursor=cursor,
            limit=limit,
        )
    files = await files_json(storage, page.files, page.tags)
    return json_response({"files": files, "next_cursor": page.next_cursor})


@router.get("/tags")
async def tags(user: UserDep, session: SessionDep) -> list[TagCount]:
    rows = await service.user_tags(session, user.tenant_id, user.user_id)
    return [TagCount(tag=tag, files=count) for tag, count in rows]


@router.get("/usage")
async def usage(user: UserDep, tenant: TenantDep, session: SessionDep) -> UsageOut:
    found = await service.usage(session, tenant, user.user_id)
    return UsageOut(
        user_bytes=found.user_bytes,
        tenant_bytes=found.tenant_bytes,
        quota_bytes=found.quota_bytes,
        max_file_bytes=found.max_file_bytes,
    )


# -- files -------------------------------------------------------------------------------------


@router.post("/files", status_code=201)
async def upload(
    request: Request,
    user: UserDep,
    tenant: TenantDep,
    session: SessionDep,
    storage: StorageDep,
    name: Annotated[str, Query(min_length=1, max_length=1024)],
    folder_id: Annotated[int | None, Query(gt=0)] = None,
) -> FileOut:
    """Upload one file as the raw request body (any ``Content-Type``: the type is sniffed
    from the bytes). ``Content-Length``, when sent, is checked against the quota first."""
    declared = request.headers.get("content-length")
    file = await service.upload(
        session,
        storage,
        tenant,
        user.user_id,
        name=name,
        folder_id=folder_id,
        chunks=request.stream(),
        declared_size=int(declared) if declared and declared.isdigit() else None,
    )
    return await file_out(storage, file, ())


@router.get("/files/{file_id}")
async def get_file(
    file_id: int, user: UserDep, session: SessionDep, storage: StorageDep
) -> FileOut:
    file = await service.get_file(session, user.tenant_id, user.user_id, file_id, trashed=True)
    tags = await service.tags_of(session, user.tenant_id, [file.id])
    return await file_out(storage, file, tags.get(file.id, ()))


@router.get("/files/{file_id}/download")
async def download(
    file_id: int, user: UserDep, session: SessionDep, storage: StorageDep
) -> DownloadOut:
    """A link that downloads the file under its name (``url`` in the file plays it inline)."""
    file = await service.get_file(session, user.tenant_id, user.user_id, file_id)
    url = await storage.download_url(
        file.storage_key, expires_in=LINK_TTL_S, filename=file.name, content_type=file.mime_type
    )
    return DownloadOut(url=url, expires_in=LINK_TTL_S)


@router.patch("/files/{file_id}")
async def update_file(
    file_id: int, body: FilePatch, user: UserDep, session: SessionDep, storage: StorageDep
) -> FileOut:
    file = await service.update_file(
        session, user.tenant_id, user.user_id, file_id, changes=_sent(body)
    )
    tags = await service.tags_of(session, user.tenant_id, [file.id])
    return await file_out(storage, file, tags.get(file.id, ()))


@router.post("/files/move")
async def move_files(body: MoveFiles, user: UserDep, session: SessionDep) -> dict[str, list[int]]:
    files = await service.move_files(
        session, user.tenant_id, user.user_id, body.file_ids, body.folder_id
    )
    return {"moved": sorted(f.id for f in files)}


@router.put("/files/{file_id}/tags")
async def set_tags(
    file_id: int, body: TagsIn, user: UserDep, session: SessionDep
) -> dict[str, list[str]]:
    return {
        "tags": await service.set_tags(session, user.tenant_id, user.user_id, file_id, body.tags)
    }


@router.delete("/files/{file_id}", status_code=204)
async def trash_file(file_id: int, user: UserDep, session: SessionDep) -> Response:
    await service.trash_file(session, user.tenant_id, user.user_id, file_id)
    return Response(status_code=204)


@router.post("/files/{file_id}/restore")
async def restore_file(
    file_id: int, user: UserDep, session: SessionDep, storage: StorageDep
) -> FileOut:
    file = await service.restore_file(session, user.tenant_id, user.user_id, file_id)
    return await file_out(storage, file, ())


@router.delete("/files/{file_id}/purge", status_code=204)
async def purge_file(file_id: int, user: UserDep, session: SessionDep) -> Response:
    await service.purge_file(session, user.tenant_id, user.user_id, file_id)
    return Response(status_code=204)


# -- trash -------------------------------------------------------------------------------------


@router.get("/trash", response_model=TrashOut)
async def trash(
    user: UserDep,
    reads: ReadsDep,
    storage: StorageDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> Response:
    """Latest first: trashed folders on the first page, then files; pass ``next_cursor``
    back as ``cursor`` for more."""
    async with reads() as session:
        page = await service.trash(
            session, user.tenant_id, user.user_id, cursor=cursor, limit=limit
        )
    return json_response(
        {
            "folders": [folder_json(f) for f in page.folders],
            "files": await files_json(storage, page.files, page.tags),
            "next_cursor": page.next_cursor,
        }
    )


@router.delete("/trash")
async def empty_trash(user: UserDep, session: SessionDep) -> dict[str, int]:
    return {"purged": await service.empty_trash(session, user.tenant_id, user.user_id)}


# -- share links -------------------------------------------------------------------------------


def share_out(link: ShareLink, url: str | None = None) -> ShareOut:
    return ShareOut(
        id=link.id,
        file_id=link.file_id,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        url=url,
    )


@router.post("/files/{file_id}/shares", status_code=201)
async def create_share(
    file_id: int, body: ShareIn, user: UserDep, session: SessionDep, settings: SettingsDep
) -> ShareOut:
    link, token = await service.create_share(
        session, user.tenant_id, user.user_id, file_id, expires_in=body.expires_in
    )
    return share_out(link, f"{settings.public_base_url.rstrip('/')}/api/v1/share/{token}")


@router.get("/files/{file_id}/shares")
async def list_shares(file_id: int, user: UserDep, session: SessionDep) -> list[ShareOut]:
    links = await service.shares_of_file(session, user.tenant_id, user.user_id, file_id)
    return [share_out(link) for link in links]


@router.delete("/shares/{share_id}", status_code=204)
async def revoke_share(share_id: int, user: UserDep, session: SessionDep) -> Response:
    await service.revoke_share(session, user.tenant_id, user.user_id, share_id)
    return Response(status_code=204)


@public_router.get("/share/{token}")
async def open_share(token: str, session: SessionDep, storage: StorageDep) -> RedirectResponse:
    """Public (no sign-in): redirect to a short-lived link to the shared file."""
    file = await service.resolve_share(session, token)
    url = await storage.download_url(
        file.storage_key, expires_in=300, filename=file.name, content_type=file.mime_type
    )
    return RedirectResponse(url, status_code=307)
