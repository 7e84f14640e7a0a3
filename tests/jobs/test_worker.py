"""The worker end to end on real Redis and PostgreSQL: settings, wrapper, enqueue after commit."""

from __future__ import annotations

from typing import Any

import httpx
from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Tenant
from core.queue import defer_job, unit_of_work
from core.settings import Settings
from jobs.worker import CRON_JOBS, FUNCTIONS, worker_settings
from tests.jobs.conftest import RunWorker
from tests.jobs.probes import PROBE_KEY
from tests.miniapp_api.conftest import build_app

Factory = async_sessionmaker[AsyncSession]


async def _tenant_count(factory: Factory) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Tenant)) or 0)


def test_worker_settings_come_from_settings(settings: Settings) -> None:
    config = worker_settings(settings)
    assert config["redis_settings"].database == int(settings.redis_url.rsplit("/", 1)[1])
    assert "redis_pool" not in config
    assert config["functions"] == FUNCTIONS
    assert [job.name for job in config["cron_jobs"]] == [
        "cron:reconcile_ledger",
        "cron:recover_stale_jobs",
        "cron:purge_drive_trash",
        "cron:reconcile_all_drive_usage",
        "cron:reconcile_payments",
        "cron:expire_plans",
        "cron:rollup_stats",
        "cron:publish_due_posts",
        "cron:expire_vip",
        "cron:ton_watch",
        "cron:ton_payouts",
        "cron:recover_broadcasts",
        "cron:purge_broadcast_deliveries",
        "cron:ton_connect_sweep",
        "cron:drain_chatlog",
        "cron:purge_chatlog",
    ]
    assert CRON_JOBS[0].minute is not None and CRON_JOBS[0].hour is None  # hourly
    assert config["ctx"] == {"settings": settings}


async def test_a_job_from_a_committed_transaction_runs(
    session_factory: Factory, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    async with unit_of_work(session_factory, arq_redis) as session:
        tenant = Tenant(name="committed")
        session.add(tenant)
        await session.flush()
        defer_job(session, "probe_job", "committed", tenant.id)

    worker = await run_worker()

    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    # The job saw the row it was enqueued for: the enqueue happened after the commit.
    assert await arq_redis.get(PROBE_KEY.format("committed")) == b"row"


async def test_a_job_from_a_rolled_back_transaction_never_runs(
    session_factory: Factory, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    try:
        async with unit_of_work(session_factory, arq_redis) as session:
            tenant = Tenant(name="rolled back")
            session.add(tenant)
            await session.flush()
            defer_job(session, "probe_job", "rolled-back", tenant.id)
            raise LookupError("changed my mind")
    except LookupError:
        pass

    worker = await run_worker()

    assert worker.jobs_complete == 0
    assert await arq_redis.get(PROBE_KEY.format("rolled-back")) is None
    assert await _tenant_count(session_factory) == 0


async def test_api_requests_enqueue_only_when_they_commit(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ok = await client.post("/api/v1/test/tenants", params={"name": "kept"})
            refused = await client.post(
                "/api/v1/test/tenants", params={"name": "dropped", "fail": True}
            )
    assert ok.status_code == 200
    assert refused.status_code == 409

    worker = await run_worker()

    assert worker.jobs_complete == 1
    assert await arq_redis.get(PROBE_KEY.format("kept")) == b"row"
    assert await arq_redis.get(PROBE_KEY.format("dropped")) is None
    assert await _tenant_count(session_factory) == 1


async def test_the_job_wrapper_commits_then_enqueues_follow_ups(
    session_factory: Factory, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await arq_redis.enqueue_job("chain_job", "chained")

    worker = await run_worker()

    assert worker.jobs_complete == 2  # chain_job, then the probe it deferred
    assert await arq_redis.get(PROBE_KEY.format("chained")) == b"row"
    assert await _tenant_count(session_factory) == 1


async def test_the_job_wrapper_rolls_back_a_failed_job(
    session_factory: Factory, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    job = await arq_redis.enqueue_job("failing_job", "doomed")
    assert job is not None

    worker = await run_worker()

    assert worker.jobs_failed == 1 and worker.jobs_complete == 0
    info: Any = await job.result_info()
    assert info is not None and not info.success
    assert await arq_redis.get(PROBE_KEY.format("doomed")) is None
    assert await _tenant_count(session_factory) == 0
