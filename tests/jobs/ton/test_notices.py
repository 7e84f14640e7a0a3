"""Fans hear about their TON invoices in the bot, in their language, once the payment is
committed: the worker runs the notice the watcher queued and the emulator shows the message."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select

from core.models import CreditPack, User
from core.queue import unit_of_work
from core.settings import Settings
from jobs.ton.tasks import watch_ton_payments
from tenants.ton import invoices
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform
from tests.jobs.conftest import run_burst_worker
from tests.jobs.ton.conftest import FAST_CLIENT, NANO, Chain

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


async def test_paid_and_underpaid_notices_reach_the_fan(
    platform: Platform, chain: Chain, ton_settings: Settings, arq_redis: ArqRedis
) -> None:
    settings = ton_settings.model_copy(
        update={"telegram_api_base": platform.settings.telegram_api_base}
    )
    bot, tenant_id = await platform.add_tenant("Art Studio")
    fan = await platform.user("Ivan", "ru")
    await platform.emulator.start(bot, fan)
    await platform.settled(bot, fan)
    async with unit_of_work(platform.session_factory, arq_redis) as session:
        user = await session.scalar(select(User).where(User.telegram_id == fan.id))
        assert user is not None
        pack = CreditPack(tenant_id=tenant_id, stars=50, credits=300, bonus=0)
        session.add(pack)
        await session.flush()
        await invoices.set_price(
            session, tenant_id, kind="credits", item_id=pack.id, amount=3 * NANO
        )
        made = [
            await invoices.create_invoice(
                session,
                settings,
                tenant_id=tenant_id,
                user_id=user.id,
                kind="credits",
                item_id=pack.id,
            )
            for _ in range(2)
        ]
    wallet = await chain.ton.create_wallet("v4r2", balance=20 * NANO)
    merchant = chain.merchant.non_bounceable
    await chain.ton.transfer(wallet, merchant, 3 * NANO + NANO // 2, comment=made[0].comment)
    await chain.ton.transfer(wallet, merchant, NANO, comment=made[1].comment)

    ctx: dict[str, Any] = {
        "settings": settings,
        "session_factory": platform.session_factory,
        "redis": arq_redis,
        "ton_client_options": FAST_CLIENT,
    }
    assert (await watch_ton_payments(ctx))["outcomes"] == {"paid": 1, "underpaid": 1}
    await run_burst_worker(settings, functions=[])

    texts = [entry.text or "" for entry in await platform.replies(bot, fan, 3)][-2:]
    paid = next(text for text in texts if text.startswith("Платёж получен"))
    assert "3.5 TON" in paid and "300 кредитов" in paid and "Ваш баланс: 300" in paid
    assert "0.5 TON больше цены" in paid  # the over-payment is mentioned
    under = next(text for text in texts if text.startswith("Мы получили 1 TON"))
    assert "цена — 3 TON" in under and "недостающие 2 TON" in under
    assert made[1].comment in under


async def test_a_notice_never_speaks_a_language_the_creator_turned_off(
    platform: Platform, chain: Chain, ton_settings: Settings, arq_redis: ArqRedis
) -> None:
    settings = ton_settings.model_copy(
        update={"telegram_api_base": platform.settings.telegram_api_base}
    )
    bot, tenant_id = await platform.add_tenant("Art Studio", config={"languages": ["en", "tr"]})
    fan = await platform.user("Ivan", "ru")  # Russian, which this bot does not offer
    await platform.emulator.start(bot, fan)
    await platform.settled(bot, fan)
    async with unit_of_work(platform.session_factory, arq_redis) as session:
        user = await session.scalar(select(User).where(User.telegram_id == fan.id))
        assert user is not None
        pack = CreditPack(tenant_id=tenant_id, stars=50, credits=300, bonus=0)
        session.add(pack)
        await session.flush()
        await invoices.set_price(
            session, tenant_id, kind="credits", item_id=pack.id, amount=3 * NANO
        )
        made = await invoices.create_invoice(
            session, settings, tenant_id=tenant_id, user_id=user.id, kind="credits", item_id=pack.id
        )
    wallet = await chain.ton.create_wallet("v4r2", balance=20 * NANO)
    await chain.ton.transfer(wallet, chain.merchant.non_bounceable, 3 * NANO, comment=made.comment)
    ctx: dict[str, Any] = {
        "settings": settings,
        "session_factory": platform.session_factory,
        "redis": arq_redis,
        "ton_client_options": FAST_CLIENT,
    }
    assert (await watch_ton_payments(ctx))["outcomes"] == {"paid": 1}
    await run_burst_worker(settings, functions=[])
    [notice] = [entry.text or "" for entry in await platform.replies(bot, fan, 2)][-1:]
    assert notice.startswith("Payment received: 3 TON"), notice  # the bot's default, English
