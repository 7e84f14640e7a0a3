"""Live progress of one broadcast as Server-Sent Events (the mechanism of
:mod:`miniapp_api.jobs.sse`): the row's counters first, then every event the worker
publishes on ``broadcast:{tenant}:{id}``, a keep-alive comment every 15 s; the stream ends
after a final state (completed or cancelled)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from pydantic import ValidationError
from redis.asyncio import Redis

from core.models import Broadcast, BroadcastStatus
from jobs.broadcasts import progress
from jobs.broadcasts.schemas import Progress
from miniapp_api.jobs.sse import HEARTBEAT_S, KEEP_ALIVE, RETRY_MS, live_messages

logger = logging.getLogger(__name__)


def format_event(event: Progress) -> str:
    return f"event: progress\ndata: {event.model_dump_json()}\n\n"


async def broadcast_stream(
    redis: Redis, broadcast: Broadcast, *, heartbeat_s: float = HEARTBEAT_S
) -> AsyncIterator[str]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(progress.channel(broadcast.tenant_id, broadcast.id))
    try:
        yield f"retry: {RETRY_MS}\n\n"
        newest = progress.from_row(broadcast, seq=0)
        stored = await progress.last(redis, broadcast.tenant_id, broadcast.id)
        if stored is not None and stored.seq > newest.seq and not newest.status.final:
            newest = stored
        yield format_event(newest)
        seq = newest.seq
        if BroadcastStatus(newest.status).final:
            return
        async for data in live_messages(pubsub, heartbeat_s):
            if data is None:
                yield KEEP_ALIVE
                continue
            try:
                event = Progress.model_validate_json(data)
            except ValidationError:
                logger.warning("dropped a malformed broadcast event")
                continue
            if event.seq <= seq:
                continue
            seq = event.seq
            yield format_event(event)
            if BroadcastStatus(event.status).final:
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()  # type: ignore[no-untyped-call]
