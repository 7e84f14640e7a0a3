"""Sending through the real worker and the emulator: every fan once, blocked fans marked,
pause / resume / cancel, the plan's daily limit, media uploaded once."""

from __future__ import annotations

from arq.connections import ArqRedis
from sqlalchemy import select

from core.models import BroadcastStatus, User
from core.settings import Settings
from tests.jobs.broadcasts.conftest import run_broadcasts, start_broadcast
from tests.jobs.broadcasts.harness import Factory, Stage, deliveries, reload


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
