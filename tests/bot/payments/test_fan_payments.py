"""Fans buy credit packs with Stars, end to end through the emulator's real payment sequence."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.models import Order, Tenant, TenantBot
from tenants import payments
from tenants.service import set_tenant_active
from tenants.webhooks import mark_route_changed, publish_route_changes
from tests.bot.conftest import Platform
from tests.bot.payments.helpers import (
    bot_api,
    counts,
    fan_balance,
    open_invoice,
    payment_update,
)


async def _order_payload(platform: Platform, tenant_id: int) -> str:
    async with platform.session_factory() as session:
        order = (
            (
                await session.execute(
                    select(Order).where(Order.tenant_id == tenant_id).order_by(Order.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert order is not None
    return payments.payload_of(order)


async def test_buy_a_pack_pay_and_get_a_receipt(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await platform.emulator.send_command(bot, alice, "buy")
    menu = (await platform.settled(bot, alice))[-1]
    assert menu.text == "Choose a credit pack. You pay with Telegram Stars."
    assert [b["text"] for b in menu.buttons] == [
        "100 credits – 50 ⭐",
        "500 + 50 bonus credits – 250 ⭐",
        "1200 credits – 500 ⭐",
    ]

    invoice = await open_invoice(platform, bot, alice, pack_index=1)
    assert invoice.message["invoice"]["currency"] == "XTR"
    assert invoice.message["invoice"]["total_amount"] == 250
    paid = await platform.emulator.pay_invoice(bot, alice, message_id=invoice.message_id)
    assert paid.status == "paid"
    receipt = (await platform.settled(bot, alice))[-1]
    assert receipt.text == (
        "Thank you! 550 credits were added for 250 ⭐.\nYour balance: 550 credits."
    )
    assert await fan_balance(platform, tenant_id, alice.id) == 550

    # The same invoice again: the order is complete, so Telegram is told no, nothing charged.
    again = await platform.emulator.pay_invoice(bot, alice, message_id=invoice.message_id)
    assert again.status == "declined"
    assert again.error == "This invoice has already been paid. Use /buy for a new purchase."
    await platform.emulator.send_command(bot, alice, "balance")
    assert (await platform.settled(bot, alice))[-1].text == "Your balance: 550 credits."


async def test_pre_checkout_refusals(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice, bob = await platform.user("Alice"), await platform.user("Bob", "ru")
    for fan in (alice, bob):
        await platform.emulator.start(bot, fan)
    await open_invoice(platform, bot, alice)
    payload = await _order_payload(platform, tenant_id)
    order_id, nonce = payments.parse_payload(payload) or (0, "")

    async def link(for_payload: str, amount: int = 50) -> str:
        answer = await bot_api(
            platform,
            bot,
            "createInvoiceLink",
            title="100 credits",
            description="credits",
            payload=for_payload,
            currency="XTR",
            prices=[{"label": "100 credits", "amount": amount}],
        )
        return str(answer["result"])

    tampered = nonce[:-1] + ("y" if nonce.endswith("x") else "x")  # differs in one character
    cases = [
        (alice, f"atl:{order_id}:{tampered}", 50, "This invoice is not valid."),
        (alice, "hello", 50, "This invoice is not valid."),  # unknown
        (alice, payload, 1, "The amount does not match this order."),
        (bob, payload, 50, "Этот счёт выставлен другому человеку."),  # another fan's order
    ]
    for fan, for_payload, amount, reason in cases:
        result = await platform.emulator.pay_invoice(
            bot, fan, invoice_link=await link(for_payload, amount)
        )
        assert result.status == "declined"
        assert (result.error or "").startswith(reason), result.error
    assert await counts(platform) == (0, 0)

    # A disabled tenant takes no payment at all.
    async with platform.session_factory() as session:
        await set_tenant_active(session, tenant_id, active=False)
        await session.commit()
    await publish_route_changes(session, platform.runtime.redis)
    result = await platform.emulator.pay_invoice(bot, alice, answer_within=2)
    assert result.status == "declined"
    assert result.error == "This bot is not taking payments right now. You were not charged."
    assert await counts(platform) == (0, 0)


async def test_a_payment_is_never_throttled(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    async with platform.session_factory() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.config = {**tenant.config, "throttle": {"limit": 3, "window": 60}}
        bot_row = (await session.execute(select(TenantBot))).scalars().one()
        mark_route_changed(session, bot_row.telegram_bot_id)
        await session.commit()
    await publish_route_changes(session, platform.runtime.redis)
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await open_invoice(platform, bot, alice)  # /start, /buy and the pack button: 3 of 3
    for text in ("hello", "again", "and again"):
        await platform.emulator.send_message(bot, alice, text)
    paid = await platform.emulator.pay_invoice(bot, alice)
    assert paid.status == "paid"
    await platform.settled(bot, alice)
    assert await fan_balance(platform, tenant_id, alice.id) == 100


async def test_duplicate_storm_credits_once(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await open_invoice(platform, bot, alice)
    paid = await platform.emulator.pay_invoice(bot, alice)
    assert paid.status == "paid" and paid.telegram_payment_charge_id
    await platform.settled(bot, alice)
    payload = await _order_payload(platform, tenant_id)

    secret = platform.secrets[bot.id]
    storm = [
        payment_update(
            70_000 + i, alice, payload=payload, stars=50, charge_id=paid.telegram_payment_charge_id
        )
        for i in range(10)
    ]
    responses = await asyncio.gather(
        *(platform.post_update(bot.id, update, secret=secret) for update in storm)
    )
    assert all(response.status_code == 200 for response in responses)
    assert await fan_balance(platform, tenant_id, alice.id) == 100
    assert await counts(platform) == (1, 1)

    # A new charge of the same (paid) order is money Telegram took: its own, separate credit.
    reply = await platform.post_update(
        bot.id,
        payment_update(70_100, alice, payload=payload, stars=50, charge_id="stxAnotherCharge"),
        secret=secret,
    )
    assert "Your balance: 200 credits." in reply.text
    assert await counts(platform) == (2, 2)
