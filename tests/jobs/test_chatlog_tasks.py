"""The chat history's worker side: the drain moves the stream into ``chat_messages`` exactly
once — drained twice, or killed after its commit or before it — on Redis and on the in-process
stand-in; the retention cron forgets what is older than ``ATELIER_CHAT_HISTORY_DAYS``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.methods import SendMessage, SendPhoto
from arq.connections import ArqRedis
from fakeredis import FakeServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.models import ChatMessage, Tenant, TenantBot, User
from core.redis import close_redis, create_memory_redis
from core.settings import Settings
from jobs.chatlog_tasks import drain_chatlog
from tenants.chatlog import record, service
from tests.jobs.conftest import RunWorker

Factory = async_sessionmaker[AsyncSession]
BOT = 7_100_000_001


async def _fan(factory: Factory, config: dict[str, object] | None = None) -> tuple[int, int]:
    """A tenant with a bot and one fan (Telegram id 501); (tenant id, fan id)."""
    async with session_scope(factory) as session:
        tenant = Tenant(name="Art Studio", config=config or {})
        session.add(tenant)
        await session.flush()
        session.add(
            TenantBot(
                tenant_id=tenant.id, telegram_bot_id=BOT, username="art_bot", token_encrypted="x"
            )
        )
        fan = User(tenant_id=tenant.id, telegram_id=501, first_name="Alice")
        session.add(fan)
        await session.flush()
        return tenant.id, fan.id


def _incoming(n: int) -> record.Fields:
    raw = {
        "message": {
            "message_id": n,
            "chat": {"id": 501, "type": "private"},
            "from": {"id": 501, "is_bot": False, "first_name": "Alice"},
            "text": f"message {n}",
        }
    }
    fields = record.incoming(BOT, "message", raw)
    assert fields is not None
    return fields


async def _count(factory: Factory) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(ChatMessage)) or 0)


def _ctx(redis: ArqRedis, factory: Factory, settings: Settings) -> dict[str, object]:
    return {"redis": redis, "session_factory": factory, "settings": settings}


async def test_killed_mid_way_and_drained_twice_stores_each_message_once(
    session_factory: Factory,
    arq_redis: ArqRedis,
    run_worker: RunWorker,
    settings: Settings,
) -> None:
    await _fan(session_factory)
    for n in range(1, 8):
        await record.append(arq_redis, _incoming(n))
    await service.ensure_group(arq_redis)
    # A drain killed after its commit, before its XACK: stored, still pending.
    first = await service.read_batch(arq_redis, 3, pending=False)
    async with session_scope(session_factory) as session:
        assert await service.store_batch(session, [e for _, e in first]) == 3
    # Another killed before its commit: read, nothing stored.
    await service.read_batch(arq_redis, 2, pending=False)
    assert await _count(session_factory) == 3

    await arq_redis.enqueue_job("drain_chatlog")  # the worker's run takes the pending first
    await run_worker()
    await record.append(arq_redis, _incoming(8))
    assert await drain_chatlog(_ctx(arq_redis, session_factory, settings)) == 1
    assert await drain_chatlog(_ctx(arq_redis, session_factory, settings)) == 0
    async with session_factory() as session:
        texts = (await session.execute(select(ChatMessage.text).order_by(ChatMessage.id))).scalars()
        assert sorted(texts) == [f"message {n}" for n in range(1, 9)]
    assert await arq_redis.xlen(record.STREAM) == 0  # drained entries leave the stream


async def test_the_in_process_stand_in_drains_too(
    session_factory: Factory, settings: Settings
) -> None:
    tenant_id, fan_id = await _fan(session_factory)
    redis = create_memory_redis(FakeServer())
    try:
        await record.append(redis, _incoming(1))
        replies = record.PendingReplies(redis)
        replies.add(BOT, SendMessage(chat_id=501, text="Hi Alice!"))
        replies.add(BOT, SendMessage(chat_id=-100123, text="a group"))  # not a fan's chat
        await replies.close()
        photo = SendPhoto(chat_id=501, photo="file-id", caption="Your picture")
        sent = record.outgoing(BOT, photo, message_id=9)
        assert sent is not None
        await record.append(redis, sent)
        assert await drain_chatlog(_ctx(redis, session_factory, settings)) == 3
    finally:
        await close_redis(redis)
    async with session_factory() as session:
        rows = (
            (
                await session.execute(
                    select(ChatMessage)
                    .where(ChatMessage.tenant_id == tenant_id)
                    .order_by(ChatMessage.id)
                )
            )
            .scalars()
            .all()
        )
    assert [(r.user_id, r.direction, r.kind, r.text, r.telegram_message_id) for r in rows] == [
        (fan_id, "in", "text", "message 1", 1),
        (fan_id, "out", "text", "Hi Alice!", None),
        (fan_id, "out", "photo", "Your picture", 9),
    ]


async def test_a_switched_off_tenant_is_not_stored(
    session_factory: Factory, arq_redis: ArqRedis, settings: Settings
) -> None:
    """Sends from the worker carry no tenant: the drain applies the creator's switch."""
    await _fan(session_factory, {"chat_history": False})
    await record.append(arq_redis, _incoming(1))
    assert await drain_chatlog(_ctx(arq_redis, session_factory, settings)) == 0
    assert await _count(session_factory) == 0
    assert await arq_redis.xlen(record.STREAM) == 0


@pytest.mark.parametrize("days", [90, 7])
async def test_retention_forgets_old_messages(
    session_factory: Factory,
    arq_redis: ArqRedis,
    run_worker: RunWorker,
    settings: Settings,
    days: int,
) -> None:
    tenant_id, fan_id = await _fan(session_factory)
    now = datetime.now(UTC)
    ages = [1, 6, 8, 89, 91, 400]
    async with session_scope(session_factory) as session:
        for n, age in enumerate(ages):
            session.add(
                ChatMessage(
                    tenant_id=tenant_id,
                    user_id=fan_id,
                    direction="in",
                    kind="text",
                    text=f"{age} days old",
                    stream_id=f"{n}-0",
                    created_at=now - timedelta(days=age),
                )
            )
    await arq_redis.enqueue_job("purge_chatlog")
    await run_worker(ctx={"settings": settings.model_copy(update={"chat_history_days": days})})
    async with session_factory() as session:
        kept = (await session.execute(select(ChatMessage.text))).scalars().all()
    assert sorted(kept, key=lambda t: int(t.split()[0])) == [
        f"{age} days old" for age in ages if age < days
    ]
