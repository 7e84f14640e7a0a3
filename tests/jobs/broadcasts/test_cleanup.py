"""The daily purge of delivery rows: only broadcasts finished longer ago than
``ATELIER_BROADCAST_DELIVERIES_DAYS`` lose them, in the real worker; their totals stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utcnow
from core.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus, Tenant, User
from core.settings import Settings
from tests.jobs.conftest import RunWorker

Factory = async_sessionmaker[AsyncSession]


async def _broadcast(
    session: AsyncSession,
    tenant_id: int,
    fans: list[User],
    status: BroadcastStatus,
    finished_at: datetime | None,
) -> int:
    broadcast = Broadcast(
        tenant_id=tenant_id,
        created_by_telegram_id=1,
        status=status,
        total=len(fans),
        sent=len(fans),
        finished_at=finished_at,
    )
    session.add(broadcast)
    await session.flush()
    session.add_all(
        BroadcastDelivery(
            tenant_id=tenant_id,
            broadcast_id=broadcast.id,
            user_id=fan.id,
            telegram_id=fan.telegram_id,
            status=DeliveryStatus.SENT,
        )
        for fan in fans
    )
    return broadcast.id


async def _deliveries(factory: Factory) -> dict[int, int]:
    async with factory() as session:
        rows = await session.execute(
            select(BroadcastDelivery.broadcast_id, func.count()).group_by(
                BroadcastDelivery.broadcast_id
            )
        )
        return {broadcast_id: count for broadcast_id, count in rows.all()}


async def test_old_finished_broadcasts_lose_their_delivery_rows_only(
    session_factory: Factory, arq_redis: ArqRedis, run_worker: RunWorker, settings: Settings
) -> None:
    now = utcnow()
    async with session_factory() as session:
        tenant = Tenant(name="Studio")
        session.add(tenant)
        await session.flush()
        fans = [User(tenant_id=tenant.id, telegram_id=100 + n) for n in range(7)]
        session.add_all(fans)
        await session.flush()
        done, cancelled = BroadcastStatus.COMPLETED, BroadcastStatus.CANCELLED
        old = await _broadcast(session, tenant.id, fans, done, now - timedelta(days=31))
        old_cancelled = await _broadcast(
            session, tenant.id, fans[:2], cancelled, now - timedelta(days=45)
        )
        recent = await _broadcast(session, tenant.id, fans, done, now - timedelta(days=29))
        running = await _broadcast(session, tenant.id, fans[:3], BroadcastStatus.RUNNING, None)
        await session.commit()

    await arq_redis.enqueue_job("purge_broadcast_deliveries")
    worker = await run_worker(ctx={"settings": settings, "purge_batch": 3})  # 3 batches
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    assert await _deliveries(session_factory) == {recent: 7, running: 3}
    async with session_factory() as session:
        kept = await session.get(Broadcast, old)
        assert kept is not None and (kept.total, kept.sent) == (7, 7)
        assert await session.get(Broadcast, old_cancelled) is not None
