"""Enqueue after commit: arq jobs requested inside a transaction leave only once it commits.

A service that creates a ``Job`` row and wants the worker to pick it up calls
:func:`defer_job` with the session it works in. Nothing reaches Redis yet: the request waits on
the session (in ``session.info``), so a rollback — an exception, a failed flush, a later
validation error — drops it, and the worker can never see an id whose row does not exist.

SQLAlchemy's ``after_commit`` hook is synchronous and fires inside ``commit()``, so it cannot
await the enqueue itself. It only marks the waiting jobs as *ready*; the edge that committed
then awaits :func:`flush_deferred_jobs`. Every edge — the FastAPI session dependency, the
aiogram DB middleware, the arq job wrapper — does both steps through :func:`unit_of_work`::

    async with unit_of_work(session_factory, redis) as session:
        await service.do_things(session)   # may call defer_job(session, "run_job", job.id)
    # committed, then the deferred jobs were sent to arq

Savepoints are respected: jobs deferred inside ``session.begin_nested()`` are dropped if that
savepoint rolls back and kept if it is released.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from arq.constants import default_queue_name
from arq.jobs import Job
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from core.db import session_scope

logger = logging.getLogger(__name__)

_INFO_KEY = "atelier.deferred_jobs"


@dataclass(frozen=True, slots=True)
class DeferredJob:
    """One ``ArqRedis.enqueue_job`` call, held until the transaction commits."""

    function: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    queue_name: str | None = None
    defer_until: datetime | None = None
    defer_by: int | float | timedelta | None = None
    expires: int | float | timedelta | None = None


@dataclass(slots=True)
class _SessionJobs:
    """Per-session bookkeeping: jobs waiting on their transaction, and jobs ready to send."""

    pending: list[tuple[DeferredJob, SessionTransaction]] = field(default_factory=list)
    ready: list[DeferredJob] = field(default_factory=list)


def _jobs_of(session: Session, *, create: bool = False) -> _SessionJobs | None:
    jobs = session.info.get(_INFO_KEY)
    if jobs is None and create:
        jobs = session.info[_INFO_KEY] = _SessionJobs()
    return jobs


def defer_job(
    session: AsyncSession,
    function: str,
    *args: Any,
    _job_id: str | None = None,
    _queue_name: str | None = None,
    _defer_until: datetime | None = None,
    _defer_by: int | float | timedelta | None = None,
    _expires: int | float | timedelta | None = None,
    **kwargs: Any,
) -> DeferredJob:
    """Ask for ``function(*args, **kwargs)`` to be enqueued once ``session`` commits.

    The underscore options mirror :meth:`arq.connections.ArqRedis.enqueue_job`; a fixed
    ``_job_id`` makes the enqueue idempotent (arq refuses a second job with the same id).
    """
    job = DeferredJob(
        function=function,
        args=args,
        kwargs=kwargs,
        job_id=_job_id,
        queue_name=_queue_name,
        defer_until=_defer_until,
        defer_by=_defer_by,
        expires=_expires,
    )
    sync_session = session.sync_session
    # Begin explicitly when no statement ran yet: a rollback of a session that never began
    # fires no event at all, and the job must still be dropped by it.
    transaction = (
        sync_session.get_nested_transaction()
        or sync_session.get_transaction()
        or sync_session.begin()
    )
    jobs = _jobs_of(sync_session, create=True)
    assert jobs is not None
    jobs.pending.append((job, transaction))
    return job


def pending_jobs(session: AsyncSession) -> list[DeferredJob]:
    """Jobs still waiting on their transaction (for tests and debugging)."""
    jobs = _jobs_of(session.sync_session)
    return [job for job, _ in jobs.pending] if jobs else []


def ready_jobs(session: AsyncSession) -> list[DeferredJob]:
    """Jobs whose transaction committed but that were not flushed yet."""
    jobs = _jobs_of(session.sync_session)
    return list(jobs.ready) if jobs else []


def _within(transaction: SessionTransaction, ancestor: SessionTransaction) -> bool:
    node: SessionTransaction | None = transaction
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


@event.listens_for(Session, "after_commit")
def _promote_on_commit(session: Session) -> None:
    """The outer transaction committed: its jobs may now be sent.

    ``after_commit`` also fires when a savepoint is released; those jobs keep waiting on the
    enclosing transaction.
    """
    jobs = _jobs_of(session)
    if jobs is None or not jobs.pending or session.in_nested_transaction():
        return
    jobs.ready.extend(job for job, _ in jobs.pending)
    jobs.pending.clear()


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """Drop what the rolled-back transaction (or savepoint) deferred."""
    jobs = _jobs_of(session)
    if jobs is None or not jobs.pending:
        return
    if not previous_transaction.nested:
        dropped = len(jobs.pending)
        jobs.pending.clear()
    else:
        kept = [(j, t) for j, t in jobs.pending if not _within(t, previous_transaction)]
        dropped = len(jobs.pending) - len(kept)
        jobs.pending[:] = kept
    if dropped:
        logger.debug("dropped %d deferred job(s) on rollback", dropped)


WAKE_KEY = "atelier:wake:{queue}"
WAKE_BACKLOG = 64
"""At most this many wake tokens wait in the list (more could not wake more idle workers)."""


def wake_key(queue_name: str = default_queue_name) -> str:
    return WAKE_KEY.format(queue=queue_name)


async def wake(redis: Redis, queue_name: str = default_queue_name, count: int = 1) -> None:
    """Tell idle workers of ``queue_name`` that ``count`` jobs wait (one round trip).

    Workers (``jobs.wakeup.FastStartWorker``) block on this list instead of polling, so a job
    starts within milliseconds of its enqueue; a token nobody takes stays for the next idle
    worker, capped at :data:`WAKE_BACKLOG`.
    """
    key = wake_key(queue_name)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lpush(key, *([b"1"] * max(1, min(count, WAKE_BACKLOG))))
        pipe.ltrim(key, 0, WAKE_BACKLOG - 1)
        await pipe.execute()


async def flush_deferred_jobs(session: AsyncSession, redis: ArqRedis) -> list[Job]:
    """Send every job whose transaction committed to arq; call it right after ``commit()``.

    The data is already committed, so a failure here must not pretend the unit of work failed
    (that would invite a retry of work that happened). A job that cannot be sent is logged at
    ERROR with everything needed to re-send it; after a connection failure the rest are
    logged the same way instead of each waiting for its own timeout.
    """
    jobs = _jobs_of(session.sync_session)
    if jobs is None or not jobs.ready:
        return []
    batch, jobs.ready = jobs.ready, []
    sent: list[Job] = []
    queues: Counter[str] = Counter()
    redis_down = False
    for job in batch:
        if redis_down:
            _log_lost(job)
            continue
        try:
            arq_job = await redis.enqueue_job(
                job.function,
                *job.args,
                _job_id=job.job_id,
                _queue_name=job.queue_name,
                _defer_until=job.defer_until,
                _defer_by=job.defer_by,
                _expires=job.expires,
                **job.kwargs,
            )
        except (RedisConnectionError, RedisTimeoutError, OSError):
            redis_down = True
            _log_lost(job)
            continue
        except Exception:
            logger.exception(
                "could not enqueue deferred job %s", job.function, extra=_describe(job)
            )
            continue
        if arq_job is None:
            logger.info("deferred job %s already enqueued (id %s)", job.function, job.job_id)
        else:
            sent.append(arq_job)
            queues[job.queue_name or redis.default_queue_name] += 1
    await _wake_workers(redis, queues)
    return sent


async def _wake_workers(redis: ArqRedis, queues: Counter[str]) -> None:
    for queue_name, count in queues.items():
        try:
            await wake(redis, queue_name, count)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            # The jobs are queued; workers still find them at their fallback poll.
            logger.warning("could not wake workers of queue %s", queue_name)


def _log_lost(job: DeferredJob) -> None:
    logger.error(
        "redis unreachable: deferred job %s not enqueued", job.function, extra=_describe(job)
    )


def _describe(job: DeferredJob) -> dict[str, Any]:
    return {"job_function": job.function, "job_args": repr(job.args), "deferred_job_id": job.job_id}


@asynccontextmanager
async def unit_of_work(
    factory: async_sessionmaker[AsyncSession], redis: ArqRedis
) -> AsyncIterator[AsyncSession]:
    """One session for one unit of work: commit on success, roll back on error, then enqueue.

    The single helper behind every edge (API dependency, bot middleware, job wrapper), so
    "commit only at the edge" and "enqueue after commit" cannot drift apart between them.
    """
    async with session_scope(factory) as session:
        yield session
    await flush_deferred_jobs(session, redis)
