"""Sending through the real worker and the emulator: every fan once, blocked fans marked,
pause / resume / cancel, the plan's daily limit, media uploaded once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis
from sqlalchemy import select

from core import migrate
from core.db import create_engine, create_session_factory
from core.errors import ValidationError
from core.models import BroadcastStatus, File, User, VipPackage, VipStatus, VipSubscription
from core.models import Tenant as TenantRow
from core.queue import unit_of_work
from core.redis import close_redis, create_redis, reset_memory_servers
from core.settings import Settings
from core.storage import create_storage
from jobs.broadcasts import service
from jobs.broadcasts.schemas import AudienceSpec
from jobs.broadcasts.service import BroadcastBusyError, BroadcastStateError
from tests.jobs.broadcasts.conftest import FAST, Tenant, run_broadcasts, start_broadcast
from tests.jobs.broadcasts.harness import Factory, Stage, deliveries, reload
from tests.jobs.conftest import run_burst_worker


async def test_every_fan_gets_it_once_and_blocked_fans_are_marked(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 120)
    blocked = fans.telegram_ids[10:13]
    for telegram_id in blocked:
        loose_stage.block(fans, telegram_id)

    broadcast = await start_broadcast(
        session_factory,
        arq_redis,
        fans,
        text='Big <b>news</b> &amp; <a href="https://a.example">more</a>',
    )
    assert broadcast.total == 120
    await run_broadcasts(settings, loose_stage)

    done = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert done.status == BroadcastStatus.COMPLETED
    assert (done.sent, done.blocked, done.failed, done.unconfirmed) == (117, 3, 0, 0)
    assert done.total == 120
    received = loose_stage.received(fans)
    assert {t: n for t, n in received.items() if n != 1} == {t: 0 for t in blocked}
    statuses = await deliveries(session_factory, broadcast.id)
    assert sorted(t for t, s in statuses.items() if s == "blocked") == sorted(blocked)
    async with session_factory() as session:
        marked = await session.scalars(
            select(User.telegram_id).where(User.tenant_id == fans.tenant_id, User.is_blocked)
        )
        assert sorted(marked) == sorted(blocked)
    sample = await loose_stage.client.transcript(fans.bot_id, fans.telegram_ids[0])
    assert sample[-1].text == "Big news & more"
    assert [e["type"] for e in sample[-1].entities] == ["bold", "text_link"]


async def _wait_sent(factory: Factory, tenant_id: int, broadcast_id: int, count: int) -> None:
    deadline = time.monotonic() + 60
    while (await reload(factory, tenant_id, broadcast_id)).sent < count:
        assert time.monotonic() < deadline, "hang guard"
        await asyncio.sleep(0.05)


async def test_pause_stops_sending_and_resume_finishes_once(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 80)
    broadcast = await start_broadcast(session_factory, arq_redis, fans)
    worker = asyncio.create_task(run_broadcasts(settings, loose_stage, rate=25))
    await _wait_sent(session_factory, fans.tenant_id, broadcast.id, 10)
    async with unit_of_work(session_factory, arq_redis) as session:
        await service.pause(session, fans.tenant_id, broadcast.id)
    await asyncio.wait_for(worker, 60)  # the sender stops; nothing continues it

    paused = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert paused.status == BroadcastStatus.PAUSED and paused.lease_token is None
    so_far = sum(loose_stage.received(fans).values())
    assert 10 <= so_far == paused.sent < 80
    with pytest.raises(BroadcastStateError):
        async with unit_of_work(session_factory, arq_redis) as session:
            await service.pause(session, fans.tenant_id, broadcast.id)

    async with unit_of_work(session_factory, arq_redis) as session:
        await service.resume(session, fans.tenant_id, broadcast.id)
    await run_broadcasts(settings, loose_stage)
    done = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert done.status == BroadcastStatus.COMPLETED and done.sent == 80
    assert set(loose_stage.received(fans).values()) == {1}


async def test_cancel_stops_for_good(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 80)
    broadcast = await start_broadcast(session_factory, arq_redis, fans)
    worker = asyncio.create_task(run_broadcasts(settings, loose_stage, rate=25))
    await _wait_sent(session_factory, fans.tenant_id, broadcast.id, 10)
    async with unit_of_work(session_factory, arq_redis) as session:
        await service.cancel(session, fans.tenant_id, broadcast.id)
    await asyncio.wait_for(worker, 60)

    cancelled = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert cancelled.status == BroadcastStatus.CANCELLED and cancelled.finished_at is not None
    received = loose_stage.received(fans)
    assert set(received.values()) == {0, 1} and sum(received.values()) == cancelled.sent
    with pytest.raises(BroadcastStateError):
        async with unit_of_work(session_factory, arq_redis) as session:
            await service.resume(session, fans.tenant_id, broadcast.id)
    await run_broadcasts(settings, loose_stage)  # a stray job changes nothing
    assert sum(loose_stage.received(fans).values()) == cancelled.sent


async def test_daily_plan_limit_stops_then_resumes_when_raised(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    limits = {"limits": {"daily_broadcast_messages": 30}}
    fans = await loose_stage.tenant(session_factory, 50, plan="enterprise", config=limits)
    broadcast = await start_broadcast(session_factory, arq_redis, fans)
    await run_broadcasts(settings, loose_stage)

    limited = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert (limited.status, limited.sent) == (BroadcastStatus.LIMITED, 30)
    assert sum(loose_stage.received(fans).values()) == 30
    # Still over the limit today: the sweep leaves it alone.
    await arq_redis.enqueue_job("recover_broadcasts")
    await run_broadcasts(settings, loose_stage)
    assert (await reload(session_factory, fans.tenant_id, broadcast.id)).sent == 30

    async with session_factory() as session:  # the plan is upgraded
        tenant = await session.get(TenantRow, fans.tenant_id)
        assert tenant is not None
        tenant.config = {"limits": {"daily_broadcast_messages": 1000}}
        await session.commit()
    await arq_redis.enqueue_job("recover_broadcasts")
    await run_broadcasts(settings, loose_stage)
    done = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert (done.status, done.sent) == (BroadcastStatus.COMPLETED, 50)
    assert set(loose_stage.received(fans).values()) == {1}


async def test_one_active_broadcast_per_tenant(
    session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 3)
    await start_broadcast(session_factory, arq_redis, fans)
    with pytest.raises(BroadcastBusyError):
        await start_broadcast(session_factory, arq_redis, fans)


async def test_audiences_by_language_and_inactivity(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    recent = datetime.now(UTC) - timedelta(days=2)
    languages: list[str | None] = ["ru"] * 6 + [None] * 6 + ["tr"] * 6
    seen = [old] * 4 + [recent] * 14
    fans = await loose_stage.tenant(session_factory, 18, languages=languages, last_seen=seen)
    tenant = Tenant(fans)
    async with session_factory() as session:
        count = service.count_audience
        assert await count(session, tenant, AudienceSpec(kind="language", language="ru")) == 6
        # No choice of their own: Telegram's "en", which is also the tenant's default.
        assert await count(session, tenant, AudienceSpec(kind="language", language="en")) == 6
        assert await count(session, tenant, AudienceSpec(kind="inactive", days=30)) == 4
        assert await count(session, tenant, AudienceSpec(kind="inactive", days=1)) == 18
        assert await count(session, tenant, AudienceSpec()) == 18
        with pytest.raises(ValidationError):
            await count(session, tenant, AudienceSpec(kind="language", language="xx"))
        with pytest.raises(ValidationError):
            await count(session, tenant, AudienceSpec(kind="inactive"))

    spec = AudienceSpec(kind="language", language="tr")
    broadcast = await start_broadcast(session_factory, arq_redis, fans, spec=spec)
    assert broadcast.total == 6
    await run_broadcasts(settings, loose_stage)
    received = loose_stage.received(fans)
    assert [received[t] for t in fans.telegram_ids] == [0] * 12 + [1] * 6


async def test_vip_audiences_are_open_subscriptions(
    session_factory: Factory, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 6)
    others = await loose_stage.tenant(session_factory, 2)
    now = datetime.now(UTC)
    async with session_factory() as session:
        gold = VipPackage(tenant_id=fans.tenant_id, name="Gold", price_stars=300)
        silver = VipPackage(tenant_id=fans.tenant_id, name="Silver", price_stars=100)
        elsewhere = VipPackage(tenant_id=others.tenant_id, name="Gold", price_stars=300)
        session.add_all([gold, silver, elsewhere])
        await session.flush()

        def sub(tenant_id: int, user_id: int, package: VipPackage, **state: Any) -> None:
            values = {"period_end": now + timedelta(days=10), **state}
            session.add(
                VipSubscription(
                    tenant_id=tenant_id, user_id=user_id, package_id=package.id, **values
                )
            )

        ids = fans.user_ids
        sub(fans.tenant_id, ids[0], gold)
        sub(fans.tenant_id, ids[1], gold, status=VipStatus.EXPIRED, period_end=now)
        sub(fans.tenant_id, ids[2], gold, status=VipStatus.CANCELLED)  # open until its end
        sub(fans.tenant_id, ids[3], silver)
        sub(fans.tenant_id, ids[4], silver, period_end=now - timedelta(hours=2))  # lapsed
        sub(others.tenant_id, others.user_ids[0], elsewhere)
        await session.commit()

        count = service.count_audience
        tenant = Tenant(fans)
        assert await count(session, tenant, AudienceSpec(kind="vip")) == 3
        assert await count(session, tenant, AudienceSpec(kind="vip", package_id=gold.id)) == 2
        assert await count(session, tenant, AudienceSpec(kind="vip", package_id=elsewhere.id)) == 0
        assert await count(session, Tenant(others), AudienceSpec(kind="vip")) == 1


async def test_a_drive_photo_is_uploaded_once_and_reused(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 12)
    storage = create_storage(settings)
    png = _png()
    await storage.put_bytes("bc/test.png", png, content_type="image/png")
    async with session_factory() as session:
        owner = User(tenant_id=fans.tenant_id, telegram_id=fans.owner_telegram_id, first_name="O")
        session.add(owner)
        await session.flush()
        file = File(
            tenant_id=fans.tenant_id,
            user_id=owner.id,
            name="drop.png",
            storage_key="bc/test.png",
            mime_type="image/png",
            size=len(png),
            sha256=hashlib.sha256(png).hexdigest(),
        )
        session.add(file)
        await session.commit()
    broadcast = await start_broadcast(
        session_factory,
        arq_redis,
        fans,
        text="New <i>photo</i>",
        drive_file_id=file.id,
        owner_user_id=owner.id,
        buttons=[[("Open", "https://example.com/drop")]],
    )
    await run_broadcasts(settings, loose_stage)

    done = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert done.status == BroadcastStatus.COMPLETED and done.telegram_file_id
    photos = set()
    for telegram_id in fans.telegram_ids[:13]:
        last = (await loose_stage.client.transcript(fans.bot_id, telegram_id))[-1]
        assert last.caption == "New photo" and last.buttons[0]["url"] == "https://example.com/drop"
        photos.add(last.message["photo"][-1]["file_unique_id"])
    assert len(photos) == 1  # one upload, then its file id


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_revoked_token_pauses_instead_of_failing_every_fan(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 30)
    loose_stage.emulator.state.revoke_token(loose_stage.emulator.state.bots[fans.bot_id])
    broadcast = await start_broadcast(session_factory, arq_redis, fans)
    await run_broadcasts(settings, loose_stage)
    paused = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert (paused.status, paused.sent, paused.failed) == (BroadcastStatus.PAUSED, 0, 0)
    assert set((await deliveries(session_factory, broadcast.id)).values()) == {"pending"}


async def test_the_preview_reaches_the_admin_alone(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 5)
    stranger = loose_stage.emulator.state.create_user("Never started the bot")
    tenant = Tenant(fans)
    async with unit_of_work(session_factory, arq_redis) as session:
        draft = await service.create_draft(
            session,
            tenant,
            by_telegram_id=fans.owner_telegram_id,
            text="Preview <b>me</b>",
            buttons=[[("Shop", "https://shop.example")]],
        )
        await service.request_preview(
            session, tenant, draft.id, to_telegram_id=fans.owner_telegram_id
        )
        await service.request_preview(session, tenant, draft.id, to_telegram_id=stranger.id)
    worker = await run_broadcasts(settings, loose_stage)

    assert worker.jobs_failed == 0  # the stranger's 403 is an answer, not a crash
    seen = await loose_stage.client.transcript(fans.bot_id, fans.owner_telegram_id)
    assert [(e.text, e.buttons[0]["url"]) for e in seen] == [("Preview me", "https://shop.example")]
    assert sum(loose_stage.received(fans).values()) == 0
    assert (await reload(session_factory, fans.tenant_id, draft.id)).status == "draft"


async def test_atelier_dev_mode_sqlite_and_the_in_process_redis(
    settings: Settings, loose_stage: Stage, tmp_path: Path
) -> None:
    """``atelier dev``: SQLite, ``memory://`` (no Lua there: the limiter's local path)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    reset_memory_servers()
    dev = settings.model_copy(
        update={
            "database_url": url,
            "redis_url": "memory://",
            "telegram_api_base": loose_stage.base_url,
            "broadcast_rate": 200,
        }
    )
    engine = create_engine(dev)
    factory = create_session_factory(engine)
    redis = create_redis(dev)
    try:
        fans = await loose_stage.tenant(factory, 25)
        loose_stage.block(fans, fans.telegram_ids[3])
        broadcast = await start_broadcast(factory, redis, fans)
        await run_burst_worker(dev, ctx={"settings": dev, "broadcast_config": FAST})
        done = await reload(factory, fans.tenant_id, broadcast.id)
    finally:
        await close_redis(redis)
        await engine.dispose()
        reset_memory_servers()
    assert (done.status, done.sent, done.blocked) == (BroadcastStatus.COMPLETED, 24, 1)
    received = loose_stage.received(fans)
    assert [received[t] for t in fans.telegram_ids] == [1, 1, 1, 0] + [1] * 21


async def test_a_worker_shutdown_hands_over_at_once(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, loose_stage: Stage
) -> None:
    fans = await loose_stage.tenant(session_factory, 80)
    broadcast = await start_broadcast(session_factory, arq_redis, fans)
    worker = asyncio.create_task(run_broadcasts(settings, loose_stage, rate=25))
    await _wait_sent(session_factory, fans.tenant_id, broadcast.id, 10)
    worker.cancel()  # what arq does to running jobs when the worker is told to stop
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    stopped = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert stopped.status == BroadcastStatus.RUNNING and stopped.lease_token is None

    # The next worker claims it right away (no stale lease to wait for) and finishes it.
    await arq_redis.enqueue_job("run_broadcast", broadcast.id, fans.tenant_id, _job_id="next")
    await run_broadcasts(settings, loose_stage)
    done = await reload(session_factory, fans.tenant_id, broadcast.id)
    assert done.status == BroadcastStatus.COMPLETED
    assert done.sent + done.unconfirmed == 80
    received = loose_stage.received(fans)
    assert set(received.values()) <= {0, 1} and sum(received.values()) >= done.sent
