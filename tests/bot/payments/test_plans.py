"""Creators buy plans (30-day Stars subscriptions) and top-ups in the manager bot."""

from __future__ import annotations

from datetime import timedelta

from core.db import utcnow
from core.models import Tenant, TenantRole
from tenants import billing
from tests.bot.conftest import Platform, wait_until
from tests.bot.payments.helpers import payment_update


async def test_plan_subscription_and_top_up(platform: Platform) -> None:
    manager, _ = await platform.add_tenant("Atelier", role=TenantRole.PLATFORM)
    owner = await platform.user("Olga")
    _, tenant_id = await platform.add_tenant("Art Studio", owner_telegram_id=owner.id)
    await platform.emulator.start(manager, owner)

    await platform.emulator.send_command(manager, owner, "plan")
    menu = (await platform.settled(manager, owner))[-1]
    assert "is on the Basic plan; platform balance: 0 credits." in (menu.text or "")
    assert [b["text"] for b in menu.buttons][1] == "Advanced – 3000 ⭐ / 30 days"
    await platform.emulator.press_button(
        manager, owner, menu.message_id, f"plan:{tenant_id}:advanced"
    )
    entries = await platform.replies(manager, owner, 3)
    url = entries[-1].buttons[0]["url"]
    paid = await platform.emulator.pay_invoice(manager, owner, invoice_link=url)
    assert paid.status == "paid"
    receipt = (await platform.settled(manager, owner))[-1]
    assert receipt.text == (
        "Thank you! The Advanced plan is active for 30 more days.\nPlatform balance: 5000 credits."
    )
    async with platform.session_factory() as session:
        tenant = await session.get(Tenant, tenant_id)
        sub = await billing.subscription_of(session, tenant_id)
    assert tenant is not None and tenant.plan == "advanced"
    assert sub is not None
    assert abs(sub.period_end - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)

    # Telegram renews the subscription a month later: same payload, a new recurring charge.
    async with platform.session_factory() as session:
        from sqlalchemy import select

        from core.models import Order
        from tenants.payments import payload_of

        order = (await session.execute(select(Order))).scalar_one()
    renewal = payment_update(
        88_001,
        owner,
        payload=payload_of(order),
        stars=3000,
        charge_id="stxRenewal1",
        is_recurring=True,
    )
    await platform.post_update(manager.id, renewal, secret=platform.secrets[manager.id])
    async with platform.session_factory() as session:
        sub = await billing.subscription_of(session, tenant_id)
        balance = await billing.platform_balance(session, tenant_id)
    assert sub is not None and balance.balance == 10_000
    assert abs(sub.period_end - (utcnow() + timedelta(days=60))) < timedelta(minutes=1)

    # A one-off top-up of the platform balance.
    await platform.emulator.send_command(manager, owner, "topup")
    menu = (await platform.settled(manager, owner))[-1]
    await platform.emulator.press_button(manager, owner, menu.message_id, f"topup:{tenant_id}:0")
    await wait_until(
        lambda: platform.emulator.transcript(manager, owner, from_bot_only=True),
        lambda items: "invoice" in items[-1].message,
    )
    assert (await platform.emulator.pay_invoice(manager, owner)).status == "paid"
    receipt = (await platform.settled(manager, owner))[-1]
    assert receipt.text == (
        "Thank you! 1000 platform credits were added.\nPlatform balance: 11000 credits."
    )
