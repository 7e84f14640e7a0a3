"""The rules of broadcasts, shared by the creator panel and the bot's ``/broadcast``.

Plain async functions taking a session; they flush, never commit, and defer the worker's jobs
(:func:`core.queue.defer_job`), so nothing is sent for a broadcast whose transaction rolled
back. Roles are checked at the edges (``CreatorDep``, ``TenantAdminOnly``); every lookup here
is scoped to the tenant, so another tenant's broadcast is simply not found.

Lifecycle: ``draft`` → (send) ``running`` ⇄ ``paused`` → ``completed`` | ``cancelled``; a
running broadcast that reaches the plan's daily limit becomes ``limited`` and goes back to
``running`` by itself once there is quota again (the next UTC day, or a plan upgrade), found
by the sweep in :mod:`jobs.broadcasts.tasks`. One broadcast per tenant is active at a time:
two would share the fans' chats and the bot's budget and only slow each other down.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select, utcnow
from core.errors import ConflictError, NotFoundError
from core.models import Broadcast, BroadcastStatus, File, Tenant
from core.queue import defer_job
from jobs.broadcasts import audience
from jobs.broadcasts import repository as repo
from jobs.broadcasts.formatting import InvalidContentError, check_buttons, check_text
from jobs.broadcasts.message import MAX_UPLOAD_BYTES, MEDIA_KINDS, media_kind
from jobs.broadcasts.schemas import AudienceSpec

RUN_TASK = "run_broadcast"
PREVIEW_TASK = "send_broadcast_preview"
PAGE_SIZE = 20


class TenantLike(Protocol):
    """A tenant row or the bot's tenant snapshot."""

    @property
    def id(self) -> int: ...

    @property
    def default_language(self) -> str: ...


class BroadcastNotFoundError(NotFoundError):
    code = "broadcast_not_found"


class BroadcastStateError(ConflictError):
    code = "broadcast_state"


class BroadcastBusyError(ConflictError):
    code = "broadcast_busy"


def _context(tenant: TenantLike) -> audience.AudienceContext:
    return audience.AudienceContext(default_language=tenant.default_language, now=utcnow())


def spec_of(broadcast: Broadcast) -> AudienceSpec:
    return AudienceSpec.model_validate(broadcast.audience or {})


async def create_draft(
    session: AsyncSession,
    tenant: TenantLike,
    *,
    by_telegram_id: int,
    text: str,
    audience_spec: AudienceSpec | None = None,
    buttons: Sequence[Sequence[tuple[str, str]]] = (),
    drive_file_id: int | None = None,
    owner_user_id: int | None = None,
    chat_media: tuple[str, str] | None = None,
) -> Broadcast:
    """A draft from the panel (media from the creator's own drive: ``drive_file_id`` owned by
    ``owner_user_id``) or from chat (``chat_media``: the kind and the bot's file id)."""
    spec = audience.check(audience_spec or AudienceSpec(), _context(tenant))
    broadcast = Broadcast(
        tenant_id=tenant.id,
        created_by_telegram_id=by_telegram_id,
        status=BroadcastStatus.DRAFT,
        audience=spec.model_dump(exclude_none=True),
        buttons=check_buttons([list(row) for row in buttons]),
    )
    if drive_file_id is not None:
        file = await _creator_file(session, tenant.id, owner_user_id, drive_file_id)
        broadcast.media_file_id = file.id
        broadcast.media_kind = media_kind(file.mime_type, file.size)
    elif chat_media is not None:
        kind, file_id = chat_media
        if kind not in MEDIA_KINDS:
            raise InvalidContentError(f"{kind} cannot be broadcast")
        broadcast.media_kind, broadcast.telegram_file_id = kind, file_id
    broadcast.text = check_text(text, caption=broadcast.media_kind is not None)
    session.add(broadcast)
    await session.flush()
    return broadcast


async def _creator_file(
    session: AsyncSession, tenant_id: int, owner_user_id: int | None, file_id: int
) -> File:
    file = await session.scalar(
        tenant_select(File, tenant_id).where(
            File.id == file_id, File.user_id == owner_user_id, File.deleted_at.is_(None)
        )
    )
    if file is None:
        raise NotFoundError("no such file in your drive")
    if file.size > MAX_UPLOAD_BYTES:
        raise InvalidContentError("a bot can send files up to 50 MB")
    return file


async def get(session: AsyncSession, tenant_id: int, broadcast_id: int) -> Broadcast:
    broadcast = await repo.get(session, tenant_id, broadcast_id)
    if broadcast is None:
        raise BroadcastNotFoundError("no such broadcast")
    return broadcast


async def list_page(
    session: AsyncSession, tenant_id: int, *, before: int | None = None, limit: int = PAGE_SIZE
) -> Sequence[Broadcast]:
    return await repo.page(session, tenant_id, before=before, limit=limit)


async def count_audience(session: AsyncSession, tenant: TenantLike, spec: AudienceSpec) -> int:
    where = audience.conditions(spec, _context(tenant))
    return await repo.count_audience(session, tenant.id, where)


async def set_audience(
    session: AsyncSession, tenant: TenantLike, broadcast_id: int, spec: AudienceSpec
) -> tuple[Broadcast, int]:
    """Change a draft's audience; returns it with the number of fans it reaches now."""
    broadcast = await _locked(session, tenant.id, broadcast_id, BroadcastStatus.DRAFT)
    broadcast.audience = audience.check(spec, _context(tenant)).model_dump(exclude_none=True)
    await session.flush()
    return broadcast, await count_audience(session, tenant, spec)


async def request_preview(
    session: AsyncSession, tenant: TenantLike, broadcast_id: int, *, to_telegram_id: int
) -> Broadcast:
    """Send the broadcast to the admin alone (by the worker, after commit)."""
    broadcast = await get(session, tenant.id, broadcast_id)
    defer_job(session, PREVIEW_TASK, broadcast.id, tenant.id, to_telegram_id)
    return broadcast


async def start(
    session: AsyncSession,
    tenant: TenantLike,
    broadcast_id: int,
    *,
    progress_chat: tuple[int, int, str] | None = None,
) -> Broadcast:
    """``draft → running``: freeze the audience (fans up to the newest id now), count it,
    and hand the broadcast to the worker. ``progress_chat`` is the chat message (chat id,
    message id, language) the worker keeps up to date."""
    await _lock_tenant(session, tenant.id)
    broadcast = await _locked(session, tenant.id, broadcast_id, BroadcastStatus.DRAFT)
    if await repo.active_of_tenant(session, tenant.id, other_than=broadcast.id) is not None:
        raise BroadcastBusyError("another broadcast is still being sent")
    spec = spec_of(broadcast)
    now = utcnow()
    where = audience.conditions(spec, audience.AudienceContext(tenant.default_language, now))
    broadcast.max_user_id = await repo.max_user_id(session, tenant.id)
    broadcast.total = await repo.count_audience(
        session, tenant.id, where, upto=broadcast.max_user_id
    )
    broadcast.status = BroadcastStatus.RUNNING
    broadcast.started_at = broadcast.updated_at = now
    if progress_chat is not None:
        (
            broadcast.progress_chat_id,
            broadcast.progress_message_id,
            broadcast.progress_locale,
        ) = progress_chat
    await session.flush()
    _enqueue(session, broadcast)
    return broadcast


async def pause(session: AsyncSession, tenant_id: int, broadcast_id: int) -> Broadcast:
    """The sender stops within a heartbeat; what was claimed by then still completes."""
    broadcast = await _locked(
        session, tenant_id, broadcast_id, BroadcastStatus.RUNNING, BroadcastStatus.LIMITED
    )
    broadcast.status = BroadcastStatus.PAUSED
    broadcast.updated_at = utcnow()
    await session.flush()
    return broadcast


async def resume(session: AsyncSession, tenant_id: int, broadcast_id: int) -> Broadcast:
    broadcast = await _locked(
        session, tenant_id, broadcast_id, BroadcastStatus.PAUSED, BroadcastStatus.LIMITED
    )
    broadcast.status = BroadcastStatus.RUNNING
    broadcast.updated_at = utcnow()
    await session.flush()
    _enqueue(session, broadcast)
    return broadcast


async def cancel(session: AsyncSession, tenant_id: int, broadcast_id: int) -> Broadcast:
    """Stop for good; fans not reached yet never get it."""
    broadcast = await _locked(
        session,
        tenant_id,
        broadcast_id,
        BroadcastStatus.DRAFT,
        BroadcastStatus.RUNNING,
        BroadcastStatus.PAUSED,
        BroadcastStatus.LIMITED,
    )
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.finished_at = broadcast.updated_at = utcnow()
    await session.flush()
    return broadcast


async def resume_if_quota(
    session: AsyncSession, tenant_id: int, broadcast_id: int, quota_left: bool
) -> bool:
    """``limited → running`` when the tenant has quota again (the sweep's call)."""
    if not quota_left:
        return False
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.tenant_id == tenant_id,
            Broadcast.id == broadcast_id,
            Broadcast.status == BroadcastStatus.LIMITED,
        )
        .values(status=BroadcastStatus.RUNNING, updated_at=utcnow())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    defer_job(session, RUN_TASK, broadcast_id, tenant_id, _job_id=_job_id(broadcast_id))
    return True


def _job_id(broadcast_id: int) -> str:
    return f"bc:{broadcast_id}:{time.time_ns()}"


def _enqueue(session: AsyncSession, broadcast: Broadcast) -> None:
    defer_job(session, RUN_TASK, broadcast.id, broadcast.tenant_id, _job_id=_job_id(broadcast.id))


async def _lock_tenant(session: AsyncSession, tenant_id: int) -> None:
    """Serialise starts of one tenant, so "one active broadcast" holds under races."""
    await session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())


async def _locked(
    session: AsyncSession, tenant_id: int, broadcast_id: int, *allowed: BroadcastStatus
) -> Broadcast:
    broadcast = await repo.get_locked(session, tenant_id, broadcast_id)
    if broadcast is None:
        raise BroadcastNotFoundError("no such broadcast")
    if broadcast.status not in allowed:
        raise BroadcastStateError(f"the broadcast is {broadcast.status}", status=broadcast.status)
    return broadcast
