"""Live job progress as Server-Sent Events, fed from Redis pub/sub.

The worker publishes every change to ``job:{id}`` and ``jobs:{tenant}:{user}``
(:mod:`jobs.generation.progress`); any API process subscribes, so a fan's stream works
whichever process serves it. A stream sends the current state first (read from the job rows
by the endpoint), then ``event: progress`` / ``data: {json}`` for each change, and a comment
line every :data:`HEARTBEAT_S` seconds so proxies keep the connection open. A job's stream
ends after its final state; the all-jobs stream runs until the client leaves.

A client disconnect cancels the generator (Starlette listens for ``http.disconnect``); the
``finally`` then unsubscribes and returns the connection, so no subscription outlives its
client.

Browsers' ``EventSource`` cannot send headers, so the events endpoints (and only they) also
accept the bearer token as ``?access_token=``: see :func:`stream_user`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from starlette.responses import StreamingResponse

from core.models.jobs import Job, JobStatus
from jobs.generation.progress import job_channel, last_event, user_channel
from jobs.generation.schemas import ProgressEvent
from miniapp_api.auth.deps import bearer_user
from miniapp_api.auth.tokens import CurrentUser, read_token
from miniapp_api.deps import SettingsDep

logger = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
RETRY_MS = 3000
"""How long a browser waits before reconnecting a dropped stream (the ``retry:`` field)."""

_PUBLIC_FIELDS = {"tenant_id", "user_id"}


async def stream_user(
    request: Request,
    settings: SettingsDep,
    access_token: Annotated[
        str | None,
        Query(
            max_length=2048,
            description="The bearer token, for EventSource (which cannot send headers).",
        ),
    ] = None,
) -> CurrentUser:
    """The signed-in fan from ``Authorization: Bearer`` or, failing that, ``?access_token=``."""
    if access_token and not request.headers.get("authorization"):
        return read_token(access_token.strip(), secret_key=settings.secret_key)
    return bearer_user(request, settings.secret_key)


StreamUserDep = Annotated[CurrentUser, Depends(stream_user)]


def row_event(job: Job) -> ProgressEvent:
    """A job row as a progress event (``seq`` 0: anything published is newer)."""
    error = None
    if job.error_code:
        error = {"code": job.error_code, "message": job.error_message or ""}
    return ProgressEvent(
        id=job.id,
        tenant_id=job.tenant_id,
        user_id=job.user_id,
        tool=job.tool_slug,
        status=JobStatus(job.status),
        progress=job.progress,
        stage=job.stage,
        seq=0,
        workflow_run_id=job.workflow_run_id,
        step_index=job.step_index,
        error=error,
        file_ids=list((job.result or {}).get("file_ids") or []),
        text=(job.result or {}).get("text"),
    )


def format_event(event: ProgressEvent) -> str:
    data = event.model_dump_json(exclude=_PUBLIC_FIELDS, exclude_none=True)
    return f"event: progress\ndata: {data}\n\n"


class _Latest:
    """Per job, the newest ``seq`` sent and whether it ended: drops replays and stale events."""

    def __init__(self) -> None:
        self.seq: dict[int, int] = {}
        self.ended: set[int] = set()

    def accept(self, event: ProgressEvent) -> bool:
        if event.id in self.ended or event.seq < self.seq.get(event.id, -1):
            return False
        if event.seq == self.seq.get(event.id) and event.seq > 0:
            return False
        self.seq[event.id] = event.seq
        if event.status.terminal:
            self.ended.add(event.id)
        return True


KEEP_ALIVE = ": keep-alive\n\n"


async def live_messages(pubsub: PubSub, heartbeat_s: float) -> AsyncIterator[bytes | None]:
    """The data of each message published on ``pubsub``'s channels, and ``None`` whenever a
    keep-alive is due (every ``heartbeat_s`` of silence or not): the loop every SSE route of
    the API shares, so proxies never close an idle stream."""
    loop = asyncio.get_running_loop()
    next_beat = loop.time() + heartbeat_s
    while True:
        wait = max(0.0, next_beat - loop.time())
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
        if loop.time() >= next_beat:
            next_beat = loop.time() + heartbeat_s
            yield None
        if message is not None and message.get("type") == "message":
            yield message["data"]


async def progress_stream(
    redis: Redis,
    channel: str,
    current: Sequence[ProgressEvent],
    *,
    job_id: int | None = None,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[str]:
    """The SSE text of one channel: ``current`` first, then live events.

    With ``job_id`` the stream follows that one job and ends after its final state; the
    Redis copy of the job's last event is read once subscribed, which covers what was
    published between reading the row and subscribing.
    """
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        latest = _Latest()
        yield f"retry: {RETRY_MS}\n\n"
        pending = list(current)
        if job_id is not None:
            stored = await last_event(redis, job_id)
            if stored is not None:
                pending.append(stored)
        for event in pending:
            if latest.accept(event):
                yield format_event(event)
        if job_id is not None and job_id in latest.ended:
            return
        async for data in live_messages(pubsub, heartbeat_s):
            if data is None:
                yield KEEP_ALIVE
                continue
            try:
                event = ProgressEvent.model_validate_json(data)
            except ValidationError:
                logger.warning("dropped a malformed progress event on %s", channel)
                continue
            if latest.accept(event):
                yield format_event(event)
            if job_id is not None and job_id in latest.ended:
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()  # type: ignore[no-untyped-call]


def job_stream(redis: Redis, job: Job, *, heartbeat_s: float = HEARTBEAT_S) -> AsyncIterator[str]:
    return progress_stream(
        redis, job_channel(job.id, redis), [row_event(job)], job_id=job.id, heartbeat_s=heartbeat_s
    )


def user_stream(
    redis: Redis,
    tenant_id: int,
    user_id: int,
    active: Sequence[Job],
    *,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[str]:
    return progress_stream(
        redis,
        user_channel(tenant_id, user_id, redis),
        [row_event(job) for job in reversed(active)],
        heartbeat_s=heartbeat_s,
    )


def sse_response(stream: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
