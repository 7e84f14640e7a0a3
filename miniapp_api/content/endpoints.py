"""The fan's feed (``/api/v1/feed``) and the one route that serves post media
(``/api/v1/content/{tenant}/media/{item}``, signed links, access checked on every request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from core.db import tenant_select
from core.errors import NotFoundError
from core.models import Tenant, User
from core.storage.ranges import plan_range_response
from core.storage.urls import content_disposition
from miniapp_api.auth.deps import TenantDep, UserDep
from miniapp_api.content import service
from miniapp_api.content.schemas import FeedOut, InvoiceLinkOut, PostOut, ViewOut
from miniapp_api.deps import SessionDep, SettingsDep
from miniapp_api.files import StorageDep
from miniapp_api.tasks.deps import RuntimeDep
from miniapp_api.wallet.service import fan_bot
from tenants import admins
from tenants.content import links
from tenants.content import repository as content_repo
from tenants.content import service as content
from tenants.content.service import Viewer

router = APIRouter()
media_router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


async def _viewer(session: SessionDep, tenant: Tenant, user_id: int, telegram_id: int) -> Viewer:
    role = await admins.role_of(session, tenant, telegram_id)
    return Viewer(user_id=user_id, is_admin=role is not admins.Role.FAN)


@router.get("")
async def feed(
    user: UserDep,
    tenant: TenantDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=content.MAX_PAGE)] = 20,
) -> FeedOut:
    """Published posts, pinned first then newest; pass ``next_cursor`` back as ``cursor``."""
    viewer = await _viewer(session, tenant, user.user_id, user.telegram_id)
    page = await content.feed(session, tenant.id, viewer, cursor=cursor, limit=limit)
    items = await service.posts_out(
        session, storage, settings, page.items, tenant_id=tenant.id, user_id=user.user_id
    )
    return FeedOut(items=items, next_cursor=page.next_cursor)


@router.get("/{post_id}")
async def post(
    post_id: Id,
    user: UserDep,
    tenant: TenantDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> PostOut:
    viewer = await _viewer(session, tenant, user.user_id, user.telegram_id)
    item = await content.feed_item(session, tenant.id, viewer, post_id)
    items = await service.posts_out(
        session, storage, settings, [item], tenant_id=tenant.id, user_id=user.user_id
    )
    return items[0]


@router.post("/{post_id}/view")
async def view(post_id: Id, user: UserDep, session: SessionDep) -> ViewOut:
    """Count the fan's view of the post: once per fan and post, however often they open it."""
    counted = await content.record_view(session, user.tenant_id, user.user_id, post_id)
    return ViewOut(counted=counted)


@router.post("/{post_id}/invoice")
async def invoice(
    post_id: Id, user: UserDep, session: SessionDep, runtime: RuntimeDep
) -> InvoiceLinkOut:
    """A Stars invoice link for a pay-per-view post (a fresh order each time). The post
    unlocks when the bot receives Telegram's ``successful_payment``, never from this call."""
    found = await fan_bot(session, runtime, user)
    link = await content.ppv_invoice_link(
        session,
        found.bot,
        found.texts,
        user.tenant_id,
        user_id=user.user_id,
        telegram_user_id=user.telegram_id,
        post_id=post_id,
    )
    return InvoiceLinkOut(invoice_link=link)


@media_router.get("/{tenant_id}/media/{media_id}")
async def media(
    tenant_id: Id,
    media_id: Id,
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    u: Annotated[int, Query(ge=1, le=2**63 - 1)],
    p: Annotated[str, Query(pattern=r"^(media|thumb)$")],
    exp: Annotated[int, Query(ge=0, le=2**62)],
    sig: Annotated[str, Query(min_length=1, max_length=128)],
) -> Response:
    """Stream one media item (``Range`` supported) to the fan the link was signed for, if they
    may open its post right now. No bearer token: ``<img>`` and ``<video>`` cannot send one."""
    found = await content_repo.get_media(session, tenant_id, media_id)
    if found is None:
        raise NotFoundError("media not found", media_id=media_id)
    links.verify_media_link(
        tenant_id=tenant_id,
        media_id=media_id,
        file_id=found[1].id,
        user_id=u,
        purpose=p,
        exp=exp,
        sig=sig,
        secret_key=settings.secret_key,
    )
    tenant = await session.get(Tenant, tenant_id)
    fan = await session.scalar(tenant_select(User, tenant_id).where(User.id == u))
    if tenant is None or not tenant.is_active or fan is None:
        raise NotFoundError("media not found", media_id=media_id)
    viewer = await _viewer(session, tenant, fan.id, fan.telegram_id)
    item = await content.open_media(session, tenant_id, viewer, media_id)
    file = item.file
    key, content_type = file.storage_key, file.mime_type
    if p == "thumb":
        if not file.thumbnail_key:
            raise NotFoundError("this media has no thumbnail")
        key, content_type = file.thumbnail_key, file.thumbnail_mime or "image/webp"
    return await _stream(request, storage, key, content_type, file.name if p == "media" else None)


async def _stream(
    request: Request, storage: StorageDep, key: str, content_type: str, filename: str | None
) -> Response:
    stat = await storage.stat(key)
    plan = plan_range_response(
        request.headers.get("range"),
        stat.size,
        content_type=content_type,
        etag=stat.etag,
        if_range=request.headers.get("if-range"),
    )
    headers = {
        **plan.headers,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    }
    if plan.range is None:
        return Response(status_code=plan.status, headers=headers)
    if filename:
        headers["Content-Disposition"] = content_disposition(filename, inline=True)
    body = storage.open_stream(key, start=plan.range.start, end=plan.range.end)
    return StreamingResponse(body, status_code=plan.status, headers=headers)
