"""Run the real arq worker (our settings, our wrapper) in burst mode against the test Redis."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from sqlalchemy.ext.asyncio import AsyncEngine

from core.redis import close_redis, create_redis
from core.settings import Settings
from jobs.worker import create_worker
from tests.jobs.probes import PROBES

RunWorker = Callable[..., Awaitable[Worker]]


async def run_burst_worker(settings: Settings, **overrides: Any) -> Worker:
    """Run every queued job (and the jobs they enqueue) to completion, then stop."""
    options: dict[str, Any] = {
        "functions": PROBES,
        "cron_jobs": [],
        "burst": True,
        "handle_signals": False,
        "poll_delay": 0.05,
        "max_tries": 1,
        **overrides,
    }
    worker = create_worker(settings, **options)
    try:
        await worker.async_run()
    finally:
        with warnings.catch_warnings():
            # arq 0.28 closes its pool with redis-py's deprecated close(); not ours to fix.
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()
    return worker


@pytest.fixture
def run_worker(settings: Settings, engine: AsyncEngine, redis_url: str) -> RunWorker:
    async def _run(**overrides: Any) -> Worker:
        return await run_burst_worker(settings, **overrides)

    return _run


@pytest.fixture
async def arq_redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    client = create_redis(url=redis_url)
    yield client
    await close_redis(client)
