"""The arq functions of broadcasts (registered in :data:`jobs.worker.FUNCTIONS`).

- ``run_broadcast(ctx, broadcast_id, tenant_id)`` — one chunk of sending (:mod:`.sender`);
  safe to run any number of times: only the holder of the lease sends, and a chunk that ends
  with the broadcast still running enqueues the next one.
- ``send_broadcast_preview(ctx, broadcast_id, tenant_id, telegram_id)`` — the broadcast to
  the admin alone.
- ``recover_broadcasts(ctx)`` — cron: re-enqueue running broadcasts whose sender died (stale
  lease) or whose job was lost, and resume ``limited`` ones once the tenant has quota again.
- ``purge_broadcast_deliveries(ctx)`` — daily cron: delete the per-fan delivery rows of
  broadcasts finished more than ``ATELIER_BROADCAST_DELIVERIES_DAYS`` ago (they only serve the
  sender's no-duplicates rule while it runs); the broadcasts keep their totals.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from arq.connections import ArqRedis
from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from arq.worker import Function, func
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import queue
from core.db import session_scope, tenant_select, utcnow
from core.models import Broadcast, BroadcastStatus, File, Tenant, TenantBot
from core.queue import unit_of_work
from core.settings import Settings
from jobs.broadcasts import progress, service
from jobs.broadcasts import repository as repo
from jobs.broadcasts.chat import ChatProgress
from jobs.broadcasts.message import Content, Upload, file_id_of, send
from jobs.broadcasts.ratelimit import Limiter, Limits, today
from jobs.broadcasts.sender import Outcome, Sender, SenderConfig, config_of
from jobs.notify import notifier_of
from jobs.wrapper import JobContext, redis_of, session_factory_of
from tenants.plans import effective_limits
from tenants.service import bot_token
from tenants.texts import load_overrides

logger = logging.getLogger(__name__)

Factory = async_sessionmaker[AsyncSession]
RUN_TIMEOUT_S = 600
"""arq's backstop for one chunk (a chunk stops itself after ``chunk_seconds``)."""
ARQ_MAX_TRIES = 50
_FINAL = {
    Outcome.DONE: BroadcastStatus.COMPLETED,
    Outcome.LIMITED: BroadcastStatus.LIMITED,
    Outcome.NO_BOT: BroadcastStatus.PAUSED,
}


_limiters: weakref.WeakKeyDictionary[Any, Limiter] = weakref.WeakKeyDictionary()


def limiter_of(ctx: Mapping[str, Any]) -> Limiter:
    """The worker's limiter (``ctx["broadcast_limiter"]`` when given; else one per Redis
    client, at ``ATELIER_BROADCAST_RATE``). Its state lives in Redis, not here."""
    given = ctx.get("broadcast_limiter")
    if isinstance(given, Limiter):
        return given
    redis = ctx["redis"]
    limiter = _limiters.get(redis)
    if limiter is None:
        limiter = _limiters[redis] = Limiter(redis, Limits(rate=ctx["settings"].broadcast_rate))
    return limiter


async def _tenant_and_bot(
    session: AsyncSession, tenant_id: int
) -> tuple[Tenant | None, TenantBot | None]:
    tenant = await session.get(Tenant, tenant_id)
    bot = await session.scalar(
        tenant_select(TenantBot, tenant_id).where(TenantBot.is_active.is_(True)).limit(1)
    )
    return tenant, bot


async def _upload(
    ctx: Mapping[str, Any], broadcast: Broadcast, session: AsyncSession
) -> Upload | None:
    if broadcast.telegram_file_id or broadcast.media_file_id is None:
        return None
    file = await session.scalar(
        tenant_select(File, broadcast.tenant_id).where(File.id == broadcast.media_file_id)
    )
    if file is None:
        return None
    from jobs.generation.runner import storage_of  # the worker's one storage backend

    storage = storage_of(ctx)
    data = b"".join([chunk async for chunk in storage.open_stream(file.storage_key)])
    return Upload(data=data, filename=file.name)


def _texts(locale: str, overrides: Any) -> Any:
    from bot.i18n import Texts, create_i18n  # the catalogues live with the bot

    return Texts(create_i18n(), locale, overrides)


async def run_broadcast(ctx: JobContext, broadcast_id: int, tenant_id: int) -> dict[str, Any]:
    config = config_of(ctx)
    factory, redis = session_factory_of(ctx), redis_of(ctx)
    lease = uuid.uuid4().hex
    async with session_scope(factory) as session:
        stale_before = utcnow() - timedelta(seconds=config.stale_after)
        if not await repo.claim_lease(session, tenant_id, broadcast_id, lease, stale_before):
            return {"claimed": False}
        in_doubt = await repo.settle_in_doubt(session, tenant_id, broadcast_id)
        broadcast = await repo.get(session, tenant_id, broadcast_id)
        tenant, bot_row = await _tenant_and_bot(session, tenant_id)
        assert broadcast is not None
        if tenant is None or bot_row is None or not tenant.is_active:
            await repo.release(
                session, tenant_id, broadcast_id, lease, status=BroadcastStatus.PAUSED
            )
            return {"claimed": True, "outcome": "no_bot"}
        upload = await _upload(ctx, broadcast, session)
        overrides = await load_overrides(session, tenant_id)
        token = bot_token(bot_row)
    if in_doubt:
        logger.warning("broadcast %d: %d unconfirmed after a sender died", broadcast_id, in_doubt)
    bot = Bot(token, session=notifier_of(ctx).session)
    chat = None
    if broadcast.progress_chat_id and broadcast.progress_message_id:
        texts = _texts(broadcast.progress_locale or tenant.default_language, overrides)
        chat = ChatProgress(
            bot,
            texts,
            broadcast.progress_chat_id,
            broadcast.progress_message_id,
            config.chat_edit_interval,
        )
    sender = Sender(
        factory=factory,
        redis=redis,
        limiter=limiter_of(ctx),
        bot=bot,
        broadcast=broadcast,
        lease=lease,
        content=Content.of(broadcast, upload),
        daily_limit=effective_limits(tenant.plan, tenant.config).daily_broadcast_messages,
        default_language=tenant.default_language,
        config=config,
        on_tick=(lambda s: chat.show(s.broadcast, s.rate())) if chat is not None else None,
    )
    try:
        outcome = await sender.run()
    except asyncio.CancelledError:
        # The worker is shutting down (a deploy): give the lease back at once, so the next
        # worker continues now instead of after ``stale_after``; what was in flight is
        # settled as unconfirmed by whoever claims next.
        await asyncio.shield(_release(factory, broadcast, lease))
        raise
    return await _finish(ctx, sender, outcome, chat)


async def _release(factory: Factory, broadcast: Broadcast, lease: str) -> None:
    async with session_scope(factory) as session:
        await repo.release(session, broadcast.tenant_id, broadcast.id, lease)


async def _finish(
    ctx: JobContext, sender: Sender, outcome: Outcome, chat: ChatProgress | None
) -> dict[str, Any]:
    factory, redis = session_factory_of(ctx), redis_of(ctx)
    broadcast = sender.broadcast
    if outcome is Outcome.LOST:
        return {"claimed": True, "outcome": outcome.value}
    async with session_scope(factory) as session:
        if outcome is Outcome.DONE:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.tenant_id == broadcast.tenant_id, Broadcast.id == broadcast.id)
                .values(
                    total=Broadcast.sent
                    + Broadcast.failed
                    + Broadcast.blocked
                    + Broadcast.unconfirmed
                )
            )
        await repo.release(
            session, broadcast.tenant_id, broadcast.id, sender.lease, status=_FINAL.get(outcome)
        )
        row = await repo.get(session, broadcast.tenant_id, broadcast.id)
    assert row is not None
    await progress.publish(redis, row.tenant_id, progress.from_row(row))
    if chat is not None:
        await chat.show(row, final=True)
    if row.status == BroadcastStatus.RUNNING:  # a chunk's end, or resumed while stopping
        await _continue(redis, row.id, row.tenant_id, sender.lease)
    logger.info(
        "broadcast %d: %s",
        row.id,
        outcome.value,
        extra={"sent": row.sent, "failed": row.failed, "blocked": row.blocked},
    )
    return {"claimed": True, "outcome": outcome.value, "status": str(row.status)}


async def _continue(redis: ArqRedis, broadcast_id: int, tenant_id: int, lease: str) -> None:
    await redis.enqueue_job(
        service.RUN_TASK, broadcast_id, tenant_id, _job_id=f"bc:{broadcast_id}:{lease}"
    )
    await queue.wake(redis)


async def send_broadcast_preview(
    ctx: JobContext, broadcast_id: int, tenant_id: int, telegram_id: int
) -> dict[str, Any]:
    """The broadcast in the admin's own chat, exactly as fans will see it."""
    factory = session_factory_of(ctx)
    async with session_scope(factory) as session:
        broadcast = await repo.get(session, tenant_id, broadcast_id)
        _, bot_row = await _tenant_and_bot(session, tenant_id)
        if broadcast is None or bot_row is None:
            return {"sent": False}
        upload = await _upload(ctx, broadcast, session)
        token = bot_token(bot_row)
    bot = Bot(token, session=notifier_of(ctx).session)
    limiter = limiter_of(ctx)
    await limiter.acquire(bot.id, telegram_id)
    try:
        message = await send(bot, telegram_id, Content.of(broadcast, upload))
    except (TelegramForbiddenError, TelegramBadRequest) as exc:
        # The admin never started the bot, or blocked it: nothing to retry.
        logger.info("broadcast %d: preview refused: %s", broadcast_id, exc.message)
        return {"sent": False, "error": exc.message}
    file_id = file_id_of(message)
    if upload is not None and file_id:
        async with session_scope(factory) as session:
            await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.tenant_id == tenant_id,
                    Broadcast.id == broadcast_id,
                    Broadcast.telegram_file_id.is_(None),
                )
                .values(telegram_file_id=file_id)
            )
    return {"sent": True, "message_id": message.message_id}


async def recover_broadcasts(ctx: JobContext) -> dict[str, int]:
    config: SenderConfig = config_of(ctx)
    factory, redis = session_factory_of(ctx), redis_of(ctx)
    now = utcnow()
    async with session_scope(factory) as session:
        found = await repo.stalled(
            session,
            stale_before=now - timedelta(seconds=config.stale_after),
            idle_before=now - timedelta(seconds=config.idle_requeue_after),
            limit=500,
        )
    requeued = resumed = 0
    for tenant_id, broadcast_id, status in found:
        if status is BroadcastStatus.RUNNING:
            slot = int(time.time() // max(config.stale_after, 1.0))
            job = await redis.enqueue_job(
                service.RUN_TASK,
                broadcast_id,
                tenant_id,
                _job_id=f"bc:{broadcast_id}:recover:{slot}",
            )
            requeued += job is not None
        elif await _resume_limited(ctx, factory, redis, tenant_id, broadcast_id):
            resumed += 1
    if requeued:
        await queue.wake(redis)
        logger.warning("re-enqueued %d stalled broadcast(s)", requeued)
    return {"requeued": requeued, "resumed": resumed}


async def _resume_limited(
    ctx: JobContext, factory: Factory, redis: ArqRedis, tenant_id: int, broadcast_id: int
) -> bool:
    async with unit_of_work(factory, redis) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id))
        if tenant is None:
            return False
        limit = effective_limits(tenant.plan, tenant.config).daily_broadcast_messages
        used = await limiter_of(ctx).used(tenant_id, today())
        return await service.resume_if_quota(
            session, tenant_id, broadcast_id, limit is None or used < limit
        )


PURGE_BATCH = 5_000
PURGE_TIMEOUT_S = 1800


async def purge_broadcast_deliveries(ctx: JobContext) -> int:
    """Batch after batch, each its own transaction, until none is left; the rows deleted."""
    settings: Settings = ctx["settings"]
    batch: int = ctx.get("purge_batch", PURGE_BATCH)
    before = utcnow() - timedelta(days=settings.broadcast_deliveries_days)
    deleted = 0
    while True:
        async with session_scope(session_factory_of(ctx)) as session:
            count = await repo.purge_deliveries(session, before, batch)
        deleted += count
        if count < batch:
            break
    if deleted:
        logger.info("purged %d delivery rows of finished broadcasts", deleted)
    return deleted


run_broadcast_task: Function = func(
    cast(WorkerCoroutine, run_broadcast),
    name=service.RUN_TASK,
    timeout=RUN_TIMEOUT_S,
    max_tries=ARQ_MAX_TRIES,
    keep_result=60,
)
preview_task: Function = func(
    cast(WorkerCoroutine, send_broadcast_preview), name=service.PREVIEW_TASK, timeout=120
)
recover_task: Function = func(
    cast(WorkerCoroutine, recover_broadcasts), name="recover_broadcasts", timeout=60
)
purge_task: Function = func(
    cast(WorkerCoroutine, purge_broadcast_deliveries),
    name="purge_broadcast_deliveries",
    timeout=PURGE_TIMEOUT_S,
)

BROADCAST_FUNCTIONS: list[Function] = [run_broadcast_task, preview_task, recover_task, purge_task]
BROADCAST_CRON_JOBS: list[CronJob] = [
    cron(
        cast(WorkerCoroutine, recover_broadcasts),
        name="cron:recover_broadcasts",
        second={23, 53},
        timeout=60,
    ),
    cron(
        cast(WorkerCoroutine, purge_broadcast_deliveries),
        name="cron:purge_broadcast_deliveries",
        hour=3,
        minute=41,  # daily, off the hours other jobs crowd
        timeout=PURGE_TIMEOUT_S,
    ),
]
