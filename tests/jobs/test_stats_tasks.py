"""The stats jobs in the real worker: the rollup cron's job rebuilds today's numbers for every
tenant, and the backfill job rebuilds a range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Tenant, TenantDailyStat, User
from jobs.stats_tasks import STATS_CRON_JOBS, rollup_stats
from tests.jobs.conftest import RunWorker

Factory = async_sessionmaker[AsyncSession]


async def _stats(factory: Factory) -> set[tuple[int, date, str, int]]:
    async with factory() as session:
        rows = await session.execute(
            select(
                TenantDailyStat.tenant_id,
                TenantDailyStat.day,
                TenantDailyStat.metric,
                TenantDailyStat.value,
            )
        )
        return {(t, d, m, v) for t, d, m, v in rows.all()}


async def test_rollup_and_backfill_run_in_the_worker(
    session_factory: Factory, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    now = datetime.now(UTC)
    async with session_factory() as session:
        first, second = Tenant(name="A"), Tenant(name="B")
        session.add_all([first, second])
        await session.flush()
        session.add_all(
            [
                User(tenant_id=first.id, telegram_id=1, created_at=now),
                User(tenant_id=first.id, telegram_id=2, created_at=now),
                User(tenant_id=second.id, telegram_id=1, created_at=now - timedelta(days=20)),
            ]
        )
        await session.commit()
        a, b = first.id, second.id

    await arq_redis.enqueue_job("rollup_stats")
    worker = await run_worker()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    today = now.date()
    yesterday = today - timedelta(days=1)
    assert await _stats(session_factory) == {
        (a, today, "users.new", 2),
        (a, today, "users.total", 2),  # none yesterday: zero is not stored
        (b, yesterday, "users.total", 1),
        (b, today, "users.total", 1),
    }

    await arq_redis.enqueue_job("backfill_stats", 30, b)
    worker = await run_worker()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    async with session_factory() as session:
        new_b = (
            (
                await session.execute(
                    select(TenantDailyStat.day).where(
                        TenantDailyStat.tenant_id == b, TenantDailyStat.metric == "users.new"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert new_b == [(now - timedelta(days=20)).date()]


def test_the_rollup_runs_every_ten_minutes() -> None:
    (job,) = STATS_CRON_JOBS
    assert job.coroutine is rollup_stats
    assert sorted(job.minute) == [3, 13, 23, 33, 43, 53]  # type: ignore[arg-type]
