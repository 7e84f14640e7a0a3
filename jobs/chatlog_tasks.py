"""Worker side of the chat history (:mod:`tenants.chatlog`).

- ``drain_chatlog`` (every 10 seconds): moves the Redis stream into ``chat_messages``, one
  transaction per batch, the batch acknowledged only after its commit; what an earlier drain
  left pending (killed mid-way) is taken first. Exactly once: see :mod:`tenants.chatlog.service`.
- ``purge_chatlog`` (daily): forgets messages older than ``ATELIER_CHAT_HISTORY_DAYS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import session_scope, utcnow
from core.settings import Settings
from jobs.wrapper import JobContext, redis_of, session_factory_of, task
from tenants.chatlog import service

DRAIN_BATCH = 500
MAX_BATCHES = 40
"""A run stops after this many batches (20,000 messages) so it never outlives its 10 s slot by
much; the next run continues."""


async def drain_chatlog(ctx: JobContext) -> int:
    """Messages stored by this run."""
    redis = redis_of(ctx)
    factory = session_factory_of(ctx)
    await service.ensure_group(redis)
    stored = 0
    batches = 0
    for pending in (True, False):
        while batches < MAX_BATCHES:
            batch = await service.read_batch(redis, DRAIN_BATCH, pending=pending)
            if not batch:
                break
            async with session_scope(factory) as session:
                stored += await service.store_batch(session, [entry for _, entry in batch])
            await service.ack(redis, [stream_id for stream_id, _ in batch])
            batches += 1
    return stored


@task
async def purge_chatlog(ctx: JobContext, session: AsyncSession) -> int:
    settings: Settings = ctx["settings"]
    return await service.purge(session, utcnow(), settings.chat_history_days)


CHATLOG_FUNCTIONS: list[Callable[..., Any]] = [drain_chatlog, purge_chatlog]
CHATLOG_CRON_JOBS: list[CronJob] = [
    cron(
        cast(WorkerCoroutine, drain_chatlog),
        name="cron:drain_chatlog",
        second=set(range(0, 60, 10)),
    ),
    cron(cast(WorkerCoroutine, purge_chatlog), name="cron:purge_chatlog", hour=4, minute=41),
]
