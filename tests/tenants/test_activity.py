"""Activity days behind the Redis gate: recorded once per fan, source and UTC day; a rolled
back first write leaves only a short pending gate, so the day is recorded on a later update."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
import redis.asyncio as redis_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import ActivitySource, Tenant, User, UserActivityDay
from tenants.stats import activity

DAY = date(2026, 4, 2)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.from_url(redis_url)
    yield client
    await client.aclose()


async def _fan(factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with factory() as session:
        tenant = Tenant(name="Art")
        session.add(tenant)
        await session.flush()
        user = User(tenant_id=tenant.id, telegram_id=42)
        session.add(user)
        await session.commit()
        return tenant.id, user.id


async def _rows(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(UserActivityDay)) or 0)


async def test_a_day_is_written_once_and_the_gate_confirmed_after_commit(
    session_factory: async_sessionmaker[AsyncSession], redis: redis_asyncio.Redis
) -> None:
    tenant_id, user_id = await _fan(session_factory)
    source = ActivitySource.BOT
    key = activity.gate_key(tenant_id, user_id, source, DAY)
    async with session_factory() as session:
        args = {"tenant_id": tenant_id, "user_id": user_id, "source": source, "day": DAY}
        assert await activity.note_visit(redis, session, **args)
        assert await redis.get(key) == b"p" and 0 < await redis.ttl(key) <= activity.PENDING_TTL
        assert not await activity.note_visit(redis, session, **args)  # gated: no statement
        await session.commit()
    await activity.confirm_visit(redis, tenant_id, user_id, source, DAY)
    assert await redis.get(key) == b"1" and await redis.ttl(key) > 24 * 3600
    assert await _rows(session_factory) == 1


async def test_a_rolled_back_first_write_is_retried_once_the_pending_gate_lapses(
    session_factory: async_sessionmaker[AsyncSession], redis: redis_asyncio.Redis
) -> None:
    tenant_id, user_id = await _fan(session_factory)
    source = ActivitySource.APP
    args = {"tenant_id": tenant_id, "user_id": user_id, "source": source, "day": DAY}
    async with session_factory() as session:
        assert await activity.note_visit(redis, session, **args)
        await session.rollback()  # the update failed: nothing confirmed
    assert await _rows(session_factory) == 0
    key = activity.gate_key(tenant_id, user_id, source, DAY)
    assert await redis.ttl(key) <= activity.PENDING_TTL
    await redis.delete(key)  # what the minute-long expiry does
    async with session_factory() as session:
        assert await activity.note_visit(redis, session, **args)
        await session.commit()
    assert await _rows(session_factory) == 1


def test_the_bot_asks_only_when_the_day_may_be_new() -> None:
    noon = datetime(2026, 4, 2, 12, tzinfo=UTC).timestamp()
    assert not activity.bot_visit_due(noon - 60, False, noon)  # snapshot from today
    assert activity.bot_visit_due(noon - 13 * 3600, False, noon)  # snapshot from yesterday
    assert activity.bot_visit_due(noon - 60, True, noon)  # the row was written anyway


async def test_streak_counts_consecutive_app_days(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, user_id = await _fan(session_factory)
    async with session_factory() as session:
        for back in (0, 1, 2, 4):
            await activity.insert_day(
                session,
                tenant_id=tenant_id,
                user_id=user_id,
                source=ActivitySource.APP,
                day=DAY - timedelta(days=back),
            )
        await activity.insert_day(
            session,
            tenant_id=tenant_id,
            user_id=user_id,
            source=ActivitySource.BOT,
            day=DAY - timedelta(days=3),  # chatting with the bot is not opening the app
        )
        await session.commit()

        async def streak(today: date, longest: int = 30) -> int:
            return await activity.app_streak(
                session, tenant_id=tenant_id, user_id=user_id, today=today, longest=longest
            )

        assert await streak(DAY) == 3
        assert await streak(DAY + timedelta(days=1)) == 3  # not opened yet today
        assert await streak(DAY + timedelta(days=2)) == 0
        assert await streak(DAY, longest=2) == 2
        assert await streak(DAY - timedelta(days=4)) == 1
