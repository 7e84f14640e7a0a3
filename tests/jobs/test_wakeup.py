"""Fast start: an idle worker with a long fallback poll still starts jobs promptly."""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.jobs import Job
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import queue
from core.queue import defer_job, unit_of_work
from core.settings import Settings
from jobs import wakeup
from jobs.wakeup import FastStartWorker
from jobs.worker import create_worker
from tests.jobs.probes import PROBES

FALLBACK_S = 5.0


@pytest.fixture
async def idle_worker(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastStartWorker]:
    worker = create_worker(
        settings, functions=PROBES, cron_jobs=[], handle_signals=False, poll_delay=FALLBACK_S
    )
    assert isinstance(worker, FastStartWorker)
    task = asyncio.create_task(worker.async_run())
    await asyncio.sleep(0.3)  # started, polled once, now blocked on the wake list
    yield worker
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
        await worker.close()


async def _ran_within(arq_redis: ArqRedis, job: Any) -> float:
    started = time.monotonic()
    await job.result(timeout=FALLBACK_S * 2, poll_delay=0.01)
    return time.monotonic() - started


async def test_an_enqueue_wakes_an_idle_worker_at_once(
    arq_redis: ArqRedis, idle_worker: FastStartWorker
) -> None:
    for key in ("first", "second", "third"):
        job = await wakeup.enqueue_job(arq_redis, "probe_job", key, 0)
        assert job is not None
        assert await _ran_within(arq_redis, job) < 1.0  # the fallback poll is 5 s
    assert idle_worker.wakes >= 3 and idle_worker.jobs_complete == 3


async def test_deferred_jobs_start_when_due_without_a_wake(
    arq_redis: ArqRedis, idle_worker: FastStartWorker
) -> None:
    # Enqueued without a wake (like arq's own Retry): the worker's timer starts it when due.
    job = await arq_redis.enqueue_job("probe_job", "later", 0, _defer_by=0.3)
    assert job is not None
    await queue.wake(arq_redis)  # the worker learns about the deferred job's due time
    assert await _ran_within(arq_redis, job) < 2.0
    assert idle_worker.jobs_complete == 1


async def test_wake_tokens_are_capped(arq_redis: ArqRedis) -> None:
    await queue.wake(arq_redis, count=1000)
    await queue.wake(arq_redis, count=1000)
    assert await arq_redis.llen(queue.wake_key()) == queue.WAKE_BACKLOG


async def test_jobs_sent_after_commit_wake_an_idle_worker(
    session_factory: async_sessionmaker[AsyncSession],
    arq_redis: ArqRedis,
    idle_worker: FastStartWorker,
) -> None:
    async with unit_of_work(session_factory, arq_redis) as session:
        defer_job(session, "probe_job", "after-commit", 0, _job_id="after-commit")
    job = Job("after-commit", arq_redis)
    assert await _ran_within(arq_redis, job) < 1.0  # the fallback poll is 5 s
    assert idle_worker.wakes >= 1


async def test_an_enqueue_without_a_wake_still_runs_on_the_fallback_poll(
    settings: Settings, engine: AsyncEngine, arq_redis: ArqRedis
) -> None:
    worker = create_worker(
        settings, functions=PROBES, cron_jobs=[], handle_signals=False, poll_delay=0.3
    )
    task = asyncio.create_task(worker.async_run())
    try:
        await asyncio.sleep(0.2)
        job = await arq_redis.enqueue_job("probe_job", "no-wake", 0)  # plain arq, no token
        assert job is not None
        await job.result(timeout=5, poll_delay=0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()
