"""Live progress of a broadcast on Redis pub/sub, the same mechanism as job progress.

The sender publishes a :class:`Progress` to ``broadcast:{tenant}:{id}`` at most a few times a
second and at every change of status, and keeps the newest one under ``broadcast:last:...``
so a panel that subscribes late starts from it. Any API process can serve the stream.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from core.models import Broadcast
from jobs.broadcasts.schemas import Progress

LAST_TTL_S = 24 * 3600


def channel(tenant_id: int, broadcast_id: int) -> str:
    return f"broadcast:{tenant_id}:{broadcast_id}"


def last_key(tenant_id: int, broadcast_id: int) -> str:
    return f"broadcast:last:{tenant_id}:{broadcast_id}"


def from_row(broadcast: Broadcast, *, rate: float = 0.0, seq: int | None = None) -> Progress:
    """The row's counters as an event; ``eta_s`` from ``rate`` when there is one."""
    done = broadcast.sent + broadcast.failed + broadcast.blocked + broadcast.unconfirmed
    left = max(0, broadcast.total - done)
    return Progress(
        id=broadcast.id,
        status=broadcast.status,
        total=broadcast.total,
        sent=broadcast.sent,
        failed=broadcast.failed,
        blocked=broadcast.blocked,
        unconfirmed=broadcast.unconfirmed,
        throttled=broadcast.throttled,
        rate=round(rate, 2),
        eta_s=round(left / rate, 1) if rate > 0 else None,
        seq=time.time_ns() // 1000 if seq is None else seq,
    )


async def publish(redis: Redis, tenant_id: int, event: Progress) -> None:
    data = event.model_dump_json()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(last_key(tenant_id, event.id), data, ex=LAST_TTL_S)
        pipe.publish(channel(tenant_id, event.id), data)
        await pipe.execute()


async def last(redis: Redis, tenant_id: int, broadcast_id: int) -> Progress | None:
    raw = await redis.get(last_key(tenant_id, broadcast_id))
    return Progress.model_validate_json(raw) if raw else None
