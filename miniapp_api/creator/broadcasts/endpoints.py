"""``/api/v1/creator/broadcasts``: the owner and co-admins compose a broadcast, count its
audience, preview it in their own chat, send it, pause, resume or cancel it, and follow it
live (SSE). Fans get 403; another tenant's broadcast is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from starlette.responses import StreamingResponse

from core.models import Broadcast
from jobs.broadcasts import service
from jobs.broadcasts.ratelimit import quota_key, today
from jobs.broadcasts.schemas import AudienceSpec
from miniapp_api.creator.broadcasts.schemas import (
    AudienceCount,
    BroadcastIn,
    BroadcastOut,
    BroadcastPage,
    PreviewOut,
)
from miniapp_api.creator.broadcasts.sse import broadcast_stream
from miniapp_api.creator.deps import Creator, CreatorDep
from miniapp_api.deps import RedisDep, SessionDep
from miniapp_api.jobs.sse import StreamUserDep, sse_response
from tenants import admins
from tenants import repository as tenants_repo
from tenants.errors import TenantNotFoundError
from tenants.plans import effective_limits

router = APIRouter()
BroadcastId = Annotated[int, Path(gt=0, lt=2**63)]


def broadcast_out(broadcast: Broadcast, audience_count: int | None = None) -> BroadcastOut:
    return BroadcastOut(
        id=broadcast.id,
        status=str(broadcast.status),
        text=broadcast.text,
        media_kind=broadcast.media_kind,
        media_file_id=broadcast.media_file_id,
        buttons=list(broadcast.buttons or []),
        audience=service.spec_of(broadcast),
        total=broadcast.total,
        sent=broadcast.sent,
        failed=broadcast.failed,
        blocked=broadcast.blocked,
        unconfirmed=broadcast.unconfirmed,
        throttled=broadcast.throttled,
        created_at=broadcast.created_at,
        started_at=broadcast.started_at,
        finished_at=broadcast.finished_at,
        audience_count=audience_count,
    )


@router.get("")
async def list_broadcasts(
    creator: CreatorDep,
    session: SessionDep,
    redis: RedisDep,
    cursor: Annotated[int | None, Query(gt=0, lt=2**63)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = service.PAGE_SIZE,
) -> BroadcastPage:
    """Newest first; pass ``next_cursor`` back as ``cursor``. Also today's use of the plan's
    daily broadcast limit (UTC day)."""
    tenant = creator.tenant
    rows = await service.list_page(session, tenant.id, before=cursor, limit=limit)
    used = await redis.get(quota_key(tenant.id, today()))
    return BroadcastPage(
        items=[broadcast_out(row) for row in rows],
        next_cursor=rows[-1].id if len(rows) == limit else None,
        daily_limit=effective_limits(tenant.plan, tenant.config).daily_broadcast_messages,
        used_today=int(used or 0),
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_broadcast(
    body: BroadcastIn, creator: CreatorDep, session: SessionDep
) -> BroadcastOut:
    """A draft; nothing is sent until ``/send``. 422 ``invalid_broadcast`` names what
    Telegram would refuse (a tag, an unescaped ``<``, the length, a button's address)."""
    broadcast = await service.create_draft(
        session,
        creator.tenant,
        by_telegram_id=creator.user.telegram_id,
        text=body.text,
        audience_spec=body.audience,
        buttons=[[(b.text, b.url) for b in row] for row in body.buttons],
        drive_file_id=body.media_file_id,
        owner_user_id=creator.user.user_id,
    )
    count = await service.count_audience(session, creator.tenant, body.audience)
    return broadcast_out(broadcast, count)


@router.post("/audience")
async def count_audience(
    body: AudienceSpec, creator: CreatorDep, session: SessionDep
) -> AudienceCount:
    """How many fans an audience reaches now (blocked fans never count)."""
    return AudienceCount(count=await service.count_audience(session, creator.tenant, body))


@router.get("/{broadcast_id}")
async def get_broadcast(
    broadcast_id: BroadcastId, creator: CreatorDep, session: SessionDep
) -> BroadcastOut:
    return broadcast_out(await service.get(session, creator.tenant.id, broadcast_id))


@router.put("/{broadcast_id}/audience")
async def set_audience(
    broadcast_id: BroadcastId, body: AudienceSpec, creator: CreatorDep, session: SessionDep
) -> BroadcastOut:
    broadcast, count = await service.set_audience(session, creator.tenant, broadcast_id, body)
    return broadcast_out(broadcast, count)


@router.post("/{broadcast_id}/preview", status_code=status.HTTP_202_ACCEPTED)
async def preview(
    broadcast_id: BroadcastId, creator: CreatorDep, session: SessionDep
) -> PreviewOut:
    """The broadcast arrives in the caller's own chat with the bot, as fans will see it."""
    await service.request_preview(
        session, creator.tenant, broadcast_id, to_telegram_id=creator.user.telegram_id
    )
    return PreviewOut()


@router.post("/{broadcast_id}/send", status_code=status.HTTP_202_ACCEPTED)
async def send(broadcast_id: BroadcastId, creator: CreatorDep, session: SessionDep) -> BroadcastOut:
    """Start sending (409 ``broadcast_busy`` while another broadcast of the bot is active)."""
    return broadcast_out(await service.start(session, creator.tenant, broadcast_id))


@router.post("/{broadcast_id}/pause")
async def pause(
    broadcast_id: BroadcastId, creator: CreatorDep, session: SessionDep
) -> BroadcastOut:
    return broadcast_out(await service.pause(session, creator.tenant.id, broadcast_id))


@router.post("/{broadcast_id}/resume")
async def resume(
    broadcast_id: BroadcastId, creator: CreatorDep, session: SessionDep
) -> BroadcastOut:
    return broadcast_out(await service.resume(session, creator.tenant.id, broadcast_id))


@router.post("/{broadcast_id}/cancel")
async def cancel(
    broadcast_id: BroadcastId, creator: CreatorDep, session: SessionDep
) -> BroadcastOut:
    return broadcast_out(await service.cancel(session, creator.tenant.id, broadcast_id))


async def stream_creator(user: StreamUserDep, session: SessionDep) -> Creator:
    """``CreatorDep`` for EventSource: the token may come as ``?access_token=``."""
    tenant = await tenants_repo.get_tenant(session, user.tenant_id)
    if tenant is None or not tenant.is_active:
        raise TenantNotFoundError("this bot is not available any more")
    role = await admins.require_admin(session, tenant, user.telegram_id)
    return Creator(tenant=tenant, user=user, role=role)


@router.get("/{broadcast_id}/events", response_class=StreamingResponse)
async def events(
    broadcast_id: BroadcastId,
    creator: Annotated[Creator, Depends(stream_creator)],
    session: SessionDep,
    redis: RedisDep,
) -> StreamingResponse:
    """Server-Sent Events ``progress``: ``{id, status, total, sent, failed, blocked,
    unconfirmed, throttled, rate, eta_s, seq}``; ends after the final state. Auth: the bearer
    header, or ``?access_token=<token>`` for EventSource."""
    broadcast = await service.get(session, creator.tenant.id, broadcast_id)
    return sse_response(broadcast_stream(redis, broadcast))
