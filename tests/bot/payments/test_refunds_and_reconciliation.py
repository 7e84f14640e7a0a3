"""Refunds by the tenant admin, and reconciliation that repairs a dropped payment update."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aiogram import Bot

from core import ledger
from devtools.serving import serve_app
from tenants import payments
from tests.bot.conftest import Platform
from tests.bot.payments.helpers import bot_api, counts, fan_balance, open_invoice, user_row


async def _buy(platform: Platform, bot, fan) -> str:  # type: ignore[no-untyped-def]
    await open_invoice(platform, bot, fan)
    paid = await platform.emulator.pay_invoice(bot, fan)
    assert paid.status == "paid" and paid.telegram_payment_charge_id
    await platform.settled(bot, fan)
    return paid.telegram_payment_charge_id


async def test_owner_refunds_once_and_partially_spent_is_refused(platform: Platform) -> None:
    owner = await platform.user("Olga")
    bot, tenant_id = await platform.add_tenant("Art Studio", owner_telegram_id=owner.id)
    alice = await platform.user("Alice")
    for person in (owner, alice):
        await platform.emulator.start(bot, person)
    charge = await _buy(platform, bot, alice)

    await platform.emulator.send_command(bot, alice, "refund", charge)
    assert (await platform.settled(bot, alice))[-1].text == (
        "Only the owner of this bot can do that."
    )
    await platform.emulator.send_command(bot, owner, "refund", charge)
    assert (await platform.settled(bot, owner))[-1].text == (
        "Refunded 50 ⭐; 100 credits were taken back from the fan's balance."
    )
    assert await fan_balance(platform, tenant_id, alice.id) == 0
    await platform.emulator.send_command(bot, owner, "refund", charge)
    assert (await platform.settled(bot, owner))[-1].text == (
        "This payment has already been refunded."
    )

    # Partly spent: refused with the reason, nothing moves.
    second = await _buy(platform, bot, alice)
    fan = await user_row(platform, tenant_id, alice.id)
    async with platform.session_factory() as session:
        account = await ledger.get_or_create_account(session, tenant_id, user_id=fan.id)
        await ledger.debit(session, tenant_id, account.id, 30, idempotency_key="spent:1")
        await session.commit()
    await platform.emulator.send_command(bot, owner, "refund", second)
    assert (await platform.settled(bot, owner))[-1].text == (
        "I can't refund this payment: the fan has already spent 30 of its 100 credits, "
        "and Telegram only refunds whole payments."
    )
    assert await fan_balance(platform, tenant_id, alice.id) == 70


async def test_charge_already_refunded_in_telegram_reverses_once(platform: Platform) -> None:
    owner = await platform.user("Olga")
    bot, tenant_id = await platform.add_tenant("Art Studio", owner_telegram_id=owner.id)
    alice = await platform.user("Alice")
    for person in (owner, alice):
        await platform.emulator.start(bot, person)
    charge = await _buy(platform, bot, alice)
    refunded = await bot_api(
        platform, bot, "refundStarPayment", user_id=alice.id, telegram_payment_charge_id=charge
    )
    assert refunded["ok"] is True
    await platform.settled(bot, alice)
    for _ in range(2):
        await platform.emulator.send_command(bot, owner, "refund", charge)
    texts = [entry.text for entry in (await platform.settled(bot, owner))[-2:]]
    assert texts == [
        "Refunded 50 ⭐; 100 credits were taken back from the fan's balance.",
        "This payment has already been refunded.",
    ]
    assert await fan_balance(platform, tenant_id, alice.id) == 0
    assert await counts(platform) == (1, 2)  # one credit, one reversal


@asynccontextmanager
async def dropping_payments(target: str) -> AsyncIterator[str]:
    """A door in front of the API that loses every ``successful_payment`` update (answers 200
    and forwards nothing), the way an update can be lost for good in production."""

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"] if k != b"host"}
        content, status = b"{}", 200
        if b"successful_payment" not in body:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(target + scope["path"], content=body, headers=headers)
            content, status = response.content, response.status_code
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async with serve_app(app) as url:  # type: ignore[arg-type]
        yield url


async def test_reconciliation_repairs_a_dropped_update(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    for _ in range(3):
        await _buy(platform, bot, alice)
    secret = platform.secrets[bot.id]
    async with dropping_payments(platform.api_url) as door:
        await bot_api(platform, bot, "setWebhook", url=f"{door}/tg/{bot.id}", secret_token=secret)
        await open_invoice(platform, bot, alice)
        lost = await platform.emulator.pay_invoice(bot, alice)
        assert lost.status == "paid"
        await platform.settled(bot, alice)
    assert await fan_balance(platform, tenant_id, alice.id) == 300  # the 4th was lost

    api = Bot(bot.token, session=platform.runtime.api_session)
    async with platform.session_factory() as session:
        report = await payments.reconcile_tenant(session, api, tenant_id, page_size=2)
        await session.commit()
    assert (report.transactions, report.repaired, report.mismatches) == (
        4,
        [lost.telegram_payment_charge_id],
        [],
    )
    assert await fan_balance(platform, tenant_id, alice.id) == 400
    async with platform.session_factory() as session:  # a second pass finds nothing to do
        again = await payments.reconcile_tenant(session, api, tenant_id, page_size=3)
        await session.commit()
    assert (again.repaired, again.mismatches) == ([], [])
    assert await counts(platform) == (4, 4)
