"""Live job progress: the job row (throttled) and Redis pub/sub (every change).

Channels (JSON payloads shaped like :class:`jobs.generation.schemas.ProgressEvent`):

- ``jobs:{tenant_id}:{user_id}`` — every job of one user (the bot's progress message, the
  Mini App's job list);
- ``job:{job_id}`` — one job (the Mini App's SSE for a job page).

On a Redis database other than 0 both carry a ``db<n>/`` prefix (:func:`namespace`); build
names with :func:`user_channel` / :func:`job_channel` passing the client.

The last event is also kept under ``job:{job_id}:progress`` for an hour, so a subscriber that
arrives late (or reconnects) starts from the current state: :func:`subscribe_progress` reads it
after subscribing and drops duplicates by ``seq``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from core.models.jobs import JobStatus
from jobs.generation.schemas import ProgressEvent

STATE_TTL_S = 3600


def namespace(redis: Redis) -> str:
    """``""`` on database 0, else ``"db<n>/"``: Redis pub/sub ignores database numbers, so
    deployments (and parallel test runs) sharing a server on different databases would hear
    each other's channels without it. Keys are per database already and keep plain names."""
    db = int(redis.connection_pool.connection_kwargs.get("db") or 0)
    return f"db{db}/" if db else ""


def user_channel(tenant_id: int, user_id: int, redis: Redis | None = None) -> str:
    """``jobs:{tenant_id}:{user_id}`` (prefixed by :func:`namespace` for ``redis``)."""
    return f"{namespace(redis) if redis is not None else ''}jobs:{tenant_id}:{user_id}"


def job_channel(job_id: int, redis: Redis | None = None) -> str:
    """``job:{job_id}`` (prefixed by :func:`namespace` for ``redis``)."""
    return f"{namespace(redis) if redis is not None else ''}job:{job_id}"


def state_key(job_id: int) -> str:
    return f"job:{job_id}:progress"


def cancel_key(job_id: int) -> str:
    """The Redis flag a cancel request sets; the worker's ``is_cancelled`` reads it."""
    return f"job:{job_id}:cancel"


class Sequencer:
    """Strictly increasing ``seq`` values (microseconds since the epoch) for one publisher."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, time.time_ns() // 1000)
        return self._last


async def publish(redis: Redis, event: ProgressEvent) -> None:
    """Send one event to both channels and keep it as the job's last state (one round trip)."""
    payload = event.model_dump_json(exclude_none=True)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(state_key(event.id), payload, ex=STATE_TTL_S)
        pipe.publish(job_channel(event.id, redis), payload)
        pipe.publish(user_channel(event.tenant_id, event.user_id, redis), payload)
        await pipe.execute()


async def last_event(redis: Redis, job_id: int) -> ProgressEvent | None:
    raw = await redis.get(state_key(job_id))
    return None if raw is None else ProgressEvent.model_validate_json(raw)


async def subscribe_progress(
    redis: Redis, job_id: int, *, event_timeout: float | None = None
) -> AsyncIterator[ProgressEvent]:
    """Yield a job's progress events in order, starting from its current state, until it
    ends (succeeded, failed, cancelled). ``event_timeout`` bounds the wait for each next event
    (``TimeoutError``); ``None`` waits as long as it takes."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(job_channel(job_id, redis))
    try:
        last_seq = 0
        current = await last_event(redis, job_id)
        if current is not None:
            last_seq = current.seq
            yield current
            if current.status.terminal:
                return
        while True:
            message = await _next_message(pubsub, event_timeout)
            event = ProgressEvent.model_validate_json(message["data"])
            if event.seq <= last_seq:
                continue
            last_seq = event.seq
            yield event
            if event.status.terminal:
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _next_message(pubsub: Any, wait_s: float | None) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message.get("type") == "message":
                return dict(message)

    if wait_s is None:
        return await wait()
    return await asyncio.wait_for(wait(), wait_s)


Persist = Callable[[int, str], Awaitable[bool]]


class ProgressReporter:
    """Turns a provider's ``progress(percent, stage)`` calls into events and row updates.

    Every change of percent or stage is published; the row is written when the stage changes
    or ``db_interval`` seconds passed since the last write (``persist`` returns False when the
    job is no longer ours, which the runner learns from :attr:`lost`).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        base: dict[str, Any],
        persist: Persist,
        db_interval: float = 0.5,
    ) -> None:
        self.redis = redis
        self.base = base
        self.persist = persist
        self.db_interval = db_interval
        self.sequencer = Sequencer()
        self.progress = 0
        self.stage = "queued"
        self.lost = False
        self._last_db = 0.0
        self._last_db_stage = ""

    def event(self, status: JobStatus, **extra: Any) -> ProgressEvent:
        fields = {
            **self.base,
            "status": status,
            "progress": self.progress,
            "stage": self.stage,
            **extra,
        }
        return ProgressEvent(seq=self.sequencer.next(), **fields)

    async def emit(self, status: JobStatus, **extra: Any) -> None:
        await publish(self.redis, self.event(status, **extra))

    async def __call__(self, percent: int, stage: str) -> None:
        # 100 belongs to the stored, settled job; progress never goes backwards.
        percent = max(self.progress, min(99, int(percent)))
        stage = stage[:64]
        if percent == self.progress and stage == self.stage:
            return
        self.progress, self.stage = percent, stage
        await self.emit(JobStatus.RUNNING)
        now = time.monotonic()
        if stage != self._last_db_stage or now - self._last_db >= self.db_interval:
            self._last_db, self._last_db_stage = now, stage
            if not await self.persist(self.progress, self.stage):
                self.lost = True
