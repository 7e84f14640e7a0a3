"""Daily rollups from seeded events, on PostgreSQL and SQLite: every metric lands on the right
UTC day for the right tenant, a rebuild gives the same rows (and drops numbers whose events
are gone), one tenant's rebuild leaves the others alone, and the report adds up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import migrate
from core.db import create_engine, create_session_factory
from core.models import (
    ActivitySource,
    CompletionStatus,
    Job,
    JobStatus,
    Payment,
    Post,
    PostAccess,
    PostStatus,
    PostUnlock,
    PostView,
    Refund,
    Task,
    TaskCompletion,
    TaskKind,
    Tenant,
    TenantDailyStat,
    Tool,
    User,
    UserActivityDay,
    VipPackage,
    VipStatus,
    VipSubscription,
)
from core.settings import Settings
from tenants.stats import service

TODAY = date(2026, 5, 10)
D1, D2 = TODAY - timedelta(days=1), TODAY - timedelta(days=2)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), UTC)


@dataclass
class Seeded:
    a: int
    b: int
    refund_payment: int


async def seed(session: AsyncSession) -> Seeded:
    a, b = Tenant(name="A"), Tenant(name="B")
    session.add_all([a, b])
    await session.flush()
    tool = Tool(
        slug="t", category="image", kind="text_to_image", provider="offline", price=1, base_cost=1
    )
    session.add(tool)
    users = [
        User(tenant_id=a.id, telegram_id=1, created_at=at(TODAY - timedelta(days=5))),
        User(tenant_id=a.id, telegram_id=2, created_at=at(TODAY - timedelta(days=5))),
        User(tenant_id=a.id, telegram_id=3, created_at=at(D2, 0, 0, 0)),
        User(tenant_id=a.id, telegram_id=4, created_at=at(D2, 9)),
        User(tenant_id=a.id, telegram_id=5, created_at=at(D1, 23, 59, 59)),  # still D-1
        User(tenant_id=a.id, telegram_id=6, created_at=at(TODAY, 0, 0, 1)),
        User(tenant_id=b.id, telegram_id=1, created_at=at(D1)),
    ]
    session.add_all(users)
    await session.flush()
    u = [user.id for user in users]
    bot, app = ActivitySource.BOT.value, ActivitySource.APP.value
    session.add_all(
        [
            UserActivityDay(tenant_id=a.id, user_id=u[0], day=D2, source=bot),
            UserActivityDay(tenant_id=a.id, user_id=u[0], day=D2, source=app),
            UserActivityDay(tenant_id=a.id, user_id=u[1], day=D2, source=bot),
            UserActivityDay(tenant_id=a.id, user_id=u[2], day=TODAY, source=app),
            UserActivityDay(tenant_id=b.id, user_id=u[6], day=D1, source=bot),
        ]
    )

    def payment(tenant: int, kind: str, stars: int, when: datetime, n: int) -> Payment:
        return Payment(
            tenant_id=tenant,
            telegram_payment_charge_id=f"charge-{tenant}-{n}",
            kind=kind,
            telegram_user_id=1,
            stars=stars,
            payload="p",
            created_at=when,
        )

    payments = [
        payment(a.id, "credits", 50, at(D1, 8), 1),
        payment(a.id, "credits", 250, at(D1, 20), 2),
        payment(a.id, "ppv", 30, at(TODAY, 1), 3),
        payment(b.id, "credits", 100, at(D1), 4),
        payment(a.id, "credits", 999, at(TODAY - timedelta(days=3)), 5),  # outside the window
    ]
    session.add_all(payments)
    await session.flush()
    session.add(
        Refund(
            tenant_id=a.id, payment_id=payments[0].id, credits=100, stars=50, created_at=at(TODAY)
        )
    )

    def job(status: JobStatus, created: datetime, finished: datetime | None, price: int) -> Job:
        return Job(
            tenant_id=a.id,
            user_id=u[0],
            tool_id=tool.id,
            tool_slug="t",
            status=status.value,
            price=price,
            created_at=created,
            finished_at=finished,
        )

    session.add_all(
        [
            job(JobStatus.SUCCEEDED, at(D2, 23, 59), at(D1, 0, 1), 12),
            job(JobStatus.FAILED, at(D1, 10), at(D1, 10, 5), 5),
            job(JobStatus.QUEUED, at(TODAY, 3), None, 7),
        ]
    )
    task = Task(tenant_id=a.id, kind=TaskKind.CUSTOM.value, title="t", reward_xp=40)
    session.add(task)
    await session.flush()
    session.add_all(
        [
            TaskCompletion(
                tenant_id=a.id,
                task_id=task.id,
                user_id=u[0],
                status=CompletionStatus.COMPLETED.value,
                xp=40,
                completed_at=at(TODAY, 2),
            ),
            TaskCompletion(
                tenant_id=a.id,
                task_id=task.id,
                user_id=u[1],
                status=CompletionStatus.PENDING.value,
                xp=0,
            ),
        ]
    )
    post = Post(
        tenant_id=a.id, access=PostAccess.PPV.value, price_stars=5, status=PostStatus.PUBLISHED
    )
    package = VipPackage(tenant_id=a.id, name="Gold", price_stars=300)
    session.add_all([post, package])
    await session.flush()

    def unlock(user_id: int, source: str, when: datetime) -> PostUnlock:
        return PostUnlock(
            tenant_id=a.id, post_id=post.id, user_id=user_id, source=source, created_at=when
        )

    session.add_all(
        [
            PostView(tenant_id=a.id, post_id=post.id, user_id=u[0], created_at=at(D1)),
            PostView(tenant_id=a.id, post_id=post.id, user_id=u[1], created_at=at(D1, 23, 59)),
            unlock(u[0], "ppv", at(TODAY, 1)),
            unlock(u[1], "task", at(TODAY, 2)),
            VipSubscription(  # still running
                tenant_id=a.id,
                user_id=u[0],
                package_id=package.id,
                period_end=at(TODAY + timedelta(days=20)),
                created_at=at(D2),
            ),
            VipSubscription(  # started the same day, gone the next morning
                tenant_id=a.id,
                user_id=u[1],
                package_id=package.id,
                status=VipStatus.EXPIRED,
                period_end=at(D1),
                created_at=at(D2, 13),
                expired_at=at(D1, 6),
            ),
        ]
    )
    await session.flush()
    return Seeded(a.id, b.id, payments[0].id)


EXPECTED_A = {
    (D2, "users.new"): 2,
    (D2, "users.total"): 4,
    (D1, "users.new"): 1,
    (D1, "users.total"): 5,
    (TODAY, "users.new"): 1,
    (TODAY, "users.total"): 6,
    (D2, "users.active"): 2,
    (D2, "users.app"): 1,
    (TODAY, "users.active"): 1,
    (TODAY, "users.app"): 1,
    (D1, "revenue.credits"): 300,
    (D1, "payments.credits"): 2,
    (TODAY, "revenue.ppv"): 30,
    (TODAY, "payments.ppv"): 1,
    (TODAY, "refunds.stars"): 50,
    (D2, "jobs.created"): 1,
    (D1, "jobs.created"): 1,
    (TODAY, "jobs.created"): 1,
    (D1, "jobs.succeeded"): 1,
    (D1, "jobs.failed"): 1,
    (D1, "credits.spent"): 12,
    (TODAY, "tasks.completed"): 1,
    (TODAY, "xp.awarded"): 40,
    (D1, "views"): 2,
    (TODAY, "unlocks.ppv"): 1,
    (TODAY, "unlocks.task"): 1,
    (TODAY, "unlocks"): 2,
    (D2, "subscribers.new"): 2,
    (D1, "subscribers.churned"): 1,
    (D2, "subscribers.active"): 2,
    (D1, "subscribers.active"): 1,
    (TODAY, "subscribers.active"): 1,
}
EXPECTED_B = {
    (D1, "users.new"): 1,
    (D1, "users.total"): 1,
    (TODAY, "users.total"): 1,
    (D1, "users.active"): 1,
    (D1, "revenue.credits"): 100,
    (D1, "payments.credits"): 1,
}


async def rollup_rows(session: AsyncSession, tenant_id: int) -> dict[tuple[date, str], int]:
    rows = await session.execute(
        select(TenantDailyStat.day, TenantDailyStat.metric, TenantDailyStat.value).where(
            TenantDailyStat.tenant_id == tenant_id
        )
    )
    return {(day, metric): value for day, metric, value in rows.all()}


@pytest.fixture(params=["postgresql", "sqlite"])
async def factory(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "postgresql":
        yield session_factory
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(Settings(database_url=url), url=url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def test_rollup_puts_every_event_on_its_day_and_tenant(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as session:
        seeded = await seed(session)
        await session.commit()
        written = await service.rollup(session, D2, TODAY)
        await session.commit()
        assert await rollup_rows(session, seeded.a) == EXPECTED_A
        assert await rollup_rows(session, seeded.b) == EXPECTED_B
        assert written == len(EXPECTED_A) + len(EXPECTED_B)

        # A rebuild is the same; numbers whose events vanished are gone.
        await service.rollup(session, D2, TODAY)
        await session.commit()
        assert await rollup_rows(session, seeded.a) == EXPECTED_A
        await session.execute(delete(Refund))
        await service.rollup(session, TODAY, TODAY, tenant_id=seeded.a)
        await session.commit()
        expected = {k: v for k, v in EXPECTED_A.items() if k != (TODAY, "refunds.stars")}
        assert await rollup_rows(session, seeded.a) == expected
        assert await rollup_rows(session, seeded.b) == EXPECTED_B


async def test_report_adds_up_from_the_rollups(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as session:
        seeded = await seed(session)
        await session.commit()
        await service.rollup(session, TODAY - timedelta(days=13), TODAY)
        await session.commit()
        report = await service.report(session, seeded.a, days=7, today=TODAY)
    assert report.days[0] == TODAY - timedelta(days=6) and report.days[-1] == TODAY
    assert report.values("users.new")[-3:] == [2, 1, 1]
    assert report.values("users.total")[-4:] == [2, 4, 5, 6]
    assert report.values("views")[-3:] == [0, 2, 0]
    assert report.values("subscribers.active")[-3:] == [2, 1, 1]
    assert report.values("ppv.sales") == [0] * 7  # a metric nobody reports reads as zeros
    key = report.key
    assert (key.total_users, key.new_users, key.active_today) == (6, 6, 1)
    assert key.active_average == round(3 / 7)
    assert (key.revenue, key.refunds) == (999 + 300 + 30, 50)
    assert (key.jobs, key.credits_spent, key.tasks_completed) == (3, 12, 1)
    assert report.revenue_by_source == {"credits": 1299, "ppv": 30}
    # Nothing happened in the seven days before: the comparison period is empty.
    assert (report.previous.total_users, report.previous.revenue) == (0, 0)
    assert report.updated_at is not None
