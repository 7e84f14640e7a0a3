"""Fast start: an idle worker with a long fallback poll still starts jobs promptly."""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis, RedisSettings
from arq.constants import abort_jobs_ss, default_queue_name, result_key_prefix
from arq.jobs import Job
from arq.utils import timestamp_ms
from arq.worker import Retry, Worker, func
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
    assert await arq_redis.llen(queue.wake_key()) == queue.WAKE_BACKLOG  # type: ignore[misc]


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


# -- batched starts and finishes keep arq's behaviour -------------------------------------------


async def echo(ctx: dict[str, Any], value: int) -> int:
    await ctx["redis"].incr(f"ran:{ctx['job_id']}")
    return value


async def flaky(ctx: dict[str, Any]) -> int:
    if ctx["job_try"] == 1:
        raise Retry(defer=0.05)
    return int(ctx["job_try"])


async def broken(ctx: dict[str, Any]) -> None:
    raise ValueError("broken on purpose")


BATCH_FUNCTIONS = [
    func(echo, name="echo"),
    func(flaky, name="flaky"),
    func(broken, name="broken"),
    func(echo, name="echo_forever", keep_result_forever=True),
]


def _burst_worker(redis_url: str, cls: type[Worker] = FastStartWorker, **options: Any) -> Worker:
    return cls(
        functions=BATCH_FUNCTIONS,
        redis_settings=RedisSettings.from_dsn(redis_url),
        burst=True,
        handle_signals=False,
        poll_delay=0.05,
        **options,
    )


async def _run_and_close(worker: Worker) -> None:
    try:
        await asyncio.wait_for(worker.async_run(), 20)
    finally:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()


async def test_a_burst_keeps_arq_results_retries_failures_and_aborts(
    redis_url: str, arq_redis: ArqRedis
) -> None:
    echoes = [await arq_redis.enqueue_job("echo", i) for i in range(25)]
    forever = await arq_redis.enqueue_job("echo_forever", 99)
    retried = await arq_redis.enqueue_job("flaky")
    failed = await arq_redis.enqueue_job("broken")
    aborted = await arq_redis.enqueue_job("echo", -1)
    assert None not in (*echoes, forever, retried, failed, aborted)
    assert forever and retried and failed and aborted
    await arq_redis.zadd(abort_jobs_ss, {aborted.job_id: timestamp_ms()})

    worker = _burst_worker(redis_url, allow_abort_jobs=True)
    await _run_and_close(worker)

    assert [await job.result(timeout=1) for job in echoes if job] == list(range(25))
    assert await retried.result(timeout=1) == 2  # ran again, as try 2
    with pytest.raises(ValueError, match="broken on purpose"):
        await failed.result(timeout=1)
    info = await aborted.result_info()
    assert info is not None and not info.success
    assert isinstance(info.result, asyncio.CancelledError)
    assert await arq_redis.get(f"ran:{aborted.job_id}") is None
    assert (worker.jobs_complete, worker.jobs_retried, worker.jobs_failed) == (27, 1, 2)
    # Finished jobs leave nothing behind but their results, with arq's expiry.
    assert await arq_redis.zcard(default_queue_name) == 0
    leftovers = [
        key
        async for key in arq_redis.scan_iter(match="arq:*")
        if not key.startswith(result_key_prefix.encode())
    ]
    assert leftovers == []
    first = echoes[0]
    assert first is not None
    assert 0 < await arq_redis.pttl(result_key_prefix + first.job_id) <= 3600 * 1000
    assert await arq_redis.pttl(result_key_prefix + forever.job_id) == -1


async def test_fast_and_plain_arq_workers_share_a_queue_and_run_each_job_once(
    redis_url: str, arq_redis: ArqRedis
) -> None:
    jobs = [await arq_redis.enqueue_job("echo", i) for i in range(200)]
    fast, plain = _burst_worker(redis_url), _burst_worker(redis_url, Worker)
    await asyncio.gather(_run_and_close(fast), _run_and_close(plain))

    assert [await job.result(timeout=1) for job in jobs if job] == list(range(200))
    assert fast.jobs_complete + plain.jobs_complete == 200
    assert fast.jobs_complete > 0
    runs = [await arq_redis.get(f"ran:{job.job_id}") for job in jobs if job]
    assert set(runs) == {b"1"}
