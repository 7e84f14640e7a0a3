"""Retries, cancellation and crash safety of generation jobs, with real workers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import File, Job, JobStatus
from core.queue import unit_of_work
from core.settings import Settings
from devtools.openai.testing import running_openai_server
from jobs.generation import service
from jobs.generation.errors import JobFinishedError
from jobs.generation.progress import subscribe_progress
from tests.jobs.generation.conftest import FAST, Fan, money, run_jobs
from tests.jobs.generation.providers import SLOW_SECONDS_ENV

Factory = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parents[3]


async def create(factory: Factory, redis: ArqRedis, who: Fan, tool: str, **params: Any) -> Job:
    async with unit_of_work(factory, redis) as session:
        return await service.create_job(
            session, tenant_id=who.tenant_id, user_id=who.user_id, tool_slug=tool, params=params
        )


async def reload(factory: Factory, job_id: int) -> Job:
    async with factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def files_of(factory: Factory, job_id: int) -> int:
    async with factory() as session:
        stmt = select(func.count()).select_from(File).where(File.job_id == job_id)
        return int(await session.scalar(stmt) or 0)


async def wait_until(check: Callable[[], Any], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def test_transient_provider_errors_are_retried_then_succeed(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    async with running_openai_server() as (base_url, control):
        online = settings.model_copy(
            update={"openai_base_url": base_url, "openai_api_key": control.api_key}
        )
        control.server_error_next(1, path="chat/completions")
        control.rate_limit_next(1, retry_after=0.1, path="chat/completions")
        job = await create(session_factory, arq_redis, fan, "chat", prompt="name my cat")

        worker = await run_jobs(settings, ctx={"settings": online, "generation_config": FAST})

        done = await reload(session_factory, job.id)
        assert done.status == JobStatus.SUCCEEDED, done.error_message
        assert done.attempts == 3 and worker.jobs_retried == 2
        assert done.result["text"] and done.result["provider"] == "openai"
        assert len(control.requests_to("chat/completions")) == 3
    state = await money(session_factory, fan)
    assert (state.fan_balance, state.fan_reserved, state.captures) == (999, 0, 2)


async def test_a_queued_job_is_cancelled_before_it_starts(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    job = await create(session_factory, arq_redis, fan, "image-generate", prompt="a boat")
    async with unit_of_work(session_factory, arq_redis) as session:
        cancelled = await service.cancel_job(session, fan.tenant_id, fan.user_id, job.id)
    assert cancelled.status == JobStatus.CANCELLED

    await run_jobs(settings)

    after = await reload(session_factory, job.id)
    assert after.status == JobStatus.CANCELLED and after.attempts == 0
    assert await files_of(session_factory, job.id) == 0
    state = await money(session_factory, fan)
    assert (state.fan_balance, state.fan_reserved, state.platform_reserved) == (1000, 0, 0)
    assert (state.captures, state.releases) == (0, 2)
    seen = [e async for e in subscribe_progress(arq_redis, job.id, event_timeout=2)]
    assert seen[-1].status == JobStatus.CANCELLED
    async with unit_of_work(session_factory, arq_redis) as session:
        with pytest.raises(JobFinishedError):
            await service.cancel_job(session, fan.tenant_id, fan.user_id, job.id)


@pytest.mark.parametrize(
    ("tool", "params", "stage"),
    [
        ("test-slow-image", {"prompt": "slowly"}, "thinking slowly"),
        # ffmpeg renders a long, large clip: cancelling kills it at its next check.
        (
            "video-from-text",
            {"prompt": "a storm", "duration": 10, "size": "1920x1080", "fps": 30},
            "rendering video",
        ),
    ],
)
async def test_a_running_job_stops_at_its_next_checkpoint(
    settings: Settings,
    session_factory: Factory,
    arq_redis: ArqRedis,
    fan: Fan,
    monkeypatch: pytest.MonkeyPatch,
    tool: str,
    params: dict[str, Any],
    stage: str,
) -> None:
    monkeypatch.setenv(SLOW_SECONDS_ENV, "20")
    job = await create(session_factory, arq_redis, fan, tool, **params)
    worker = asyncio.create_task(run_jobs(settings))
    async for event in subscribe_progress(arq_redis, job.id, event_timeout=20):
        if event.stage == stage and event.progress > 5:
            break
    started = time.monotonic()
    async with unit_of_work(session_factory, arq_redis) as session:
        asked = await service.cancel_job(
            session, fan.tenant_id, fan.user_id, job.id, redis=arq_redis
        )
    assert asked.status == JobStatus.RUNNING and asked.cancel_requested_at is not None
    await asyncio.wait_for(worker, 30)
    assert time.monotonic() - started < 10  # far sooner than the work would have taken

    after = await reload(session_factory, job.id)
    assert after.status == JobStatus.CANCELLED and after.error_code == "cancelled"
    assert await files_of(session_factory, job.id) == 0
    state = await money(session_factory, fan)
    assert (state.fan_balance, state.fan_reserved, state.platform_reserved) == (1000, 0, 0)
    assert (state.captures, state.releases) == (0, 2)


async def test_a_worker_killed_mid_job_leaves_a_job_that_finishes_once(
    settings: Settings,
    session_factory: Factory,
    arq_redis: ArqRedis,
    fan: Fan,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = await create(session_factory, arq_redis, fan, "test-slow-image", prompt="survive")
    env = {**os.environ, SLOW_SECONDS_ENV: "60", "ATELIER_TEST_IN_PROGRESS_S": "3"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.jobs.generation.crash_worker", cwd=ROOT, env=env
    )
    try:

        async def working() -> bool:
            current = await reload(session_factory, job.id)
            return current.status == JobStatus.RUNNING and current.progress > 5

        await wait_until(working)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    killed = await reload(session_factory, job.id)
    assert killed.status == JobStatus.RUNNING and killed.attempts == 1

    # The second worker: the sweep finds the stale heartbeat and enqueues the job again; arq
    # also gives the killed worker's claim back after 3 s and runs it — as a no-op by then.
    monkeypatch.setenv(SLOW_SECONDS_ENV, "0.2")
    await asyncio.sleep(1.2)  # longer than the test config's stale_after
    await arq_redis.enqueue_job("recover_stale_jobs")
    worker = await run_jobs(settings)

    done = await reload(session_factory, job.id)
    assert done.status == JobStatus.SUCCEEDED and done.attempts == 2
    # The sweep, then whichever of the recovered run and arq's own re-run claims first (the
    # other, if the sweep still saw the job stalled, finds it taken or done: a no-op).
    assert worker.jobs_failed == 0 and worker.jobs_complete >= 2
    assert await files_of(session_factory, job.id) == 1
    state = await money(session_factory, fan)
    assert (state.fan_balance, state.fan_reserved) == (995, 0)
    assert (state.platform_balance, state.platform_reserved) == (998, 0)
    assert (state.captures, state.releases) == (2, 0)

    # Running a finished job again changes nothing.
    await arq_redis.enqueue_job("run_generation", job.id, fan.tenant_id, _job_id="again")
    await run_jobs(settings)
    assert (await reload(session_factory, job.id)).attempts == 2
    assert await files_of(session_factory, job.id) == 1
    assert (await money(session_factory, fan)).captures == 2
